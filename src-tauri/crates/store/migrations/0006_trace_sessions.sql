-- A trace can belong to several user sessions: a shared backend job, a request replayed from
-- another tab, a trace id that a client reused. `traces.session_id` keeps the first one seen (the
-- trace's "home" session, used where one answer is needed); this table keeps them all.
CREATE TABLE trace_sessions (
    session_id TEXT    NOT NULL,
    trace      INTEGER NOT NULL REFERENCES traces(id),
    PRIMARY KEY (session_id, trace)
) WITHOUT ROWID;
CREATE INDEX trace_sessions_by_trace ON trace_sessions (trace);

INSERT INTO trace_sessions (session_id, trace)
SELECT session_id, id FROM traces WHERE session_id IS NOT NULL;
