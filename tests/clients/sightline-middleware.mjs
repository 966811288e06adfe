// Incident mode for a Node backend (the README's snippet, used as is by the incident test's
// backend). Each request runs in an AsyncLocalStorage context holding what the browser sent:
// `X-Session-ID`, the `traceparent` (as the OpenTelemetry parent context) and
// `X-Incident-Mode-Until`. While that window is open, `log.debug` is emitted too, and every
// record is marked `incident.mode=true`, so Sightline files it under the incident.
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, propagation } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';

const requestContext = new AsyncLocalStorage();
const logger = logs.getLogger('sightline-middleware');

/** Express/Connect-style middleware; with plain `http`, call it as `(req, res, () => handle())`. */
export function sightline(req, res, next) {
  const until = Number(req.headers['x-incident-mode-until']);
  const store = {
    sessionId: req.headers['x-session-id'],
    incidentUntil: Number.isFinite(until) ? until : 0,
  };
  // The browser's traceparent becomes the parent of the spans this request starts.
  const parent = propagation.extract(context.active(), req.headers);
  context.with(parent, () => requestContext.run(store, next));
}

/** Whether the current request is inside an incident window. */
export function incidentMode() {
  return (requestContext.getStore()?.incidentUntil ?? 0) > Date.now();
}

/** The current request's session id (for span attributes). */
export function sessionId() {
  return requestContext.getStore()?.sessionId;
}

function emit(severityNumber, severityText, body, attributes = {}) {
  const store = requestContext.getStore();
  logger.emit({
    severityNumber,
    severityText,
    body,
    // The SDK takes trace and span ids from the active context.
    attributes: {
      ...attributes,
      ...(store?.sessionId ? { 'session.id': store.sessionId } : {}),
      ...(incidentMode() ? { 'incident.mode': true } : {}),
    },
  });
}

export const log = {
  /** Verbose: only while an incident window is open (payloads, headers, decisions). */
  debug: (body, attributes) => incidentMode() && emit(SeverityNumber.DEBUG, 'DEBUG', body, attributes),
  info: (body, attributes) => emit(SeverityNumber.INFO, 'INFO', body, attributes),
  warn: (body, attributes) => emit(SeverityNumber.WARN, 'WARN', body, attributes),
  error: (body, attributes) => emit(SeverityNumber.ERROR, 'ERROR', body, attributes),
};
