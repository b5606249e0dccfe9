-- Every try to send a message to the Cloud API, kept for the operator.
CREATE TABLE message_attempts (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages (id),
    at_ms       INTEGER NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('accepted', 'refused', 'not_sent', 'unknown')),
    http_status INTEGER,
    meta_code   INTEGER,
    fbtrace_id  TEXT,
    detail      TEXT
) STRICT;
CREATE INDEX message_attempts_by_message ON message_attempts (message_id, id);
