-- The last diagnostics report of each install (the addon's Diagnostics tab):
-- the addon's rows and the service's, as the dashboard shows them.
CREATE TABLE diagnostic_reports (
    instance      TEXT    PRIMARY KEY,
    at_ms         INTEGER NOT NULL,
    addon_version TEXT    NOT NULL,
    whmcs_version TEXT    NOT NULL,
    php_version   TEXT    NOT NULL,
    passed        INTEGER NOT NULL,
    warned        INTEGER NOT NULL,
    failed        INTEGER NOT NULL,
    -- JSON list of {check, title, status, detail, fix, assumptions}.
    rows          TEXT    NOT NULL
) STRICT;
