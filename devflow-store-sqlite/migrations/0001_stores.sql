-- Every store of devflow-sync in one database. Key columns are kept apart for the
-- queries; the rest of each value is one JSON document (`data`). Times are UTC,
-- RFC 3339 with nine fractional digits, so text order is time order.

CREATE TABLE tokens (
    connection    TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    access_token  TEXT NOT NULL,
    refresh_token TEXT,
    expires_at    TEXT,
    scopes        TEXT NOT NULL,
    version       INTEGER NOT NULL
);

CREATE TABLE work_items (
    id        TEXT PRIMARY KEY,
    parent    TEXT,
    version   INTEGER NOT NULL,
    data      TEXT NOT NULL
);
CREATE INDEX work_items_parent ON work_items (parent, id);

CREATE TABLE item_ids (
    only_row  INTEGER PRIMARY KEY CHECK (only_row = 1),
    last      INTEGER NOT NULL
);

CREATE TABLE links (
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    item       TEXT NOT NULL,
    external   TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (connection, object, item),
    UNIQUE (connection, object, external)
);
CREATE INDEX links_item ON links (item);

CREATE TABLE cursors (
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (connection, object)
);

CREATE TABLE exclusions (
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    PRIMARY KEY (connection, object, entity)
);

CREATE TABLE intents (
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    item       TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (connection, object, item)
);

CREATE TABLE runs (
    id         TEXT PRIMARY KEY,
    connection TEXT,
    started_at TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX runs_connection ON runs (connection);

CREATE TABLE sync_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL,
    connection TEXT NOT NULL,
    at         TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX sync_log_run ON sync_log (run_id, seq);
CREATE INDEX sync_log_connection ON sync_log (connection);
CREATE INDEX sync_log_at ON sync_log (at);

CREATE TABLE conflicts (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    connection    TEXT NOT NULL,
    object        TEXT NOT NULL,
    conflict_type TEXT NOT NULL,
    field         TEXT,
    item          TEXT,
    external      TEXT,
    status        TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    data          TEXT NOT NULL
);
CREATE INDEX conflicts_connection ON conflicts (connection, status, seq);
CREATE INDEX conflicts_subject ON conflicts (connection, object, conflict_type, status);

CREATE TABLE inbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT NOT NULL,
    connection      TEXT NOT NULL,
    delivery_id     TEXT NOT NULL,
    status          TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    claimed_by      TEXT,
    claimed_until   TEXT,
    data            TEXT NOT NULL,
    body            BLOB NOT NULL,
    UNIQUE (provider, connection, delivery_id)
);
CREATE INDEX inbox_due ON inbox (status, next_attempt_at, received_at, seq);
CREATE INDEX inbox_connection ON inbox (connection);

CREATE TABLE health (
    connection TEXT PRIMARY KEY,
    data       TEXT NOT NULL
);

CREATE TABLE leases (
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    holder     TEXT NOT NULL,
    token      INTEGER NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (connection, object)
);

CREATE TABLE lease_tokens (
    only_row  INTEGER PRIMARY KEY CHECK (only_row = 1),
    last      INTEGER NOT NULL
);
