// The shell: navigation, the engine's reachability, and the view for the current route.

import { useEffect, useState } from 'react';
import icon from '../../../icons/icon.svg';
import { api, type Ingest, type Status } from './api';
import { useKeys } from './hooks';
import { href, useRoute } from './router';
import { onConnection, subscribe } from './stream';
import { SessionsView } from './views/Sessions';
import { SessionView } from './views/Session';
import { TraceView } from './views/Trace';
import { StatusView } from './views/Status';
import { TracesView } from './views/Traces';
import { LogsView } from './views/Logs';
import { MetricsView } from './views/Metrics';
import { ServicesView } from './views/Services';
import { SqlView } from './views/Sql';
import { CompareView } from './views/Compare';
import { SettingsView } from './views/Settings';
import { IncidentsView, IncidentView } from './views/Incidents';
import { DropImport } from './components/Imports';
import { Loading } from './components/common';
import { activeAt, describeScope, extendIncident, remaining, stopIncident, useIncidents, useNow } from './incidents';

const SECTIONS: [string, string][] = [
  ['sessions', 'Sessions'],
  ['traces', 'Traces'],
  ['logs', 'Logs'],
  ['metrics', 'Metrics'],
  ['services', 'Services'],
  ['sql', 'SQL'],
  ['incidents', 'Incidents'],
  ['status', 'Status'],
];


/** An address no view answers: said, not silently shown as another page. */
function NotFound({ parts }: { parts: string[] }) {
  return (
    <div className="state" role="alert">
      <h2>Nothing at #/{parts.join('/')}</h2>
      <div>
        This address is not a page of Sightline. Go to <a href={href(['sessions'])}>Sessions</a>, <a href={href(['traces'])}>Traces</a> or <a href={href(['logs'])}>Logs</a>.
      </div>
    </div>
  );
}

/** The app icon (icons/icon.svg, the source of every icon size). */
function Logo() {
  return <img src={icon} width={24} height={24} alt="" />;
}

/** The engine's status, refreshed when the live stream (re)connects and every `every` ms;
 * 'down' while the stream is cut, so a stopped or restarted engine is shown, never a blank
 * page. */
function useEngine(every: number): Status | null | 'down' {
  const [s, setS] = useState<Status | null | 'down'>(null);
  useEffect(() => {
    let stop = false;
    // Bumped when the stream is cut: a status asked for before then (its answer may come while
    // the engine shuts down) must not paint a stopped engine as receiving.
    let generation = 0;
    const fetchStatus = () => {
      const asked = generation;
      return api
        .get<Status>('/status')
        .then((st) => !stop && asked === generation && setS(st))
        .catch(() => !stop && setS('down'));
    };
    void fetchStatus();
    const off = onConnection((up) => {
      if (up) return void fetchStatus();
      generation += 1;
      setS('down');
    });
    const t = setInterval(fetchStatus, every);
    return () => {
      stop = true;
      off();
      clearInterval(t);
    };
  }, [every]);
  return s;
}

/** Whether ingest is paused: from the status, then from the live stream as the tray or another
 * window switches it. */
function useIngest(engine: Status | null | 'down'): [Ingest | null, (paused: boolean) => void] {
  const [ingest, setIngest] = useState<Ingest | null>(null);
  const known = engine && engine !== 'down' ? engine.ingest : null;
  useEffect(() => {
    if (known) setIngest(known);
  }, [known]);
  useEffect(
    () =>
      subscribe((kind, data) => {
        if (kind !== 'ingest') return;
        const paused = (data as { paused?: unknown } | null)?.paused === true;
        setIngest((now) => ({ paused, refused: now?.refused ?? 0 }));
      }),
    [],
  );
  const toggle = (paused: boolean) => {
    api
      .put<Ingest>('/ingest', { paused })
      .then(setIngest)
      .catch(() => undefined);
  };
  return [ingest, toggle];
}

export function App() {
  const route = useRoute();
  const [section, id] = route.parts;
  // Counts are only on the Status page; elsewhere the stream says whether the engine is there.
  const engine = useEngine(section === 'status' ? 5_000 : 120_000);
  const [help, setHelp] = useState(false);
  const [ingest, setPaused] = useIngest(engine);
  const paused = engine !== 'down' && ingest?.paused === true;
  // Whether this engine has the desktop app's settings (not under `sightline serve`): the
  // status says, so no page asks for settings that are not there.
  const hasSettings = engine !== null && engine !== 'down' && engine.settings === true;
  const sections: [string, string][] = hasSettings ? [...SECTIONS, ['settings', 'Settings']] : SECTIONS;
  useKeys({ '?': () => setHelp((h) => !h), Escape: () => setHelp(false) });

  let view;
  // Keyed on what they show: nothing of one session or trace is kept under another's address.
  if (section === 'sessions' && id) view = <SessionView key={id} id={id} params={route.params} />;
  else if (section === 'traces' && id) view = <TraceView key={id} id={id} params={route.params} />;
  else if (section === 'status')
    view = <StatusView status={engine === 'down' ? null : engine} paused={paused} setPaused={setPaused} />;
  else if (section === 'traces') view = <TracesView params={route.params} />;
  else if (section === 'logs') view = <LogsView params={route.params} />;
  else if (section === 'metrics') view = <MetricsView params={route.params} />;
  else if (section === 'compare') view = <CompareView params={route.params} />;
  else if (section === 'services') view = <ServicesView />;
  else if (section === 'sql') view = <SqlView />;
  else if (section === 'settings')
    view = hasSettings ? (
      <SettingsView status={engine} />
    ) : engine === null ? (
      <Loading what="the engine's status" />
    ) : (
      <div className="state">
        <h2>No settings here</h2>
        <div>Settings belong to the desktop app; `sightline serve` takes its settings as flags (`sightline serve --help`).</div>
      </div>
    );
  else if (section === 'incidents' && id) view = <IncidentView id={id} />;
  else if (section === 'incidents') view = <IncidentsView />;
  else if (section === 'sessions') view = <SessionsView params={route.params} status={engine === 'down' ? null : engine} />;
  else view = <NotFound parts={route.parts} />;

  return (
    <div className="app">
      <nav className="nav">
        <div className="brand">
          <Logo /> Sightline
        </div>
        {sections.map(([key, label]) => (
          <a key={key} href={href([key])} className={section === key ? 'active' : ''}>
            {label}
          </a>
        ))}
        <div className="spacer" />
        <div className="engine" title={engine && engine !== 'down' ? `OTLP ${engine.otlpHttp} · gRPC ${engine.otlpGrpc}` : ''}>
          <span className={`dot ${engine === 'down' ? 'down' : paused ? 'paused' : ''}`} />
          {engine === 'down'
            ? 'engine not answering'
            : paused
              ? 'ingest paused'
              : engine
                ? `receiving on :${engine.otlpHttp.split(':').pop()}`
                : 'connecting…'}
        </div>
      </nav>
      <main className="main">
        {engine === 'down' && <div className="banner">Sightline is not answering; showing what was loaded. Retrying…</div>}
        {paused && (
          <div className="banner warn" role="status">
            Ingest is paused: clients are told to retry later, and nothing new is stored.
            <button className="btn" onClick={() => setPaused(false)}>
              Resume ingest
            </button>
          </div>
        )}
        {engine !== 'down' && <IncidentBanner />}
        {view}
      </main>
      {help && <Help close={() => setHelp(false)} />}
      <DropImport />
    </div>
  );
}

/** While incident windows are open: what they cover, a live countdown, and controls. */
function IncidentBanner() {
  const list = useIncidents();
  const now = useNow(true);
  const active = activeAt(list, now);
  const newest = active[0];
  if (!newest) return null;
  return (
    <div className="banner incident" role="status">
      <span>
        Incident mode{newest.label ? `: ${newest.label}` : ''} · {describeScope(newest.scope)} · {remaining(newest, now)}
        {active.length > 1 ? ` (+${active.length - 1} more)` : ''}
      </span>
      <span className="spacer" />
      <button className="btn" onClick={() => void extendIncident(newest.id, 15).catch(() => undefined)}>
        +15 min
      </button>
      <button className="btn" onClick={() => void stopIncident(newest.id).catch(() => undefined)}>
        Stop
      </button>
      <a className="btn" href={href(['incidents', newest.id])}>
        What it caught
      </a>
    </div>
  );
}

const KEYS: [string, string][] = [
  ['/', 'search'],
  ['j / k', 'next / previous in a list'],
  ['Enter', 'open the selected row'],
  ['space', 'play / pause the replay'],
  ['← / →', 'seek 5 s in the replay'],
  ['?', 'this help'],
];

function Help({ close }: { close: () => void }) {
  return (
    <div className="overlay" onClick={close} role="dialog" aria-label="Keyboard shortcuts">
      <div className="dialog" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard</h2>
        <table>
          <tbody>
            {KEYS.map(([k, what]) => (
              <tr key={k}>
                <td>
                  <span className="kbd">{k}</span>
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button className="btn" onClick={close}>
          Close
        </button>
      </div>
    </div>
  );
}
