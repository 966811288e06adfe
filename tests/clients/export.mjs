// Sends one trace (server span + client child, attributes of every kind, an event, an error
// status), one correlated log record and three metrics through the official OpenTelemetry JS
// SDK and its OTLP/HTTP JSON exporters.
//
//   node export.mjs http://127.0.0.1:4318     send to a running Sightline
//   node export.mjs --capture DIR             record the exact request bodies as fixtures
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';

async function send(base) {
  const resource = resourceFromAttributes({
    'service.name': 'js-storefront',
    'service.version': '4.2.0',
    'session.id': 'js-session-1',
  });

  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
  });
  const tracer = tracerProvider.getTracer('js-storefront-tests', '1.0.0');
  const start = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  const server = tracer.startSpan('GET /products/:id', {
    kind: SpanKind.SERVER,
    startTime: start,
    attributes: {
      'http.request.method': 'GET',
      'http.response.status_code': 500,
      'cache.hit': false,
      'price.ratio': 0.75,
      'product.tags': ['red', 'sale'],
    },
  });
  server.addEvent('exception', { 'exception.type': 'TypeError', 'exception.message': 'x is undefined' });
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'handler threw' });
  const cx = trace.setSpan(context.active(), server);
  const child = tracer.startSpan('SELECT products', { kind: SpanKind.CLIENT, startTime: start }, cx);
  child.end(new Date(start.getTime() + 12));
  server.end(new Date(start.getTime() + 30));
  await tracerProvider.forceFlush();
  await tracerProvider.shutdown();

  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${base}/v1/logs` }) })],
  });
  loggerProvider.getLogger('js-storefront-logs').emit({
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    body: 'product lookup failed',
    timestamp: new Date(start.getTime() + 20),
    attributes: { 'product.id': 17, 'user.email': 'ada@example.com' },
    context: cx,
  });
  await loggerProvider.forceFlush();
  await loggerProvider.shutdown();

  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
    exportIntervalMillis: 60_000,
  });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  const meter = meterProvider.getMeter('js-storefront-metrics');
  meter.createCounter('page.views').add(5, { page: '/products' });
  const latency = meter.createHistogram('fetch.duration', { unit: 'ms' });
  [12, 48, 250].forEach((v) => latency.record(v));
  meter.createGauge('cart.size').record(3);
  await meterProvider.forceFlush();
  await meterProvider.shutdown();

  return {
    traceId: server.spanContext().traceId,
    spanId: server.spanContext().spanId,
    childSpanId: child.spanContext().spanId,
  };
}

async function capture(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const seen = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ path: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const ids = await send(`http://127.0.0.1:${srv.address().port}`);
  srv.close();
  const counts = {};
  for (const { path: p, type, body } of seen) {
    if (!type.startsWith('application/json')) throw new Error(`unexpected content type ${type}`);
    const signal = p.split('/').pop();
    counts[signal] = (counts[signal] ?? 0) + 1;
    fs.writeFileSync(path.join(dir, `js-${signal}-${counts[signal]}.json`), body);
  }
  fs.writeFileSync(path.join(dir, 'js-ids.json'), JSON.stringify(ids, null, 2) + '\n');
  console.log(`captured ${seen.length} requests into ${dir}`);
}

const [arg, dir] = process.argv.slice(2);
if (arg === '--capture') {
  await capture(dir);
} else if (arg) {
  console.log(JSON.stringify(await send(arg.replace(/\/$/, ''))));
} else {
  console.error('usage: node export.mjs OTLP_HTTP_BASE | --capture DIR');
  process.exit(2);
}
