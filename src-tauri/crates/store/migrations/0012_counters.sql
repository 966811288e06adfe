-- Totals the status page shows every few seconds, kept by the writer: counting millions of
-- rows took about half a second per look on a 5M-span database.
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- Every session id named by a span, a log or a replay.
CREATE TABLE known_sessions (
    session_id TEXT PRIMARY KEY
) WITHOUT ROWID;

INSERT INTO counters (name, value)
SELECT 'spans', count(*) FROM spans
UNION ALL SELECT 'logs', count(*) FROM logs
UNION ALL SELECT 'metric_points', count(*) FROM metric_points;

INSERT OR IGNORE INTO known_sessions (session_id)
SELECT session_id FROM trace_sessions
UNION SELECT session_id FROM logs WHERE session_id IS NOT NULL
UNION SELECT session_id FROM spans WHERE session_id IS NOT NULL
UNION SELECT session_id FROM sessions;
