-- The restore guard: scopes that must resync before they resume (since: when the
-- backup the database was restored from was taken).
CREATE TABLE resync_required (
    tenant     TEXT NOT NULL,
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    since      TEXT NOT NULL,
    PRIMARY KEY (tenant, connection, object)
);
-- Retention deletes by age.
CREATE INDEX runs_started ON runs (tenant, started_at);
CREATE INDEX conflicts_settled ON conflicts (tenant, updated_at) WHERE status <> 'pending';
CREATE INDEX inbox_finished ON inbox (tenant, received_at) WHERE status <> 'pending';
