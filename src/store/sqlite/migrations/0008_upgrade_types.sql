-- CHECKs list values with OR, not IN: SQLite builds a temporary index for
-- an IN list of three or more values on every insert (see 0007).

-- Every WHMCS upgrade row is recorded, whatever it changes (tblupgrades.type
-- in WHMCS 8.4: `package` and `service` move a service to another product,
-- `configoptions` changes its configurable options, `addon` one of its
-- addons). Only product upgrades whose row matches the service's owner are
-- applied; the rest are kept for the administrator:
--   recorded  puente never applies this type (configoptions, addon)
--   refused   the row does not match WHMCS's records (another client, no
--             such service, no product or cycle to apply); `last_error` says why
-- A product or cycle may be unknown for those, so both columns take NULL.
-- SQLite cannot change a column or a CHECK in place: the table is rebuilt.
CREATE TABLE upgrade_applications_0008 (
    id               INTEGER PRIMARY KEY,
    event_seq        INTEGER NOT NULL REFERENCES events (seq),
    instance         TEXT    NOT NULL,
    upgrade_id       INTEGER NOT NULL,
    upgrade_type     TEXT    NOT NULL CHECK (upgrade_type = 'package' OR upgrade_type = 'service'
                                             OR upgrade_type = 'configoptions' OR upgrade_type = 'addon'),
    service_id       INTEGER NOT NULL,
    client_id        INTEGER NOT NULL,
    product_id       INTEGER,
    -- As WHMCS stores it on a service (`Semi-Annually`).
    billing_cycle    TEXT,
    policy           TEXT    NOT NULL,
    enable_date      TEXT    NOT NULL,
    -- NULL when the policy keeps WHMCS's due date and amount.
    next_due_date    TEXT,
    recurring_amount TEXT,
    -- planned -> applying (committed before the WHMCS call) -> applied;
    -- failed when WHMCS refuses the change; recorded and refused as above.
    status           TEXT    NOT NULL CHECK (status = 'planned' OR status = 'applying'
                                             OR status = 'applied' OR status = 'failed'
                                             OR status = 'recorded' OR status = 'refused'),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    planned_at_ms    INTEGER NOT NULL,
    applied_at_ms    INTEGER,
    UNIQUE (instance, upgrade_id),
    CHECK (status = 'recorded' OR status = 'refused'
           OR (product_id IS NOT NULL AND billing_cycle IS NOT NULL))
) STRICT;

-- Every row recorded so far was a package upgrade.
INSERT INTO upgrade_applications_0008
       (id, event_seq, instance, upgrade_id, upgrade_type, service_id, client_id, product_id,
        billing_cycle, policy, enable_date, next_due_date, recurring_amount, status, attempts,
        last_error, planned_at_ms, applied_at_ms)
SELECT id, event_seq, instance, upgrade_id, 'package', service_id, client_id, product_id,
       billing_cycle, policy, enable_date, next_due_date, recurring_amount, status, attempts,
       last_error, planned_at_ms, applied_at_ms
  FROM upgrade_applications;

DROP TABLE upgrade_applications;
ALTER TABLE upgrade_applications_0008 RENAME TO upgrade_applications;

-- As in 0006: the same terms as the worker's query, so SQLite uses it.
CREATE INDEX upgrade_applications_pending ON upgrade_applications (id)
    WHERE status IN ('planned', 'applying');
