-- WhatsApp messages clients send to an instance's number (Meta's webhook),
-- each once by its wamid: who sent it, what it says, the alert it answers
-- and what puente makes of it. A number no alert was sent to stays without
-- a client: never guessed.
CREATE TABLE inbound_messages (
    id             INTEGER PRIMARY KEY,
    wamid          TEXT    NOT NULL UNIQUE,
    instance       TEXT    NOT NULL,
    -- Digits, as Meta sends `from` (the sender's WhatsApp id).
    from_number    TEXT    NOT NULL,
    profile_name   TEXT,
    sent_at_ms     INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    -- Meta's type: text, button, interactive, image, …
    kind           TEXT    NOT NULL,
    text           TEXT,
    -- The message it answers (Meta's context.id), puente's alert of that
    -- wamid and the alert's client.
    context_wamid  TEXT,
    message_id     INTEGER,
    client_id      INTEGER,
    intent         TEXT    NOT NULL CHECK (intent = 'opt_out' OR intent = 'opt_in' OR intent = 'reply')
) STRICT;

CREATE INDEX inbound_messages_by_instance ON inbound_messages (instance, id);
CREATE INDEX inbound_messages_by_time ON inbound_messages (received_at_ms);
