// Trace search: service, span name, status, duration, attribute and time, with a histogram of
// the results' durations (click a bar to narrow to it).

import { useEffect, useMemo, useRef, useState } from 'react';
import { api, query, type ServiceInfo, type TraceList, type TraceSummary } from '../api';
import { Failed, Loading } from '../components/common';
import { IncidentFilter } from '../components/IncidentChip';
import { RangePicker, rangeChanged, withRange } from '../components/RangePicker';
import { serviceColor } from '../components/Waterfall';
import { ago, dateTimeWithZone, duration, nsToMs, plural } from '../format';
import { attributeQuery, hrefWithAttributes, withAttribute } from '../filters';
import { useKeys, useLoad } from '../hooks';
import { href, navigate } from '../router';

const KEYS = ['service', 'name', 'status', 'minDurationMs', 'maxDurationMs', 'range', 'fromMs', 'toMs', 'session', 'incident'] as const;
const PAGE = 500;

export function TracesView({ params }: { params: URLSearchParams }) {
  const filters: Record<string, string> = {};
  for (const k of KEYS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const attrs = params.getAll('attribute').filter(Boolean);
  const key = JSON.stringify([filters, attrs]);
  const list = useLoad<TraceList>(key, (signal) => api.get<TraceList>(`/traces${query({ ...withRange(filters), limit: PAGE })}${attributeQuery(attrs)}`, signal));
  const go = (next: Record<string, string>, nextAttrs: string[] = attrs) => navigate(hrefWithAttributes(['traces'], next, nextAttrs), true);
  const services = useLoad<{ services: ServiceInfo[] }>('services', (signal) => api.get('/services', signal));
  const set = (k: string, v: string | null) => {
    const next = { ...filters };
    if (v === null || v === '') delete next[k];
    else next[k] = v;
    go(next);
  };
  const [selected, setSelected] = useState(0);
  const rows = list.data?.traces ?? [];
  const nameRef = useRef<HTMLInputElement>(null);
  useKeys({
    '/': () => nameRef.current?.focus(),
    j: () => setSelected((s) => Math.min(s + 1, rows.length - 1)),
    k: () => setSelected((s) => Math.max(s - 1, 0)),
    Enter: () => {
      const t = rows[selected];
      if (t) navigate(href(['traces', t.traceId]));
    },
  });
  useEffect(() => setSelected(0), [key]);

  return (
    <>
      <div className="toolbar">
        <h1>Traces</h1>
        <select className="speed" value={filters.service ?? ''} onChange={(e) => set('service', e.target.value)} aria-label="Service">
          <option value="">All services</option>
          {services.data?.services.map((s) => (
            <option key={s.serviceName} value={s.serviceName}>
              {s.serviceName}
            </option>
          ))}
        </select>
        <TextFilter inputRef={nameRef} placeholder="Span name" value={filters.name ?? ''} set={(v) => set('name', v)} />
        <TextFilter
          key={attrs.length}
          placeholder="key=value, Enter adds"
          value=""
          width={200}
          set={(v) => {
            const i = v.indexOf('=');
            if (i > 0) go(filters, withAttribute(attrs, v.slice(0, i).trim(), v.slice(i + 1).trim()));
          }}
        />
        {attrs.map((a) => (
          <button key={a} className="chip on" onClick={() => go(filters, attrs.filter((x) => x !== a))} title="Remove this filter">
            {a} <span className="x">✕</span>
          </button>
        ))}
        <TextFilter placeholder="min ms" value={filters.minDurationMs ?? ''} set={(v) => set('minDurationMs', v)} width={80} />
        <TextFilter placeholder="max ms" value={filters.maxDurationMs ?? ''} set={(v) => set('maxDurationMs', v)} width={80} />
        <button className={`chip ${filters.status === 'error' ? 'on' : ''}`} onClick={() => set('status', filters.status === 'error' ? null : 'error')}>
          Errors only
        </button>
        <IncidentFilter value={filters.incident} set={(v) => set('incident', v)} />
        <RangePicker value={filters} set={(v) => go(rangeChanged(filters, v))} anyLabel="Any time" />
        <div className="grow" />
        {list.data && <span className="muted small">{rows.length >= PAGE ? `newest ${PAGE}` : plural(rows.length, 'trace')}</span>}
      </div>
      {list.error && !list.data ? (
        <Failed error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="traces" />
      ) : (
        <div className="page" style={{ padding: 0 }}>
          {rows.length > 0 && <Histogram traces={rows} pick={(lo, hi) => go({ ...filters, minDurationMs: String(Math.floor(lo)), maxDurationMs: String(Math.ceil(hi)) })} />}
          {rows.length === 0 ? (
            <div className="state">
              <h2>No trace matches</h2>
              <div>{Object.keys(filters).length ? 'Loosen a filter.' : 'Point a backend at Sightline (see Status) and its traces appear here.'}</div>
            </div>
          ) : (
            <TraceTable rows={rows} selected={selected} />
          )}
        </div>
      )}
    </>
  );
}

export function TextFilter({ value, set, placeholder, width = 180, inputRef }: { value: string; set: (v: string) => void; placeholder: string; width?: number; inputRef?: React.RefObject<HTMLInputElement | null> }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <label className="search" style={{ minWidth: width, width }}>
      <input
        ref={inputRef}
        placeholder={placeholder}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => text !== value && set(text)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') set(text);
          if (e.key === 'Escape') (e.target as HTMLInputElement).blur();
        }}
      />
    </label>
  );
}

/** Durations on a log scale, 24 buckets; a bar narrows the search to its range. */
function Histogram({ traces, pick }: { traces: TraceSummary[]; pick: (lo: number, hi: number) => void }) {
  const { buckets, lo, hi } = useMemo(() => {
    const ds = traces.map((t) => Math.max(t.durationMs ?? 0, 0.01));
    const lo = Math.log10(Math.min(...ds));
    const hi = Math.log10(Math.max(...ds)) + 1e-9;
    const n = 24;
    const buckets = Array.from({ length: n }, () => ({ all: 0, errors: 0 }));
    traces.forEach((t, i) => {
      const d = ds[i] ?? 0.01;
      const b = Math.min(n - 1, Math.floor(((Math.log10(d) - lo) / Math.max(hi - lo, 1e-9)) * n));
      const bucket = buckets[b];
      if (!bucket) return;
      bucket.all++;
      if (t.errorCount > 0) bucket.errors++;
    });
    return { buckets, lo, hi };
  }, [traces]);
  const max = Math.max(...buckets.map((b) => b.all), 1);
  const edge = (i: number) => 10 ** (lo + ((hi - lo) * i) / buckets.length);
  return (
    <div className="histogram" aria-label="Duration histogram">
      <div className="bars">
        {buckets.map((b, i) => (
          <div key={i} className="bar" title={`${duration(edge(i))} – ${duration(edge(i + 1))}: ${plural(b.all, 'trace')}${b.errors ? `, ${b.errors} with errors` : ''}`} onClick={() => b.all && pick(edge(i), edge(i + 1))}>
            <div className="all" style={{ height: `${(b.all / max) * 100}%` }}>
              <div className="err" style={{ height: `${b.all ? (b.errors / b.all) * 100 : 0}%` }} />
            </div>
          </div>
        ))}
      </div>
      <div className="axis">
        <span>{duration(edge(0))}</span>
        <span>{duration(edge(buckets.length / 2))}</span>
        <span>{duration(edge(buckets.length))}</span>
      </div>
    </div>
  );
}

function TraceTable({ rows, selected }: { rows: TraceSummary[]; selected: number }) {
  const max = Math.max(...rows.map((r) => r.durationMs ?? 0), 1);
  const now = Date.now();
  return (
    <table className="grid">
      <thead>
        <tr>
          <th>Started</th>
          <th>Root</th>
          <th>Services</th>
          <th style={{ width: '22%' }}>Duration</th>
          <th className="num">Spans</th>
          <th>Session</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((t, i) => {
          const start = nsToMs(t.startTimeUnixNano);
          return (
            <tr key={t.traceId} className={i === selected ? 'sel' : ''} onClick={() => navigate(href(['traces', t.traceId]))}>
              <td title={dateTimeWithZone(start)}>{ago(start, now)}</td>
              <td>
                <span style={{ color: t.errorCount ? 'var(--error)' : undefined, fontWeight: 500 }}>{t.rootName ?? t.traceId.slice(0, 12)}</span>
                {t.errorCount > 0 && <span className="badge error" style={{ marginLeft: 6 }}>{plural(t.errorCount, 'error')}</span>}
              </td>
              <td className="muted ellipsis" style={{ maxWidth: 260 }}>
                {(t.services ?? [t.serviceName]).filter(Boolean).map((svc, k) => (
                  <span key={svc} className="svc-chip">
                    {k > 0 && ', '}
                    <span className="dot" style={{ background: serviceColor(svc) }} /> {svc}
                  </span>
                ))}
              </td>
              <td>
                <div className="dur">
                  <div style={{ width: `${((t.durationMs ?? 0) / max) * 100}%` }} className={t.errorCount ? 'err' : ''} />
                  <span className="mono">{duration(t.durationMs)}</span>
                </div>
              </td>
              <td className="num">{t.spanCount}</td>
              <td>{t.sessionId ? <a href={href(['sessions', t.sessionId])} onClick={(e) => e.stopPropagation()}>replay</a> : <span className="faint">—</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
