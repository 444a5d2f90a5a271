-- Engine events for hosts, read from a cursor (the sequence number is the event id).
CREATE TABLE events (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    at   TEXT NOT NULL,
    data TEXT NOT NULL
);
