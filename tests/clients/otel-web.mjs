// The official OpenTelemetry web SDK with its fetch instrumentation, as a storefront would set
// it up, bundled for the browser tests (npm run build → dist/otel-web.js). Exports spans to the
// OTLP/HTTP endpoint named by the script tag's data-otlp attribute.
import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { resourceFromAttributes } from '@opentelemetry/resources';

const endpoint = document.currentScript.dataset.otlp;
const provider = new WebTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'storefront-web' }),
  spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))],
});
provider.register();
registerInstrumentations({
  instrumentations: [new FetchInstrumentation({ ignoreUrls: [/\/v1\/(traces|replay)/] })],
});
window.otelProvider = provider;
