-- CHECKs list values with OR, not IN: SQLite builds a temporary index for
-- an IN list of three or more values on every insert (see 0007).

-- Paid upgrades puente applies after WHMCS did (SPEC §2.1), one row per
-- WHMCS upgrade (tblupgrades.id), written in the transaction that stores
-- the event reporting it; the upgrade worker carries them out.
CREATE TABLE upgrade_applications (
    id               INTEGER PRIMARY KEY,
    event_seq        INTEGER NOT NULL REFERENCES events (seq),
    instance         TEXT    NOT NULL,
    upgrade_id       INTEGER NOT NULL,
    service_id       INTEGER NOT NULL,
    client_id        INTEGER NOT NULL,
    product_id       INTEGER NOT NULL,
    -- As WHMCS stores it on a service (`Semi-Annually`).
    billing_cycle    TEXT    NOT NULL,
    policy           TEXT    NOT NULL,
    enable_date      TEXT    NOT NULL,
    -- NULL when the policy keeps WHMCS's due date and amount.
    next_due_date    TEXT,
    recurring_amount TEXT,
    -- planned -> applying (committed before the WHMCS call) -> applied;
    -- failed when WHMCS refuses the change.
    status           TEXT    NOT NULL CHECK (status = 'planned' OR status = 'applying'
                                             OR status = 'applied' OR status = 'failed'),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    planned_at_ms    INTEGER NOT NULL,
    applied_at_ms    INTEGER,
    UNIQUE (instance, upgrade_id)
) STRICT;

CREATE INDEX upgrade_applications_pending ON upgrade_applications (id)
    WHERE status IN ('planned', 'applying');

-- Manual upgrade requests (tickets to the account executives): at most one
-- open per service. `opening` is committed before OpenTicket is called.
CREATE TABLE manual_upgrade_requests (
    id              INTEGER PRIMARY KEY,
    instance        TEXT    NOT NULL,
    service_id      INTEGER NOT NULL,
    client_id       INTEGER NOT NULL,
    product_id      INTEGER NOT NULL,
    billing_cycle   TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status = 'opening' OR status = 'open'
                                            OR status = 'closed' OR status = 'failed'),
    ticket_id       INTEGER,
    ticket_number   TEXT,
    last_error      TEXT,
    requested_at_ms INTEGER NOT NULL,
    closed_at_ms    INTEGER
) STRICT;

CREATE UNIQUE INDEX manual_upgrade_requests_one_open
    ON manual_upgrade_requests (instance, service_id) WHERE status IN ('opening', 'open');
