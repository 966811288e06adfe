// Where Sightline listens, what it holds, and how to point an app at it.

import type { Status } from '../api';
import { AgentSetup, Loading, Snippet } from '../components/common';
import { bytes, count } from '../format';
import { snippets } from '../setup';

export function StatusView({
  status,
  paused,
  setPaused,
}: {
  status: Status | null;
  paused: boolean;
  setPaused: (paused: boolean) => void;
}) {
  if (!status) return <Loading what="the engine's status" />;
  const s = status.stats;
  // The Sessions list shows recorded sessions; ids named only on backend spans or logs are
  // counted apart, so the two pages agree.
  const recorded = s.recordedSessions ?? s.sessions;
  const cards: [string, string][] = [
    ['Sessions', count(recorded)],
    ['Traces', count(s.traces)],
    ['Spans', count(s.spans)],
    ['Logs', count(s.logs)],
    ['Metric points', count(s.metricPoints)],
    ['Database', bytes(s.databaseBytes)],
  ];
  return (
    <>
      <div className="toolbar">
        <h1>Status</h1>
        <span className="muted small">Sightline {status.version}</span>
      </div>
      <div className="page">
        <div className="cards">
          {cards.map(([k, v]) => (
            <div className="card" key={k}>
              <div className="k">{k}</div>
              <div className="v">{v}</div>
            </div>
          ))}
        </div>
        {s.sessions > recorded && (
          <p className="muted small">
            Also {count(s.sessions - recorded)} session {s.sessions - recorded === 1 ? 'id' : 'ids'} named only by backend spans or logs, with no recording: not in the Sessions list (their traces are in Traces).
          </p>
        )}
        <h2>Listening</h2>
        <dl className="props">
          <dt>OTLP/HTTP</dt>
          <dd>http://{status.otlpHttp} (/v1/traces, /v1/logs, /v1/metrics, /v1/replay, /sightline.js)</dd>
          <dt>OTLP/gRPC</dt>
          <dd>{status.otlpGrpc}</dd>
          <dt>UI and API</dt>
          <dd>http://{status.ui} (/api/v1)</dd>
          <dt>Data directory</dt>
          <dd>{status.dataDir}</dd>
          <dt>Database</dt>
          <dd>{status.database}</dd>
          <dt>Ingest</dt>
          <dd className="row-gap">
            {paused
              ? `paused: clients are told to retry (${count(status.ingest.refused)} requests refused since start)`
              : 'receiving'}
            <button className="btn" onClick={() => setPaused(!paused)}>
              {paused ? 'Resume ingest' : 'Pause ingest'}
            </button>
          </dd>
        </dl>
        <h2>Send data here</h2>
        {snippets(status).map((sn) => (
          <Snippet key={sn.label} label={sn.label} code={sn.code} />
        ))}
        <AgentSetup status={status} />
      </div>
    </>
  );
}
