-- Full-text search over log bodies and attributes (both stored as JSON text: tokens are the
-- words inside). External content: the index holds tokens only, the text stays in `logs`.
CREATE VIRTUAL TABLE logs_fts USING fts5 (
    body, attributes,
    content = 'logs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER logs_fts_insert AFTER INSERT ON logs BEGIN
    INSERT INTO logs_fts (rowid, body, attributes) VALUES (new.id, new.body, new.attributes);
END;
CREATE TRIGGER logs_fts_delete AFTER DELETE ON logs BEGIN
    INSERT INTO logs_fts (logs_fts, rowid, body, attributes)
    VALUES ('delete', old.id, old.body, old.attributes);
END;
-- Index what is already there.
INSERT INTO logs_fts (logs_fts) VALUES ('rebuild');
-- Log search by service and time, newest first.
CREATE INDEX logs_by_service ON logs (service_name, time_unix_nano);
