-- What puente does with a message a client sends (SQLite's migration 0019):
-- an opt-out or opt-in written to WHMCS, or a reply opened as (or added
-- to) a WHMCS ticket; taken by one replica at a time under a lease.
ALTER TABLE inbound_messages ADD COLUMN handling TEXT NOT NULL DEFAULT 'kept'
    CHECK (handling IN ('due', 'done', 'kept', 'failed'));
ALTER TABLE inbound_messages ADD COLUMN outcome TEXT;
ALTER TABLE inbound_messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbound_messages ADD COLUMN next_attempt_at_ms BIGINT;
ALTER TABLE inbound_messages ADD COLUMN ticket_id BIGINT;
ALTER TABLE inbound_messages ADD COLUMN matched_by TEXT
    CHECK (matched_by IS NULL OR matched_by IN ('alert', 'number'));
ALTER TABLE inbound_messages ADD COLUMN lease_owner TEXT;
ALTER TABLE inbound_messages ADD COLUMN lease_expires_at_ms BIGINT;
ALTER TABLE inbound_messages ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
UPDATE inbound_messages SET matched_by = 'alert' WHERE client_id IS NOT NULL;
UPDATE inbound_messages SET outcome = 'received before puente acted on replies';

CREATE INDEX inbound_messages_due ON inbound_messages (id) WHERE handling = 'due';
CREATE INDEX inbound_messages_by_conversation
    ON inbound_messages (instance, client_id, from_number, id) WHERE ticket_id IS NOT NULL;

ALTER TABLE messages ADD COLUMN to_number TEXT;
ALTER TABLE messages ADD COLUMN to_client_id BIGINT;
UPDATE messages SET to_number = (request_body::jsonb ->> 'to'), to_client_id = client_id
 WHERE request_body IS NOT NULL AND request_body LIKE '{%';
CREATE INDEX messages_by_recipient ON messages (to_number, instance) WHERE to_number IS NOT NULL;
CREATE INDEX inbound_messages_leased ON inbound_messages (lease_owner) WHERE lease_owner IS NOT NULL;
