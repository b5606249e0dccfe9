-- What the outbox worker did with a message: the exact request body, the
-- language and the number it went to, tries and when to try again.
ALTER TABLE messages ADD COLUMN request_body TEXT;
ALTER TABLE messages ADD COLUMN language TEXT;
ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN next_attempt_at_ms INTEGER;
CREATE INDEX messages_due ON messages (status, next_attempt_at_ms) WHERE status = 'planned';
