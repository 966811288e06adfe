// The engine's HTTP API (/api/v1, same origin): typed answers, one error type, and the
// difference between "the engine said no" and "the engine is not there".

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The engine did not answer at all (stopped, restarting, or the network is down). */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let resp: Response;
  try {
    resp = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'unreachable', 'Sightline is not answering. It may have stopped or be restarting.');
  }
  const text = await resp.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(resp.status, 'bad_answer', `The engine answered ${resp.status} with something that is not JSON.`);
  }
  if (!resp.ok) {
    const b = body as { error?: string; message?: string } | null;
    throw new ApiError(resp.status, b?.error ?? 'error', b?.message ?? `HTTP ${resp.status}`);
  }
  return body as T;
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>(path, signal ? { signal } : undefined),
  post: <T>(path: string, body: unknown, signal?: AbortSignal) => send<T>('POST', path, body, signal),
  put: <T>(path: string, body: unknown, signal?: AbortSignal) => send<T>('PUT', path, body, signal),
  patch: <T>(path: string, body: unknown, signal?: AbortSignal) => send<T>('PATCH', path, body, signal),
};

function send<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return request<T>(path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- Answers ----

export interface Stats {
  spans: number;
  traces: number;
  logs: number;
  metrics: number;
  metricPoints: number;
  resources: number;
  /** Every session id seen, recorded or only named by backend telemetry. */
  sessions: number;
  /** Sessions with a recording: what the Sessions list shows. */
  recordedSessions?: number;
  databaseBytes: number;
}

export interface Status {
  version: string;
  otlpGrpc: string;
  otlpHttp: string;
  ui: string;
  dataDir: string;
  database: string;
  stats: Stats;
  ingest: Ingest;
  /** The desktop app's settings exist (not under `sightline serve`). */
  settings?: boolean;
}

/** The desktop app's settings (absent under `sightline serve`). */
export interface Settings {
  otlpGrpcPort: number;
  otlpHttpPort: number;
  uiPort: number;
  /** null: the platform's data directory. */
  dataDir: string | null;
  launchAtLogin: boolean;
  keepRunningInTray: boolean;
  notifyErrorSessions: boolean;
  /** Import what is dropped into the inbox folder. */
  watchInbox: boolean;
  /** null: the default, ~/Sightline/Inbox. */
  inboxDir: string | null;
  /** An OTLP JSON lines file to follow as it grows. */
  tailFile: string | null;
  /** Retention, in days; the size cap in MiB (0: none). */
  keepDays: number;
  keepErrorDays: number;
  keepOrphanDays: number;
  maxDatabaseMib: number;
}

export interface SettingsAnswer {
  settings: Settings;
  file: string;
  defaultDataDir: string;
  defaultInboxDir: string;
  /** The receivers restart on new ports or data (after a save). */
  restart: boolean;
}

/** Who an incident window covers. */
export type IncidentScope =
  | { kind: 'all'; value?: undefined }
  | { kind: 'user' | 'session' | 'url'; value: string };

/** A time-boxed window of enriched capture. */
export interface Incident {
  id: string;
  startedMs: number;
  /** When capture stops (or stopped). */
  untilMs: number;
  endedEarly: boolean;
  scope: IncidentScope;
  label: string | null;
  ticketUrl: string | null;
  startedBy: 'ui' | 'tray' | 'cli' | 'api';
  active: boolean;
}

/** The receivers' switch (the tray's "Pause ingest"). */
export interface Ingest {
  paused: boolean;
  /** Requests refused while paused since the engine started. */
  refused: number;
}

export interface SessionSummary {
  sessionId: string;
  firstSeenMs: number | null;
  lastSeenMs: number | null;
  durationMs: number | null;
  userId: string | null;
  userEmail: string | null;
  startUrl: string | null;
  eventCount: number;
  errorCount: number;
  frustrationScore: number;
  pageCount: number;
  traceCount: number;
  /** Of those, traces with an error span (a declined payment, a 500). */
  failingTraceCount?: number;
  /** Requests answered 5xx or not at all. */
  failedRequestCount?: number;
  /** Requests answered 4xx: client errors, not errors of the session. */
  clientErrorCount?: number;
  /** A page error, a failed request or a failing trace: what the Errors filter matches. */
  hasErrors?: boolean;
  /** Came in a bundle. */
  imported?: boolean;
  /** Kept until unpinned. */
  pinned?: boolean;
}

export interface FacetValue {
  value: string | null;
  count: number;
  /** Error facets: a page error, a failed request, or sessions with a failing trace. */
  type?: 'page' | 'request' | 'trace';
}

export interface SessionFacets {
  total: number;
  users: FacetValue[];
  pages: FacetValue[];
  errors: FacetValue[];
  clientErrors?: FacetValue[];
}

export interface SessionList {
  sessions: SessionSummary[];
  nextCursor: string | null;
  facets?: SessionFacets;
}

export interface FrustrationSignal {
  timestampMs: number;
  kind: string;
  score: number;
  target: string | null;
  reason: string;
  evidence: number[];
  source?: 'engine' | 'client';
}

export interface SessionDetail {
  sessionId: string;
  firstSeenMs: number | null;
  lastSeenMs: number | null;
  userId: string | null;
  userEmail: string | null;
  startUrl: string | null;
  userAgent: string | null;
  viewport: { width?: number; height?: number } | null;
  eventCount: number;
  errorCount: number;
  frustrationScore: number;
  failedRequestCount?: number;
  clientErrorCount?: number;
  failingTraceCount?: number;
  pages: { url: string; firstSeenMs: number }[];
  frustrationSignals: FrustrationSignal[];
  /** Set when the session came in a bundle: which, and from where. */
  importedFrom?: { fileName: string; importedMs: number; exportedMs: number | null; source: string | null; checksum: string } | null;
  /** Kept whatever the retention policy, until unpinned. */
  pinned?: { pinnedMs: number; note: string | null } | null;
  [key: string]: unknown;
}

export interface TraceSummary {
  traceId: string;
  startTimeUnixNano: string | null;
  durationMs: number | null;
  spanCount: number;
  errorCount: number;
  rootName: string | null;
  serviceName: string | null;
  services?: string[];
  sessionId?: string | null;
}

export interface LogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: unknown;
  attributes: Record<string, unknown>;
  traceId: string;
  spanId: string;
  eventName: string;
  serviceName: string | null;
  sessionId: string | null;
  /** The incident window it was captured in. */
  incidentId?: string | null;
}

/** Something the recorder saw: a page view, click, input, request, console line or error. */
export interface BrowserItem {
  kind: 'page_view' | 'click' | 'input' | 'network' | 'console' | 'error' | 'custom';
  timeMs: number;
  offsetMs: number;
  target: string | null;
  level: string | null;
  traceId: string | null;
  spanId: string | null;
  data: Record<string, unknown> | null;
  trace: TraceSummary | null;
  /** Its row, for `/sessions/{id}/events/{eventId}` (captured payloads). */
  eventId?: number;
  /** The incident window it was recorded in. */
  incidentId?: string | null;
  /** A request whose headers and bodies were captured (in an incident window). */
  captured?: boolean;
}

/** One recorded event with everything captured for it. */
export interface SessionEvent {
  eventId: number;
  timeMs: number;
  kind: string;
  target: string | null;
  level: string | null;
  traceId: string | null;
  spanId: string | null;
  incidentId: string | null;
  data: CapturedRequest & Record<string, unknown>;
}

/** What the recorder captured of a request in an incident window (redacted in the page). */
export interface CapturedRequest {
  method?: string;
  url?: string;
  status?: number;
  durationMs?: number;
  requestHeaders?: Record<string, string>;
  responseHeaders?: Record<string, string>;
  requestBody?: string;
  responseBody?: string;
  requestBodyTruncated?: boolean;
  responseBodyTruncated?: boolean;
  requestBodySize?: number;
  responseBodySize?: number;
  requestBodyOmitted?: string;
  responseBodyOmitted?: string;
}

/** What an incident window caught: its requests (the failing ones first in the UI). */
export interface IncidentRequests {
  requests: {
    sessionId: string;
    eventId: number;
    timeMs: number;
    method: string | null;
    url: string | null;
    status: string | null;
    durationMs: number | null;
    traceId: string | null;
    captured: boolean;
    userId: string | null;
  }[];
  truncated: boolean;
}

export type TimelineItem =
  | BrowserItem
  | {
      kind: 'frustration';
      timeMs: number;
      offsetMs: number;
      signal: string;
      target: string | null;
      score: number;
      reason: string;
      evidence: number[];
      /** `client`: the recorder reported it itself; `engine`: Sightline found it. */
      source?: 'engine' | 'client';
    }
  | { kind: 'trace'; timeMs: number; offsetMs: number; trace: TraceSummary }
  | { kind: 'log'; timeMs: number; offsetMs: number; log: LogRecord };

export interface Timeline {
  sessionId: string;
  startMs: number;
  items: TimelineItem[];
  truncated: boolean;
}

export interface ReplayWindow {
  checkpointMs: number | null;
  chunksDecoded: number;
  events: RrwebEvent[];
}

export interface RrwebEvent {
  type: number;
  timestamp: number;
  data: unknown;
  [key: string]: unknown;
}

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  events: { timeUnixNano?: string; name: string; attributes?: Record<string, unknown> }[];
  links: { traceId: string; spanId: string; attributes?: Record<string, unknown> }[];
  status: { code: number; message: string };
  serviceName: string | null;
  sessionId: string | null;
  resourceId: string;
  scope: { name: string; version: string };
  incidentId?: string | null;
}

export interface TraceView {
  traceId: string;
  sessionId: string | null;
  spans: Span[];
  resources: Record<string, { attributes: Record<string, unknown>; serviceName: string | null; schemaUrl: string }>;
  logs: LogRecord[];
  sessions: { sessionId: string; userId: string | null; offsetMs: number | null }[];
}

export interface Diagnostics {
  missingTraces: { sessionId: string; timeMs: number; url: string | null; status: string | null; traceId: string }[];
  sessionsWithoutReplay: { traceId: string; sessionId: string; startTimeUnixNano: string | null; rootName: string | null; serviceName: string | null }[];
  orphanSpans: { traceId: string; spanId: string; parentSpanId: string; name: string; serviceName: string | null; startTimeUnixNano: string }[];
}

export interface TraceList {
  traces: TraceSummary[];
  nextCursor: string | null;
}

export interface LogList {
  logs: LogRecord[];
  nextCursor: string | null;
}

export interface ServiceInfo {
  serviceName: string;
  spanCount: number;
  errorCount: number;
  errorRate: number;
  firstSeenUnixNano: string | null;
  lastSeenUnixNano: string | null;
}

export interface ServiceEdge {
  from: string;
  to: string;
  callCount: number;
  errorCount: number;
}

export interface SqlAnswer {
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
  elapsedMs: number;
}

/** `GET/POST /api/v1/demo`: the demo storefront next to the engine. */
export interface DemoState {
  running: boolean;
  url: string | null;
  services: { name: string; addr: string }[];
}
