// One trace: the waterfall, the selected span's details, its logs (filterable by span), and
// the sessions it belongs to with "Open replay at this moment".

import { useState } from 'react';
import { api, type TraceView as Trace } from '../api';
import { Failed, Loading } from '../components/common';
import { deepestErrorSpan, LogLines, SpanDetails, Waterfall } from '../components/Waterfall';
import { dateTimeWithZone, duration, nsToMs } from '../format';
import { useLoad } from '../hooks';
import { href, navigate } from '../router';

export function TraceView({ id, params }: { id: string; params: URLSearchParams }) {
  const trace = useLoad<Trace>(id, (signal) => api.get<Trace>(`/traces/${encodeURIComponent(id)}`, signal));
  const [onlySpan, setOnlySpan] = useState(false);
  if (trace.error?.status === 404)
    return (
      <div className="state">
        <h2>No trace {id}</h2>
        <div>Nothing of this trace has reached Sightline (yet).</div>
      </div>
    );
  if (trace.error && !trace.data) return <Failed error={trace.error} retry={trace.reload} />;
  if (!trace.data) return <Loading what="the trace" />;
  const t = trace.data;
  const spanParam = params.get('span');
  // Opened on the span that failed, if one did: that is what the user came for.
  const sel = t.spans.find((s) => s.spanId === spanParam) ?? deepestErrorSpan(t.spans) ?? t.spans.find((s) => !s.parentSpanId) ?? t.spans[0] ?? null;
  const starts = t.spans.map((s) => nsToMs(s.startTimeUnixNano) ?? Infinity);
  const ends = t.spans.map((s) => nsToMs(s.endTimeUnixNano) ?? -Infinity);
  const start = Math.min(...starts);
  const end = Math.max(...ends);
  const root = t.spans.find((s) => !s.parentSpanId) ?? t.spans[0];
  const errors = t.spans.filter((s) => s.status.code === 2).length;
  const logs = onlySpan && sel ? t.logs.filter((l) => l.spanId === sel.spanId) : t.logs;
  const select = (spanId: string) => navigate(href(['traces', id], { span: spanId }), true);
  return (
    <>
      <div className="header-bar">
        <span className="title">{root?.name ?? id}</span>
        <div className="kv">
          <span>
            service <b>{root?.serviceName ?? '—'}</b>
          </span>
          <span>
            duration <b>{duration(end - start)}</b>
          </span>
          <span>
            spans <b>{t.spans.length}</b>
          </span>
          <span>
            started <b>{dateTimeWithZone(start)}</b>
          </span>
          <span className="mono">{id}</span>
        </div>
        {errors > 0 && <span className="badge error">{errors} error spans</span>}
        <div style={{ flex: 1 }} />
        {t.sessions.map((s) => (
          <a
            key={s.sessionId}
            className="btn primary"
            href={href(['sessions', s.sessionId], { t: s.offsetMs !== null ? `${+(Math.max(0, s.offsetMs) / 1000).toFixed(3)}s` : undefined, request: id })}
            title={`Session ${s.sessionId}${s.userId ? ` of ${s.userId}` : ''}`}
          >
            Open replay at this moment
          </a>
        ))}
      </div>
      <div style={{ display: 'grid', gridTemplateColumns: 'minmax(0, 1fr) 380px', gridTemplateRows: 'minmax(0, 1fr) 220px', flex: 1, minHeight: 0 }}>
        <div style={{ minHeight: 0, background: 'var(--panel)', borderRight: '1px solid var(--border)' }}>
          <Waterfall trace={t} selected={sel?.spanId ?? null} onSelect={select} />
        </div>
        <div style={{ gridRow: '1 / span 2', gridColumn: 2, overflow: 'auto', background: 'var(--panel)' }}>{sel && <SpanDetails span={sel} trace={t} />}</div>
        <div style={{ minHeight: 0, overflow: 'auto', borderTop: '1px solid var(--border)', borderRight: '1px solid var(--border)', background: 'var(--panel)' }}>
          <div className="toolbar" style={{ padding: '4px 10px' }}>
            <b>Logs</b>
            <label className="toggle">
              <input type="checkbox" checked={onlySpan} onChange={(e) => setOnlySpan(e.target.checked)} /> only the selected span
            </label>
            <span className="muted small">{logs.length} of {t.logs.length}</span>
          </div>
          <LogLines logs={logs} baseMs={Number.isFinite(start) ? start : 0} />
        </div>
      </div>
    </>
  );
}
