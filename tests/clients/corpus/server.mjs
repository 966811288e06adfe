// The corpus's test site: the pages in ./pages, served with the recorder a session uses (the
// `corpus-rec` cookie: sightline | rrweb | otel-logs) in place of their `<!-- recorder -->`
// comment, a few small APIs, and Sightline's ingest paths, which capture what the recorders send
// (as a real Sightline would see it) and answer as Sightline does.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const PAGES = path.join(here, 'pages');

/** Pages by path; anything under /spa/ is the single-page app. */
const ROUTES = {
  '/report': 'report.html',
  '/article': 'article.html',
  '/invoices': 'invoices.html',
  '/guide': 'guide.html',
  '/cart': 'cart.html',
  '/product': 'product.html',
  '/notes': 'notes.html',
  '/checkout': 'checkout.html',
};

/** Sightline's answer to GET /v1/incident-mode, and the status in a /v1/replay answer. */
const NO_INCIDENT = { active: false, id: null, until: null, scope: null };

const CSV = 'invoice,date,amount_usd\nINV-2041,2026-01-31,420.00\nINV-2077,2026-02-28,395.50\nINV-2102,2026-03-31,412.25\n';

/**
 * Starts the site. `scripts` maps a script path (/sightline.js, /rrweb-glue.js, /otel-agent.js) to
 * its source. Returns { origin, captured, close }: `captured` collects every ingest request as
 * { at, path, contentType, contentEncoding, body } (body: the JSON, gunzipped and parsed).
 */
export async function startSite(scripts) {
  const captured = [];
  let orders = 1041;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    const send = (status, type, body, headers = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(body);
    };
    const json = (status, value) => send(status, 'application/json', JSON.stringify(value));
    try {
      if (req.method === 'POST' && /^\/v1\/(replay|logs|traces)$/.test(url.pathname)) {
        const encoding = req.headers['content-encoding'] ?? null;
        const text = (encoding === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8');
        captured.push({
          at: Date.now(),
          path: url.pathname,
          contentType: req.headers['content-type'] ?? null,
          contentEncoding: encoding,
          body: JSON.parse(text),
        });
        // As Sightline answers: the replay route with the incident status the recorder reads,
        // the OTLP routes with an empty (full success) export response.
        return url.pathname === '/v1/replay' ? json(200, { ok: true, incidentMode: NO_INCIDENT }) : json(200, {});
      }
      if (req.method === 'GET' && url.pathname === '/v1/incident-mode') return json(200, NO_INCIDENT);
      if (req.method === 'GET' && scripts[url.pathname]) return send(200, 'application/javascript; charset=utf-8', scripts[url.pathname]);
      if (req.method === 'GET' && url.pathname === '/style.css') return send(200, 'text/css', fs.readFileSync(path.join(PAGES, 'style.css')));
      if (req.method === 'GET' && url.pathname === '/report.csv') {
        return send(200, 'text/csv; charset=utf-8', CSV, { 'content-disposition': 'attachment; filename="invoices-2026-q1.csv"' });
      }
      if (req.method === 'GET' && url.pathname === '/api/report') {
        await new Promise((r) => setTimeout(r, 1500));
        return json(200, { month: url.searchParams.get('month'), rows: [
          { region: 'North', orders: 412, revenue: 38120 },
          { region: 'South', orders: 287, revenue: 25410 },
          { region: 'West', orders: 355, revenue: 31988 },
        ] });
      }
      if (req.method === 'POST' && url.pathname === '/api/order') {
        await new Promise((r) => setTimeout(r, 400));
        return json(200, { orderId: ++orders });
      }
      const file = url.pathname === '/spa' || url.pathname.startsWith('/spa/') ? 'spa.html' : ROUTES[url.pathname];
      if (req.method === 'GET' && file) {
        const cookie = /(?:^|;\s*)corpus-rec=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
        return send(200, 'text/html; charset=utf-8', fs.readFileSync(path.join(PAGES, file), 'utf8').replace('<!-- recorder -->', tag(cookie)));
      }
      if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
      send(404, 'text/plain', 'not found');
    } catch (err) {
      send(500, 'text/plain', String(err?.stack ?? err));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, captured, close: () => new Promise((r) => server.close(r)) };
}

/** The one script tag a site adds for each recorder. */
function tag(recorder) {
  const user = 'data-user-id="corpus-user-7" data-user-email="sam.rivera@example.test"';
  switch (recorder) {
    case 'sightline':
      return `<script src="/sightline.js" ${user}></script>`;
    case 'rrweb':
      return '<script src="/rrweb-glue.js"></script>';
    case 'otel-logs':
      return `<script src="/otel-agent.js" ${user} data-service="corpus-web"></script>`;
    default:
      return '';
  }
}
