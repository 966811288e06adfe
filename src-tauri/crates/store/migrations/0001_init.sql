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

-- One row per trace, whichever signal named it first (a log can arrive before its spans).
-- This is where the random key lives: indexing trace ids per trace rather than per span writes
-- far fewer random B-tree pages, which is what bounds ingest (see BENCHMARKS.md). `id` is
-- assigned in arrival order, so per-span indexes on it are nearly append-only.
CREATE TABLE traces (
    id                   INTEGER PRIMARY KEY,
    trace_id             BLOB    NOT NULL UNIQUE,
    start_time_unix_nano INTEGER,              -- earliest span start; NULL until a span arrives
    end_time_unix_nano   INTEGER,              -- latest span end
    span_count           INTEGER NOT NULL,
    error_count          INTEGER NOT NULL,     -- spans with status ERROR
    session_id           TEXT                  -- the first user session seen on its spans or logs
);
CREATE INDEX traces_by_session ON traces (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX traces_by_start   ON traces (start_time_unix_nano);

-- Which services took part in which trace: service → traces in arrival (≈ time) order.
CREATE TABLE trace_services (
    service_name TEXT    NOT NULL,
    trace        INTEGER NOT NULL REFERENCES traces(id),
    PRIMARY KEY (service_name, trace)
) WITHOUT ROWID;

CREATE TABLE spans (
    id                       INTEGER PRIMARY KEY,  -- arrival order; round-trips keep it
    trace                    INTEGER NOT NULL REFERENCES traces(id),
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
    service_name             TEXT,                 -- copied from the resource
    session_id               TEXT                  -- the user session, extracted at ingest
);
CREATE INDEX spans_by_trace ON spans (trace);

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
    trace                    INTEGER REFERENCES traces(id),  -- NULL when trace_id is
    event_name               TEXT    NOT NULL,
    resource_id              INTEGER NOT NULL REFERENCES resources(id),
    scope_id                 INTEGER NOT NULL REFERENCES scopes(id),
    service_name             TEXT,
    session_id               TEXT
);
CREATE INDEX logs_by_trace   ON logs (trace) WHERE trace IS NOT NULL;
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
