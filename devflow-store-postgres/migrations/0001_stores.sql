-- Every store of devflow-sync in one Postgres schema, for many tenants: the tenant is
-- the first column of every key, and every statement names it. Key columns are kept
-- apart for the queries; the rest of each value is one JSON document (`data`). Times
-- are UTC, RFC 3339 with nine fractional digits, so text order is time order.

CREATE TABLE tokens (
    tenant        TEXT NOT NULL,
    connection    TEXT NOT NULL,
    provider      TEXT NOT NULL,
    access_token  TEXT NOT NULL,
    refresh_token TEXT,
    expires_at    TEXT,
    scopes        TEXT NOT NULL,
    version       BIGINT NOT NULL,
    PRIMARY KEY (tenant, connection)
);

CREATE TABLE work_items (
    tenant    TEXT NOT NULL,
    id        TEXT NOT NULL,
    parent    TEXT,
    version   BIGINT NOT NULL,
    data      TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX work_items_parent ON work_items (tenant, parent, id);
CREATE INDEX work_items_seq ON work_items (tenant, seq);

-- Per-tenant counters: item ids, lease tokens, the host's change feed.
CREATE TABLE counters (
    tenant TEXT NOT NULL,
    name   TEXT NOT NULL,
    last   BIGINT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE links (
    tenant     TEXT NOT NULL,
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    item       TEXT NOT NULL,
    external   TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (tenant, connection, object, item),
    UNIQUE (tenant, connection, object, external)
);
CREATE INDEX links_item ON links (tenant, item);

CREATE TABLE cursors (
    tenant     TEXT NOT NULL,
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (tenant, connection, object)
);

CREATE TABLE exclusions (
    tenant     TEXT NOT NULL,
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    PRIMARY KEY (tenant, connection, object, entity)
);

CREATE TABLE intents (
    tenant     TEXT NOT NULL,
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    item       TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (tenant, connection, object, item)
);

CREATE TABLE runs (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    connection TEXT,
    started_at TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX runs_connection ON runs (tenant, connection);

CREATE TABLE sync_log (
    seq        BIGSERIAL PRIMARY KEY,
    tenant     TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    connection TEXT NOT NULL,
    at         TEXT NOT NULL,
    item       TEXT,
    data       TEXT NOT NULL
);
CREATE INDEX sync_log_run ON sync_log (tenant, run_id, seq);
CREATE INDEX sync_log_connection ON sync_log (tenant, connection);
CREATE INDEX sync_log_at ON sync_log (tenant, at);
CREATE INDEX sync_log_item ON sync_log (tenant, item, seq);

CREATE TABLE conflicts (
    seq           BIGSERIAL PRIMARY KEY,
    tenant        TEXT NOT NULL,
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
CREATE INDEX conflicts_connection ON conflicts (tenant, connection, status, seq);
CREATE INDEX conflicts_subject ON conflicts (tenant, connection, object, conflict_type, status);
CREATE INDEX conflicts_item ON conflicts (tenant, item, status) WHERE item IS NOT NULL;

CREATE TABLE inbox (
    seq             BIGSERIAL PRIMARY KEY,
    tenant          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    connection      TEXT NOT NULL,
    delivery_id     TEXT NOT NULL,
    status          TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    claimed_by      TEXT,
    claimed_until   TEXT,
    entity          TEXT,
    data            TEXT NOT NULL,
    body            BYTEA NOT NULL,
    UNIQUE (tenant, provider, connection, delivery_id)
);
CREATE INDEX inbox_due ON inbox (tenant, status, next_attempt_at, received_at, seq);
CREATE INDEX inbox_connection ON inbox (tenant, connection);
CREATE INDEX inbox_entity ON inbox (tenant, entity, seq) WHERE status = 'pending';

CREATE TABLE health (
    tenant     TEXT NOT NULL,
    connection TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (tenant, connection)
);

CREATE TABLE leases (
    tenant     TEXT NOT NULL,
    connection TEXT NOT NULL,
    object     TEXT NOT NULL,
    holder     TEXT NOT NULL,
    token      BIGINT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (tenant, connection, object)
);

CREATE TABLE connections (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    provider   TEXT NOT NULL,
    doc        TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE webhook_registrations (
    tenant      TEXT NOT NULL,
    connection  TEXT NOT NULL,
    remote_id   TEXT NOT NULL,
    refresh_due TEXT,
    doc         TEXT NOT NULL,
    PRIMARY KEY (tenant, connection, remote_id)
);
CREATE INDEX webhook_registrations_due ON webhook_registrations (tenant, refresh_due)
    WHERE refresh_due IS NOT NULL;
