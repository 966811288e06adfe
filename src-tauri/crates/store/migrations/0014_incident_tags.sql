-- What was captured in an incident window: spans and logs carry the window's id.
ALTER TABLE spans ADD COLUMN incident_id TEXT;
ALTER TABLE logs ADD COLUMN incident_id TEXT;
CREATE INDEX spans_by_incident ON spans (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX logs_by_incident ON logs (incident_id, time_unix_nano) WHERE incident_id IS NOT NULL;
