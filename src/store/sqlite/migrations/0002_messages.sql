-- WhatsApp alerts, one row per planned message, written in the transaction
-- that stores the event that caused it (the outbox).
CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    event_seq        INTEGER NOT NULL REFERENCES events (seq),
    instance         TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    -- NULL: the owner of the subject, read from WHMCS when preparing it.
    client_id        INTEGER,
    subject_kind     TEXT    NOT NULL CHECK (subject_kind IN ('client', 'invoice', 'service', 'domain', 'quote')),
    subject_id       INTEGER,
    -- Set when the message goes to the number the client just replaced.
    previous_phone   TEXT,
    previous_country TEXT,
    -- One message per key and instance, however often the event arrives.
    dedupe_key       TEXT    NOT NULL,
    coalesce_group   TEXT,
    status           TEXT    NOT NULL CHECK (status IN ('planned', 'skipped', 'sending', 'uncertain',
                                                        'sent', 'delivered', 'read', 'failed', 'dead')),
    reason           TEXT,
    planned_at_ms    INTEGER NOT NULL,
    UNIQUE (instance, dedupe_key)
) STRICT;

-- Coalescing looks back within a group; only grouped rows are indexed.
CREATE INDEX messages_by_group ON messages (instance, coalesce_group, planned_at_ms)
    WHERE coalesce_group IS NOT NULL;
