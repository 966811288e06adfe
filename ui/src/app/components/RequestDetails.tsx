// One recorded request: what it was, its backend trace, and (when it was recorded in an
// incident window) its headers and bodies as the recorder captured them, with the redactions
// shown as redactions.

import { api, type BrowserItem, type CapturedRequest, type SessionEvent } from '../api';
import { bytes, duration } from '../format';
import { useLoad } from '../hooks';
import { href } from '../router';
import { Failed, Loading } from './common';
import { IncidentChip } from './IncidentChip';

const REDACTED = '[REDACTED]';

/** Text with every `[REDACTED]` marked, so a redaction is never mistaken for data. */
export function WithRedactions({ text }: { text: string }) {
  const parts = text.split(REDACTED);
  return (
    <>
      {parts.map((p, i) => (
        <span key={i}>
          {p}
          {i < parts.length - 1 && (
            <span className="redacted" title="Redacted before it left the browser (and again by Sightline)">
              redacted
            </span>
          )}
        </span>
      ))}
    </>
  );
}

/** A body as a person reads it: JSON indented, anything else as sent. */
export function prettyBody(text: string): string {
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }
  return text;
}

function Headers({ title, headers }: { title: string; headers: Record<string, string> | undefined }) {
  const entries = Object.entries(headers ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section className="req-section">
      <h3>{title}</h3>
      {entries.length === 0 ? (
        <div className="faint small">none captured</div>
      ) : (
        <table className="kv-table">
          <tbody>
            {entries.map(([k, v]) => (
              <tr key={k}>
                <th>{k}</th>
                <td className="mono">
                  <WithRedactions text={v} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Body({ title, body, truncated, size, omitted }: { title: string; body?: string; truncated?: boolean; size?: number; omitted?: string }) {
  return (
    <section className="req-section">
      <h3>
        {title}
        {truncated && <span className="badge warn">cut at 64 KiB{size ? ` of ${bytes(size)}` : ''}</span>}
      </h3>
      {body !== undefined && body !== '' ? (
        <pre className="body">
          <WithRedactions text={prettyBody(body)} />
        </pre>
      ) : (
        <div className="faint small">{omitted ?? (body === '' ? 'empty' : 'none')}</div>
      )}
    </section>
  );
}

export function RequestDetails({ sessionId, item, showBackend }: { sessionId: string; item: BrowserItem; showBackend: () => void }) {
  const d = (item.data ?? {}) as { method?: string; durationMs?: number; error?: string };
  const bad = Number(item.level) >= 400 || item.level === '0';
  return (
    <div className="request-details" aria-label="Request details">
      <div className="req-head">
        <span className={`badge ${bad ? 'error' : 'ok'}`}>{item.level === '0' ? 'failed' : item.level}</span>
        <b>{d.method ?? 'GET'}</b>
        <span className="mono ellipsis" title={item.target ?? ''}>
          {item.target}
        </span>
      </div>
      <div className="req-meta">
        <span>
          took <b>{duration(d.durationMs)}</b>
        </span>
        {d.error && <span className="error-text">{d.error}</span>}
        {item.incidentId && <IncidentChip id={item.incidentId} />}
        <div className="grow" />
        {item.traceId && (
          <button className="btn" onClick={showBackend}>
            Backend trace →
          </button>
        )}
      </div>
      {item.trace ? (
        <div className="req-trace small">
          <span className="muted">{item.trace.serviceName}</span> {item.trace.rootName} · {duration(item.trace.durationMs)}
          {item.trace.errorCount > 0 && <span className="badge error">{item.trace.errorCount === 1 ? '1 error span' : `${item.trace.errorCount} error spans`}</span>}
        </div>
      ) : (
        <div className="req-trace small faint">{item.traceId ? `trace ${item.traceId} has not arrived` : 'not traced (another origin, not in the recorder’s propagate list)'}</div>
      )}
      {item.captured && item.eventId !== undefined ? (
        <Captured sessionId={sessionId} eventId={item.eventId} />
      ) : (
        <div className="empty-hint small">
          Headers and bodies are captured only inside an <a href={href(['incidents'])}>incident window</a>; this request was recorded outside one.
        </div>
      )}
    </div>
  );
}

function Captured({ sessionId, eventId }: { sessionId: string; eventId: number }) {
  const e = useLoad<SessionEvent>(`${sessionId}/${eventId}`, (signal) =>
    api.get<SessionEvent>(`/sessions/${encodeURIComponent(sessionId)}/events/${eventId}`, signal),
  );
  if (e.error && !e.data) return <Failed error={e.error} retry={e.reload} />;
  if (!e.data) return <Loading what="the captured request" />;
  // The recorder's capture of the request, as it sent it.
  const d = e.data.data as CapturedRequest;
  return (
    <div className="captured">
      <Headers title="Request headers" headers={d.requestHeaders} />
      <Body title="Request body" body={d.requestBody} truncated={d.requestBodyTruncated} size={d.requestBodySize} omitted={d.requestBodyOmitted} />
      <Headers title="Response headers" headers={d.responseHeaders} />
      <Body title="Response body" body={d.responseBody} truncated={d.responseBodyTruncated} size={d.responseBodySize} omitted={d.responseBodyOmitted} />
    </div>
  );
}
