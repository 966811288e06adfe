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
// Generated from the engine's answer types (`make api`: the engine prints its OpenAPI document
// to ../api/openapi.json, openapi-typescript turns it into ../api/schema.d.ts). Named here as the
// views know them.

import type { components } from '../api/schema';

type Schemas = components['schemas'];

export type Stats = Schemas['Stats'];
export type Status = Schemas['StatusAnswer'];
export type Settings = Schemas['Settings'];
export type SettingsAnswer = Schemas['SettingsAnswer'];
/** Who an incident window covers. */
export type IncidentScope = Schemas['Scope'];
/** A time-boxed window of enriched capture, and whether it captures now. */
export type Incident = Schemas['IncidentAnswer'];
/** The receivers' switch (the tray's "Pause ingest"). */
export type Ingest = Schemas['IngestState'];
export type SessionSummary = Schemas['SessionListItem'];
export type FacetValue = Schemas['FacetValue'];
export type SessionFacets = Schemas['SessionFacets'];
export type SessionList = Schemas['SessionList'];
export type FrustrationSignal = Schemas['FrustrationSignal'];
export type SessionDetail = Schemas['SessionDetail'];
/** A trace as lists show it; on a timeline, without `services` and `sessionId`. */
export type TraceSummary = Schemas['TraceSummary'] & Partial<Pick<Schemas['TraceListItem'], 'services' | 'sessionId'>>;
export type LogRecord = Schemas['LogView'];
/** Something the recorder saw: a page view, click, input, request, console line or error. */
export type BrowserItem = Schemas['BrowserItem'];
/** One recorded event with everything captured for it. */
export type SessionEvent = Schemas['SessionEvent'];
/** What an incident window caught: its requests (the failing ones first in the UI). */
export type IncidentRequests = Schemas['IncidentRequests'];
export type TimelineItem = Schemas['TimelineItem'];
export type Timeline = Schemas['Timeline'];
export type ReplayWindow = Schemas['ReplayWindow'];
export type RrwebEvent = Schemas['RrwebEvent'];
export type Span = Schemas['SpanView'];
export type TraceView = Schemas['TraceView'];
export type TraceOutline = Schemas['TraceOutline'];
export type Diagnostics = Schemas['Diagnostics'];
export type TraceList = Schemas['TraceList'];
export type LogList = Schemas['LogList'];
export type LogDetail = Schemas['LogDetail'];
export type ServiceInfo = Schemas['Service'];
export type ServiceEdge = Schemas['ServiceEdge'];
export type InstrumentList = Schemas['InstrumentList'];
export type MetricChart = Schemas['MetricChart'];
export type ServiceHttpList = Schemas['ServiceHttpList'];
export type SqlAnswer = Schemas['SqlAnswer'];
/** `GET/POST /api/v1/demo`: the demo storefront next to the engine. */
export type DemoState = Schemas['DemoView'];

/** What the recorder captured of a request in an incident window (redacted in the page): the
 * recorder's own fields, inside a session event's `data`. */
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
