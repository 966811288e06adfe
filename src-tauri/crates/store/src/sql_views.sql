-- The views `POST /api/v1/sql` runs over: TEMP views on the SQL connection, named like the
-- tables they present, so `SELECT … FROM spans` reads these. Ids are lowercase hex; times are
-- Unix nanoseconds (`*_unix_nano`); attribute sets are JSON objects (json_extract works).

CREATE TEMP VIEW spans AS
SELECT lower(hex(s.trace_id))        AS trace_id,
       lower(hex(s.span_id))         AS span_id,
       lower(hex(s.parent_span_id))  AS parent_span_id,
       s.name,
       s.kind,
       s.start_time_unix_nano,
       s.end_time_unix_nano,
       s.end_time_unix_nano - s.start_time_unix_nano AS duration_ns,
       s.status_code,
       s.status_message,
       s.service_name,
       coalesce(s.session_id, t.session_id) AS session_id,
       s.attributes,
       s.events,
       s.links,
       r.attributes                  AS resource_attributes,
       s.incident_id
  FROM main.spans s
  JOIN main.traces t ON t.id = s.trace
  JOIN main.resources r ON r.id = s.resource_id;

CREATE TEMP VIEW logs AS
SELECT l.time_unix_nano,
       l.observed_time_unix_nano,
       l.severity_number,
       l.severity_text,
       l.body,
       l.attributes,
       lower(hex(l.trace_id))        AS trace_id,
       lower(hex(l.span_id))         AS span_id,
       l.service_name,
       coalesce(l.session_id, t.session_id) AS session_id,
       l.event_name,
       l.incident_id
  FROM main.logs l
  LEFT JOIN main.traces t ON t.id = l.trace;

CREATE TEMP VIEW sessions AS
SELECT s.session_id,
       s.user_id,
       s.user_email,
       s.start_url,
       s.user_agent,
       s.first_seen_ms * 1000000     AS first_seen_unix_nano,
       s.last_seen_ms * 1000000      AS last_seen_unix_nano,
       (s.last_seen_ms - s.first_seen_ms) * 1000000 AS duration_ns,
       s.event_count,
       s.error_count,
       s.frustration_score,
       (SELECT count(*) FROM main.session_pages p WHERE p.session_id = s.session_id) AS page_count,
       (SELECT count(*) FROM main.trace_sessions m WHERE m.session_id = s.session_id) AS trace_count,
       s.attributes
  FROM main.sessions s;

-- Every (session, trace) pair: a trace can belong to more than one session, while
-- `spans.session_id` and `logs.session_id` name one (their own, else the trace's first).
CREATE TEMP VIEW session_traces AS
SELECT m.session_id,
       lower(hex(t.trace_id))        AS trace_id,
       t.start_time_unix_nano,
       t.end_time_unix_nano,
       t.span_count,
       t.error_count
  FROM main.trace_sessions m
  JOIN main.traces t ON t.id = m.trace;

-- Indexed events and frustration signals in one stream. `page_url` is the page the event
-- happened on (the last page view at or before it).
CREATE TEMP VIEW session_events AS
SELECT e.session_id,
       e.timestamp_ms * 1000000      AS time_unix_nano,
       e.kind,
       e.target,
       e.level,
       e.trace_id,
       e.span_id,
       e.data,
       (SELECT p.target FROM main.session_events p
         WHERE p.session_id = e.session_id AND p.kind = 'page_view'
           AND p.timestamp_ms <= e.timestamp_ms
         ORDER BY p.timestamp_ms DESC LIMIT 1) AS page_url,
       e.incident_id
  FROM main.session_events e
 WHERE e.kind NOT IN ('dom', 'scroll', 'focus', 'selection', 'frustration')
UNION ALL
SELECT f.session_id,
       f.timestamp_ms * 1000000,
       f.kind,
       f.target,
       NULL,
       NULL,
       NULL,
       json_object('score', f.score, 'reason', f.reason, 'evidence', json(f.evidence),
                   'source', f.source),
       (SELECT p.target FROM main.session_events p
         WHERE p.session_id = f.session_id AND p.kind = 'page_view'
           AND p.timestamp_ms <= f.timestamp_ms
         ORDER BY p.timestamp_ms DESC LIMIT 1),
       NULL
  FROM main.frustration_signals f;

CREATE TEMP VIEW metrics AS
SELECT m.name,
       m.description,
       m.unit,
       m.type,
       m.service_name,
       p.time_unix_nano,
       p.start_time_unix_nano,
       p.value,
       p.count,
       p.sum,
       p.attributes
  FROM main.metric_points p
  JOIN main.metrics m ON m.id = p.metric_id;
