-- Finding a span's parent (diagnostics, span trees) looked at every span of the trace: on a
-- 20,000-span trace that is 20,000 rows per lookup. Keying the index on (trace, span_id) makes
-- it one seek, at 8 bytes more per span; inserts stay near-append (a trace's spans arrive
-- together).
DROP INDEX spans_by_trace;
CREATE INDEX spans_by_trace ON spans (trace, span_id);
