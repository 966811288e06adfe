// A trace as a waterfall: the span tree (collapsible), bars on the trace's time axis coloured
// by service, errors in red, the critical path emphasised; and the selected span's details.

import { useEffect, useMemo, useRef, useState } from 'react';
import type { LogRecord, Span, TraceView } from '../api';
import { duration, nsToMs } from '../format';

export interface Row {
  span: Span;
  depth: number;
  startMs: number;
  endMs: number;
  children: number;
  critical: boolean;
}

/** Distinct, colour-blind-friendlier hues. */
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#ff9da7', '#bab0ac', '#86bcb6'];

/**
 * A service's colour, the same in every trace and view: from its name (FNV-1a), not from the
 * services one trace happens to have, so `payment-svc` does not change colour between traces.
 */
export function serviceColor(name: string | null | undefined): string {
  let h = 0x811c9dc5;
  for (const c of name ?? 'unknown') {
    h ^= c.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return PALETTE[h % PALETTE.length] ?? '#888';
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * A span as people name it: a server span named only by its method ("GET") takes its route
 * ("GET /api/checkout"), as the HTTP semantic conventions name it when the route is known.
 */
export function spanLabel(span: Pick<Span, 'name' | 'attributes'>): string {
  if (!METHODS.has(span.name)) return span.name;
  const a = span.attributes as Record<string, unknown>;
  // The route, the path, the target, or the path of a full URL (a browser's fetch span).
  const path = (v: unknown): string | null => {
    if (typeof v !== 'string' || v === '') return null;
    const i = v.indexOf('://');
    const rest = i >= 0 ? v.slice(i + 3) : v;
    const p = i >= 0 ? (rest.includes('/') ? rest.slice(rest.indexOf('/')) : '/') : rest;
    return p.split(/[?#]/)[0] || null;
  };
  const route = [a['http.route'], a['url.path'], a['http.target'], a['url.full'], a['http.url']].map(path).find((v) => v !== null);
  return route ? `${span.name} ${route}` : span.name;
}

/** One operation of a trace: its spans' count, total and own time. */
export interface OperationStats {
  service: string;
  name: string;
  count: number;
  totalMs: number;
  selfMs: number;
  maxMs: number;
  errors: number;
  /** Its longest span, to show on a click. */
  longestSpanId: string;
}

/**
 * Jaeger's trace statistics: per service and operation, how many spans, their total time and
 * their own time (a span's duration less the part its children cover), most own time first.
 */
export function traceStatistics(spans: Span[]): OperationStats[] {
  const start = (s: Span) => nsToMs(s.startTimeUnixNano) ?? 0;
  const end = (s: Span) => Math.max(nsToMs(s.endTimeUnixNano) ?? 0, start(s));
  const kids = new Map<string, Span[]>();
  for (const s of spans) {
    if (!s.parentSpanId) continue;
    const list = kids.get(s.parentSpanId) ?? [];
    list.push(s);
    kids.set(s.parentSpanId, list);
  }
  const ops = new Map<string, OperationStats>();
  for (const s of spans) {
    const [lo, hi] = [start(s), end(s)];
    let covered = 0;
    let reach = lo;
    for (const c of (kids.get(s.spanId) ?? []).slice().sort((a, b) => start(a) - start(b))) {
      const cs = Math.max(start(c), reach);
      const ce = Math.min(end(c), hi);
      if (ce > cs) {
        covered += ce - cs;
        reach = ce;
      }
    }
    const service = s.serviceName ?? 'unknown';
    const name = spanLabel(s);
    const key = `${service}\u0000${name}`;
    const op = ops.get(key) ?? { service, name, count: 0, totalMs: 0, selfMs: 0, maxMs: 0, errors: 0, longestSpanId: s.spanId };
    op.count += 1;
    op.totalMs += hi - lo;
    op.selfMs += hi - lo - covered;
    if (hi - lo > op.maxMs) op.longestSpanId = s.spanId;
    op.maxMs = Math.max(op.maxMs, hi - lo);
    op.errors += s.status.code === 2 ? 1 : 0;
    ops.set(key, op);
  }
  return [...ops.values()].sort((a, b) => b.selfMs - a.selfMs || a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}

/** Parents followed at most when measuring depth: a forged trace may loop. */
const MAX_DEPTH = 1000;

/**
 * The span that failed: the error span deepest in the tree (the cause — `authorize card` —
 * not the callers that passed the error up, nor a client span that saw the failed answer);
 * among equals, the first to start. `null` when no span failed.
 */
export function deepestErrorSpan(spans: Span[]): Span | null {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const depth = (s: Span) => {
    let d = 0;
    for (let p = byId.get(s.parentSpanId); p && d < MAX_DEPTH; p = byId.get(p.parentSpanId)) d++;
    return d;
  };
  let best: Span | null = null;
  let bestDepth = -1;
  const start = (s: Span) => nsToMs(s.startTimeUnixNano) ?? 0;
  for (const s of spans) {
    if (s.status.code !== 2) continue;
    const d = depth(s);
    if (d > bestDepth || (d === bestDepth && best && start(s) < start(best))) {
      best = s;
      bestDepth = d;
    }
  }
  return best;
}

/** Depth-first rows in start order; spans whose parent is missing are roots. */
export function flatten(spans: Span[], collapsed: Set<string>): { rows: Row[]; startMs: number; endMs: number } {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const kids = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId)) {
      const list = kids.get(s.parentSpanId) ?? [];
      list.push(s);
      kids.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const start = (s: Span) => nsToMs(s.startTimeUnixNano) ?? 0;
  const end = (s: Span) => nsToMs(s.endTimeUnixNano) ?? 0;
  const byStart = (a: Span, b: Span) => start(a) - start(b);
  // The critical path: from each root, the child that ends last, recursively.
  const critical = new Set<string>();
  const mark = (s: Span) => {
    critical.add(s.spanId);
    const c = kids.get(s.spanId);
    if (!c?.length) return;
    const last = c.reduce((a, b) => (end(b) > end(a) ? b : a));
    mark(last);
  };
  roots.sort(byStart);
  if (roots[0]) mark(roots[0]);
  const rows: Row[] = [];
  const walk = (s: Span, depth: number) => {
    const c = (kids.get(s.spanId) ?? []).sort(byStart);
    rows.push({ span: s, depth, startMs: start(s), endMs: end(s), children: c.length, critical: critical.has(s.spanId) });
    if (collapsed.has(s.spanId)) return;
    for (const k of c) walk(k, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of spans) {
    lo = Math.min(lo, start(s));
    hi = Math.max(hi, end(s));
  }
  return { rows, startMs: Number.isFinite(lo) ? lo : 0, endMs: Number.isFinite(hi) ? hi : 0 };
}

const ROW = 24;
/** Rows drawn beyond the visible ones on either side, so a scroll of a few rows draws nothing
 * new; only these and the visible rows are in the page, so a 20,000-span trace costs what a
 * short one does (measured: `cargo bench --bench ui`). */
const OVERSCAN = 20;

/**
 * The waterfall. `view` narrows the time axis to a stretch of the trace (the minimap's zoom);
 * `matches` (a find) dims the other rows; `focus` scrolls its row into view, unfolding its
 * ancestors; `ruler` draws the time ticks above the bars.
 */
export function Waterfall({
  trace,
  selected,
  onSelect,
  view,
  matches,
  focus,
  ruler,
}: {
  trace: TraceView;
  selected: string | null;
  onSelect: (spanId: string) => void;
  view?: { fromMs: number; toMs: number } | null;
  matches?: Set<string>;
  focus?: string | null;
  ruler?: (startMs: number, view: { fromMs: number; toMs: number }) => React.ReactNode;
}) {
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const { rows, startMs, endMs } = useMemo(() => flatten(trace.spans, collapsed), [trace, collapsed]);
  const color = serviceColor;
  const [scrollTop, setScrollTop] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const from = view?.fromMs ?? startMs;
  const total = Math.max((view?.toMs ?? endMs) - from, 0.001);
  const [height, setHeight] = useState(800);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const shown = rows.slice(first, first + Math.ceil(height / ROW) + 2 * OVERSCAN);
  // Bring the focused span into view when it changes: unfold what hides it, then scroll to its
  // row (once: folding a row later must not unfold it again).
  const shownFocus = useRef<string | null>(null);
  useEffect(() => {
    if (!focus || shownFocus.current === focus) return;
    const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
    const hiding: string[] = [];
    let guard = 0;
    for (let p = byId.get(byId.get(focus)?.parentSpanId ?? ''); p && guard < MAX_DEPTH; p = byId.get(p.parentSpanId), guard++) if (collapsed.has(p.spanId)) hiding.push(p.spanId);
    if (hiding.length) {
      const next = new Set(collapsed);
      for (const h of hiding) next.delete(h);
      setCollapsed(next);
      return;
    }
    const i = rows.findIndex((r) => r.span.spanId === focus);
    const el = box.current;
    if (i < 0 || !el) return;
    shownFocus.current = focus;
    const top = i * ROW;
    if (top < el.scrollTop || top > el.scrollTop + el.clientHeight - ROW * 2) el.scrollTop = Math.max(0, top - el.clientHeight / 3);
  }, [focus, rows, trace, collapsed]);
  return (
    <div className="wf" ref={box} style={{ overflow: 'auto', height: '100%' }} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      {ruler?.(startMs, { fromMs: from, toMs: from + total })}
      <div style={{ height: rows.length * ROW, position: 'relative' }}>
        {shown.map((r, i) => {
          const left = ((r.startMs - from) / total) * 100;
          const width = Math.max(((r.endMs - r.startMs) / total) * 100, 0.2);
          const err = r.span.status.code === 2;
          return (
            <div
              key={r.span.spanId}
              className={`wf-row ${selected === r.span.spanId ? 'sel' : ''} ${matches?.size ? (matches.has(r.span.spanId) ? 'match' : 'dim') : ''}`}
              style={{ position: 'absolute', top: (first + i) * ROW, left: 0, right: 0 }}
              onClick={() => onSelect(r.span.spanId)}
              data-span={r.span.spanId}
            >
              <div className="wf-name" style={{ paddingLeft: 6 + r.depth * 14 }}>
                <span
                  className="twisty"
                  onClick={(e) => {
                    e.stopPropagation();
                    if (!r.children) return;
                    const next = new Set(collapsed);
                    if (next.has(r.span.spanId)) next.delete(r.span.spanId);
                    else next.add(r.span.spanId);
                    setCollapsed(next);
                  }}
                >
                  {r.children ? (collapsed.has(r.span.spanId) ? '▸' : '▾') : ''}
                </span>
                <span className="dot" style={{ background: color(r.span.serviceName) }} />
                <span className="svc">{r.span.serviceName ?? 'unknown'}</span>
                <span className="ellipsis" style={{ fontWeight: r.critical ? 600 : 400, color: err ? 'var(--error)' : undefined }}>
                  {spanLabel(r.span)}
                </span>
                {r.span.links.length > 0 && (
                  <span className="wf-link" title={`${r.span.links.length} linked span${r.span.links.length === 1 ? '' : 's'} (see Links in its details)`}>
                    ⤳{r.span.links.length}
                  </span>
                )}
              </div>
              <div className="wf-bar-area" style={{ overflow: 'hidden' }}>
                <div
                  className={`wf-bar ${err ? 'err' : ''}`}
                  style={{ left: `${left}%`, width: `${width}%`, background: color(r.span.serviceName), opacity: r.critical ? 1 : 0.55 }}
                />
                <span className={`wf-dur ${left + width > 80 ? 'inside' : ''}`} style={left + width > 80 ? { right: `${Math.max(100 - left - width, 0) + 0.5}%` } : { left: `${left + width + 0.5}%` }}>
                  {duration(r.endMs - r.startMs)}
                </span>
              </div>
            </div>
          );
        })}
      </div>
    </div>
  );
}

export function SpanDetails({ span, trace }: { span: Span; trace: TraceView }) {
  const resource = trace.resources[span.resourceId];
  const start = nsToMs(span.startTimeUnixNano) ?? 0;
  const end = nsToMs(span.endTimeUnixNano) ?? 0;
  return (
    <div className="page" style={{ padding: 12 }}>
      <h2 style={{ color: span.status.code === 2 ? 'var(--error)' : undefined }}>{span.name}</h2>
      <div className="kv" style={{ marginBottom: 10 }}>
        <span>
          service <b>{span.serviceName ?? 'unknown'}</b>
        </span>
        <span>
          duration <b>{duration(end - start)}</b>
        </span>
        <span>
          kind <b>{['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'][span.kind] ?? span.kind}</b>
        </span>
        {span.status.code === 2 && <span className="badge error">error{span.status.message ? `: ${span.status.message}` : ''}</span>}
      </div>
      <Props title="Attributes" values={span.attributes} />
      {span.events.length > 0 && (
        <>
          <h2>Events</h2>
          {span.events.map((e, i) => (
            <div key={i} style={{ marginBottom: 8 }}>
              <b>{e.name}</b> <span className="faint">+{duration((nsToMs(e.timeUnixNano) ?? start) - start)}</span>
              {e.attributes && <Props values={e.attributes} />}
            </div>
          ))}
        </>
      )}
      {span.links.length > 0 && (
        <>
          <h2>Links</h2>
          {span.links.map((l, i) => (
            <div key={i} className="mono">
              <a href={`#/traces/${l.traceId}?span=${l.spanId}`}>
                {l.traceId} / {l.spanId}
              </a>
            </div>
          ))}
        </>
      )}
      {resource && <Props title="Resource" values={resource.attributes} />}
      <Props title="Ids" values={{ traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || '(root)', scope: `${span.scope.name} ${span.scope.version}` }} />
    </div>
  );
}

function Props({ title, values }: { title?: string; values: Record<string, unknown> }) {
  const entries = Object.entries(values);
  if (!entries.length) return null;
  return (
    <>
      {title && <h2>{title}</h2>}
      <dl className="props">
        {entries.map(([k, v]) => (
          <div key={k} style={{ display: 'contents' }}>
            <dt>{k}</dt>
            <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

export function severityClass(l: LogRecord): string {
  const n = l.severityNumber;
  if (n >= 21) return 'fatal';
  if (n >= 17) return 'error';
  if (n >= 13) return 'warn';
  if (n >= 9) return 'info';
  if (n >= 5) return 'debug';
  return n > 0 ? 'trace' : 'info';
}

export function LogLines({ logs, baseMs }: { logs: LogRecord[]; baseMs: number }) {
  if (!logs.length) return <div className="empty-hint">No logs in this trace.</div>;
  return (
    <div>
      {logs.map((l, i) => {
        const t = nsToMs(l.timeUnixNano) ?? baseMs;
        const sev = severityClass(l);
        const body = typeof l.body === 'string' ? prettyJson(l.body) : JSON.stringify(l.body, null, 2);
        return (
          <div key={i} className="logline">
            <span className="mono faint">+{duration(t - baseMs)}</span>
            <span className={`sev ${sev}`}>{l.severityText || sev}</span>
            <span className="ellipsis muted">{l.serviceName}</span>
            <pre>{body}</pre>
          </div>
        );
      })}
    </div>
  );
}

/** A JSON body pretty-printed; anything else as it is. */
export function prettyJson(text: string): string {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return text;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return text;
  }
}
