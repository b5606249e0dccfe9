-- CHECKs list values with OR, not IN: SQLite builds a temporary index for
-- an IN list of three or more values on every insert (see 0007).

-- Two statuses and an origin for cancellations:
--   unconfirmed  the client asked on WHMCS's own cancellation form (origin
--                `whmcs_client_form`), which asks for no email and password:
--                puente never carries it out and holds WHMCS's cron, until
--                the client confirms on puente's page (the row becomes
--                `scheduled`, origin `client_page`)
--   withdrawn    WHMCS no longer holds the request (staff deleted it): it is
--                never carried out
-- SQLite cannot change a CHECK in place: the table is rebuilt, with its
-- indexes (0009, 0011, 0012).
CREATE TABLE cancellations_0014 (
    id                   INTEGER PRIMARY KEY,
    event_seq            INTEGER NOT NULL REFERENCES events (seq),
    instance             TEXT    NOT NULL,
    subject_kind         TEXT    NOT NULL CHECK (subject_kind = 'service' OR subject_kind = 'domain'),
    subject_id           INTEGER NOT NULL,
    client_id            INTEGER NOT NULL,
    cancel_type          TEXT    CHECK (cancel_type = 'Immediate' OR cancel_type = 'End of Billing Period'),
    reason               TEXT    NOT NULL DEFAULT '',
    origin               TEXT    NOT NULL CHECK (origin = 'whmcs' OR origin = 'whmcs_client_form'
                                                 OR origin = 'client_page'),
    reauthenticated      INTEGER NOT NULL DEFAULT 0,
    requested_at_ms      INTEGER NOT NULL,
    requested_on         TEXT    NOT NULL,
    effective_date       TEXT,
    open_invoices        TEXT,
    status               TEXT    NOT NULL CHECK (status = 'unconfirmed' OR status = 'requested'
                                                 OR status = 'scheduled' OR status = 'terminating'
                                                 OR status = 'terminated' OR status = 'failed'
                                                 OR status = 'withdrawn'
                                                 OR status = 'renewal_disabled'),
    attempts             INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    termination_date     TEXT,
    backup_retention_end TEXT,
    updated_at_ms        INTEGER NOT NULL,
    CHECK ((subject_kind = 'service') = (cancel_type IS NOT NULL)),
    CHECK ((status = 'unconfirmed') <= (origin = 'whmcs_client_form'))
) STRICT;

INSERT INTO cancellations_0014
       (id, event_seq, instance, subject_kind, subject_id, client_id, cancel_type, reason, origin,
        reauthenticated, requested_at_ms, requested_on, effective_date, open_invoices, status,
        attempts, last_error, termination_date, backup_retention_end, updated_at_ms)
SELECT id, event_seq, instance, subject_kind, subject_id, client_id, cancel_type, reason, origin,
       reauthenticated, requested_at_ms, requested_on, effective_date, open_invoices, status,
       attempts, last_error, termination_date, backup_retention_end, updated_at_ms
  FROM cancellations;

DROP TABLE cancellations;
ALTER TABLE cancellations_0014 RENAME TO cancellations;

-- One open cancellation per service: a second hook or request for it is the
-- same cancellation.
CREATE UNIQUE INDEX cancellations_one_open ON cancellations (instance, subject_kind, subject_id)
    WHERE status = 'unconfirmed' OR status = 'requested' OR status = 'scheduled'
       OR status = 'terminating' OR status = 'failed';

-- What the cancellation worker reads on every pass.
CREATE INDEX cancellations_pending ON cancellations (id)
    WHERE status = 'unconfirmed' OR status = 'requested' OR status = 'scheduled'
       OR status = 'terminating';

CREATE INDEX cancellations_by_instance ON cancellations (instance, id);
CREATE INDEX cancellations_by_event ON cancellations (event_seq);
