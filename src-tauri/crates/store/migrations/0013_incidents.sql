-- Incident windows: time-boxed enriched capture, kept as history (see src/incident.rs).
CREATE TABLE incidents (
    id          TEXT    PRIMARY KEY,
    started_ms  INTEGER NOT NULL,             -- Unix ms
    until_ms    INTEGER NOT NULL,             -- when capture stops (or stopped)
    ended_early INTEGER NOT NULL DEFAULT 0,   -- stopped before its planned end
    scope_kind  TEXT    NOT NULL,             -- all, user, session, url
    scope_value TEXT,
    label       TEXT,
    ticket_url  TEXT,
    started_by  TEXT    NOT NULL              -- ui, tray, cli, api
) WITHOUT ROWID;
CREATE INDEX incidents_by_start ON incidents (started_ms);
