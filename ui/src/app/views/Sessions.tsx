// The session list: filters, facets, live arrivals, and what to paste when there is nothing
// yet.

import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, query, type DemoState, type FacetValue, type SessionList, type SessionSummary, type Status } from '../api';
import { Failed, Loading, Snippet } from '../components/common';
import { IncidentFilter } from '../components/IncidentChip';
import { ImportButton } from '../components/Imports';
import { RangePicker, rangeChanged, withRange } from '../components/RangePicker';
import { ago, count, dateTimeWithZone, duration, plural, shortUrl } from '../format';
import { useKeys, useLoad, useStream } from '../hooks';
import { href, navigate } from '../router';
import { snippets } from '../setup';

const FILTER_KEYS = ['q', 'user', 'url', 'hasError', 'minFrustration', 'hasBackendTraces', 'incident', 'range', 'fromMs', 'toMs'] as const;

export function SessionsView({ params, status }: { params: URLSearchParams; status: Status | null }) {
  const filters: Record<string, string> = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const key = JSON.stringify(filters);
  const list = useLoad<SessionList>(key, (signal) => api.get<SessionList>(`/sessions${query({ ...withRange(filters), limit: 200 })}`, signal));
  const [more, setMore] = useState<{ rows: SessionSummary[]; cursor: string | null } | null>(null);
  const [selected, setSelected] = useState(0);
  const [fresh, setFresh] = useState(0);
  // Sessions ticked for a bundle ("Export selected").
  const [picked, setPicked] = useState<Set<string>>(new Set());
  useEffect(() => {
    setMore(null);
    setSelected(0);
  }, [key]);

  // New sessions arrive live; reload is cheap (the first page and its facets).
  const reloadSoon = useRef<ReturnType<typeof setTimeout> | null>(null);
  useStream((kind, data) => {
    if (kind !== 'sessions' && kind !== 'resync') return;
    const added = (data as { new?: string[] } | null)?.new?.length ?? 0;
    if (added) setFresh((f) => f + added);
    if (reloadSoon.current) return;
    reloadSoon.current = setTimeout(() => {
      reloadSoon.current = null;
      list.reload();
    }, 500);
  });
  useEffect(() => {
    if (!fresh) return;
    const t = setTimeout(() => setFresh(0), 4000);
    return () => clearTimeout(t);
  }, [fresh]);

  const rows = [...(list.data?.sessions ?? []), ...(more?.rows ?? [])];
  const cursor = more ? more.cursor : (list.data?.nextCursor ?? null);
  const facets = list.data?.facets;

  const setFilter = useCallback(
    (k: string, v: string | null) => {
      const next: Record<string, string> = { ...filters };
      if (v === null || v === '') delete next[k];
      else next[k] = v;
      navigate(href(['sessions'], next), true);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key],
  );

  const loadMore = useCallback(() => {
    if (!cursor) return;
    void api.get<SessionList>(`/sessions${query({ ...withRange(filters), limit: 200, cursor })}`).then((page) =>
      setMore((m) => ({ rows: [...(m?.rows ?? []), ...page.sessions], cursor: page.nextCursor })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cursor, key]);

  const searchRef = useRef<HTMLInputElement>(null);
  useKeys({
    '/': () => searchRef.current?.focus(),
    j: () => setSelected((s) => Math.min(s + 1, rows.length - 1)),
    k: () => setSelected((s) => Math.max(s - 1, 0)),
    Enter: () => {
      const r = rows[selected];
      if (r) navigate(href(['sessions', r.sessionId]));
    },
  });

  const noFilters = Object.keys(filters).length === 0;
  return (
    <>
      <div className="toolbar">
        <h1>Sessions</h1>
        <SearchBox inputRef={searchRef} value={filters.q ?? ''} onChange={(v) => setFilter('q', v)} />
        <Toggle label="Errors" title="A page error, a failed request (5xx, no answer) or a failing backend trace" on={filters.hasError === 'true'} set={(on) => setFilter('hasError', on ? 'true' : null)} />
        <Toggle label="Frustrated" on={!!filters.minFrustration} set={(on) => setFilter('minFrustration', on ? '1' : null)} />
        <Toggle label="Backend traces" on={filters.hasBackendTraces === 'true'} set={(on) => setFilter('hasBackendTraces', on ? 'true' : null)} />
        <IncidentFilter value={filters.incident} set={(v) => setFilter('incident', v)} />
        <RangePicker value={filters} set={(v) => navigate(href(['sessions'], rangeChanged(filters, v)), true)} anyLabel="Any time" />
        {filters.user && <Removable label={`user: ${filters.user}`} remove={() => setFilter('user', null)} />}
        {filters.url && <Removable label={`page: ${shortUrl(filters.url)}`} remove={() => setFilter('url', null)} />}
        <div className="grow" />
        {fresh > 0 && <span className="badge accent">{fresh} new</span>}
        {picked.size > 0 && (
          <>
            <span className="muted small">{plural(picked.size, 'session')} selected</span>
            <a className="btn primary" download href={`/api/v1/export?${[...picked].map((id) => `session=${encodeURIComponent(id)}`).join('&')}`} title="The selected sessions, their traces and logs, as one .sightline file">
              Export selected
            </a>
            <button className="btn" onClick={() => setPicked(new Set())}>
              Clear
            </button>
          </>
        )}
        <ImportButton />
        {facets && picked.size === 0 && <span className="muted small">{plural(facets.total, 'session')}</span>}
      </div>
      {list.error && !list.data ? (
        <Failed error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="sessions" />
      ) : rows.length === 0 && noFilters ? (
        <EmptySetup status={status} />
      ) : (
        <div className="split">
          {rows.length === 0 ? (
            <div className="state">
              <h2>No session matches</h2>
              <div>Loosen a filter, or clear them all.</div>
              <button className="btn" onClick={() => navigate(href(['sessions']), true)}>
                Clear filters
              </button>
            </div>
          ) : (
            <Rows rows={rows} selected={selected} onEnd={loadMore} hasMore={!!cursor} picked={picked} setPicked={setPicked} />
          )}
          {facets && (
            <aside className="facets">
              <FacetList facets={facets.users} title="Users" active={filters.user} pick={(v) => setFilter('user', v)} anonymous="not identified" />
              <FacetList facets={facets.pages} title="Pages" active={filters.url} pick={(v) => setFilter('url', v)} anonymous="" short />
              <FacetList facets={facets.errors} title="Errors (sessions)" active={undefined} anonymous="" />
              {(facets.clientErrors?.length ?? 0) > 0 && <FacetList facets={facets.clientErrors ?? []} title="Client errors, 4xx (sessions)" active={undefined} anonymous="" />}
            </aside>
          )}
        </div>
      )}
    </>
  );
}

function SearchBox({ value, onChange, inputRef }: { value: string; onChange: (v: string) => void; inputRef: React.RefObject<HTMLInputElement | null> }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const t = setTimeout(() => onChange(text), 300);
    return () => clearTimeout(t);
  }, [text, value, onChange]);
  return (
    <label className="search">
      <input ref={inputRef} placeholder="Search user, email, URL or session id" value={text} onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === 'Escape' && (e.target as HTMLInputElement).blur()} />
      <span className="kbd">/</span>
    </label>
  );
}

function Toggle({ label, title, on, set }: { label: string; title?: string; on: boolean; set: (on: boolean) => void }) {
  return (
    <button className={`chip ${on ? 'on' : ''}`} aria-pressed={on} title={title} onClick={() => set(!on)}>
      {label}
    </button>
  );
}

function Removable({ label, remove }: { label: string; remove: () => void }) {
  return (
    <button className="chip on" onClick={remove} title="Remove this filter">
      {label} <span className="x">✕</span>
    </button>
  );
}

const ROW_HEIGHT = 44;

/** A tick box inside a row link: it picks the row instead of opening it. */
function Pick({ on, toggle, label }: { on: boolean; toggle: () => void; label: string }) {
  return (
    <span
      role="checkbox"
      aria-checked={on}
      aria-label={label}
      tabIndex={0}
      className={`pick ${on ? 'on' : ''}`}
      onClick={(e) => {
        e.preventDefault();
        e.stopPropagation();
        toggle();
      }}
      onKeyDown={(e) => {
        if (e.key === ' ' || e.key === 'Enter') {
          e.preventDefault();
          e.stopPropagation();
          toggle();
        }
      }}
    >
      {on ? '✓' : ''}
    </span>
  );
}

function Rows({
  rows,
  selected,
  onEnd,
  hasMore,
  picked,
  setPicked,
}: {
  rows: SessionSummary[];
  selected: number;
  onEnd: () => void;
  hasMore: boolean;
  picked: Set<string>;
  setPicked: (p: Set<string>) => void;
}) {
  const toggle = (id: string) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setPicked(next);
  };
  const all = rows.length > 0 && rows.every((r) => picked.has(r.sessionId));
  const parent = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({ count: rows.length, getScrollElement: () => parent.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = v.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (hasMore && last && last.index >= rows.length - 20) onEnd();
  }, [last, rows.length, hasMore, onEnd]);
  useEffect(() => {
    v.scrollToIndex(selected, { align: 'auto' });
  }, [selected, v]);
  const now = Date.now();
  return (
    <div className="list" ref={parent}>
      <div className="list-head">
        <Pick on={all} label="Select every session shown" toggle={() => setPicked(all ? new Set() : new Set(rows.map((r) => r.sessionId)))} />
        <div>User</div>
        <div>Started</div>
        <div>Duration</div>
        <div>Pages</div>
        <div>Start page</div>
        <div>Signals</div>
      </div>
      <div style={{ height: v.getTotalSize(), position: 'relative' }}>
        {items.map((item) => {
          const s = rows[item.index];
          if (!s) return null;
          return (
            <a
              key={s.sessionId}
              href={href(['sessions', s.sessionId])}
              className={`row ${item.index === selected ? 'active' : ''}`}
              style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)`, color: 'inherit', textDecoration: 'none' }}
            >
              <Pick on={picked.has(s.sessionId)} label={`Select ${s.sessionId}`} toggle={() => toggle(s.sessionId)} />
              <div className="user">
                <b>{s.userEmail ?? s.userId ?? 'Anonymous'}</b>
                <span>{s.sessionId.slice(0, 13)}</span>
              </div>
              <div title={dateTimeWithZone(s.firstSeenMs)}>{ago(s.firstSeenMs, now)}</div>
              <div className="mono">{duration(s.durationMs)}</div>
              <div className="num" style={{ textAlign: 'left' }}>
                {s.pageCount}
              </div>
              <div className="ellipsis muted" title={s.startUrl ?? ''}>
                {shortUrl(s.startUrl)}
              </div>
              <div className="badges">
                {s.errorCount > 0 && (
                  <span className="badge error" title="Uncaught errors and console errors on the page">
                    {plural(s.errorCount, 'page error')}
                  </span>
                )}
                {(s.failedRequestCount ?? 0) > 0 && (
                  <span className="badge error" title="Requests answered 5xx or not at all">
                    {plural(s.failedRequestCount ?? 0, 'failed request')}
                  </span>
                )}
                {(s.clientErrorCount ?? 0) > 0 && (
                  <span className="badge plain" title="Requests answered 4xx (a client error, not counted as an error of the session)">
                    {plural(s.clientErrorCount ?? 0, '4xx answer')}
                  </span>
                )}
                {s.frustrationScore > 0 && <span className="badge warn" title="Frustration score: rage, dead and error clicks, thrashing">frustration {s.frustrationScore.toFixed(1)}</span>}
                {(s.failingTraceCount ?? 0) > 0 && (
                  <span className="badge error" title="Backend traces of this session with an error span">
                    {plural(s.failingTraceCount ?? 0, 'failing trace')}
                  </span>
                )}
                {s.traceCount > 0 && <span className="badge info">{plural(s.traceCount, 'trace')}</span>}
                {s.pinned && <span className="badge plain" title="Kept until unpinned">pinned</span>}
                {s.imported && <span className="badge plain" title="Came in a .sightline bundle">imported</span>}
              </div>
            </a>
          );
        })}
      </div>
    </div>
  );
}

function FacetList({ facets, title, active, pick, anonymous, short }: { facets: FacetValue[]; title: string; active: string | undefined; pick?: (v: string | null) => void; anonymous: string; short?: boolean }) {
  return (
    <>
      <h3>{title}</h3>
      {facets.length === 0 && <div className="faint small">none</div>}
      {facets.map((f) => (
        <div
          key={f.value ?? ''}
          className={`facet ${active !== undefined && active === f.value ? 'on' : ''}`}
          style={pick ? undefined : { cursor: 'default' }}
          onClick={() => pick && f.value !== null && pick(active === f.value ? null : f.value)}
          title={f.value ?? anonymous}
        >
          <span className="ellipsis">{f.value === null ? <i className="faint">{anonymous}</i> : short ? shortUrl(f.value) : f.value}</span>
          <span className="n">{count(f.count)}</span>
        </div>
      ))}
    </>
  );
}

/**
 * Starts the demo storefront next to the engine and opens it: a new user sees correlation work
 * before instrumenting anything.
 */
function TryDemo() {
  // Until the engine has said whether the demo already runs, the button waits: it would become a
  // link to the shop under the pointer and swallow the click.
  const [state, setState] = useState<{ loaded: boolean; starting: boolean; demo?: DemoState; error?: string }>({
    loaded: false,
    starting: false,
  });
  useEffect(() => {
    const ctl = new AbortController();
    api
      .get<DemoState>('/demo', ctl.signal)
      .then((demo) => setState((s) => ({ ...s, loaded: true, demo: s.demo ?? demo })))
      .catch(() => setState((s) => ({ ...s, loaded: true })));
    return () => ctl.abort();
  }, []);
  const start = async () => {
    setState({ loaded: true, starting: true });
    try {
      const demo = await api.post<DemoState>('/demo', {});
      setState({ loaded: true, starting: false, demo });
      // Browsers let a page open a window within a moment of the click. Where it may not (the
      // desktop app's WebKit once the start was awaited), going there instead is what the
      // desktop hands to the system browser; the button has become a link to the shop either way.
      if (demo.url) {
        const opened = window.open(demo.url, '_blank');
        if (opened) opened.opener = null;
        else location.assign(demo.url);
      }
    } catch (e) {
      setState({ loaded: true, starting: false, error: e instanceof Error ? e.message : String(e) });
    }
  };
  const url = state.demo?.running ? state.demo.url : null;
  return (
    <div className="demo-card">
      <div>
        <h3>See it work first</h3>
        <p>
          A small instrumented shop runs next to Sightline: its pages record sessions, its four backend services
          send traces and logs here, and it has five bugs to find.
        </p>
        {url ? (
          <p className="ok">
            The demo shop is running at <code>{url}</code>. Shop a little, then come back: sessions appear here.
          </p>
        ) : null}
        {state.error ? <p className="bad">The demo could not start: {state.error}</p> : null}
      </div>
      {url ? (
        <a className="btn primary" href={url} target="_blank" rel="noopener">
          Open the shop
        </a>
      ) : (
        <button className="btn primary" disabled={!state.loaded || state.starting} onClick={() => void start()}>
          {state.starting ? 'Starting…' : 'Try the demo'}
        </button>
      )}
    </div>
  );
}

function EmptySetup({ status }: { status: Status | null }) {
  const all = snippets(status);
  return (
    <div className="page">
      <div className="setup">
        <h2>No sessions yet</h2>
        <p>
          Add the recorder to your storefront and point your backends' OpenTelemetry SDKs here. Sessions appear on
          this page as they arrive.
        </p>
        <TryDemo />
        {all.slice(0, 2).map((s) => (
          <Snippet key={s.label} label={s.label} code={s.code} />
        ))}
        <p>
          More snippets (Node, Python, Java, Go) and the setup for coding agents (MCP) are on the{' '}
          <a href={href(['status'])}>Status</a> page.
        </p>
      </div>
    </div>
  );
}
