-- Meta's id of a sent message, the time and error of its latest status.
ALTER TABLE messages ADD COLUMN wamid TEXT;
ALTER TABLE messages ADD COLUMN status_at_ms INTEGER;
ALTER TABLE messages ADD COLUMN meta_error_code INTEGER;
CREATE UNIQUE INDEX messages_by_wamid ON messages (wamid) WHERE wamid IS NOT NULL;

-- Every Meta webhook delivery applied, by the SHA-256 of its exact body:
-- Meta redelivers, and a redelivery changes nothing.
CREATE TABLE whatsapp_notifications (
    body_sha256    BLOB    PRIMARY KEY,
    received_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
