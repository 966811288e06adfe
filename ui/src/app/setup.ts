// What to paste into an app so it sends to this engine: the browser recorder and the
// OpenTelemetry SDKs' standard environment variables.

import type { Status } from './api';

export interface SetupSnippet {
  label: string;
  code: string;
}

function hostPort(addr: string): string {
  // An engine bound to all interfaces is reached through loopback from this machine.
  return addr.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

export function snippets(status: Status | null): SetupSnippet[] {
  const http = `http://${hostPort(status?.otlpHttp ?? '127.0.0.1:4318')}`;
  const env = `OTEL_EXPORTER_OTLP_ENDPOINT=${http}\nOTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\nOTEL_SERVICE_NAME=my-service`;
  return [
    {
      label: 'Browser: one script tag in your storefront',
      code: `<script src="${http}/sightline.js"></script>`,
    },
    { label: 'Any OpenTelemetry SDK: environment variables', code: env },
    {
      label: 'Node.js',
      code: `npm install @opentelemetry/sdk-node @opentelemetry/auto-instrumentations-node\n${env.replace(/\n/g, ' \\\n')} \\\nnode --require @opentelemetry/auto-instrumentations-node/register app.js`,
    },
    {
      label: 'Python',
      code: `pip install opentelemetry-distro opentelemetry-exporter-otlp\nopentelemetry-bootstrap -a install\n${env.replace(/\n/g, ' \\\n')} \\\nopentelemetry-instrument python app.py`,
    },
    {
      label: 'Java',
      code: `${env.replace(/\n/g, ' \\\n')} \\\njava -javaagent:opentelemetry-javaagent.jar -jar app.jar`,
    },
    {
      label: 'Go',
      code: `// go get go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp\nexp, _ := otlptracehttp.New(ctx) // reads OTEL_EXPORTER_OTLP_ENDPOINT\ntp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))\notel.SetTracerProvider(tp)\n\n${env}`,
    },
  ];
}
