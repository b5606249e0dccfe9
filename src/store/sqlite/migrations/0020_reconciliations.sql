-- Where each install's reconciliation stands: invoices paid or cancelled
-- since `since_ms` are compared with the alerts their hooks planned. The
-- first pass of an install only sets it (nothing before it is alerted).
CREATE TABLE reconciliations (
    instance     TEXT    PRIMARY KEY,
    since_ms     INTEGER NOT NULL,
    passed_at_ms INTEGER NOT NULL,
    -- What the last pass found, for the dashboard.
    last_result  TEXT
) STRICT;
