// Incident windows: start one (duration, scope, label, ticket), extend or stop the active
// ones, and the history. The same controls as `sightline incident …` and the API.

import { useState } from 'react';
import { ApiError, type Incident } from '../api';
import { Loading } from '../components/common';
import { dateTimeWithZone, duration } from '../format';
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
        <div>{i.label ?? <span className="muted">no label</span>}</div>
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
