// Sightline's browser recorder: rrweb's own recorder, plus the network, error, navigation and
// click context that links what the user did to what the backend did. Batches go to
// Sightline's `POST /v1/replay`.
//
// Privacy is the default: every input is masked before an event is built, `data-private` and
// `.sightline-block` elements are not recorded at all, and `.sightline-mask` text is masked.
//
// Incident mode: while one of Sightline's incident windows covers the session (learned from
// every `/v1/replay` answer, and at start), requests and responses are captured with their
// headers and bodies (redacted before they leave the page), every console level is kept, each
// event carries the window's id, and requests tell the backend with `X-Incident-Mode-Until`.
// When the window ends, capture goes back to normal at once, with no reload.

import { record } from '@rrweb/record';
import { getRecordConsolePlugin } from '@rrweb/rrweb-plugin-console-record';
import { redactBody, redactHeaders } from './redact';

export interface RecorderOptions {
  /** Sightline's OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318`. */
  endpoint: string;
  userId?: string;
  userEmail?: string;
  /** `mask-inputs` (default): inputs masked; `mask-all`: all text masked too. */
  privacy?: 'mask-inputs' | 'mask-all';
  /** Other origins that receive `traceparent` and `X-Session-ID` (same-origin always does). */
  propagate?: string[];
  /** Free attributes sent with every batch. */
  attributes?: Record<string, string>;
  /** How often a batch is sent, in ms. */
  flushIntervalMs?: number;
}

export interface Recorder {
  readonly sessionId: string;
  /** The incident window covering this session now, if any. */
  readonly incident: IncidentWindow | null;
  /** Sends what is buffered now; resolves when Sightline has it (or it is queued for retry). */
  flush(): Promise<void>;
  stop(): void;
}

/** A session ends after this long without activity, as in most analytics tools. */
const SESSION_IDLE_MS = 30 * 60 * 1000;
/** A batch is sent when it holds this many events, even before the interval. */
const MAX_BATCH_EVENTS = 500;
/** Or this many characters of JSON (a rough byte count). */
const MAX_BATCH_CHARS = 512 * 1024;
/** Batches kept for retry while Sightline is unreachable; the oldest is dropped past this. */
const MAX_QUEUED_BATCHES = 50;
/**
 * A fresh full snapshot this often, so that a player can start near any moment of a long
 * session: seeking decodes at most this much of it.
 */
const CHECKOUT_EVERY_MS = 5 * 60 * 1000;
/** A captured request or response body is cut at this many characters (the 64 KiB). */
const MAX_CAPTURED_BODY_CHARS = 64 * 1024;
/** Bodies larger than this are not parsed for redaction (a cut-off document is redacted
 * member by member instead), so one huge response cannot stall the page. */
const MAX_PARSED_BODY_CHARS = 1024 * 1024;
/** With no batch sent for this long, the recorder asks whether an incident window opened. */
const INCIDENT_POLL_MS = 15_000;
/** Console levels kept outside an incident window; inside one, every level is. */
const NORMAL_CONSOLE_LEVELS = new Set(['error', 'warn', 'assert']);
/** Body types that are text a person can read; anything else is noted, not captured. */
const TEXTUAL = /^(text\/|application\/([\w.+-]*\+)?(json|xml|x-www-form-urlencoded|graphql|javascript|x-ndjson)\b)/i;
/** Retry delays, in ms. */
const RETRY_DELAYS = [1000, 2000, 4000, 8000, 16000];
const STORAGE_KEY = 'sightline.session';

type RrwebEvent = { type: number; data: unknown; timestamp: number; incidentId?: string };

export interface IncidentWindow {
  id: string;
  /** When capture stops (Unix ms). */
  until: number;
}

/** What was captured of a body: its (redacted, possibly cut) text, or why there is none. */
interface CapturedBody {
  body?: string;
  truncated?: boolean;
  size?: number;
  omitted?: string;
}

function capture(text: string): CapturedBody {
  const size = text.length;
  const redacted = size <= MAX_PARSED_BODY_CHARS ? redactBody(text) : redactBody(text.slice(0, MAX_CAPTURED_BODY_CHARS));
  return redacted.length > MAX_CAPTURED_BODY_CHARS
    ? { body: redacted.slice(0, MAX_CAPTURED_BODY_CHARS), truncated: true, size }
    : { body: redacted, ...(size > MAX_PARSED_BODY_CHARS ? { truncated: true, size } : {}) };
}

/** A request body as sent (fetch's `init.body` or XHR's `send` argument). */
async function requestBody(body: unknown, contentType: string | null): Promise<CapturedBody | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return capture(body);
  if (body instanceof URLSearchParams) return capture(body.toString());
  if (body instanceof FormData) {
    const fields: Record<string, string> = {};
    body.forEach((v, k) => {
      fields[k] = typeof v === 'string' ? v : `[file ${v.name}, ${v.size} bytes]`;
    });
    return capture(JSON.stringify(fields));
  }
  if (body instanceof Blob && TEXTUAL.test(body.type || contentType || '')) return capture(await body.text());
  return { omitted: `not captured: ${contentType ?? (body as object).constructor?.name ?? 'binary'} body` };
}

/** Reads at most the cap of a response (a stream is not read to its end), as text. */
async function responseBody(resp: Response): Promise<CapturedBody | undefined> {
  const type = resp.headers.get('content-type') ?? '';
  if (!resp.body) return undefined;
  if (!TEXTUAL.test(type) || /event-stream/i.test(type)) return { omitted: `not captured: ${type || 'untyped'} body` };
  const reader = resp.clone().body?.getReader();
  if (!reader) return undefined;
  const decoder = new TextDecoder();
  let text = '';
  let complete = false;
  while (text.length <= MAX_PARSED_BODY_CHARS) {
    const { done, value } = await reader.read();
    if (done) {
      complete = true;
      break;
    }
    text += decoder.decode(value, { stream: true });
  }
  if (!complete) void reader.cancel();
  const captured = capture(text);
  return complete ? captured : { ...captured, truncated: true, size: Number(resp.headers.get('content-length')) || undefined };
}

function bodyFields(prefix: 'request' | 'response', c: CapturedBody | undefined): Record<string, unknown> {
  if (!c) return {};
  return {
    ...(c.body !== undefined ? { [`${prefix}Body`]: c.body } : {}),
    ...(c.truncated ? { [`${prefix}BodyTruncated`]: true, [`${prefix}BodySize`]: c.size } : {}),
    ...(c.omitted ? { [`${prefix}BodyOmitted`]: c.omitted } : {}),
  };
}

interface StoredSession {
  id: string;
  lastActivity: number;
}

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    try {
      return window.sessionStorage;
    } catch {
      return undefined;
    }
  }
}

function currentSession(now: number): StoredSession {
  const store = storage();
  try {
    const raw = store?.getItem(STORAGE_KEY);
    if (raw) {
      const s = JSON.parse(raw) as StoredSession;
      if (typeof s.id === 'string' && now - s.lastActivity < SESSION_IDLE_MS) {
        return s;
      }
    }
  } catch {
    // A corrupt entry starts a new session.
  }
  const s = { id: crypto.randomUUID(), lastActivity: now };
  try {
    store?.setItem(STORAGE_KEY, JSON.stringify(s));
  } catch {
    // Storage full or denied: the session lasts as long as the page.
  }
  return s;
}

function hex(bytes: number): string {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The OpenTelemetry JS API registers itself on the global object under this key (API 1.x),
// and keeps the active span in the context under this one. Reading them here lets the
// recorder join a page's existing OpenTelemetry traces without bundling the API.
const OTEL_API_KEY = Symbol.for('opentelemetry.js.api.1');
const OTEL_SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

interface OtelContext {
  getValue(key: symbol): unknown;
  setValue(key: symbol, value: unknown): OtelContext;
}
interface OtelContextManager {
  active(): OtelContext;
  with<R>(ctx: OtelContext, fn: () => R): R;
}
interface SpanIds {
  traceId: string;
  spanId: string;
}

function otelContext(): OtelContextManager | undefined {
  const api = (globalThis as Record<symbol, { context?: OtelContextManager } | undefined>)[OTEL_API_KEY];
  return api?.context && typeof api.context.active === 'function' ? api.context : undefined;
}

/** The trace of the page's active OpenTelemetry span, if there is one. */
function activeOtelTrace(manager: OtelContextManager | undefined): string | undefined {
  const span = manager?.active().getValue(OTEL_SPAN_KEY) as { spanContext?: () => { traceId?: string } } | undefined;
  const traceId = span?.spanContext?.().traceId;
  return traceId && /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId) ? traceId : undefined;
}

/**
 * The trace a request joins: the one its `traceparent` already names (set by an OpenTelemetry
 * instrumentation wrapping fetch outside ours), else the page's active OpenTelemetry trace, else
 * a new trace.
 */
function traceContext(existing: string | null, manager: OtelContextManager | undefined): SpanIds & { header: string } {
  const m = existing?.match(/^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/);
  if (m && m[1] && m[2]) {
    return { header: existing as string, traceId: m[1], spanId: m[2] };
  }
  const traceId = activeOtelTrace(manager) ?? hex(16);
  const spanId = hex(8);
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

/**
 * Runs `fn` with the request's ids as the active OpenTelemetry span, so that an OpenTelemetry
 * fetch instrumentation wrapping fetch inside ours makes its span a child of it: same trace, and
 * the trace id the recorder reports is the one the backend sees.
 */
function withSpan<R>(manager: OtelContextManager | undefined, ids: SpanIds, fn: () => R): R {
  if (!manager) return fn();
  const parent = {
    spanContext: () => ({ traceId: ids.traceId, spanId: ids.spanId, traceFlags: 1, isRemote: true }),
    isRecording: () => false,
    setAttribute() { return parent; },
    setAttributes() { return parent; },
    addEvent() { return parent; },
    addLink() { return parent; },
    addLinks() { return parent; },
    setStatus() { return parent; },
    updateName() { return parent; },
    recordException() {},
    end() {},
  };
  return manager.with(manager.active().setValue(OTEL_SPAN_KEY, parent), fn);
}

/** The name a person would give the element: its label, not its value. */
function semanticName(el: Element | null): string | undefined {
  for (let node = el; node && node !== document.body; node = node.parentElement) {
    const aria = node.getAttribute('aria-label');
    if (aria) return aria.trim();
    if (node instanceof HTMLInputElement || node instanceof HTMLSelectElement || node instanceof HTMLTextAreaElement) {
      const label = node.labels?.[0]?.textContent?.trim();
      if (label) return label;
      if (node.name) return node.name;
      if (node.id) return `#${node.id}`;
      return node.tagName.toLowerCase();
    }
    // A control that only looks like one (a styled div, the usual dead click) by its text too.
    const looksClickable = node instanceof HTMLElement && getComputedStyle(node).cursor === 'pointer';
    if (looksClickable || node instanceof HTMLButtonElement || node instanceof HTMLAnchorElement || node.getAttribute('role') === 'button') {
      // As read aloud: "Cart 2", not a badge on a line of its own.
      const text = (node as HTMLElement).innerText?.replace(/\s+/g, ' ').trim();
      if (text) return text.slice(0, 80);
    }
    if (node.id) return `#${node.id}`;
  }
  return el?.tagName.toLowerCase();
}

function isConsole(e: RrwebEvent): boolean {
  return e.type === 6 && (e.data as { plugin?: unknown } | null)?.plugin === 'rrweb/console@1';
}

function consoleLevel(e: RrwebEvent): string {
  return String((e.data as { payload?: { level?: unknown } } | null)?.payload?.level ?? '');
}

async function gzip(text: string): Promise<Blob | undefined> {
  if (typeof CompressionStream === 'undefined') return undefined;
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).blob();
}

export function start(options: RecorderOptions): Recorder {
  const endpoint = options.endpoint.replace(/\/$/, '');
  const url = `${endpoint}/v1/replay`;
  // Requests to Sightline itself (replay batches, an OpenTelemetry SDK's exports, incident polls)
  // are telemetry, not the app's traffic: never recorded, never given trace headers.
  const own = `${endpoint}/v1/`;
  const session = currentSession(Date.now());
  // Batch numbers follow time (first event's ms × 1000 + a per-tab nonce), so two tabs of one
  // session never collide, a retry reuses its number, and Sightline orders batches by it.
  const tabNonce = Math.floor(Math.random() * 1000);
  const originalFetch = window.fetch.bind(window);
  let buffer: RrwebEvent[] = [];
  let bufferChars = 0;
  const queue: { batch: number; body: string; attempt: number }[] = [];
  let sending = false;
  let stopped = false;
  let incident: IncidentWindow | null = null;
  let incidentEnds: number | undefined;
  let lastAnswer = 0;

  /** Takes the status Sightline gave (`{active, id, until}`); an ended window ends here too. */
  function learn(status: unknown) {
    const s = status as { active?: unknown; id?: unknown; until?: unknown } | null | undefined;
    lastAnswer = Date.now();
    const next =
      s && s.active === true && typeof s.id === 'string' && typeof s.until === 'number' && s.until > Date.now()
        ? { id: s.id, until: s.until }
        : null;
    if (next?.id === incident?.id && next?.until === incident?.until) return;
    incident = next;
    window.clearTimeout(incidentEnds);
    if (next) incidentEnds = window.setTimeout(() => learn(null), next.until - Date.now());
  }

  async function askIncidentMode(): Promise<void> {
    const q = new URLSearchParams({ session: session.id, url: location.href });
    if (options.userId) q.set('user', options.userId);
    try {
      const resp = await originalFetch(`${endpoint}/v1/incident-mode?${q}`);
      if (resp.ok) learn(await resp.json());
    } catch {
      // Sightline unreachable: the next batch's answer says.
    }
  }

  // Where the buffered batch began: a single-page app has moved on by the time a batch is
  // sent, and the first batch's URL is the session's start page.
  let batchUrl = location.href;
  const meta = () => ({
    userId: options.userId,
    userEmail: options.userEmail,
    url: batchUrl,
    userAgent: navigator.userAgent,
    viewport: { width: window.innerWidth, height: window.innerHeight },
    ...(options.attributes ?? {}),
  });

  function touch(now: number) {
    if (now - session.lastActivity > 5000) {
      session.lastActivity = now;
      try {
        storage()?.setItem(STORAGE_KEY, JSON.stringify(session));
      } catch {
        // Best effort.
      }
    }
  }

  function seal(): { batch: number; body: string } | undefined {
    if (buffer.length === 0) return undefined;
    const first = buffer[0] as RrwebEvent;
    const batch = Math.floor(first.timestamp) * 1000 + tabNonce;
    const body = JSON.stringify({ sessionId: session.id, batch, events: buffer, meta: meta() });
    buffer = [];
    bufferChars = 0;
    return { batch, body };
  }

  async function send(item: { batch: number; body: string }): Promise<boolean> {
    try {
      const compressed = await gzip(item.body);
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (compressed) headers['Content-Encoding'] = 'gzip';
      const resp = await originalFetch(url, {
        method: 'POST',
        headers,
        body: compressed ?? item.body,
        keepalive: !compressed && item.body.length < 60000,
      });
      if (resp.ok) {
        try {
          learn(((await resp.json()) as { incidentMode?: unknown }).incidentMode);
        } catch {
          // An answer without a status (an older Sightline) changes nothing.
        }
      }
      // 4xx other than 429 will not get better by retrying.
      return resp.ok || (resp.status >= 400 && resp.status < 500 && resp.status !== 429);
    } catch {
      return false;
    }
  }

  async function drain(): Promise<void> {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) {
        const item = queue[0] as { batch: number; body: string; attempt: number };
        if (await send(item)) {
          queue.shift();
          continue;
        }
        const delay = RETRY_DELAYS[item.attempt];
        if (delay === undefined) {
          queue.shift();
          console.warn('[sightline] giving up on a replay batch after retries');
          continue;
        }
        item.attempt += 1;
        await new Promise((r) => setTimeout(r, delay));
      }
    } finally {
      sending = false;
    }
  }

  async function flush(): Promise<void> {
    const sealed = seal();
    if (sealed) {
      queue.push({ ...sealed, attempt: 0 });
      while (queue.length > MAX_QUEUED_BATCHES) queue.shift();
    }
    await drain();
  }

  let started = false;
  const stopRecording = record({
    emit(event) {
      if (stopped) return;
      // rrweb emits its load events before it records; it takes custom events from its first
      // meta or full snapshot on.
      if (!started && (event.type === 4 || event.type === 2)) {
        started = true;
        // After this event is in the buffer: rrweb's meta and snapshot come first.
        queueMicrotask(() => early.splice(0).forEach(([tag, payload]) => record.addCustomEvent(tag, payload)));
      }
      const e = event as RrwebEvent;
      if (isConsole(e) && !incident && !NORMAL_CONSOLE_LEVELS.has(consoleLevel(e))) return;
      if (incident) e.incidentId = incident.id;
      if (buffer.length === 0) batchUrl = location.href;
      buffer.push(e);
      bufferChars += JSON.stringify(e.data ?? null).length;
      touch(e.timestamp);
      if (buffer.length >= MAX_BATCH_EVENTS || bufferChars >= MAX_BATCH_CHARS) void flush();
    },
    checkoutEveryNms: CHECKOUT_EVERY_MS,
    maskAllInputs: true,
    maskInputOptions: { password: true, email: true, tel: true, text: true, textarea: true, select: true },
    blockClass: 'sightline-block',
    blockSelector: '[data-private]',
    maskTextClass: 'sightline-mask',
    ...(options.privacy === 'mask-all' ? { maskTextSelector: '*' } : {}),
    // Every level is recorded so an incident window can keep them; `emit` drops the quiet
    // ones outside a window.
    plugins: [getRecordConsolePlugin({ level: ['error', 'warn', 'assert', 'info', 'log', 'debug', 'trace'] })],
  });

  // rrweb starts recording once the document has loaded (`load`); a page that fetches while it loads
  // (most do) would otherwise make rrweb throw out of the page's own fetch. Those events wait
  // here, in order, and go out with rrweb's first event.
  const early: [string, Record<string, unknown>][] = [];
  const custom = (tag: string, payload: Record<string, unknown>) => {
    if (stopped) return;
    const stamped = incident ? { ...payload, incidentId: incident.id } : payload;
    if (!started) {
      if (early.length < MAX_BATCH_EVENTS) early.push([tag, stamped]);
      return;
    }
    record.addCustomEvent(tag, stamped);
  };

  function shouldPropagate(target: URL): boolean {
    return target.origin === location.origin || (options.propagate ?? []).includes(target.origin);
  }

  // fetch: trace headers on the way out, a network event on the way back.
  window.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const target = new URL(request.url, location.href);
    if (target.href.startsWith(own)) return originalFetch(input, init);
    let ids: SpanIds | undefined;
    let outgoing: Request = request;
    const otel = otelContext();
    const window_ = incident;
    if (shouldPropagate(target)) {
      const ctx = traceContext(request.headers.get('traceparent'), otel);
      ids = { traceId: ctx.traceId, spanId: ctx.spanId };
      const headers = new Headers(request.headers);
      headers.set('traceparent', ctx.header);
      headers.set('X-Session-ID', session.id);
      if (window_) headers.set('X-Incident-Mode-Until', String(window_.until));
      outgoing = new Request(request, { headers });
    }
    // Read before the request is sent: a body can be read only once.
    const sentBody = window_
      ? requestBody(init?.body ?? (input instanceof Request && input.body ? await input.clone().text() : undefined), request.headers.get('content-type')).catch(() => undefined)
      : undefined;
    const sentHeaders = window_ ? redactHeaders(outgoing.headers) : undefined;
    const started = performance.now();
    try {
      const call = () => originalFetch(outgoing);
      const resp = await (ids ? withSpan(otel, ids, call) : call());
      const base = {
        method: request.method, url: target.href, status: resp.status,
        durationMs: Math.round(performance.now() - started), ...ids,
      };
      if (!window_) {
        custom('sightline.network', base);
      } else {
        // The page gets its response at once; the event waits for the body to be read.
        void Promise.all([sentBody, responseBody(resp).catch(() => undefined)]).then(([reqBody, respBody]) =>
          custom('sightline.network', {
            ...base,
            requestHeaders: sentHeaders,
            ...bodyFields('request', reqBody),
            responseHeaders: redactHeaders(resp.headers),
            ...bodyFields('response', respBody),
          }),
        );
      }
      return resp;
    } catch (err) {
      custom('sightline.network', {
        method: request.method, url: target.href, status: 0, error: String(err),
        // The page cancelled it (a newer search, a navigation): no failure of the backend.
        ...((err as { name?: unknown } | null)?.name === 'AbortError' ? { aborted: true } : {}),
        durationMs: Math.round(performance.now() - started), ...ids,
        ...(window_ ? { requestHeaders: sentHeaders, ...bodyFields('request', await sentBody) } : {}),
      });
      throw err;
    }
  };

  // XMLHttpRequest: the same, for code that has not moved to fetch.
  const xhrOpen = XMLHttpRequest.prototype.open;
  const xhrSend = XMLHttpRequest.prototype.send;
  const xhrSetHeader = XMLHttpRequest.prototype.setRequestHeader;
  const xhrInfo = new WeakMap<XMLHttpRequest, { method: string; url: URL; headers: [string, string][] }>();
  XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, method: string, u: string | URL, ...rest: unknown[]) {
    xhrInfo.set(this, { method, url: new URL(String(u), location.href), headers: [] });
    return (xhrOpen as (...a: unknown[]) => void).call(this, method, u, ...rest);
  } as typeof XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.setRequestHeader = function (this: XMLHttpRequest, name: string, value: string) {
    xhrInfo.get(this)?.headers.push([name, value]);
    return xhrSetHeader.call(this, name, value);
  };
  XMLHttpRequest.prototype.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const info = xhrInfo.get(this);
    if (info && shouldPropagate(info.url)) {
      const window_ = incident;
      const ctx = traceContext(null, otelContext());
      this.setRequestHeader('traceparent', ctx.header);
      this.setRequestHeader('X-Session-ID', session.id);
      if (window_) this.setRequestHeader('X-Incident-Mode-Until', String(window_.until));
      const sentBody = window_ ? requestBody(body, info.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? null).catch(() => undefined) : undefined;
      const started = performance.now();
      let aborted = false;
      this.addEventListener('abort', () => (aborted = true));
      this.addEventListener('loadend', () => {
        const base = {
          method: info.method, url: info.url.href, status: this.status,
          durationMs: Math.round(performance.now() - started), traceId: ctx.traceId, spanId: ctx.spanId,
          ...(aborted ? { aborted: true } : {}),
        };
        if (!window_) return custom('sightline.network', base);
        const responseHeaders = redactHeaders(
          this.getAllResponseHeaders().trim().split(/[\r\n]+/).filter(Boolean).map((line): [string, string] => {
            const i = line.indexOf(':');
            return [line.slice(0, i).trim(), line.slice(i + 1).trim()];
          }),
        );
        const type = this.getResponseHeader('content-type') ?? '';
        const text = this.responseType === '' || this.responseType === 'text' ? this.responseText : this.responseType === 'json' ? JSON.stringify(this.response) : undefined;
        const respBody: CapturedBody | undefined = text === undefined || !TEXTUAL.test(type) ? (this.status ? { omitted: `not captured: ${type || this.responseType} body` } : undefined) : capture(text);
        void (sentBody ?? Promise.resolve(undefined)).then((reqBody) =>
          custom('sightline.network', {
            ...base,
            requestHeaders: redactHeaders(info.headers),
            ...bodyFields('request', reqBody),
            responseHeaders,
            ...bodyFields('response', respBody),
          }),
        );
      });
    }
    return xhrSend.call(this, body ?? null);
  };

  const onError = (e: ErrorEvent) =>
    custom('sightline.error', { message: e.message, source: e.filename, line: e.lineno, column: e.colno, stack: e.error?.stack });
  const onRejection = (e: PromiseRejectionEvent) =>
    custom('sightline.error', { message: String(e.reason?.message ?? e.reason), stack: e.reason?.stack, unhandledRejection: true });
  const onClick = (e: MouseEvent) =>
    custom('sightline.click', { target: semanticName(e.target as Element | null), x: e.clientX, y: e.clientY });
  const onNavigate = () => custom('sightline.navigation', { url: location.href });
  const onHide = () => {
    // The page may be gone before a fetch completes: a beacon is delivered anyway. Beacons
    // cannot set headers, so this one is uncompressed text/plain holding JSON.
    const sealed = seal();
    if (sealed) navigator.sendBeacon(url, new Blob([sealed.body], { type: 'text/plain' }));
  };
  window.addEventListener('error', onError);
  window.addEventListener('unhandledrejection', onRejection);
  document.addEventListener('click', onClick, true);
  window.addEventListener('popstate', onNavigate);
  window.addEventListener('pagehide', onHide);
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method].bind(history);
    history[method] = (...args: Parameters<History['pushState']>) => {
      original(...args);
      onNavigate();
    };
  }

  const timer = window.setInterval(() => {
    // A quiet page sends no batches, so it asks: a window may open while nobody clicks.
    if (buffer.length === 0 && Date.now() - lastAnswer > INCIDENT_POLL_MS) void askIncidentMode();
    void flush();
  }, options.flushIntervalMs ?? 5000);
  void askIncidentMode();

  return {
    sessionId: session.id,
    get incident() {
      return incident;
    },
    flush,
    stop() {
      stopped = true;
      window.clearInterval(timer);
      window.clearTimeout(incidentEnds);
      stopRecording?.();
      window.removeEventListener('error', onError);
      window.removeEventListener('unhandledrejection', onRejection);
      document.removeEventListener('click', onClick, true);
      window.removeEventListener('popstate', onNavigate);
      window.removeEventListener('pagehide', onHide);
    },
  };
}
