-- Where each install's reconciliation stands (SQLite's migration 0020).
CREATE TABLE reconciliations (
    instance     TEXT   PRIMARY KEY,
    since_ms     BIGINT NOT NULL,
    passed_at_ms BIGINT NOT NULL,
    last_result  TEXT
);
