// Services: span counts and error rates, the HTTP servers' rate, errors and p95 over the last hour
// (from their `http.server.request.duration` metric), and the map of calls between them.

import { api, type ServiceEdge, type ServiceHttpList, type ServiceInfo } from '../api';
import { formatValue } from '../components/Chart';
import { Failed, Loading } from '../components/common';
import { count } from '../format';
import { useLoad } from '../hooks';
import { href } from '../router';

interface Data {
  services: ServiceInfo[];
  edges: ServiceEdge[];
  http: ServiceHttpList['services'];
}

/** Observations per second as a small line (the last hour, 30 buckets). */
function Spark({ values }: { values: (number | null)[] }) {
  const w = 90;
  const h = 20;
  const max = Math.max(...values.map((v) => v ?? 0), 1e-9);
  const step = w / Math.max(values.length - 1, 1);
  const d = values.map((v, i) => `${i ? 'L' : 'M'}${(i * step).toFixed(1)},${(h - 1 - ((v ?? 0) / max) * (h - 2)).toFixed(1)}`).join(' ');
  return (
    <svg className="spark" width={w} height={h} aria-hidden="true">
      <path d={d} fill="none" stroke="var(--accent)" strokeWidth="1.25" />
    </svg>
  );
}

export function ServicesView() {
  const data = useLoad<Data>('services', async (signal) => {
    const [s, m, h] = await Promise.all([
      api.get<{ services: ServiceInfo[] }>('/services', signal),
      api.get<{ edges: ServiceEdge[] }>('/service-map', signal),
      api.get<ServiceHttpList>('/metrics/http-servers', signal),
    ]);
    return { services: s.services, edges: m.edges, http: h.services };
  });
  if (data.error && !data.data) return <Failed error={data.error} retry={data.reload} />;
  if (!data.data) return <Loading what="services" />;
  const { services, edges, http } = data.data;
  const httpOf = new Map(http.map((h) => [h.serviceName, h]));
  // A service that sends metrics but no spans is still a service.
  const rows: (ServiceInfo & { spansKnown: boolean })[] = [
    ...services.map((s) => ({ ...s, spansKnown: true })),
    ...http
      .filter((h) => !services.some((s) => s.serviceName === h.serviceName))
      .map((h) => ({ serviceName: h.serviceName, spanCount: 0, errorCount: 0, errorRate: 0, firstSeenUnixNano: null, lastSeenUnixNano: null, spansKnown: false })),
  ];
  return (
    <>
      <div className="toolbar">
        <h1>Services</h1>
        <span className="muted small">{services.length} services, {edges.length} call paths</span>
      </div>
      {rows.length === 0 ? (
        <div className="state">
          <h2>No services yet</h2>
          <div>Services appear when their spans or HTTP server metrics arrive (see Status for the endpoint).</div>
        </div>
      ) : (
        <div className="page">
          <ServiceMap services={services} edges={edges} />
          <table className="grid" style={{ marginTop: 16, background: 'var(--panel)' }}>
            <thead>
              <tr>
                <th>Service</th>
                <th className="num">Spans</th>
                <th className="num">Errors</th>
                <th className="num">Error rate</th>
                <th className="num" title="HTTP server requests over the last hour, from http.server.request.duration">Requests (1 h)</th>
                <th className="num" title="HTTP requests answered 5xx or with an error.type">HTTP errors</th>
                <th className="num" title="95th percentile of http.server.request.duration">p95</th>
                <th>Trend</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.serviceName} onClick={() => (location.hash = s.spansKnown ? href(['traces'], { service: s.serviceName }) : href(['metrics'], { service: s.serviceName, name: 'http.server.request.duration' }))}>
                  <td style={{ fontWeight: 500 }}>{s.serviceName}</td>
                  <td className="num">{s.spansKnown ? count(s.spanCount) : '—'}</td>
                  <td className="num">{s.spansKnown ? count(s.errorCount) : '—'}</td>
                  <td className="num" style={{ color: s.errorRate > 0.01 ? 'var(--error)' : undefined }}>
                    {s.spansKnown ? `${(s.errorRate * 100).toFixed(s.errorRate < 0.01 ? 2 : 1)}%` : '—'}
                  </td>
                  {(() => {
                    const h = httpOf.get(s.serviceName);
                    if (!h) return <td className="num faint" colSpan={4} title="This service sends no http.server.request.duration metric">no HTTP metrics</td>;
                    return (
                      <>
                        <td className="num" title={`${h.perSecond.toPrecision(2)} per second`}>
                          {count(h.requests)}
                        </td>
                        <td className="num" style={{ color: h.errorRate > 0.01 ? 'var(--error)' : undefined }}>{(h.errorRate * 100).toFixed(h.errorRate < 0.01 ? 2 : 1)}%</td>
                        <td className="num">{h.p95Seconds === null || h.p95Seconds === undefined ? '—' : formatValue(h.p95Seconds, 's')}</td>
                        <td>
                          <Spark values={h.trend} />
                        </td>
                      </>
                    );
                  })()}
                  <td>
                    {s.spansKnown && (
                      <>
                        <a href={href(['traces'], { service: s.serviceName })} onClick={(e) => e.stopPropagation()}>
                          traces
                        </a>{' '}
                        · <a href={href(['logs'], { service: s.serviceName })} onClick={(e) => e.stopPropagation()}>logs</a>
                      </>
                    )}
                    {httpOf.has(s.serviceName) && (
                      <>
                        {s.spansKnown ? ' · ' : ''}
                        <a href={href(['metrics'], { service: s.serviceName, name: 'http.server.request.duration' })} onClick={(e) => e.stopPropagation()}>metrics</a>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

const W = 180;
const H = 52;
const GAP_X = 110;
const GAP_Y = 28;

/** Callers on the left, callees to the right (columns by call depth). */
function ServiceMap({ services, edges }: Pick<Data, 'services' | 'edges'>) {
  const names = [...new Set([...services.map((s) => s.serviceName), ...edges.flatMap((e) => [e.from, e.to])])];
  const depth = new Map<string, number>();
  const incoming = new Set(edges.map((e) => e.to));
  const queue = names.filter((n) => !incoming.has(n));
  if (!queue.length && names[0]) queue.push(names[0]);
  queue.forEach((n) => depth.set(n, 0));
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i] ?? '';
    for (const e of edges.filter((e) => e.from === n)) {
      if (!depth.has(e.to)) {
        depth.set(e.to, (depth.get(n) ?? 0) + 1);
        queue.push(e.to);
      }
    }
  }
  names.forEach((n) => depth.has(n) || depth.set(n, 0));
  const columns: string[][] = [];
  for (const n of names) {
    const d = depth.get(n) ?? 0;
    (columns[d] ??= []).push(n);
  }
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, c) => col.forEach((n, r) => pos.set(n, { x: 20 + c * (W + GAP_X), y: 20 + r * (H + GAP_Y) })));
  const width = 40 + columns.length * (W + GAP_X) - GAP_X;
  const height = 40 + Math.max(...columns.map((c) => c.length)) * (H + GAP_Y) - GAP_Y;
  const info = new Map(services.map((s) => [s.serviceName, s]));
  return (
    <div className="card" style={{ overflow: 'auto', padding: 0 }}>
      <svg width={Math.max(width, 400)} height={height} role="img" aria-label="Service map">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" fill="var(--faint)" />
          </marker>
        </defs>
        {edges.map((e) => {
          const a = pos.get(e.from);
          const b = pos.get(e.to);
          if (!a || !b) return null;
          const x1 = a.x + W;
          const y1 = a.y + H / 2;
          const x2 = b.x;
          const y2 = b.y + H / 2;
          const mx = (x1 + x2) / 2;
          const bad = e.errorCount > 0;
          return (
            <g key={`${e.from}-${e.to}`}>
              <path d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`} fill="none" stroke={bad ? 'var(--error)' : 'var(--faint)'} strokeWidth={1.5} markerEnd="url(#arrow)" />
              {/* Near the callee, level with it: labels of edges leaving one node do not collide. */}
              <text x={x2 - 8} y={y2 - 7} textAnchor="end" fontSize="11" fill={bad ? 'var(--error)' : 'var(--muted)'}>
                {count(e.callCount)} calls{bad ? `, ${count(e.errorCount)} failed` : ''}
              </text>
            </g>
          );
        })}
        {names.map((n) => {
          const p = pos.get(n);
          const s = info.get(n);
          if (!p) return null;
          const bad = (s?.errorRate ?? 0) > 0.01;
          return (
            <a key={n} href={href(['traces'], { service: n })}>
              <rect x={p.x} y={p.y} width={W} height={H} rx={8} fill="var(--panel)" stroke={bad ? 'var(--error)' : 'var(--border)'} strokeWidth={bad ? 1.5 : 1} />
              <text x={p.x + 12} y={p.y + 21} fontSize="13" fontWeight="600" fill="var(--text)">
                {n}
              </text>
              <text x={p.x + 12} y={p.y + 39} fontSize="11" fill="var(--muted)">
                {s ? `${count(s.spanCount)} spans · ${(s.errorRate * 100).toFixed(1)}% errors` : 'no spans of its own'}
              </text>
            </a>
          );
        })}
      </svg>
    </div>
  );
}
