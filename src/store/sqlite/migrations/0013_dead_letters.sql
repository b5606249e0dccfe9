-- The dashboard counts dead letters on every overview; only dead rows are
-- indexed, so ingest (which writes planned rows) does not pay for it.
CREATE INDEX messages_dead ON messages (instance) WHERE status = 'dead';
