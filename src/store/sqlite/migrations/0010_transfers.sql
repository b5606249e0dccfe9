-- CHECKs list values with OR, not IN: SQLite builds a temporary index for
-- an IN list of three or more values on every insert (see 0007).

-- Transfers of a service to another client (SPEC §2.4), one row per
-- request, written in the transaction of the owner's request (the client
-- action stored as an event); every step after it is a row of
-- transfer_steps, with who took it and the preconditions' outcome.
CREATE TABLE transfers (
    id                   INTEGER PRIMARY KEY,
    event_seq            INTEGER NOT NULL REFERENCES events (seq),
    instance             TEXT    NOT NULL,
    service_id           INTEGER NOT NULL,
    -- As the clients were told (WHMCS's name and domain at request time).
    service_name         TEXT    NOT NULL DEFAULT '',
    service_domain       TEXT    NOT NULL DEFAULT '',
    -- The domain registration that moves with it, if the owner asked.
    domain_id            INTEGER,
    owner_client_id      INTEGER NOT NULL,
    recipient_client_id  INTEGER NOT NULL,
    recipient_email      TEXT    NOT NULL,
    approval             TEXT    NOT NULL CHECK (approval = 'none' OR approval = 'staff'),
    status               TEXT    NOT NULL CHECK (status = 'requested' OR status = 'accepted'
                                                 OR status = 'approved' OR status = 'moving'
                                                 OR status = 'completed' OR status = 'declined'
                                                 OR status = 'withdrawn' OR status = 'expired'
                                                 OR status = 'failed'),
    requested_at_ms      INTEGER NOT NULL,
    expires_at_ms        INTEGER NOT NULL,
    move_attempts        INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    -- The gateway subscription the move cleared (staff cancel it there).
    subscription_cleared TEXT,
    updated_at_ms        INTEGER NOT NULL
) STRICT;

-- One open transfer per service.
CREATE UNIQUE INDEX transfers_one_open ON transfers (instance, service_id)
    WHERE status = 'requested' OR status = 'accepted' OR status = 'approved' OR status = 'moving';

-- What the transfer worker reads on every pass (expiry and moves).
CREATE INDEX transfers_open ON transfers (id)
    WHERE status = 'requested' OR status = 'accepted' OR status = 'approved' OR status = 'moving';

CREATE INDEX transfers_by_owner ON transfers (instance, owner_client_id, id);
CREATE INDEX transfers_by_recipient ON transfers (instance, recipient_client_id, id);

-- The audit trail: every step of every transfer.
CREATE TABLE transfer_steps (
    id              INTEGER PRIMARY KEY,
    transfer_id     INTEGER NOT NULL REFERENCES transfers (id),
    -- NULL for the request itself.
    from_status     TEXT,
    to_status       TEXT    NOT NULL,
    party           TEXT    NOT NULL CHECK (party = 'owner' OR party = 'recipient'
                                            OR party = 'staff' OR party = 'system'),
    -- The client and WHMCS 8 user who took it (NULL for staff and puente).
    actor_client_id INTEGER,
    actor_user_id   INTEGER,
    at_ms           INTEGER NOT NULL,
    -- JSON list of {name, passed}: the preconditions checked for this step.
    checks          TEXT,
    note            TEXT
) STRICT;

CREATE INDEX transfer_steps_by_transfer ON transfer_steps (transfer_id, id);
