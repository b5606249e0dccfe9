-- Retention deletes an old event with its messages unless one of them is
-- still open or an upgrade, cancellation or transfer record points at the
-- event. These find the rows that point at an event (the foreign key checks
-- of the delete use them too), and old Meta notification hashes.
CREATE INDEX messages_by_event ON messages (event_seq);
CREATE INDEX upgrade_applications_by_event ON upgrade_applications (event_seq);
CREATE INDEX cancellations_by_event ON cancellations (event_seq);
CREATE INDEX transfers_by_event ON transfers (event_seq);
CREATE INDEX whatsapp_notifications_by_time ON whatsapp_notifications (received_at_ms);
