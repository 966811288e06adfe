// A small storefront backend for the incident-mode test: instrumented with the official
// OpenTelemetry JS SDK (traces and logs over OTLP/HTTP to Sightline), using the README's
// middleware (sightline-middleware.mjs) to honour `X-Incident-Mode-Until`. Its checkout always
// fails: the card is declined.
import http from 'node:http';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Starts the backend on a free port; `engine` is Sightline's OTLP/HTTP address (host:port). */
export async function startBackend(engine) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const resource = resourceFromAttributes({ 'service.name': 'checkout-api' });
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://${engine}/v1/traces` }))],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `http://${engine}/v1/logs` }) })],
  });
  logs.setGlobalLoggerProvider(loggerProvider);
  // Imported after the providers are global, so its logger is the SDK's.
  const { sightline, log, sessionId } = await import('./sightline-middleware.mjs');
  const tracer = trace.getTracer('checkout-api');

  const page = (user) => `<!doctype html><html><head><meta charset="utf-8"><title>Checkout</title>
<script src="http://${engine}/sightline.js" data-user-id="${user}"></script></head>
<body><h1>Checkout</h1>
<form id="pay"><label>Card <input name="card" value="4111 1111 1111 1111"></label> <button>Pay</button></form>
<p id="result"></p>
<script>
let attempt = 0;
document.getElementById('pay').addEventListener('submit', async (e) => {
  e.preventDefault();
  attempt += 1;
  console.debug('paying, attempt', attempt);
  const r = await fetch('/api/checkout?attempt=' + attempt, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer tok-SECRET-77' },
    body: JSON.stringify({ items: [{ sku: 'mug', qty: 2 }], cardNumber: '4111-SECRET-1111', email: 'ada@example.com' }),
  });
  const j = await r.json();
  console.info('checkout answered', r.status);
  document.getElementById('result').textContent = attempt + ': ' + r.status + ' ' + j.error;
});
</script></body></html>`;

  const server = http.createServer((req, res) =>
    sightline(req, res, async () => {
      const url = new URL(req.url, 'http://backend');
      if (req.method === 'GET' && url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end(page(url.searchParams.get('user') ?? 'anonymous'));
      }
      if (req.method === 'POST' && url.pathname === '/api/checkout') {
        let body = '';
        for await (const chunk of req) body += chunk;
        return tracer.startActiveSpan(
          'POST /api/checkout',
          { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'url.path': url.pathname, 'session.id': sessionId() ?? '' } },
          (span) => {
            log.debug('checkout request', {
              'http.request.body': body,
              'http.request.header.authorization': req.headers.authorization ?? '',
              'checkout.attempt': url.searchParams.get('attempt') ?? '',
            });
            const answer = { error: 'card_declined', message: 'The card was declined' };
            log.warn('payment declined', { 'checkout.attempt': url.searchParams.get('attempt') ?? '' });
            log.debug('checkout response', { 'http.response.body': JSON.stringify(answer) });
            span.setAttribute('http.response.status_code', 402);
            span.setStatus({ code: SpanStatusCode.ERROR, message: 'card_declined' });
            res.writeHead(402, { 'content-type': 'application/json', 'set-cookie': 'cart=SECRET-cookie' });
            res.end(JSON.stringify(answer));
            span.end();
          },
        );
      }
      res.writeHead(404).end();
    }),
  );
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      server.close();
      await tracerProvider.forceFlush();
      await loggerProvider.forceFlush();
    },
  };
}
