// Log search: full text, severity, service and time, newest first; a live tail; long lines
// expand and JSON bodies are pretty-printed; each line links to its trace and session.

import { Fragment, useEffect, useRef, useState } from 'react';
import { api, query, type LogList, type LogRecord, type ServiceInfo } from '../api';
import { Failed, Loading } from '../components/common';
import { IncidentChip, IncidentFilter } from '../components/IncidentChip';
import { prettyJson, severityClass } from '../components/Waterfall';
import { dateTimeWithZone, plural, timeOfDay, nsToMs } from '../format';
import { useKeys, useLoad, useStream } from '../hooks';
import { useIncidents } from '../incidents';
import { href, navigate } from '../router';
import { RangePicker, rangeChanged, withRange } from '../components/RangePicker';
import { TextFilter } from './Traces';

const KEYS = ['q', 'minSeverity', 'service', 'traceId', 'session', 'attribute', 'range', 'fromMs', 'toMs', 'incident'] as const;

export function LogsView({ params }: { params: URLSearchParams }) {
  const filters: Record<string, string> = {};
  for (const k of KEYS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const key = JSON.stringify(filters);
  const list = useLoad<LogList>(key, (signal) => api.get<LogList>(`/logs${query({ ...withRange(filters), limit: 200 })}`, signal));
  const services = useLoad<{ services: ServiceInfo[] }>('services', (signal) => api.get('/services', signal));
  const [more, setMore] = useState<{ logs: LogRecord[]; cursor: string | null } | null>(null);
  const [tail, setTail] = useState(false);
  useEffect(() => setMore(null), [key]);
  const set = (k: string, v: string | null) => {
    const next = { ...filters };
    if (v === null || v === '') delete next[k];
    else next[k] = v;
    navigate(href(['logs'], next), true);
  };

  // Live tail: new logs reload the first page (the engine coalesces announcements).
  const pending = useRef(false);
  useStream((kind) => {
    if (!tail || kind !== 'logs' || pending.current) return;
    pending.current = true;
    setTimeout(() => {
      pending.current = false;
      list.reload();
    }, 300);
  });

  const qRef = useRef<HTMLInputElement>(null);
  const logs = [...(list.data?.logs ?? []), ...(more?.logs ?? [])];
  const [selected, setSelected] = useState(-1);
  const [expanded, setExpanded] = useState<number | null>(null);
  useEffect(() => {
    setSelected(-1);
    setExpanded(null);
  }, [key]);
  useEffect(() => {
    document.querySelector(`.logrow[data-i="${selected}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [selected]);
  useKeys({
    '/': () => qRef.current?.focus(),
    j: () => setSelected((i) => Math.min(i + 1, logs.length - 1)),
    k: () => setSelected((i) => Math.max(i - 1, 0)),
    Enter: () => setExpanded((e) => (e === selected ? null : selected)),
  });
  const cursor = more ? more.cursor : (list.data?.nextCursor ?? null);
  const windows = useIncidents() ?? [];
  return (
    <>
      <div className="toolbar">
        <h1>Logs</h1>
        <TextFilter inputRef={qRef} placeholder="Search text (all words)" value={filters.q ?? ''} set={(v) => set('q', v)} width={280} />
        <select className="speed" value={filters.minSeverity ?? ''} onChange={(e) => set('minSeverity', e.target.value)} aria-label="Minimum severity">
          <option value="">Any severity</option>
          <option value="debug">Debug and up</option>
          <option value="info">Info and up</option>
          <option value="warn">Warnings and errors</option>
          <option value="error">Errors</option>
        </select>
        <select className="speed" value={filters.service ?? ''} onChange={(e) => set('service', e.target.value)} aria-label="Service">
          <option value="">All services</option>
          {services.data?.services.map((s) => (
            <option key={s.serviceName}>{s.serviceName}</option>
          ))}
        </select>
        <RangePicker value={filters} set={(v) => navigate(href(['logs'], rangeChanged(filters, v)), true)} anyLabel="Any time" />
        {filters.traceId && (
          <button className="chip on" onClick={() => set('traceId', null)}>
            trace {filters.traceId.slice(0, 8)} <span className="x">✕</span>
          </button>
        )}
        {filters.session && (
          <button className="chip on" onClick={() => set('session', null)}>
            session {filters.session.slice(0, 8)} <span className="x">✕</span>
          </button>
        )}
        <IncidentFilter value={filters.incident} set={(v) => set('incident', v)} />
        <button className={`chip ${tail ? 'on' : ''}`} aria-pressed={tail} onClick={() => setTail(!tail)} title="Show new logs as they arrive">
          {tail ? '● Live' : 'Live tail'}
        </button>
        <div className="grow" />
        {list.data && <span className="muted small">{plural(logs.length, 'line')}{cursor ? '+' : ''}</span>}
      </div>
      {list.error && !list.data ? (
        <Failed error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="logs" />
      ) : logs.length === 0 ? (
        <div className="state">
          <h2>No log matches</h2>
          <div>{Object.keys(filters).length ? 'Loosen a filter.' : 'Logs sent over OTLP appear here.'}</div>
        </div>
      ) : (
        <div className="page" style={{ padding: 0 }}>
          {logs.map((l, i) => (
            <Fragment key={`${l.timeUnixNano}-${i}`}>
              {boundaries(windows, logs[i - 1], l).map((b) => (
                <div key={b} className="window-edge">
                  {b}
                </div>
              ))}
              <LogRow log={l} index={i} selected={i === selected} open={i === expanded} toggle={() => setExpanded((e) => (e === i ? null : i))} inWindow={!!l.incidentId || windows.some((w) => within(w, l))} />
            </Fragment>
          ))}
          {cursor && (
            <div className="empty-hint">
              <button
                className="btn"
                onClick={() =>
                  void api.get<LogList>(`/logs${query({ ...withRange(filters), limit: 200, cursor })}`).then((p) => setMore((m) => ({ logs: [...(m?.logs ?? []), ...p.logs], cursor: p.nextCursor })))
                }
              >
                Older lines
              </button>
            </div>
          )}
        </div>
      )}
    </>
  );
}

type Window = { id: string; startedMs: number; untilMs: number; label: string | null };

function within(w: Window, l: LogRecord): boolean {
  const t = nsToMs(l.timeUnixNano) ?? 0;
  return w.startedMs <= t && t < w.untilMs;
}

/** Where an incident window starts or ends between two lines (newer first), in words. */
function boundaries(windows: Window[], newer: LogRecord | undefined, older: LogRecord): string[] {
  if (!newer) return [];
  const a = nsToMs(newer.timeUnixNano) ?? 0;
  const b = nsToMs(older.timeUnixNano) ?? 0;
  const out: string[] = [];
  for (const w of windows) {
    const name = `Incident window${w.label ? ` “${w.label}”` : ''}`;
    if (a >= w.untilMs && w.untilMs > b) out.push(`${name} ended ${timeOfDay(w.untilMs)}`);
    if (a >= w.startedMs && w.startedMs > b) out.push(`${name} started ${timeOfDay(w.startedMs)}`);
  }
  return out;
}

/** Bodies longer than this start folded. */
const FOLD = 240;

function LogRow({ log, index, selected, open, toggle, inWindow }: { log: LogRecord; index: number; selected: boolean; open: boolean; toggle: () => void; inWindow: boolean }) {
  const raw = typeof log.body === 'string' ? log.body : JSON.stringify(log.body);
  const pretty = typeof log.body === 'string' ? prettyJson(log.body) : JSON.stringify(log.body, null, 2);
  const long = raw.length > FOLD || pretty.includes('\n');
  const t = nsToMs(log.timeUnixNano);
  const sev = severityClass(log);
  const attrs = Object.entries(log.attributes);
  return (
    <div className={`logrow ${open ? 'open' : ''} ${selected ? 'sel' : ''} ${inWindow ? 'in-incident' : ''}`} data-i={index} onClick={() => long && toggle()} style={long ? { cursor: 'pointer' } : undefined}>
      <span className="mono faint" title={dateTimeWithZone(t)}>
        {t ? timeOfDay(t) : '—'}
      </span>
      <span className={`sev ${sev}`}>{log.severityText || sev}</span>
      <span className="ellipsis muted">{log.serviceName ?? '—'}</span>
      <div className="msg">
        <pre>{open ? pretty : long ? `${raw.slice(0, FOLD)}${raw.length > FOLD ? '…' : ''}` : raw}</pre>
        {open && attrs.length > 0 && (
          <div className="attrs">
            {attrs.map(([k, v]) => (
              <span key={k}>
                <b>{k}</b>={typeof v === 'string' ? v : JSON.stringify(v)}
              </span>
            ))}
          </div>
        )}
      </div>
      <span className="links" onClick={(e) => e.stopPropagation()}>
        {log.traceId && <a href={href(['traces', log.traceId], log.spanId ? { span: log.spanId } : {})}>trace</a>}
        {log.sessionId && <a href={href(['sessions', log.sessionId])}>session</a>}
        {log.incidentId && <IncidentChip id={log.incidentId} />}
      </span>
    </div>
  );
}
