-- The admin API filters every list by instance (a scoped admin token always
-- does): each table is read as one range of (instance, its order key)
-- instead of a scan.
CREATE INDEX events_by_instance ON events (instance, seq);
CREATE INDEX messages_by_instance ON messages (instance, id);
CREATE INDEX upgrade_applications_by_instance ON upgrade_applications (instance, id);
CREATE INDEX cancellations_by_instance ON cancellations (instance, id);
CREATE INDEX transfers_by_instance ON transfers (instance, id);
