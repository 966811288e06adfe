-- Sessions kept until unpinned, whatever the retention policy (a session linked to a ticket).
CREATE TABLE pinned_sessions (
    session_id TEXT    PRIMARY KEY,
    pinned_ms  INTEGER NOT NULL,
    note       TEXT                    -- why: a ticket URL or a few words
) WITHOUT ROWID;
-- Retention finds expired sessions by when they ended.
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_ms);
-- And traces that belong to no session by when they started.
CREATE INDEX traces_without_session ON traces (start_time_unix_nano) WHERE session_id IS NULL;
