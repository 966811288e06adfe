-- Signals that need evidence: what a clicked element is, from any rrweb stream; signals a
-- client reported itself; errors as users mean them; every page a session visited.

-- What each rrweb node id meant from a moment on (a full snapshot, or the mutation that added
-- it): enough to name a click and to know whether it hit a field, a link or a button. Node ids
-- restart with each page load, so a click takes the newest row at or before it.
CREATE TABLE session_nodes (
    session_id TEXT    NOT NULL,
    node_id    INTEGER NOT NULL,
    since_ms   INTEGER NOT NULL,
    tag        TEXT    NOT NULL,     -- lower-case tag name
    control    TEXT    NOT NULL,     -- editable | external | link | button | static
    name       TEXT,                 -- the accessible name: label, aria-label, alt, title, text
    PRIMARY KEY (session_id, node_id, since_ms)
) WITHOUT ROWID;

-- The kind of control a click or an input hit (see session_nodes.control), once known.
ALTER TABLE session_events ADD COLUMN control TEXT;
-- Clicks and inputs still waiting for their node to be known: each batch looks only at these.
CREATE INDEX session_events_unresolved ON session_events (session_id, node_id)
    WHERE control IS NULL AND node_id IS NOT NULL AND kind IN ('click', 'input');

-- engine: computed from the session's events; client: reported by the recorder itself.
ALTER TABLE frustration_signals ADD COLUMN source TEXT NOT NULL DEFAULT 'engine';

-- Errors as users mean them: failed requests (5xx or no answer) beside page errors; 4xx
-- answers are client errors, shown apart.
ALTER TABLE sessions ADD COLUMN failed_request_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN client_error_count INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET
    failed_request_count = (SELECT count(*) FROM session_events e
                             WHERE e.session_id = sessions.session_id AND e.kind = 'network'
                               AND (CAST(e.level AS INTEGER) >= 500 OR e.level = '0')),
    client_error_count = (SELECT count(*) FROM session_events e
                           WHERE e.session_id = sessions.session_id AND e.kind = 'network'
                             AND CAST(e.level AS INTEGER) BETWEEN 400 AND 499);

-- Single-page navigations are pages too (they were only events).
INSERT INTO session_pages (session_id, url, first_seen_ms, page)
SELECT session_id, target, min(timestamp_ms),
       substr(target, 1, min(instr(target || '?', '?'), instr(target || '#', '#')) - 1)
  FROM session_events WHERE kind = 'page_view' AND target IS NOT NULL
 GROUP BY session_id, target
 ORDER BY 1, 2
    ON CONFLICT (session_id, url) DO NOTHING;

-- Failed and refused requests, for the error facets.
CREATE INDEX session_events_failed_requests ON session_events (session_id)
    WHERE kind = 'network' AND (CAST(level AS INTEGER) >= 400 OR level = '0');
