-- The per-session index of meaningful events, extracted from rrweb streams at ingest, and the
-- frustration signals computed from it. Feeds timelines, search and correlation.

CREATE TABLE session_events (
    id           INTEGER PRIMARY KEY,
    session_id   TEXT    NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    batch        INTEGER NOT NULL,     -- the replay chunk it came from
    kind         TEXT    NOT NULL,     -- page_view | click | input | network | console | error
                                       -- | custom | dom | scroll
    target       TEXT,                 -- click/input: semantic target; page_view/network: URL
    node_id      INTEGER,              -- rrweb node id (clicks, inputs, scrolls)
    x            REAL,                 -- click position, scroll offset
    y            REAL,
    level        TEXT,                 -- console level; network: HTTP status
    trace_id     TEXT,                 -- network: the trace the request carried (hex)
    span_id      TEXT,
    data         TEXT    NOT NULL      -- JSON details (never input text)
);
CREATE INDEX session_events_by_session ON session_events (session_id, timestamp_ms);
CREATE INDEX session_events_by_trace ON session_events (trace_id) WHERE trace_id IS NOT NULL;

CREATE TABLE frustration_signals (
    id           INTEGER PRIMARY KEY,
    session_id   TEXT    NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    kind         TEXT    NOT NULL,     -- rage_click | dead_click | error_click | thrashing
    score        REAL    NOT NULL,
    target       TEXT,
    reason       TEXT    NOT NULL,     -- why it fired, in English
    evidence     TEXT    NOT NULL      -- JSON: the timestamps of the events that triggered it
);
CREATE INDEX frustration_by_session ON frustration_signals (session_id, timestamp_ms);
