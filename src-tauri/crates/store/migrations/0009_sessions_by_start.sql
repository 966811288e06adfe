-- The session list is ordered by (coalesce(first_seen_ms, 0), session_id), newest first. An
-- index on exactly that lets a page stop after its rows; without it every session's columns
-- (page and trace counts) were computed and sorted before the first 50 were returned.
CREATE INDEX sessions_by_start ON sessions (coalesce(first_seen_ms, 0), session_id);
