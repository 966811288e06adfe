-- The service map, kept by the writer instead of joined from the spans table at query time
-- (seconds on millions of spans). A call is a server or consumer span whose parent span is in
-- another service; it is counted once, when both spans are stored, whichever came first.
-- Counts are per minute of the call's start, so the map can be asked for any recent window.
CREATE TABLE service_edges (
    minute         INTEGER NOT NULL,   -- start_time_unix_nano / 60e9
    parent_service TEXT    NOT NULL,
    child_service  TEXT    NOT NULL,
    call_count     INTEGER NOT NULL,
    error_count    INTEGER NOT NULL,
    PRIMARY KEY (minute, parent_service, child_service)
) WITHOUT ROWID;

-- The calls into a span (children in other processes), for when the parent arrives second.
CREATE INDEX spans_remote_children ON spans (trace, parent_span_id)
    WHERE kind IN (2, 5) AND parent_span_id IS NOT NULL;

-- Backfill from what is stored.
INSERT INTO service_edges (minute, parent_service, child_service, call_count, error_count)
SELECT c.start_time_unix_nano / 60000000000, p.service_name, c.service_name, count(*),
       sum(c.status_code = 2)
  FROM spans c
  JOIN spans p ON p.trace = c.trace AND p.span_id = c.parent_span_id
 WHERE c.kind IN (2, 5) AND c.parent_span_id IS NOT NULL
   AND p.service_name IS NOT NULL AND c.service_name IS NOT NULL
   AND p.service_name != c.service_name
 GROUP BY 1, 2, 3;
