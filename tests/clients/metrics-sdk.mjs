// Sends a known workload of metrics through the official OpenTelemetry JS SDK, configured as a
// user of delta-temporality backends would: DELTA temporality and the exponential histogram for
// request durations (the demo's Rust SDK covers cumulative explicit-bucket histograms).
//
//   node metrics-sdk.mjs http://127.0.0.1:4318
//
// Prints what was recorded, the truth the test holds the engine's answers to.
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { AggregationTemporalityPreference, OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';

const base = process.argv[2];
if (!base) {
  console.error('usage: node metrics-sdk.mjs OTLP_HTTP_BASE');
  process.exit(2);
}

const reader = new PeriodicExportingMetricReader({
  exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics`, temporalityPreference: AggregationTemporalityPreference.DELTA }),
  // Exports happen when this script flushes, not on a timer.
  exportIntervalMillis: 600_000,
});
const provider = new MeterProvider({
  resource: resourceFromAttributes({ 'service.name': 'js-checkout', 'service.version': '1.0.0' }),
  readers: [reader],
  views: [{ instrumentName: 'http.server.request.duration', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
});
const meter = provider.getMeter('js-checkout-http');
const duration = meter.createHistogram('http.server.request.duration', { unit: 's', description: 'Duration of HTTP server requests.' });
const placed = meter.createCounter('orders.placed', { unit: '{order}' });
const depth = meter.createGauge('queue.depth', { unit: '{job}' });

// Five exports, a second apart: 18 quick requests and 2 slow failures each.
const truth = { requests: 0, failed: 0, quick: 0.02, slow: 1.5, stored: 0, failedOrders: 0, depths: [] };
for (let round = 0; round < 5; round++) {
  for (let i = 0; i < 18; i++) {
    duration.record(truth.quick, { 'http.request.method': 'GET', 'http.route': '/api/cart', 'http.response.status_code': 200 });
    truth.requests++;
  }
  for (let i = 0; i < 2; i++) {
    duration.record(truth.slow, { 'http.request.method': 'POST', 'http.route': '/api/checkout', 'http.response.status_code': 503, 'error.type': '503' });
    truth.requests++;
    truth.failed++;
  }
  placed.add(round + 1, { outcome: 'stored' });
  truth.stored += round + 1;
  if (round % 2 === 0) {
    placed.add(1, { outcome: 'failed' });
    truth.failedOrders += 1;
  }
  const d = 4 + 2 * round;
  depth.record(d);
  truth.depths.push(d);
  await provider.forceFlush();
  await new Promise((r) => setTimeout(r, 1000));
}
await provider.shutdown();
console.log(JSON.stringify(truth));
