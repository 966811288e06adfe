// The desktop app's settings: ports, data directory, tray, login and notifications. Saved
// through the engine's API, which checks them first; the app applies them at once (new ports
// or data restart the receivers, and the window follows).

import { useEffect, useState } from 'react';
import { api, ApiError, type Settings, type SettingsAnswer, type Status } from '../api';
import { AgentSetup, Failed, Loading } from '../components/common';
import { useLoad } from '../hooks';

/** The fields typed as numbers, held as the text in their boxes until saved. */
type NumberField = 'otlpGrpcPort' | 'otlpHttpPort' | 'uiPort' | 'keepDays' | 'keepErrorDays' | 'keepOrphanDays' | 'maxDatabaseMib';
type Draft = Omit<Settings, NumberField> & Record<NumberField, string>;

function draftOf(s: Settings): Draft {
  return {
    ...s,
    otlpGrpcPort: String(s.otlpGrpcPort),
    otlpHttpPort: String(s.otlpHttpPort),
    uiPort: String(s.uiPort),
    keepDays: String(s.keepDays),
    keepErrorDays: String(s.keepErrorDays),
    keepOrphanDays: String(s.keepOrphanDays),
    maxDatabaseMib: String(s.maxDatabaseMib),
  };
}

/** What the form says, as settings; the first field that is not a port, if any. */
export function settingsOf(d: Draft): Settings | string {
  const port = (label: string, text: string): number | string => {
    const n = Number(text.trim());
    return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : `${label} must be a port number from 1 to 65535.`;
  };
  const whole = (label: string, text: string, min: number, max: number): number | string => {
    const n = Number(text.trim());
    return Number.isInteger(n) && n >= min && n <= max ? n : `${label} must be a whole number from ${min} to ${max}.`;
  };
  const grpc = port('The OTLP/gRPC port', d.otlpGrpcPort);
  const http = port('The OTLP/HTTP port', d.otlpHttpPort);
  const ui = port('The UI port', d.uiPort);
  const keepDays = whole('Days sessions are kept', d.keepDays, 1, 3650);
  const keepErrorDays = whole('Days sessions with errors are kept', d.keepErrorDays, 1, 3650);
  const keepOrphanDays = whole('Days other traces and logs are kept', d.keepOrphanDays, 1, 3650);
  const maxDatabaseMib = whole('The size cap', d.maxDatabaseMib, 0, 10_000_000);
  for (const p of [grpc, http, ui, keepDays, keepErrorDays, keepOrphanDays, maxDatabaseMib]) if (typeof p === 'string') return p;
  const path = (p: string | null) => (p?.trim() ? p.trim() : null);
  return {
    ...d,
    otlpGrpcPort: grpc as number,
    otlpHttpPort: http as number,
    uiPort: ui as number,
    keepDays: keepDays as number,
    keepErrorDays: keepErrorDays as number,
    keepOrphanDays: keepOrphanDays as number,
    maxDatabaseMib: maxDatabaseMib as number,
    dataDir: path(d.dataDir),
    inboxDir: path(d.inboxDir),
    tailFile: path(d.tailFile),
  };
}

export function SettingsView({ status }: { status: Status }) {
  const loaded = useLoad('settings', (signal) => api.get<SettingsAnswer>('/settings', signal));
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<SettingsAnswer | null>(null);
  const current = saved?.settings ?? loaded.data?.settings ?? null;

  useEffect(() => {
    if (loaded.data && !draft) setDraft(draftOf(loaded.data.settings));
  }, [loaded.data, draft]);

  if (loaded.error && !loaded.data) return <Failed error={loaded.error} retry={loaded.reload} />;
  if (!loaded.data || !draft || !current) return <Loading what="settings" />;
  const info = saved ?? loaded.data;

  const next = settingsOf(draft);
  const dirty = typeof next === 'string' || JSON.stringify(next) !== JSON.stringify(current);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setDraft({ ...draft, [key]: value });
    setProblem(null);
  };
  const save = () => {
    if (typeof next === 'string') {
      setProblem(next);
      return;
    }
    setSaving(true);
    api
      .patch<SettingsAnswer>('/settings', next)
      .then((answer) => {
        setSaved(answer);
        setDraft(draftOf(answer.settings));
        setProblem(null);
      })
      .catch((e: unknown) => setProblem(e instanceof ApiError ? e.message : String(e)))
      .finally(() => setSaving(false));
  };
  const toggle = (key: 'launchAtLogin' | 'keepRunningInTray' | 'notifyErrorSessions' | 'watchInbox', label: string, hint: string) => (
    <label className="setting check">
      <input type="checkbox" checked={draft[key]} onChange={(e) => set(key, e.target.checked)} />
      <span>
        {label}
        <span className="hint">{hint}</span>
      </span>
    </label>
  );
  const portField = (key: NumberField, label: string, hint: string) => (
    <label className="setting">
      <span>
        {label}
        <span className="hint">{hint}</span>
      </span>
      <input className="text port" inputMode="numeric" value={draft[key]} onChange={(e) => set(key, e.target.value)} />
    </label>
  );

  return (
    <>
      <div className="toolbar">
        <h1>Settings</h1>
        <span className="muted small">kept in {info.file}</span>
        <span className="grow" />
        <button className="btn" disabled={!dirty || saving} onClick={() => setDraft(draftOf(current))}>
          Revert
        </button>
        <button className="btn primary" disabled={!dirty || saving} onClick={save}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
      <div className="page settings">
        {problem && (
          <div className="notice error" role="alert">
            {problem}
          </div>
        )}
        {saved && !problem && !dirty && (
          <div className="notice ok" role="status">
            {saved.restart
              ? `Saved. The receivers are restarting on the new ports and data; this window reconnects at http://127.0.0.1:${saved.settings.uiPort}/.`
              : 'Saved and applied.'}
          </div>
        )}
        <h2>Receivers</h2>
        {portField('otlpGrpcPort', 'OTLP/gRPC port', 'SDKs exporting over gRPC (OTEL_EXPORTER_OTLP_ENDPOINT with grpc). Default 4317.')}
        {portField('otlpHttpPort', 'OTLP/HTTP port', 'HTTP exporters, browsers and the recorder (/v1/traces, /v1/replay). Default 4318.')}
        {portField('uiPort', 'UI port', 'This window and the API (/api/v1). Default 4320.')}
        <h2>Data</h2>
        <label className="setting">
          <span>
            Data directory
            <span className="hint">Holds sightline.db. Empty means the default, {info.defaultDataDir}. Changing it starts an empty database there; the old one stays where it is.</span>
          </span>
          <input
            className="text path"
            placeholder={info.defaultDataDir}
            value={draft.dataDir ?? ''}
            onChange={(e) => set('dataDir', e.target.value)}
          />
        </label>
        <h2>Retention</h2>
        {portField('keepDays', 'Keep sessions (days)', 'Sessions without errors. Pinned sessions are kept until unpinned. Default 14.')}
        {portField('keepErrorDays', 'Keep sessions with errors (days)', 'Default 60.')}
        {portField('keepOrphanDays', 'Keep other traces and logs (days)', 'Traces and logs that belong to no session. Default 14.')}
        {portField('maxDatabaseMib', 'Database size cap (MiB)', 'Past it the oldest unpinned sessions go first, those without errors before those with. 0: no cap. Default 10240.')}
        <h2>Inbox</h2>
        {toggle('watchInbox', 'Watch the inbox folder', 'Session bundles (.sightline), OTLP JSON lines (the Collector’s file exporter, also .gz or .zst) and rrweb recordings dropped there are imported once complete, then moved to Imported/ (or Failed/, with the reason).')}
        <label className="setting">
          <span>
            Inbox folder
            <span className="hint">Empty means the default, {info.defaultInboxDir}.</span>
          </span>
          <input className="text path" placeholder={info.defaultInboxDir} value={draft.inboxDir ?? ''} onChange={(e) => set('inboxDir', e.target.value)} />
        </label>
        <label className="setting">
          <span>
            Follow a file
            <span className="hint">An OTLP JSON lines file another process keeps appending to (the Collector’s file exporter), read as it grows, across rotation.</span>
          </span>
          <input className="text path" placeholder="/var/log/otel/traces.jsonl" value={draft.tailFile ?? ''} onChange={(e) => set('tailFile', e.target.value)} />
        </label>
        <h2>Desktop</h2>
        {toggle('keepRunningInTray', 'Keep running in the tray', 'Closing the window hides it; the receivers keep listening. Quit from the tray.')}
        {toggle('launchAtLogin', 'Launch at login', 'Start Sightline, in the tray, when you log in.')}
        {toggle('notifyErrorSessions', 'Notify me of new sessions with errors', 'A desktop notification when a session records its first error.')}
        <AgentSetup status={status} />
      </div>
    </>
  );
}
