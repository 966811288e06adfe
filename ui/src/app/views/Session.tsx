// The core screen: the replay beside the activity feed (synced to playback), and tabs for the
// session's requests, console, the backend behind a request, and what did not link. The split
// between player and panels is dragged (or moved with the arrow keys) and remembered; theater
// mode (t) gives the player the whole page, fullscreen (f) the whole screen.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, query, type BrowserItem, type Diagnostics, type ReplayWindow, type SessionDetail, type Timeline, type TimelineItem, type TraceView as Trace } from '../api';
import { Failed, Loading } from '../components/common';
import { IncidentChip } from '../components/IncidentChip';
import { Player, type Band, type Mark, type PlayerHandle } from '../components/Player';
import { RequestDetails } from '../components/RequestDetails';
import { deepestErrorSpan, LogLines, SpanDetails, Waterfall } from '../components/Waterfall';
import { clock, dateTimeWithZone, duration, nsToMs, plural, shortUrl } from '../format';
import { useKeys, useLoad } from '../hooks';
import { describeScope, useIncidents } from '../incidents';
import { href, navigate, parseOffset } from '../router';
import { guardReplay } from '../replay-guard';

interface Loaded {
  detail: SessionDetail;
  timeline: Timeline;
  replay: LoadedWindow;
}

/** Replay is loaded a window at a time, from the full snapshot before the moment wanted, so a
 * long session opens (and seeks) without downloading all of it. */
const REPLAY_WINDOW_MS = 5 * 60_000;

interface LoadedWindow extends ReplayWindow {
  /** The end of what this window holds (Unix ms). */
  toMs: number;
  /** URLs to other sites the recording held, not fetched. */
  blocked: number;
}

/** A window of the replay, with every URL pointing away from the session's own pages made
 * inert before the player sees it (replay-guard.ts). */
async function replayWindow(id: string, at: number, pages: string[], signal?: AbortSignal): Promise<LoadedWindow> {
  const fromMs = Math.floor(at);
  const toMs = fromMs + REPLAY_WINDOW_MS;
  const w = await api.get<ReplayWindow>(`/sessions/${encodeURIComponent(id)}/replay${query({ fromMs, toMs })}`, signal);
  const { blocked } = guardReplay(w.events, pages);
  return { ...w, toMs, blocked };
}

type Tab = 'network' | 'console' | 'backend' | 'diagnostics';

/** Where the session's offsets count from: its start, else its first item (a session whose
 * events carried no time). */
function sessionStart(timeline: Timeline): number {
  return timeline.startMs ?? timeline.items[0]?.timeMs ?? 0;
}

export function SessionView({ id, params }: { id: string; params: URLSearchParams }) {
  const data = useLoad<Loaded>(id, async (signal) => {
    const [detail, timeline] = await Promise.all([
      api.get<SessionDetail>(`/sessions/${encodeURIComponent(id)}`, signal),
      api.get<Timeline>(`/sessions/${encodeURIComponent(id)}/timeline`, signal),
    ]);
    const at = sessionStart(timeline) + (parseOffset(params.get('t')) ?? 0);
    const replay = await replayWindow(id, at, detail.pages.map((p) => p.url), signal);
    return { detail, timeline, replay };
  });
  // A failure is this session's, though the previous session's data is still held.
  if (data.error && data.data?.detail.sessionId !== id) return <Failed error={data.error} retry={data.reload} />;
  // What is loaded may still be the previous session's (the address bar, Back, a pasted link):
  // never show it under this one's address.
  if (!data.data || data.data.detail.sessionId !== id) return <Loading what="the session" />;
  // Keyed on the session: no state (player, tab, picked request) outlives a change of session.
  return <SessionScreen key={id} id={id} params={params} {...data.data} />;
}

function itemTitle(item: TimelineItem): { icon: string; tone: string; title: string; sub: string; why?: string } {
  switch (item.kind) {
    case 'page_view':
      return { icon: 'P', tone: 'plain', title: `Visited ${shortUrl(item.target)}`, sub: item.target ?? '' };
    case 'click':
      return { icon: 'C', tone: 'plain', title: item.target ? `Clicked “${item.target}”` : 'Clicked', sub: '' };
    case 'input': {
      // One row per field: the engine merges a run of keystrokes.
      const n = Number((item.data as { inputs?: number } | null)?.inputs ?? 1);
      return { icon: 'I', tone: 'plain', title: item.target ? `Typed in “${item.target}”` : 'Typed in a field', sub: n > 1 ? `${n} changes` : '' };
    }
    case 'network': {
      const d = (item.data ?? {}) as { method?: string; status?: number; durationMs?: number; url?: string };
      const bad = Number(item.level) >= 400 || item.level === '0';
      const t = item.trace;
      return {
        icon: bad ? '!' : 'N',
        tone: bad ? 'error' : 'ok',
        title: `${d.method ?? 'GET'} ${shortUrl(item.target)} → ${item.level ?? '?'}`,
        sub: t ? `${t.serviceName ?? '?'} · ${t.rootName ?? ''} · ${duration(t.durationMs)}${t.errorCount ? ` · ${t.errorCount} error spans` : ''}` : `${duration(d.durationMs)} · no backend trace`,
      };
    }
    case 'console':
      return { icon: '>', tone: item.level === 'error' ? 'error' : item.level === 'warn' ? 'warn' : 'plain', title: item.target ?? 'console', sub: item.level ?? '' };
    case 'error':
      return { icon: '!', tone: 'error', title: item.target ?? 'Uncaught error', sub: 'uncaught error' };
    case 'custom':
      return { icon: '·', tone: 'plain', title: item.target ?? 'custom event', sub: '' };
    case 'frustration':
      return {
        icon: '⚡',
        tone: 'warn',
        title: `${item.signal.replace('_', ' ')}${item.target ? ` on “${item.target}”` : ''}`,
        sub: item.source === 'client' ? `reported by the recorder · score ${item.score}` : `score ${item.score}`,
        why: item.reason,
      };
    case 'trace':
      return item.trace
        ? { icon: 'T', tone: 'info', title: `Backend: ${item.trace.rootName ?? item.trace.traceId.slice(0, 8)}`, sub: `${item.trace.serviceName ?? ''} · ${duration(item.trace.durationMs)}` }
        : { icon: 'T', tone: 'info', title: 'Backend trace', sub: '' };
    case 'log':
      return { icon: 'L', tone: item.log.severityNumber >= 17 ? 'error' : 'plain', title: typeof item.log.body === 'string' ? item.log.body : JSON.stringify(item.log.body), sub: item.log.serviceName ?? '' };
  }
}

const TONES: Record<string, [string, string]> = {
  plain: ['var(--panel-2)', 'var(--muted)'],
  ok: ['var(--ok-soft)', 'var(--ok)'],
  error: ['var(--error-soft)', 'var(--error)'],
  warn: ['var(--warn-soft)', 'var(--warn)'],
  info: ['var(--info-soft)', 'var(--info)'],
};

/** Quiet stretches: more than this without a click, input, page view or request. */
const IDLE_MS = 5_000;

function SessionScreen({ id, params, detail, timeline, replay: first }: { id: string; params: URLSearchParams } & Loaded) {
  const startMs = sessionStart(timeline);
  const [win, setWin] = useState<{ replay: LoadedWindow; at: number; play: boolean }>(() => ({
    replay: first,
    at: parseOffset(params.get('t')) ?? 0,
    play: false,
  }));
  const lastEvent = win.replay.events[win.replay.events.length - 1]?.timestamp ?? startMs;
  const durationMs = Math.max(lastEvent - startMs, (detail.lastSeenMs ?? startMs) - startMs, 1);
  const initial = win.at;
  const pages = useMemo(() => detail.pages.map((p) => p.url), [detail.pages]);
  // A seek (or playback) past the loaded window loads the window around it.
  const loadAround = useCallback(
    (offsetMs: number, play: boolean) => {
      void replayWindow(id, startMs + offsetMs, pages).then((replay) => setWin({ replay, at: offsetMs, play }));
    },
    [id, startMs, pages],
  );
  // Sub-minute sessions (tests, quick repros) need tenths to tell moments apart.
  const short = durationMs < 60_000;
  const [now, setNow] = useState(initial);
  const [tab, setTab] = useState<Tab>((params.get('tab') as Tab) ?? 'network');
  const [request, setRequest] = useState<string | null>(params.get('request'));
  const player = useRef<PlayerHandle | null>(null);
  const [theater, setTheater] = useState(params.get('theater') === '1');
  const stageRef = useRef<HTMLDivElement>(null);
  const [split, setSplit] = useSplit();
  const fullscreen = () => {
    const el = stageRef.current;
    if (!el) return;
    if (document.fullscreenElement) void document.exitFullscreen();
    else void el.requestFullscreen?.();
  };
  useKeys({ t: () => setTheater((v) => !v), f: fullscreen });

  const [allLogs, setAllLogs] = useState(false);
  // Backend logs can outnumber everything the user did; the feed keeps warnings and errors
  // unless asked (every log of a request is one click away in the Backend tab).
  const items = useMemo(
    () => timeline.items.filter((i) => allLogs || i.kind !== 'log' || i.log.severityNumber >= 13),
    [timeline.items, allLogs],
  );
  const marks: Mark[] = useMemo(
    () =>
      items.flatMap((it): Mark[] => {
        const { title } = itemTitle(it);
        if (it.kind === 'click' || it.kind === 'page_view' || it.kind === 'error' || it.kind === 'frustration') return [{ offsetMs: it.offsetMs, kind: it.kind, title }];
        if (it.kind === 'network') return [{ offsetMs: it.offsetMs, kind: 'network', bad: Number(it.level) >= 400 || it.level === '0', title }];
        return [];
      }),
    [items],
  );
  // Incident windows that overlap the session, shaded on the scrubber.
  const incidents = useIncidents();
  const bands: Band[] = useMemo(
    () =>
      (incidents ?? [])
        .filter((i) => i.startedMs < startMs + durationMs && i.untilMs > startMs)
        .map((i) => ({
          fromMs: Math.max(0, i.startedMs - startMs),
          toMs: Math.min(durationMs, i.untilMs - startMs),
          title: `Incident window${i.label ? ` “${i.label}”` : ''} (${describeScope(i.scope)})`,
        })),
    [incidents, startMs, durationMs],
  );
  const idle = useMemo(() => {
    const active = items.filter((i) => ['click', 'input', 'page_view', 'network'].includes(i.kind)).map((i) => i.offsetMs);
    const gaps: [number, number][] = [];
    let prev = 0;
    for (const t of [...active, durationMs]) {
      if (t - prev > IDLE_MS) gaps.push([prev + 1000, t - 500]);
      prev = Math.max(prev, t);
    }
    return gaps;
  }, [items, durationMs]);

  const current = useMemo(() => {
    let c = -1;
    items.forEach((it, i) => {
      if (it.offsetMs <= now + 50) c = i;
    });
    return c;
  }, [items, now]);

  const feedRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = feedRef.current?.querySelector<HTMLElement>(`[data-i="${current}"]`);
    el?.scrollIntoView({ block: 'nearest' });
  }, [current]);

  const openItem = useCallback((it: TimelineItem) => {
    player.current?.seek(Math.max(0, it.offsetMs - 300), false);
    if (it.kind === 'network' && it.traceId) {
      setRequest(it.traceId);
      setTab('backend');
    } else if (it.kind === 'trace' && it.trace) {
      setRequest(it.trace.traceId);
      setTab('backend');
    } else if (it.kind === 'console' || it.kind === 'error') setTab('console');
  }, []);

  const user = detail.userEmail ?? detail.userId ?? 'Anonymous';
  // The recorder's own report of the window's size, passed through as it came.
  const viewport = detail.viewport as { width?: number; height?: number } | null;
  const errors = items.filter((i) => i.kind === 'error' || (i.kind === 'console' && i.level === 'error')).length;
  return (
    <>
      <div className="header-bar">
        <a href={href(['sessions'])} className="muted">
          ← Sessions
        </a>
        <span className="title">{user}</span>
        <div className="kv">
          <span title={dateTimeWithZone(startMs)}>
            started <b>{dateTimeWithZone(startMs)}</b>
          </span>
          <span>
            duration <b>{duration(durationMs)}</b>
          </span>
          <span>
            pages <b>{detail.pages.length}</b>
          </span>
          {viewport?.width && (
            <span>
              viewport <b>{viewport.width}×{viewport.height}</b>
            </span>
          )}
        </div>
        {errors > 0 && <span className="badge error" title="Uncaught errors and console errors on the page">{plural(errors, 'page error')}</span>}
        {(detail.failedRequestCount ?? 0) > 0 && <span className="badge error" title="Requests answered 5xx or not at all">{plural(detail.failedRequestCount ?? 0, 'failed request')}</span>}
        {(detail.failingTraceCount ?? 0) > 0 && <span className="badge error" title="Backend traces of this session with an error span">{plural(detail.failingTraceCount ?? 0, 'failing trace')}</span>}
        {detail.frustrationScore > 0 && <span className="badge warn">frustration {detail.frustrationScore.toFixed(1)}</span>}
        <div style={{ flex: 1 }} />
        <button className="btn" onClick={() => void navigator.clipboard?.writeText(`${location.origin}/${href(['sessions', id], { t: `${(now / 1000).toFixed(1)}s` })}`)}>
          Copy link at {clock(now, short)}
        </button>
        <button className={`btn ${theater ? 'on' : ''}`} aria-pressed={theater} onClick={() => setTheater(!theater)} title="The player on the whole page (t)">
          Theater
        </button>
        <button className="btn" onClick={fullscreen} title="The player on the whole screen (f; Esc leaves)">
          Fullscreen
        </button>
        <PinButton id={id} pinned={!!detail.pinned} />
        <ReportButton id={id} />
        <a className="btn" href={`/api/v1/export${query({ session: id })}`} download title="This session, its traces and logs, as one .sightline file to share">
          Export
        </a>
      </div>
      {detail.importedFrom && (
        <div className="imported-note">
          Imported from <b>{detail.importedFrom.fileName}</b>
          {detail.importedFrom.source ? `, exported on ${detail.importedFrom.source}` : ''}
          {detail.importedFrom.exportedMs ? ` at ${dateTimeWithZone(detail.importedFrom.exportedMs)}` : ''} · imported {dateTimeWithZone(detail.importedFrom.importedMs)}
        </div>
      )}
      <div className={`session ${theater ? 'theater' : ''}`} style={{ gridTemplateRows: `minmax(0, 1fr) ${split.panels}px`, gridTemplateColumns: `minmax(0, 1fr) ${split.feed}px` } as React.CSSProperties}>
        <div className="stage" ref={stageRef}>
          <Player
            events={win.replay.events}
            windowEndMs={Math.min(win.replay.toMs - startMs, durationMs)}
            autoPlay={win.play}
            onOutside={loadAround}
            startMs={startMs}
            durationMs={durationMs}
            marks={marks}
            idle={idle}
            bands={bands}
            initialOffsetMs={initial}
            blocked={win.replay.blocked}
            onTime={setNow}
            handle={player}
          />
          {!theater && (
            <>
              <Separator orientation="horizontal" label="Resize the player and the panels" value={split.panels} min={SPLIT.minPanels} max={SPLIT.maxPanels} set={(v) => setSplit({ ...split, panels: v })} />
              <Separator orientation="vertical" label="Resize the activity feed" value={split.feed} min={SPLIT.minFeed} max={SPLIT.maxFeed} set={(v) => setSplit({ ...split, feed: v })} />
            </>
          )}
        </div>
        <div className="feed" ref={feedRef} aria-label="Activity">
          <div className="feed-head">
            <b>Activity</b>
            <span className="muted small">{items.length} items</span>
            <div style={{ flex: 1 }} />
            <label className="toggle">
              <input type="checkbox" checked={allLogs} onChange={(e) => setAllLogs(e.target.checked)} /> all backend logs
            </label>
          </div>
          {items.length === 0 && <div className="empty-hint">Nothing recorded yet.</div>}
          {items.map((it, i) => {
            const t = itemTitle(it);
            const [bg, fg] = TONES[t.tone] ?? TONES.plain!;
            return (
              <div key={i} data-i={i} className={`item ${i === current ? 'current' : ''} ${it.offsetMs > now + 50 ? 'future' : ''} ${incidentOf(it) ? 'in-incident' : ''}`} onClick={() => openItem(it)}>
                <span className="t">{clock(it.offsetMs, short)}</span>
                <span className="ic" style={{ background: bg, color: fg }}>
                  {t.icon}
                </span>
                <div className="body">
                  <div className="title" title={t.title}>
                    {t.title}
                  </div>
                  {t.sub && <div className="sub">{t.sub}</div>}
                  {t.why && <div className="why">Why: {t.why}</div>}
                  {incidentOf(it) && incidentOf(it) !== incidentBefore(items, i) && <IncidentChip id={incidentOf(it) as string} />}
                </div>
              </div>
            );
          })}
          {timeline.truncated && <div className="empty-hint">The timeline is long; the first items are shown.</div>}
        </div>
        <div className="tabs-area">
          <div className="tabs" role="tablist">
            {(['network', 'console', 'backend', 'diagnostics'] as Tab[]).map((t) => (
              <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? 'on' : ''} onClick={() => setTab(t)}>
                {t[0]?.toUpperCase()}
                {t.slice(1)}
              </button>
            ))}
          </div>
          <div className="tab-body">
            {tab === 'network' && (
              <NetworkTab
                sessionId={id}
                items={items}
                selected={request}
                select={(it) => setRequest(it.traceId ?? null)}
                seek={(it) => player.current?.seek(Math.max(0, it.offsetMs - 300), false)}
                showBackend={openItem}
                short={short}
              />
            )}
            {tab === 'console' && <ConsoleTab items={items} pick={openItem} />}
            {tab === 'backend' && <BackendTab traceId={request} />}
            {tab === 'diagnostics' && <DiagnosticsTab sessionId={id} />}
          </div>
        </div>
      </div>
    </>
  );
}

/** The window of the nearest earlier item that can have one (signals and traces cannot), so
 * the feed names a window once per run of items captured in it. */
function incidentBefore(items: TimelineItem[], i: number): string | null | undefined {
  for (let j = i - 1; j >= 0; j--) {
    const it = items[j];
    if (it && it.kind !== 'frustration' && it.kind !== 'trace') return incidentOf(it);
  }
  return null;
}

/** Pinning keeps a session whatever the retention policy (14 days, 60 with errors). */
function PinButton({ id, pinned: initially }: { id: string; pinned: boolean }) {
  const [pinned, setPinned] = useState(initially);
  const [busy, setBusy] = useState(false);
  const toggle = () => {
    setBusy(true);
    const path = `/sessions/${encodeURIComponent(id)}/pin`;
    const done = pinned
      ? fetch(`/api/v1${path}`, { method: 'DELETE' }).then((r) => {
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
        })
      : api.post(path, {});
    void done
      .then(() => setPinned(!pinned))
      .catch(() => undefined)
      .finally(() => setBusy(false));
  };
  return (
    <button className={`btn ${pinned ? 'on' : ''}`} aria-pressed={pinned} disabled={busy} onClick={toggle} title={pinned ? 'Kept until unpinned. Click to unpin.' : 'Keep this session whatever the retention policy'}>
      {pinned ? '📌 Pinned' : 'Pin'}
    </button>
  );
}

/** "Copy as bug report": the session's steps to reproduce, failing requests and error logs, as
 * Markdown on the clipboard. */
function ReportButton({ id }: { id: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      const resp = await fetch(`/api/v1/sessions/${encodeURIComponent(id)}/report?format=markdown`);
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      await navigator.clipboard.writeText(await resp.text());
      setState('copied');
    } catch {
      setState('failed');
    }
    setTimeout(() => setState('idle'), 2500);
  };
  return (
    <button className="btn" onClick={() => void copy()} title="Steps to reproduce, failing requests and error logs, as Markdown for a ticket">
      {state === 'copied' ? 'Copied ✓' : state === 'failed' ? 'Could not copy' : 'Copy as bug report'}
    </button>
  );
}

/** The incident window a feed item was captured in. */
function incidentOf(it: TimelineItem | undefined): string | null | undefined {
  if (!it) return null;
  if (it.kind === 'log') return it.log.incidentId;
  if (it.kind === 'frustration' || it.kind === 'trace') return null;
  return it.incidentId;
}

function NetworkTab({
  sessionId,
  items,
  selected,
  select,
  seek,
  showBackend,
  short,
}: {
  sessionId: string;
  items: TimelineItem[];
  selected: string | null;
  /** The Backend tab follows the request picked here. */
  select: (it: BrowserItem) => void;
  seek: (it: TimelineItem) => void;
  showBackend: (it: TimelineItem) => void;
  short: boolean;
}) {
  // In the order they started: the recorder reports a request when its answer comes.
  const requests = items
    .filter((i): i is BrowserItem => i.kind === 'network')
    .map((r) => ({ r, startMs: requestStart(r) }))
    .sort((a, b) => a.startMs - b.startMs)
    .map(({ r }) => r);
  // The request picked here (by its event, so a live reload that adds requests keeps it);
  // else the one whose trace is selected (from the feed).
  const [picked, setPicked] = useState<number | null>(null);
  if (!requests.length) return <div className="empty-hint">No requests were recorded in this session.</div>;
  const current = requests.find((r) => (picked !== null ? r.eventId === picked : !!selected && r.traceId === selected));
  return (
    <div className={`network ${current ? 'with-details' : ''}`}>
      <div className="network-list">
        <RequestTable
          requests={requests}
          current={current}
          pick={(r) => {
            setPicked(r.eventId ?? null);
            select(r);
            seek(r);
          }}
          short={short}
        />
      </div>
      {current && <RequestDetails key={`${current.eventId}`} sessionId={sessionId} item={current} showBackend={() => showBackend(current)} />}
    </div>
  );
}

/** When a request started, as an offset into the session (its report time less its duration). */
function requestStart(r: BrowserItem): number {
  const d = Number((r.data as { durationMs?: number } | null)?.durationMs);
  return Number.isFinite(d) && d > 0 ? Math.max(0, r.offsetMs - d) : r.offsetMs;
}

function RequestTable({
  requests,
  current,
  pick,
  short,
}: {
  requests: BrowserItem[];
  current: BrowserItem | undefined;
  pick: (r: BrowserItem, i: number) => void;
  short: boolean;
}) {
  return (
    <table className="grid">
      <thead>
        <tr>
          <th>At</th>
          <th>Method</th>
          <th>URL</th>
          <th>Status</th>
          <th className="num">Duration</th>
          <th>Backend trace</th>
        </tr>
      </thead>
      <tbody>
        {requests.map((r, i) => {
          const d = (r.data ?? {}) as { method?: string; durationMs?: number };
          const bad = Number(r.level) >= 400 || r.level === '0';
          return (
            <tr key={i} className={r === current ? 'sel' : ''} onClick={() => pick(r, i)} data-request={r.traceId ?? ''}>
              <td className="mono faint" title="When the request started">{clock(requestStart(r), short)}</td>
              <td>{d.method ?? 'GET'}</td>
              <td className="ellipsis" style={{ maxWidth: 360 }} title={r.target ?? ''}>
                {shortUrl(r.target)}
                {r.captured && (
                  <span className="badge incident" title="Headers and bodies captured in an incident window">
                    payloads
                  </span>
                )}
              </td>
              <td>
                <span className={`badge ${bad ? 'error' : 'ok'}`}>{r.level ?? '?'}</span>
              </td>
              <td className="num mono">{duration(d.durationMs)}</td>
              <td>
                {r.trace ? (
                  <span>
                    <span className="muted">{r.trace.serviceName}</span> {r.trace.rootName} · {duration(r.trace.durationMs)}
                    {r.trace.errorCount > 0 && <span className="badge error" style={{ marginLeft: 6 }}>{r.trace.errorCount === 1 ? '1 error span' : `${r.trace.errorCount} error spans`}</span>}
                  </span>
                ) : (
                  <span className="faint">{r.traceId ? 'trace not received' : 'not traced'}</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function ConsoleTab({ items, pick }: { items: TimelineItem[]; pick: (it: TimelineItem) => void }) {
  const lines = items.filter((i) => i.kind === 'console' || i.kind === 'error');
  if (!lines.length) return <div className="empty-hint">No console errors or warnings.</div>;
  return (
    <div>
      {lines.map((l, i) =>
        l.kind === 'console' || l.kind === 'error' ? (
          <div key={i} className="logline" style={{ gridTemplateColumns: '60px 70px 1fr', cursor: 'pointer' }} onClick={() => pick(l)}>
            <span className="mono faint">{clock(l.offsetMs)}</span>
            <span className={`sev ${l.kind === 'error' ? 'error' : (l.level ?? 'info')}`}>{l.kind === 'error' ? 'uncaught' : l.level}</span>
            <pre>{l.target}</pre>
          </div>
        ) : null,
      )}
    </div>
  );
}

function BackendTab({ traceId }: { traceId: string | null }) {
  if (!traceId) return <div className="empty-hint">Pick a request (in the feed or the Network tab) to see what the backend did.</div>;
  // Keyed: another request's trace is never shown while this one loads.
  return <TraceInline key={traceId} traceId={traceId} />;
}

function TraceInline({ traceId }: { traceId: string }) {
  const trace = useLoad<Trace>(traceId, (signal) => api.get<Trace>(`/traces/${traceId}`, signal));
  const [span, setSpan] = useState<string | null>(null);
  if (trace.error?.status === 404) return <div className="empty-hint">The backend trace {traceId} has not arrived. Is the service instrumented and exporting to Sightline?</div>;
  if (trace.error && !trace.data) return <Failed error={trace.error} retry={trace.reload} />;
  if (!trace.data) return <Loading what="the trace" />;
  const t = trace.data;
  const sel = t.spans.find((s) => s.spanId === span) ?? deepestErrorSpan(t.spans) ?? null;
  const base = Math.min(...t.spans.map((s) => nsToMs(s.startTimeUnixNano) ?? Infinity));
  return (
    <div style={{ display: 'grid', gridTemplateColumns: 'minmax(0, 1fr) 340px', height: '100%' }}>
      <div style={{ display: 'flex', flexDirection: 'column', minHeight: 0 }}>
        <div className="toolbar" style={{ padding: '4px 10px' }}>
          <span className="muted small">
            {t.spans.length} spans · {t.logs.length} logs
          </span>
          <div className="grow" />
          <a className="btn" href={href(['traces', traceId], sel ? { span: sel.spanId } : {})}>
            Open trace
          </a>
        </div>
        <div style={{ flex: 1, minHeight: 0 }}>
          <Waterfall trace={t} selected={sel?.spanId ?? null} onSelect={setSpan} />
        </div>
        <div style={{ maxHeight: 120, overflow: 'auto', borderTop: '1px solid var(--border)' }}>
          <LogLines logs={t.logs} baseMs={Number.isFinite(base) ? base : 0} />
        </div>
      </div>
      <div style={{ borderLeft: '1px solid var(--border)', overflow: 'auto' }}>{sel && <SpanDetails span={sel} trace={t} />}</div>
    </div>
  );
}

function DiagnosticsTab({ sessionId }: { sessionId: string }) {
  const d = useLoad<Diagnostics>('diag', (signal) => api.get<Diagnostics>('/diagnostics', signal));
  if (d.error && !d.data) return <Failed error={d.error} retry={d.reload} />;
  if (!d.data) return <Loading what="diagnostics" />;
  const missing = d.data.missingTraces.filter((m) => m.sessionId === sessionId);
  const orphans = d.data.orphanSpans;
  return (
    <div className="page" style={{ padding: 12 }}>
      <h2>Requests whose backend trace never arrived ({missing.length})</h2>
      {missing.length === 0 ? (
        <p className="muted">Every traced request of this session has its backend trace.</p>
      ) : (
        <>
          <p className="muted">The browser sent a traceparent, but no span of that trace reached Sightline: the backend is not instrumented, does not continue the incoming context, or exports elsewhere.</p>
          <table className="grid">
            <tbody>
              {missing.map((m) => (
                <tr key={m.traceId}>
                  <td className="mono">{m.traceId}</td>
                  <td>{shortUrl(m.url)}</td>
                  <td>{m.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2 style={{ marginTop: 16 }}>Spans whose parent never arrived, anywhere ({orphans.length})</h2>
      <p className="muted">A service between these spans and their parents is not exporting, or loses the context.</p>
      <a href={`${href(['sessions'])}`} onClick={(e) => { e.preventDefault(); navigate(href(['status'])); }}>
        Setup snippets
      </a>
    </div>
  );
}

/** The split's bounds: the panels and the feed stay usable, the player never vanishes. */
const SPLIT = { minPanels: 120, maxPanels: 720, minFeed: 240, maxFeed: 720, panels: 300, feed: 380 };
const SPLIT_KEY = 'sightline.session.split';

/** The player/panels split, remembered across sessions (this browser's storage). */
function useSplit(): [{ panels: number; feed: number }, (v: { panels: number; feed: number }) => void] {
  const [split, setSplit] = useState(() => {
    try {
      const v = JSON.parse(localStorage.getItem(SPLIT_KEY) ?? 'null') as { panels?: unknown; feed?: unknown } | null;
      const num = (x: unknown, lo: number, hi: number, d: number) => (typeof x === 'number' && Number.isFinite(x) ? Math.min(Math.max(x, lo), hi) : d);
      return { panels: num(v?.panels, SPLIT.minPanels, SPLIT.maxPanels, SPLIT.panels), feed: num(v?.feed, SPLIT.minFeed, SPLIT.maxFeed, SPLIT.feed) };
    } catch {
      return { panels: SPLIT.panels, feed: SPLIT.feed };
    }
  });
  const set = (v: { panels: number; feed: number }) => {
    setSplit(v);
    try {
      localStorage.setItem(SPLIT_KEY, JSON.stringify(v));
    } catch {
      // Storage refused (private mode): the split still holds for this page.
    }
  };
  return [split, set];
}

/**
 * A drag handle on the stage's bottom (horizontal) or right (vertical) edge: drag it, or focus
 * it and use the arrow keys (Home/End for the bounds), as the WAI-ARIA window splitter does.
 * The value is the size of what is beyond the edge (the panels below, the feed to the right).
 */
function Separator({ orientation, label, value, min, max, set }: { orientation: 'horizontal' | 'vertical'; label: string; value: number; min: number; max: number; set: (v: number) => void }) {
  const clamp = (v: number) => Math.round(Math.min(Math.max(v, min), max));
  const horizontal = orientation === 'horizontal';
  return (
    <div
      className={`splitter ${orientation}`}
      role="separator"
      aria-orientation={orientation}
      aria-label={label}
      aria-valuenow={value}
      aria-valuemin={min}
      aria-valuemax={max}
      tabIndex={0}
      onMouseDown={(e) => {
        e.preventDefault();
        const start = horizontal ? e.clientY : e.clientX;
        const from = value;
        const move = (m: MouseEvent) => {
          const d = (horizontal ? m.clientY : m.clientX) - start;
          // Dragging the edge away from the player grows it: the panels (or the feed) shrink.
          set(clamp(from - d));
        };
        const up = () => {
          window.removeEventListener('mousemove', move);
          window.removeEventListener('mouseup', up);
        };
        window.addEventListener('mousemove', move);
        window.addEventListener('mouseup', up);
      }}
      onKeyDown={(e) => {
        const step = e.shiftKey ? 80 : 20;
        // Moving the edge towards the panels' side gives them less room.
        const grow: Record<string, number> = horizontal ? { ArrowUp: step, ArrowDown: -step } : { ArrowLeft: step, ArrowRight: -step };
        const d = grow[e.key];
        if (d !== undefined) {
          e.preventDefault();
          e.stopPropagation();
          set(clamp(value + d));
        } else if (e.key === 'Home' || e.key === 'End') {
          e.preventDefault();
          set(e.key === 'Home' ? min : max);
        }
      }}
    />
  );
}
