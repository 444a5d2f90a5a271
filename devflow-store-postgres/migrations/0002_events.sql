-- Engine events for hosts, read from a cursor (the sequence number is the event id).
CREATE TABLE events (
    seq    BIGSERIAL PRIMARY KEY,
    tenant TEXT NOT NULL,
    at     TEXT NOT NULL,
    data   TEXT NOT NULL
);
CREATE INDEX events_tenant ON events (tenant, seq);
