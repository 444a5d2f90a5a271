-- Scopes that must sync from scratch before they resume: set when the host says the
-- data was restored from an old backup, cleared by the host.
CREATE TABLE resync_required (
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    since      TEXT NOT NULL,
    PRIMARY KEY (connection, object)
);
