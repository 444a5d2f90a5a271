-- Connections added at run time, with their bindings (non-secret settings only: tokens
-- are in `tokens`), so a restarted process resumes them.
CREATE TABLE connections (
    id         TEXT PRIMARY KEY NOT NULL,
    provider   TEXT NOT NULL,
    doc        TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
