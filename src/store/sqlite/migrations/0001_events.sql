-- Every verified hook event, exactly once per webhook-id.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    instance       TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    actor_kind     TEXT    NOT NULL CHECK (actor_kind IN ('client', 'admin', 'system', 'api')),
    actor_id       INTEGER,
    actor_user_id  INTEGER,
    source         TEXT    NOT NULL CHECK (source IN ('clientarea', 'adminarea', 'api', 'cron')),
    occurred_at_ms INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    body           BLOB    NOT NULL
) STRICT;

-- Each index rewrites a page per group commit, so only the type filter gets
-- one. received_at_ms never decreases with seq (the writer assigns it so),
-- which lets `since` be found by binary search over seq instead.
CREATE INDEX events_by_type ON events (type, seq);

-- One row rewritten by every readiness probe: proof that a write commits.
CREATE TABLE readiness_probe (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at_ms INTEGER NOT NULL
) STRICT;
