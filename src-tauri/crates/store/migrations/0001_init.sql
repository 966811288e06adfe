-- Sightline schema v1: every OTLP field has a column or a JSON/protobuf document to live in.
-- An absent resource, scope or status is stored as the empty one: OTLP gives both the same meaning.
--
-- Ids are BLOBs of their OTLP width (16-byte trace ids, 8-byte span ids): half the size of hex and
-- faster to index. Times are Unix nanoseconds as INTEGER (i64 covers until 2262).
-- Attribute sets are JSON objects in Sightline's attribute encoding (see attrs.rs): plain values,
-- with tagged escapes only for bytes and non-finite doubles.

-- Resources and scopes are deduplicated by a content hash: a service sends the same resource with
-- every request, and storing it per span would multiply the database size.
CREATE TABLE resources (
    id                       INTEGER PRIMARY KEY,
    hash                     BLOB    NOT NULL UNIQUE,
    service_name             TEXT,
    attributes               TEXT    NOT NULL,
    dropped_attributes_count INTEGER NOT NULL,
    entity_refs              TEXT    NOT NULL,   -- JSON array of EntityRef
    schema_url               TEXT    NOT NULL    -- Resource{Spans,Logs,Metrics}.schema_url
);

CREATE TABLE scopes (
    id                       INTEGER PRIMARY KEY,
    hash                     BLOB    NOT NULL UNIQUE,
    name                     TEXT    NOT NULL,
    version                  TEXT    NOT NULL,
    attributes               TEXT    NOT NULL,
    dropped_attributes_count INTEGER NOT NULL,
    schema_url               TEXT    NOT NULL    -- Scope{Spans,Logs,Metrics}.schema_url
);

CREATE TABLE spans (
    id                       INTEGER PRIMARY KEY,  -- arrival order; round-trips keep it
    trace_id                 BLOB    NOT NULL,
    span_id                  BLOB    NOT NULL,
    parent_span_id           BLOB,                 -- NULL for a root span
    trace_state              TEXT    NOT NULL,
    flags                    INTEGER NOT NULL,
    name                     TEXT    NOT NULL,
    kind                     INTEGER NOT NULL,
    start_time_unix_nano     INTEGER NOT NULL,
    end_time_unix_nano       INTEGER NOT NULL,
    attributes               TEXT    NOT NULL,
    dropped_attributes_count INTEGER NOT NULL,
    events                   TEXT    NOT NULL,     -- JSON array, OTLP/JSON field names
    dropped_events_count     INTEGER NOT NULL,
    links                    TEXT    NOT NULL,     -- JSON array, OTLP/JSON field names, hex ids
    dropped_links_count      INTEGER NOT NULL,
    status_code              INTEGER NOT NULL,
    status_message           TEXT    NOT NULL,
    resource_id              INTEGER NOT NULL REFERENCES resources(id),
    scope_id                 INTEGER NOT NULL REFERENCES scopes(id),
    service_name             TEXT,                 -- copied from the resource for index-only lookups
    session_id               TEXT                  -- the user session, extracted at ingest
);
-- The indexes decide ingest speed; each one here serves a join later issues need.
CREATE INDEX spans_by_trace   ON spans (trace_id);
CREATE INDEX spans_by_session ON spans (session_id, start_time_unix_nano) WHERE session_id IS NOT NULL;
CREATE INDEX spans_by_service ON spans (service_name, start_time_unix_nano);

CREATE TABLE logs (
    id                       INTEGER PRIMARY KEY,
    time_unix_nano           INTEGER NOT NULL,
    observed_time_unix_nano  INTEGER NOT NULL,
    severity_number          INTEGER NOT NULL,
    severity_text            TEXT    NOT NULL,
    body                     TEXT,                 -- one attribute value in the attribute encoding; NULL if absent
    attributes               TEXT    NOT NULL,
    dropped_attributes_count INTEGER NOT NULL,
    flags                    INTEGER NOT NULL,
    trace_id                 BLOB,
    span_id                  BLOB,
    event_name               TEXT    NOT NULL,
    resource_id              INTEGER NOT NULL REFERENCES resources(id),
    scope_id                 INTEGER NOT NULL REFERENCES scopes(id),
    service_name             TEXT,
    session_id               TEXT
);
CREATE INDEX logs_by_trace   ON logs (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX logs_by_session ON logs (session_id, time_unix_nano) WHERE session_id IS NOT NULL;
CREATE INDEX logs_by_time    ON logs (time_unix_nano);

-- A metric stream: everything in an OTLP Metric except its points, deduplicated like resources.
CREATE TABLE metrics (
    id                      INTEGER PRIMARY KEY,
    hash                    BLOB    NOT NULL UNIQUE,
    resource_id             INTEGER NOT NULL REFERENCES resources(id),
    scope_id                INTEGER NOT NULL REFERENCES scopes(id),
    name                    TEXT    NOT NULL,
    description             TEXT    NOT NULL,
    unit                    TEXT    NOT NULL,
    type                    TEXT,                  -- gauge|sum|histogram|exponential_histogram|summary; NULL: no data
    aggregation_temporality INTEGER NOT NULL,
    is_monotonic            INTEGER NOT NULL,
    metadata                TEXT    NOT NULL,
    service_name            TEXT
);

-- One data point. `point` is the OTLP data point itself (protobuf, attributes cleared since they
-- live in `attributes`), so histograms, exemplars and flags round-trip exactly; `value`, `count`
-- and `sum` are copies for SQL.
CREATE TABLE metric_points (
    id                   INTEGER PRIMARY KEY,
    metric_id            INTEGER NOT NULL REFERENCES metrics(id),
    time_unix_nano       INTEGER NOT NULL,
    start_time_unix_nano INTEGER NOT NULL,
    attributes           TEXT    NOT NULL,
    value                REAL,
    count                INTEGER,
    sum                  REAL,
    point                BLOB    NOT NULL
);
CREATE INDEX metric_points_by_metric ON metric_points (metric_id, time_unix_nano);
