-- Per-service counters, kept by the writer (one upsert per service per group commit), so the
-- service list never scans the spans table.
CREATE TABLE service_stats (
    service_name           TEXT    PRIMARY KEY,
    span_count             INTEGER NOT NULL,
    error_count            INTEGER NOT NULL,
    first_seen_unix_nano   INTEGER,
    last_seen_unix_nano    INTEGER
) WITHOUT ROWID;

-- Backfill for databases that already hold spans.
INSERT INTO service_stats (service_name, span_count, error_count, first_seen_unix_nano,
                           last_seen_unix_nano)
SELECT service_name, count(*), sum(status_code = 2), min(start_time_unix_nano),
       max(start_time_unix_nano)
  FROM spans WHERE service_name IS NOT NULL GROUP BY service_name;
