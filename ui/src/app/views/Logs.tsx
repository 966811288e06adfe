// Log search: free text (word starts by default, whole words, or anywhere), severity, service,
// several attribute filters and a time range, newest first; a live tail; a line opens its
// details (every attribute, the resource and scope; click an attribute to filter by it), and
// links to its trace and session.

import { Fragment, useEffect, useRef, useState } from 'react';
import { api, query, type LogDetail, type LogList, type LogRecord, type ServiceInfo } from '../api';
import { Failed, Loading } from '../components/common';
import { IncidentChip, IncidentFilter } from '../components/IncidentChip';
import { prettyJson, severityClass } from '../components/Waterfall';
import { dateTimeWithZone, plural, timeOfDay, nsToMs } from '../format';
import { attributeQuery, hrefWithAttributes, withAttribute } from '../filters';
import { useKeys, useLoad, useStream } from '../hooks';
import { useIncidents } from '../incidents';
import { href, navigate } from '../router';
import { RangePicker, rangeChanged, withRange } from '../components/RangePicker';
import { TextFilter } from './Traces';

const KEYS = ['q', 'match', 'minSeverity', 'service', 'traceId', 'session', 'range', 'fromMs', 'toMs', 'incident'] as const;

/** How the search box matches when the URL does not say: word starts, so "lock" finds "locked". */
const DEFAULT_MATCH = 'prefix';

export function LogsView({ params }: { params: URLSearchParams }) {
  const filters: Record<string, string> = {};
  for (const k of KEYS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const attrs = params.getAll('attribute').filter(Boolean);
  const key = JSON.stringify([filters, attrs]);
  const ask = (extra: Record<string, string | number> = {}) => `/logs${query({ ...withRange(filters), match: filters.match ?? DEFAULT_MATCH, limit: 200, ...extra })}${attributeQuery(attrs)}`;
  const list = useLoad<LogList>(key, (signal) => api.get<LogList>(ask(), signal));
  const services = useLoad<{ services: ServiceInfo[] }>('services', (signal) => api.get('/services', signal));
  const [more, setMore] = useState<{ logs: LogRecord[]; cursor: string | null } | null>(null);
  const [tail, setTail] = useState(false);
  useEffect(() => setMore(null), [key]);
  // An older page that arrives after the filters changed belongs to the old ones.
  const keyRef = useRef(key);
  keyRef.current = key;
  const go = (next: Record<string, string>, nextAttrs: string[] = attrs) => navigate(hrefWithAttributes(['logs'], next, nextAttrs), true);
  const set = (k: string, v: string | null) => {
    const next = { ...filters };
    if (v === null || v === '') delete next[k];
    else next[k] = v;
    go(next);
  };
  const addAttribute = (k: string, v: string) => {
    if (!attrs.includes(`${k}=${v}`)) go(filters, withAttribute(attrs, k, v));
  };

  // Live tail: new logs reload the first page (the engine coalesces announcements).
  const pending = useRef(false);
  useStream((kind) => {
    if (!tail || kind !== 'logs' || pending.current) return;
    pending.current = true;
    setTimeout(() => {
      pending.current = false;
      // The first page again, newest first; older pages loaded before would leave a gap.
      setMore(null);
      list.reload();
    }, 300);
  });

  const qRef = useRef<HTMLInputElement>(null);
  const logs = [...(list.data?.logs ?? []), ...(more?.logs ?? [])];
  const [selected, setSelected] = useState(-1);
  const [expanded, setExpanded] = useState<number | null>(null);
  const [detail, setDetail] = useState<string | null>(null);
  useEffect(() => {
    setSelected(-1);
    setExpanded(null);
    setDetail(null);
  }, [key]);
  useEffect(() => {
    document.querySelector(`.logrow[data-i="${selected}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [selected]);
  useKeys({
    '/': () => qRef.current?.focus(),
    j: () => setSelected((i) => Math.min(i + 1, logs.length - 1)),
    k: () => setSelected((i) => Math.max(i - 1, 0)),
    Enter: () => {
      const l = logs[selected];
      if (l) setDetail((d) => (d === l.id ? null : l.id));
    },
    Escape: () => setDetail(null),
  });
  const cursor = more ? more.cursor : (list.data?.nextCursor ?? null);
  const windows = useIncidents() ?? [];
  return (
    <>
      <div className="toolbar">
        <h1>Logs</h1>
        <TextFilter inputRef={qRef} placeholder="Search body and attributes" value={filters.q ?? ''} set={(v) => set('q', v)} width={260} />
        <select className="speed" value={filters.match ?? DEFAULT_MATCH} onChange={(e) => set('match', e.target.value === DEFAULT_MATCH ? null : e.target.value)} aria-label="Match">
          <option value="prefix">Words starting with</option>
          <option value="words">Whole words</option>
          <option value="substring">Contains</option>
        </select>
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
        <RangePicker value={filters} set={(v) => go(rangeChanged(filters, v))} anyLabel="Any time" />
        {attrs.map((a) => (
          <button key={a} className="chip on" onClick={() => go(filters, attrs.filter((x) => x !== a))} title="Remove this filter">
            {a} <span className="x">✕</span>
          </button>
        ))}
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
        {list.data?.scanLimited && (
          <span className="muted small" title="A substring search reads the newest 500,000 records; narrow the time range or search for words to reach older ones">
            newest 500,000 searched
          </span>
        )}
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
        <div className={`logs-split ${detail ? 'with-detail' : ''}`}>
        <div className="page" style={{ padding: 0 }}>
          {logs.map((l, i) => (
            <Fragment key={`${l.timeUnixNano}-${i}`}>
              {boundaries(windows, logs[i - 1], l).map((b) => (
                <div key={b} className="window-edge">
                  {b}
                </div>
              ))}
              <LogRow
                log={l}
                index={i}
                selected={i === selected || l.id === detail}
                open={i === expanded}
                toggle={() => setExpanded((e) => (e === i ? null : i))}
                show={() => {
                  setSelected(i);
                  setDetail((d) => (d === l.id ? null : l.id));
                }}
                inWindow={!!l.incidentId || windows.some((w) => within(w, l))}
              />
            </Fragment>
          ))}
          {cursor && (
            <div className="empty-hint">
              <button
                className="btn"
                onClick={() =>
                  void ((asked) =>
                    api.get<LogList>(ask({ cursor })).then((p) => {
                      if (keyRef.current === asked) setMore((m) => ({ logs: [...(m?.logs ?? []), ...p.logs], cursor: p.nextCursor }));
                    }))(key)
                }
              >
                Older lines
              </button>
            </div>
          )}
        </div>
        {detail && <LogDetails key={detail} id={detail} close={() => setDetail(null)} filter={addAttribute} setService={(v) => set('service', v)} />}
        </div>
      )}
    </>
  );
}

/** An attribute value as a filter compares it: strings as they are, others as JSON. */
function filterText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** One record's details: body, every attribute (each a filter), its resource and scope. */
function LogDetails({ id, close, filter, setService }: { id: string; close: () => void; filter: (k: string, v: string) => void; setService: (v: string) => void }) {
  const d = useLoad<LogDetail>(`log|${id}`, (signal) => api.get<LogDetail>(`/logs/${encodeURIComponent(id)}`, signal));
  return (
    <aside className="log-detail" aria-label="Log details">
      <div className="log-detail-head">
        <h2>Log details</h2>
        <div className="grow" />
        <button className="btn icon" onClick={close} aria-label="Close details" title="Close (Esc)">
          ✕
        </button>
      </div>
      {d.error && !d.data ? <Failed error={d.error} retry={d.reload} /> : !d.data ? <Loading what="the record" /> : <LogDetailBody detail={d.data} filter={filter} setService={setService} />}
    </aside>
  );
}

function Row({ k, v, action }: { k: string; v: string; action?: React.ReactNode }) {
  return (
    <tr>
      <th className="mono">{k}</th>
      <td className="mono">{v}</td>
      <td>{action}</td>
    </tr>
  );
}

function LogDetailBody({ detail, filter, setService }: { detail: LogDetail; filter: (k: string, v: string) => void; setService: (v: string) => void }) {
  const l = detail.log;
  const body = typeof l.body === 'string' ? prettyJson(l.body) : JSON.stringify(l.body, null, 2);
  const fields: [string, string][] = [
    ['time', `${dateTimeWithZone(nsToMs(l.timeUnixNano))} (${l.timeUnixNano} ns)`],
    ['observed', l.observedTimeUnixNano && l.observedTimeUnixNano !== '0' ? dateTimeWithZone(nsToMs(l.observedTimeUnixNano)) : '—'],
    ['severity', `${l.severityText || severityClass(l)} (${l.severityNumber})`],
    ['trace', l.traceId || '—'],
    ['span', l.spanId || '—'],
  ];
  if (l.eventName) fields.push(['event', l.eventName]);
  if (l.flags) fields.push(['flags', String(l.flags)]);
  if (l.droppedAttributesCount) fields.push(['dropped attributes', String(l.droppedAttributesCount)]);
  const attrs = Object.entries(l.attributes ?? {});
  const resource = Object.entries(detail.resource.attributes ?? {});
  const scope = Object.entries(detail.scope.attributes ?? {});
  return (
    <div className="log-detail-body">
      <pre className="log-body">{body === 'null' ? '(no body)' : body}</pre>
      <div className="links">
        {l.traceId && <a href={href(['traces', l.traceId], l.spanId ? { span: l.spanId } : {})}>Open trace</a>}
        {l.sessionId && <a href={href(['sessions', l.sessionId])}>Open session</a>}
        {l.incidentId && <IncidentChip id={l.incidentId} />}
      </div>
      <table className="kvtable">
        <tbody>
          {fields.map(([k, v]) => (
            <Row key={k} k={k} v={v} />
          ))}
        </tbody>
      </table>
      <h3 className="chart-title">Attributes</h3>
      {attrs.length === 0 ? (
        <div className="muted small">None.</div>
      ) : (
        <table className="kvtable">
          <tbody>
            {attrs.map(([k, v]) => (
              <Row
                key={k}
                k={k}
                v={filterText(v)}
                action={
                  <button className="btn small" onClick={() => filter(k, filterText(v))} title={`Show only logs with ${k}=${filterText(v)}`} aria-label={`Filter by ${k}`}>
                    Filter
                  </button>
                }
              />
            ))}
          </tbody>
        </table>
      )}
      <h3 className="chart-title">Resource</h3>
      <table className="kvtable">
        <tbody>
          {resource.map(([k, v]) => (
            <Row
              key={k}
              k={k}
              v={filterText(v)}
              action={
                k === 'service.name' && typeof v === 'string' ? (
                  <button className="btn small" onClick={() => setService(v)} aria-label="Filter by service">
                    Filter
                  </button>
                ) : undefined
              }
            />
          ))}
          {detail.resource.schemaUrl && <Row k="schema" v={detail.resource.schemaUrl} />}
        </tbody>
      </table>
      <h3 className="chart-title">Scope</h3>
      <table className="kvtable">
        <tbody>
          <Row k="name" v={detail.scope.name || '—'} />
          {detail.scope.version && <Row k="version" v={detail.scope.version} />}
          {scope.map(([k, v]) => (
            <Row key={k} k={k} v={filterText(v)} />
          ))}
        </tbody>
      </table>
    </div>
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

function LogRow({ log, index, selected, open, toggle, show, inWindow }: { log: LogRecord; index: number; selected: boolean; open: boolean; toggle: () => void; show: () => void; inWindow: boolean }) {
  const raw = typeof log.body === 'string' ? log.body : JSON.stringify(log.body);
  const pretty = typeof log.body === 'string' ? prettyJson(log.body) : JSON.stringify(log.body, null, 2);
  const long = raw.length > FOLD || pretty.includes('\n');
  const t = nsToMs(log.timeUnixNano);
  const sev = severityClass(log);
  const attrs = Object.entries(log.attributes);
  return (
    <div className={`logrow ${open ? 'open' : ''} ${selected ? 'sel' : ''} ${inWindow ? 'in-incident' : ''}`} data-i={index} onClick={show} style={{ cursor: 'pointer' }}>
      <span className="mono faint" title={dateTimeWithZone(t)}>
        {t ? timeOfDay(t) : '—'}
      </span>
      <span className={`sev ${sev}`}>{log.severityText || sev}</span>
      <span className="ellipsis muted">{log.serviceName ?? '—'}</span>
      <div className="msg">
        <pre>{open ? pretty : long ? `${raw.slice(0, FOLD)}${raw.length > FOLD ? '…' : ''}` : raw}</pre>
        {long && (
          <button
            className="fold"
            onClick={(e) => {
              e.stopPropagation();
              toggle();
            }}
            aria-expanded={open}
          >
            {open ? 'Fold' : 'Unfold'}
          </button>
        )}
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
