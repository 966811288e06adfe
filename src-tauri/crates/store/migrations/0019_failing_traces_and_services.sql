-- Reads that went from milliseconds to a scan as the data grew.

-- Sessions with a failing backend trace (the Errors filter and its facet): the few failing
-- traces are found from here and their sessions from trace_sessions_by_trace, instead of
-- every session's traces being looked up (that count: 165 → 14 ms on 10,000 sessions, 490,000
-- traces).
CREATE INDEX traces_failing ON traces (id) WHERE error_count > 0;

-- A trace's services (the trace list, a trace's outline, the traces overlapping one): the
-- primary key starts with the service name, so a lookup by trace scanned the table.
CREATE INDEX trace_services_by_trace ON trace_services (trace);
