// Incident windows: start one (duration, scope, label, ticket), extend or stop the active
// ones, and the history (the same controls as `sightline incident …` and the API); and a page
// per window with what it caught: sessions, requests (failing first), traces and logs.

import { useState, type ReactNode } from 'react';
import { api, ApiError, query, type Incident, type IncidentRequests, type LogList, type SessionList, type TraceList } from '../api';
import { Failed, Loading } from '../components/common';
import { dateTimeWithZone, duration, nsToMs, plural, shortUrl, timeOfDay } from '../format';
import { useLoad, useStream, type Loaded } from '../hooks';
import { href } from '../router';
import {
  activeAt,
  describeScope,
  extendIncident,
  remaining,
  startIncident,
  startRequest,
  stopIncident,
  useIncidents,
  useNow,
  type StartForm,
} from '../incidents';

const SCOPES: [StartForm['scope'], string][] = [
  ['all', 'Everyone'],
  ['user', 'One user'],
  ['session', 'One session'],
  ['url', 'Pages matching'],
];

const PLACEHOLDER: Record<StartForm['scope'], string> = {
  all: '',
  user: 'user id, e.g. ada@example.com',
  session: 'session id',
  url: 'a URL pattern, e.g. */checkout*',
};

export function IncidentsView() {
  const list = useIncidents();
  const now = useNow(true);
  const [form, setForm] = useState<StartForm>({ minutes: 15, scope: 'all', value: '', label: '', ticketUrl: '' });
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!list) return <Loading what="incidents" />;
  const active = activeAt(list, now);

  const act = (work: () => Promise<unknown>) => {
    setBusy(true);
    setProblem(null);
    work()
      .catch((e: unknown) => setProblem(e instanceof ApiError ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  const start = () => {
    const body = startRequest(form);
    if (typeof body === 'string') {
      setProblem(body);
      return;
    }
    act(async () => {
      await startIncident(body);
      setForm({ ...form, value: '', label: '', ticketUrl: '' });
    });
  };

  return (
    <>
      <div className="toolbar">
        <h1>Incidents</h1>
        <span className="muted small">
          {active.length ? `${active.length} active` : 'none active'} · {list.length} in the history
        </span>
      </div>
      <div className="page incidents">
        <h2>Start an incident window</h2>
        <p className="muted small">
          While a window is open, the spans and logs that arrive within its scope are marked with it, and clients that support
          incident mode (they ask <code>/v1/incident-mode</code> on the ingest port) capture more: payloads, headers, verbose logs.
        </p>
        <div className="incident-form">
          <label>
            <span>For</span>
            <select className="text" aria-label="Who it covers" value={form.scope} onChange={(e) => setForm({ ...form, scope: e.target.value as StartForm['scope'] })}>
              {SCOPES.map(([k, label]) => (
                <option key={k} value={k}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          {form.scope !== 'all' && (
            <label className="grow">
              <span>{form.scope === 'url' ? 'URL pattern' : form.scope === 'user' ? 'User' : 'Session'}</span>
              <input className="text" placeholder={PLACEHOLDER[form.scope]} value={form.value} onChange={(e) => setForm({ ...form, value: e.target.value })} />
            </label>
          )}
          <label>
            <span>Minutes</span>
            <input
              className="text port"
              inputMode="numeric"
              value={String(form.minutes)}
              onChange={(e) => setForm({ ...form, minutes: Number(e.target.value) })}
            />
          </label>
          <label className="grow">
            <span>Label</span>
            <input className="text" placeholder="what it is about" value={form.label} onChange={(e) => setForm({ ...form, label: e.target.value })} />
          </label>
          <label className="grow">
            <span>Ticket</span>
            <input className="text" placeholder="https://…" value={form.ticketUrl} onChange={(e) => setForm({ ...form, ticketUrl: e.target.value })} />
          </label>
          <button className="btn primary" disabled={busy} onClick={start}>
            Start
          </button>
        </div>
        {problem && (
          <div className="notice error" role="alert">
            {problem}
          </div>
        )}
        <h2>History</h2>
        {list.length === 0 ? (
          <div className="empty-hint">No incident windows yet. Start one above, or with `sightline incident start`.</div>
        ) : (
          <table className="grid">
            <thead>
              <tr>
                <th>Window</th>
                <th>Covers</th>
                <th>Started</th>
                <th>Length</th>
                <th>State</th>
                <th>By</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((i) => (
                <IncidentRow key={i.id} incident={i} now={now} busy={busy} act={act} />
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}

function IncidentRow({
  incident: i,
  now,
  busy,
  act,
}: {
  incident: Incident;
  now: number;
  busy: boolean;
  act: (work: () => Promise<unknown>) => void;
}) {
  const live = i.startedMs <= now && now < i.untilMs;
  return (
    <tr className="static">
      <td>
        <div>
          <a href={href(['incidents', i.id])}>{i.label ?? 'no label'}</a>
        </div>
        <div className="faint small mono">
          {i.id}
          {i.ticketUrl && (
            <>
              {' · '}
              <a href={i.ticketUrl} target="_blank" rel="noreferrer">
                ticket
              </a>
            </>
          )}
        </div>
      </td>
      <td>{describeScope(i.scope)}</td>
      <td>{dateTimeWithZone(i.startedMs)}</td>
      <td>{duration(i.untilMs - i.startedMs)}</td>
      <td>
        {live ? (
          <span className="badge warn">active · {remaining(i, now)}</span>
        ) : (
          <span className="badge">{i.endedEarly ? 'stopped' : 'ended'}</span>
        )}
      </td>
      <td>{i.startedBy}</td>
      <td className="actions">
        {live && (
          <>
            <button className="btn" disabled={busy} onClick={() => act(() => extendIncident(i.id, 15))}>
              +15 min
            </button>
            <button className="btn" disabled={busy} onClick={() => act(() => stopIncident(i.id))}>
              Stop
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

/** A section's states: failed (with a retry), loading, empty (a sentence saying so), or its
 * content once there is data. */
function States<T>({ loaded, what, empty, children }: { loaded: Loaded<T>; what: string; empty: (data: T) => string | null; children: (data: T) => ReactNode }) {
  if (loaded.error && !loaded.data) return <Failed error={loaded.error} retry={loaded.reload} />;
  if (!loaded.data) return <Loading what={what} />;
  const nothing = empty(loaded.data);
  return nothing ? <div className="empty-hint">{nothing}</div> : <>{children(loaded.data)}</>;
}

/** One window and what it caught. */
export function IncidentView({ id }: { id: string }) {
  const now = useNow(true);
  const key = encodeURIComponent(id);
  const incident = useLoad<Incident>(`incident ${id}`, (signal) => api.get<Incident>(`/incidents/${key}`, signal));
  const sessions = useLoad<SessionList>(`sessions ${id}`, (signal) => api.get<SessionList>(`/sessions${query({ incident: id, limit: 50, facets: false })}`, signal));
  const requests = useLoad<IncidentRequests>(`requests ${id}`, (signal) => api.get<IncidentRequests>(`/incidents/${key}/requests`, signal));
  const traces = useLoad<TraceList>(`traces ${id}`, (signal) => api.get<TraceList>(`/traces${query({ incident: id, limit: 50 })}`, signal));
  const logs = useLoad<LogList>(`logs ${id}`, (signal) => api.get<LogList>(`/logs${query({ incident: id, limit: 50 })}`, signal));
  const [allRequests, setAllRequests] = useState(false);
  const [busy, setBusy] = useState(false);
  // While the window is open, what it catches keeps arriving.
  useStream((kind) => {
    if (!incident.data || incident.data.untilMs < Date.now() - 10_000) return;
    if (kind === 'sessions') sessions.reload();
    if (kind === 'sessions' || kind === 'resync') requests.reload();
    if (kind === 'traces') traces.reload();
    if (kind === 'logs') logs.reload();
    if (kind === 'incidents') incident.reload();
  });
  if (incident.error && !incident.data) return <Failed error={incident.error} retry={incident.reload} />;
  if (!incident.data) return <Loading what="the incident" />;
  const i = incident.data;
  const live = i.startedMs <= now && now < i.untilMs;
  const act = (work: () => Promise<unknown>) => {
    setBusy(true);
    void work()
      .then(() => incident.reload())
      .catch(() => undefined)
      .finally(() => setBusy(false));
  };
  const failing = (requests.data?.requests ?? []).filter((r) => Number(r.status) >= 400 || r.status === '0');
  const shown = allRequests ? (requests.data?.requests ?? []) : failing;
  return (
    <>
      <div className="header-bar">
        <a href={href(['incidents'])} className="muted">
          ← Incidents
        </a>
        <span className="title">{i.label ?? 'Incident window'}</span>
        {live ? <span className="badge warn">active · {remaining(i, now)}</span> : <span className="badge">{i.endedEarly ? 'stopped' : 'ended'}</span>}
        <div className="kv">
          <span>
            covers <b>{describeScope(i.scope)}</b>
          </span>
          <span>
            from <b>{dateTimeWithZone(i.startedMs)}</b>
          </span>
          <span>
            for <b>{duration(i.untilMs - i.startedMs)}</b>
          </span>
          <span>
            by <b>{i.startedBy}</b>
          </span>
          {i.ticketUrl && (
            <a href={i.ticketUrl} target="_blank" rel="noreferrer">
              ticket
            </a>
          )}
        </div>
        <div style={{ flex: 1 }} />
        <a className="btn" href={`/api/v1/export${query({ incident: i.id })}`} download title="What this window caught, as one .sightline file to share">
          Export
        </a>
        {live && (
          <>
            <button className="btn" disabled={busy} onClick={() => act(() => extendIncident(i.id, 15))}>
              +15 min
            </button>
            <button className="btn" disabled={busy} onClick={() => act(() => stopIncident(i.id))}>
              Stop
            </button>
          </>
        )}
      </div>
      <div className="page incident-page">
        <section>
          <h2>
            Sessions <span className="muted small">{sessions.data ? plural(sessions.data.sessions.length, 'session') : ''}</span>
          </h2>
          <States loaded={sessions} what="sessions" empty={(d) => (d.sessions.length === 0 ? `No browser session recorded anything in this window${live ? ' yet' : ''}.` : null)}>
            {(d) => (
              <table className="grid">
                <thead>
                  <tr>
                    <th>User</th>
                    <th>Started</th>
                    <th>Page</th>
                    <th className="num">Errors</th>
                  </tr>
                </thead>
                <tbody>
                  {d.sessions.map((s) => (
                    <tr key={s.sessionId} onClick={() => (location.hash = href(['sessions', s.sessionId], { t: s.firstSeenMs && s.firstSeenMs < i.startedMs ? `${((i.startedMs - s.firstSeenMs) / 1000).toFixed(1)}s` : undefined }))}>
                      <td>{s.userEmail ?? s.userId ?? <span className="muted">anonymous</span>}</td>
                      <td>{dateTimeWithZone(s.firstSeenMs)}</td>
                      <td className="ellipsis" style={{ maxWidth: 360 }}>
                        {shortUrl(s.startUrl)}
                      </td>
                      <td className="num">{s.errorCount > 0 ? <span className="badge error">{s.errorCount}</span> : 0}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </States>
        </section>
        <section>
          <h2>
            {allRequests ? 'Requests' : 'Failing requests'}{' '}
            <span className="muted small">
              {requests.data ? `${failing.length} failing of ${requests.data.requests.length}${requests.data.truncated ? '+' : ''}` : ''}
            </span>
            <span className="grow" />
            <label className="toggle">
              <input type="checkbox" checked={allRequests} onChange={(e) => setAllRequests(e.target.checked)} /> all requests
            </label>
          </h2>
          <States loaded={requests} what="requests" empty={(d) => (shown.length > 0 ? null : d.requests.length ? 'None failed.' : 'No browser request was recorded in this window.')}>
            {(d) => (
              <table className="grid">
                <thead>
                  <tr>
                    <th>At</th>
                    <th>Request</th>
                    <th>Status</th>
                    <th className="num">Duration</th>
                    <th>User</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {shown.map((r) => {
                    const bad = Number(r.status) >= 400 || r.status === '0';
                    return (
                      <tr key={r.eventId} onClick={() => (location.hash = href(['sessions', r.sessionId], { tab: 'network', request: r.traceId }))}>
                        <td className="mono faint">{timeOfDay(r.timeMs)}</td>
                        <td className="ellipsis" style={{ maxWidth: 420 }} title={r.url ?? ''}>
                          <b>{r.method ?? 'GET'}</b> {shortUrl(r.url)}
                          {r.captured && <span className="badge incident">payloads</span>}
                        </td>
                        <td>
                          <span className={`badge ${bad ? 'error' : 'ok'}`}>{r.status ?? '?'}</span>
                        </td>
                        <td className="num mono">{duration(r.durationMs)}</td>
                        <td>{r.userId ?? <span className="muted">anonymous</span>}</td>
                        <td>{r.traceId && <a href={href(['traces', r.traceId])} onClick={(e) => e.stopPropagation()}>trace</a>}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </States>
        </section>
        <section>
          <h2>
            Traces <a className="small" href={href(['traces'], { incident: i.id })}>open in Traces →</a>
          </h2>
          <States loaded={traces} what="traces" empty={(d) => (d.traces.length === 0 ? 'No backend span was captured in this window.' : null)}>
            {(d) => (
              <table className="grid">
                <thead>
                  <tr>
                    <th>At</th>
                    <th>Trace</th>
                    <th className="num">Duration</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {d.traces.map((t) => (
                    <tr key={t.traceId} onClick={() => (location.hash = href(['traces', t.traceId]))}>
                      <td className="mono faint">{timeOfDay(nsToMs(t.startTimeUnixNano) ?? 0)}</td>
                      <td>
                        <span className="muted">{t.serviceName}</span> {t.rootName}
                      </td>
                      <td className="num mono">{duration(t.durationMs)}</td>
                      <td>{t.errorCount > 0 ? <span className="badge error">{plural(t.errorCount, 'error span')}</span> : <span className="badge ok">ok</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </States>
        </section>
        <section>
          <h2>
            Logs <a className="small" href={href(['logs'], { incident: i.id })}>open in Logs →</a>
          </h2>
          <States loaded={logs} what="logs" empty={(d) => (d.logs.length === 0 ? 'No log was captured in this window.' : null)}>
            {(d) => (
              <div>
                {d.logs.map((l, n) => (
                  <div key={n} className="logline" style={{ gridTemplateColumns: '80px 60px 120px 1fr' }}>
                    <span className="mono faint">{timeOfDay(nsToMs(l.timeUnixNano) ?? 0)}</span>
                    <span className={`sev ${l.severityNumber >= 17 ? 'error' : l.severityNumber >= 13 ? 'warn' : l.severityNumber >= 9 ? 'info' : 'debug'}`}>{l.severityText || l.severityNumber}</span>
                    <span className="ellipsis muted">{l.serviceName}</span>
                    <pre>{typeof l.body === 'string' ? l.body : JSON.stringify(l.body)}</pre>
                  </div>
                ))}
              </div>
            )}
          </States>
        </section>
      </div>
    </>
  );
}
