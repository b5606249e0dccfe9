-- Dashboard credentials that must not work again before they expire: a
-- sign-in link once used (`link:<instance>:<nonce>`) and a session signed
-- out (`session:<nonce>`). Kept across restarts; rows past `expires` (Unix
-- seconds) are deleted whenever a new one is written.
CREATE TABLE dashboard_spent (
    token   TEXT    PRIMARY KEY,
    expires INTEGER NOT NULL
) STRICT;
