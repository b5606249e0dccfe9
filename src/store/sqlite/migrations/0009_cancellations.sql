-- CHECKs list values with OR, not IN: SQLite builds a temporary index for
-- an IN list of three or more values on every insert (see 0007).

-- Template values an alert carries from its planning (JSON object of
-- parameter name -> text), for what WHMCS cannot tell later: the type and
-- effective date of a cancellation.
ALTER TABLE messages ADD COLUMN details TEXT;

-- Cancellations (SPEC §2.3), one row per request, written in the
-- transaction of the event that reported it: WHMCS's CancellationRequest
-- hook (origin `whmcs`: its own form, staff, the API) or the client's
-- re-authenticated request on puente's page (origin `client_page`, the
-- client action stored as an event).
--   requested        WHMCS took it; its dates are not read yet
--   scheduled        the effective date is known; the service runs until then
--   terminating      committed before puente asks WHMCS to terminate it
--   terminated       done (by puente or WHMCS), with the termination date
--   failed           WHMCS refused the termination; `last_error` says why
--   renewal_disabled a domain: its renewal was switched off, nothing else
CREATE TABLE cancellations (
    id                   INTEGER PRIMARY KEY,
    event_seq            INTEGER NOT NULL REFERENCES events (seq),
    instance             TEXT    NOT NULL,
    subject_kind         TEXT    NOT NULL CHECK (subject_kind = 'service' OR subject_kind = 'domain'),
    subject_id           INTEGER NOT NULL,
    client_id            INTEGER NOT NULL,
    -- WHMCS's spelling; NULL for a domain.
    cancel_type          TEXT    CHECK (cancel_type = 'Immediate' OR cancel_type = 'End of Billing Period'),
    reason               TEXT    NOT NULL DEFAULT '',
    origin               TEXT    NOT NULL CHECK (origin = 'whmcs' OR origin = 'client_page'),
    -- The client re-entered their email and password (puente's page only).
    reauthenticated      INTEGER NOT NULL DEFAULT 0,
    requested_at_ms      INTEGER NOT NULL,
    -- The request's day in the installation's timezone.
    requested_on         TEXT    NOT NULL,
    effective_date       TEXT,
    -- JSON list of the invoices that stay payable, as the client was told.
    open_invoices        TEXT,
    status               TEXT    NOT NULL CHECK (status = 'requested' OR status = 'scheduled'
                                                 OR status = 'terminating' OR status = 'terminated'
                                                 OR status = 'failed' OR status = 'renewal_disabled'),
    attempts             INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    termination_date     TEXT,
    backup_retention_end TEXT,
    updated_at_ms        INTEGER NOT NULL,
    CHECK ((subject_kind = 'service') = (cancel_type IS NOT NULL))
) STRICT;

-- One open cancellation per service: a second hook or request for it is the
-- same cancellation.
CREATE UNIQUE INDEX cancellations_one_open ON cancellations (instance, subject_kind, subject_id)
    WHERE status = 'requested' OR status = 'scheduled' OR status = 'terminating' OR status = 'failed';

-- What the cancellation worker reads on every pass.
CREATE INDEX cancellations_pending ON cancellations (id)
    WHERE status = 'requested' OR status = 'scheduled' OR status = 'terminating';
