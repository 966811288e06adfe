-- What the browser recorded inside an incident window: session events carry the window's id,
-- stamped by the recorder or by the engine when the batch arrived inside a window.
ALTER TABLE session_events ADD COLUMN incident_id TEXT;
CREATE INDEX session_events_by_incident ON session_events (incident_id, session_id)
    WHERE incident_id IS NOT NULL;
