-- What puente does with a message a client sends: an opt-out or opt-in
-- written to WHMCS, or a reply opened as (or added to) a WHMCS ticket.
--   due     to be acted on (at next_attempt_at_ms, if set)
--   done    acted on: `outcome` says what was done
--   kept    stored and shown, nothing to do (unknown number, tickets off)
--   failed  given up: `outcome` says why
-- Messages received before this migration are kept as they were. (The
-- checks are written with OR: an IN list makes SQLite build a temporary
-- index on every insert.)
ALTER TABLE inbound_messages ADD COLUMN handling TEXT NOT NULL DEFAULT 'kept'
    CHECK (handling = 'due' OR handling = 'done' OR handling = 'kept' OR handling = 'failed');
ALTER TABLE inbound_messages ADD COLUMN outcome TEXT;
ALTER TABLE inbound_messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbound_messages ADD COLUMN next_attempt_at_ms INTEGER;
-- The WHMCS ticket a reply opened or was added to.
ALTER TABLE inbound_messages ADD COLUMN ticket_id INTEGER;
-- How the client was known: 'alert' (the message answers one of the
-- client's alerts) or 'number' (alerts went to this number for this client
-- only).
ALTER TABLE inbound_messages ADD COLUMN matched_by TEXT
    CHECK (matched_by IS NULL OR matched_by = 'alert' OR matched_by = 'number');
UPDATE inbound_messages SET matched_by = 'alert' WHERE client_id IS NOT NULL;
UPDATE inbound_messages SET outcome = 'received before puente acted on replies';

CREATE INDEX inbound_messages_due ON inbound_messages (id) WHERE handling = 'due';
CREATE INDEX inbound_messages_by_conversation
    ON inbound_messages (instance, client_id, from_number, id) WHERE ticket_id IS NOT NULL;

-- Who an alert reached: the number it was sent to (digits) and the client
-- it was for, so that a client's message without a quoted alert is matched
-- to the one client alerts went to at that number (never to several).
ALTER TABLE messages ADD COLUMN to_number TEXT;
ALTER TABLE messages ADD COLUMN to_client_id INTEGER;
UPDATE messages SET to_number = json_extract(request_body, '$.to'), to_client_id = client_id
 WHERE request_body IS NOT NULL AND json_valid(request_body);
CREATE INDEX messages_by_recipient ON messages (to_number, instance) WHERE to_number IS NOT NULL;
