-- Facets of the session list count sessions per error message; this keeps that to the
-- (few) error events instead of every indexed event.
CREATE INDEX session_events_errors ON session_events (target, session_id) WHERE kind = 'error';
