// One trace: the waterfall or the flame graph under a minimap (drag to zoom) and a time ruler,
// find-in-trace (matches highlighted, n/N to step through them), the selected span's details,
// its logs (filterable by span), its statistics (own time per service and operation), the
// traces of the same services that ran beside it (each comparable with this one), and the
// sessions it belongs to with "Open replay at this moment".

import { useMemo, useRef, useState } from 'react';
import { api, type TraceOutline, type TraceView as Trace } from '../api';
import { Failed, Loading } from '../components/common';
import { FlameGraph, findSpans, Minimap, Ruler, type TimeWindow } from '../components/TraceViews';
import { deepestErrorSpan, flatten, LogLines, serviceColor, SpanDetails, spanLabel, traceStatistics, Waterfall } from '../components/Waterfall';
import { dateTimeWithZone, duration, nsToMs } from '../format';
import { useKeys, useLoad } from '../hooks';
import { href, navigate } from '../router';

export function TraceView({ id, params }: { id: string; params: URLSearchParams }) {
  const trace = useLoad<Trace>(id, (signal) => api.get<Trace>(`/traces/${encodeURIComponent(id)}`, signal));
  const [onlySpan, setOnlySpan] = useState(false);
  const [tab, setTab] = useState<'logs' | 'statistics' | 'overlapping'>('logs');
  // The outline's overlapping traces (the statistics come from the spans already here).
  const outline = useLoad<TraceOutline>(`${id}/outline`, (signal) =>
    api.get<TraceOutline>(`/traces/${encodeURIComponent(id)}/outline?maxSpans=1`, signal),
  );
  const stats = useMemo(() => (trace.data ? traceStatistics(trace.data.spans) : []), [trace.data]);
  // Every span in tree order, nothing folded: the minimap, the flame graph and find read these.
  const all = useMemo(() => (trace.data ? flatten(trace.data.spans, new Set()) : { rows: [], startMs: 0, endMs: 0 }), [trace.data]);
  const [mode, setMode] = useState<'waterfall' | 'flame'>(params.get('view') === 'flame' ? 'flame' : 'waterfall');
  const [view, setView] = useState<TimeWindow | null>(null);
  const [find, setFind] = useState('');
  const [hit, setHit] = useState(0);
  const matchList = useMemo(() => findSpans(all.rows, find), [all, find]);
  const matches = useMemo(() => new Set(matchList), [matchList]);
  const findRef = useRef<HTMLInputElement>(null);
  const step = (by: number) => {
    if (!matchList.length) return;
    // Before any step, forward is the first match and back the last.
    const i = hit < 0 ? (by > 0 ? 0 : matchList.length - 1) : (hit + by + matchList.length) % matchList.length;
    setHit(i);
    const spanId = matchList[i];
    if (spanId) navigate(href(['traces', id], { span: spanId }), true);
  };
  useKeys({ '/': () => findRef.current?.focus(), n: () => step(1), N: () => step(-1) });
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
        <span className="title">{root ? spanLabel(root) : id}</span>
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
        <a className="btn" href={href(['compare'], { a: id })} title="Compare this trace with another: structure and durations side by side">
          Compare…
        </a>
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
        <div style={{ minHeight: 0, background: 'var(--panel)', borderRight: '1px solid var(--border)', display: 'flex', flexDirection: 'column' }}>
          <div className="trace-tools">
            <div className="tabs" role="tablist" aria-label="Trace view" style={{ padding: 0, borderBottom: 0 }}>
              {(
                [
                  ['waterfall', 'Waterfall'],
                  ['flame', 'Flame graph'],
                ] as const
              ).map(([k, label]) => (
                <button key={k} role="tab" aria-selected={mode === k} className={mode === k ? 'on' : ''} onClick={() => setMode(k)}>
                  {label}
                </button>
              ))}
            </div>
            <label className="search" style={{ width: 240 }}>
              <input
                ref={findRef}
                placeholder="Find in trace (name, service, key=value)"
                aria-label="Find in trace"
                value={find}
                onChange={(e) => {
                  setFind(e.target.value);
                  setHit(-1);
                }}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') step(e.shiftKey ? -1 : 1);
                  if (e.key === 'Escape') {
                    setFind('');
                    (e.target as HTMLInputElement).blur();
                  }
                }}
              />
            </label>
            {find && (
              <span className="muted small" aria-live="polite">
                {matchList.length ? (hit >= 0 ? `${hit + 1} of ${matchList.length}` : `${matchList.length} ${matchList.length === 1 ? 'match' : 'matches'}`) : 'no span matches'}
              </span>
            )}
            {find && matchList.length > 0 && (
              <>
                <button className="btn small" onClick={() => step(-1)} aria-label="Previous match" title="Previous (N)">
                  ↑
                </button>
                <button className="btn small" onClick={() => step(1)} aria-label="Next match" title="Next (n, Enter)">
                  ↓
                </button>
              </>
            )}
          </div>
          <Minimap rows={all.rows} startMs={all.startMs} endMs={all.endMs} view={view ?? { fromMs: all.startMs, toMs: all.endMs }} setView={setView} />
          <div style={{ flex: 1, minHeight: 0, overflow: mode === 'flame' ? 'auto' : undefined }}>
            {mode === 'waterfall' ? (
              <Waterfall trace={t} selected={sel?.spanId ?? null} onSelect={select} view={view} matches={matches} focus={sel?.spanId ?? null} ruler={(s, v) => <Ruler traceStartMs={s} view={v} />} />
            ) : (
              <>
                <Ruler traceStartMs={all.startMs} view={view ?? { fromMs: all.startMs, toMs: all.endMs }} />
                <FlameGraph rows={all.rows} view={view ?? { fromMs: all.startMs, toMs: all.endMs }} selected={sel?.spanId ?? null} onSelect={select} matches={matches} />
              </>
            )}
          </div>
        </div>
        <div style={{ gridRow: '1 / span 2', gridColumn: 2, overflow: 'auto', background: 'var(--panel)' }}>{sel && <SpanDetails span={sel} trace={t} />}</div>
        <div style={{ minHeight: 0, overflow: 'auto', borderTop: '1px solid var(--border)', borderRight: '1px solid var(--border)', background: 'var(--panel)' }}>
          <div className="toolbar" style={{ padding: '0 10px' }}>
            <div className="tabs" role="tablist" style={{ padding: 0, borderBottom: 0 }}>
              {(
                [
                  ['logs', `Logs (${t.logs.length})`],
                  ['statistics', 'Statistics'],
                  ['overlapping', `Overlapping traces${outline.data ? ` (${outline.data.overlapping.length})` : ''}`],
                ] as const
              ).map(([k, label]) => (
                <button key={k} role="tab" aria-selected={tab === k} className={tab === k ? 'on' : ''} onClick={() => setTab(k)}>
                  {label}
                </button>
              ))}
            </div>
            {tab === 'logs' && (
              <>
                <label className="toggle">
                  <input type="checkbox" checked={onlySpan} onChange={(e) => setOnlySpan(e.target.checked)} /> only the selected span
                </label>
                <span className="muted small">
                  {logs.length} of {t.logs.length}
                </span>
              </>
            )}
          </div>
          {tab === 'logs' && <LogLines logs={logs} baseMs={Number.isFinite(start) ? start : 0} />}
          {tab === 'statistics' && (
            <table className="grid stats" aria-label="Own time per service and operation">
              <thead>
                <tr>
                  <th>Service</th>
                  <th>Operation</th>
                  <th className="num">Spans</th>
                  <th className="num">Own time</th>
                  <th className="num">Total</th>
                  <th className="num">Longest</th>
                  <th className="num">Errors</th>
                </tr>
              </thead>
              <tbody>
                {stats.map((o) => (
                  <tr key={`${o.service} ${o.name}`} className={sel?.spanId === o.longestSpanId ? 'sel' : ''} onClick={() => select(o.longestSpanId)} title="Show its longest span">
                    <td>
                      <span className="dot" style={{ background: serviceColor(o.service) }} /> {o.service}
                    </td>
                    <td className="ellipsis" style={{ color: o.errors ? 'var(--error)' : undefined }}>
                      {o.name}
                    </td>
                    <td className="num">{o.count}</td>
                    <td className="num">{duration(o.selfMs)}</td>
                    <td className="num">{duration(o.totalMs)}</td>
                    <td className="num">{duration(o.maxMs)}</td>
                    <td className="num">{o.errors || ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {tab === 'overlapping' &&
            (outline.error ? (
              <div className="state small">The overlapping traces did not load: {outline.error.message}</div>
            ) : !outline.data ? (
              <Loading what="the traces beside this one" />
            ) : outline.data.overlapping.length === 0 ? (
              <div className="state small">No other trace of these services ran while this one did.</div>
            ) : (
              <table className="grid" aria-label="Traces of the same services that ran at the same time">
                <thead>
                  <tr>
                    <th>Trace</th>
                    <th>Shared services</th>
                    <th className="num">Started</th>
                    <th className="num">Duration</th>
                    <th className="num">Overlap</th>
                    <th className="num">Errors</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {outline.data.overlapping.map((o) => (
                    <tr key={o.traceId}>
                      <td>
                        <a href={href(['traces', o.traceId])} style={{ color: o.errorCount ? 'var(--error)' : undefined }}>
                          <span className="dot" style={{ background: serviceColor(o.serviceName) }} /> {o.rootName ?? o.traceId.slice(0, 12)}
                        </a>
                      </td>
                      <td>{o.sharedServices.join(', ')}</td>
                      <td className="num">{o.startOffsetMs < 0 ? `${duration(-o.startOffsetMs)} before` : `+${duration(o.startOffsetMs)}`}</td>
                      <td className="num">{duration(o.durationMs)}</td>
                      <td className="num">{duration(o.overlapMs)}</td>
                      <td className="num">{o.errorCount || ''}</td>
                      <td>
                        <a href={href(['compare'], { a: id, b: o.traceId })}>compare</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ))}
        </div>
      </div>
    </>
  );
}
