-- Webhooks a connection registered at its provider, so a scheduler refreshes the ones
-- that expire and a disconnect knows what to remove. No secret is kept here.
CREATE TABLE webhook_registrations (
    connection  TEXT NOT NULL,
    remote_id   TEXT NOT NULL,
    refresh_due TEXT,
    doc         TEXT NOT NULL,
    PRIMARY KEY (connection, remote_id)
);
CREATE INDEX webhook_registrations_due ON webhook_registrations (refresh_due)
    WHERE refresh_due IS NOT NULL;
