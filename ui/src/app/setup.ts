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

/// A word as a POSIX shell reads it: quoted when it holds anything but plain path characters.
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/// How a coding agent connects to this engine over MCP: stdio through this engine's own
/// executable, or Streamable HTTP at {ui}/mcp; for Claude Code, Cursor and VS Code.
export function mcpSnippets(status: Status | null): SetupSnippet[] {
  const mcp = status?.mcp ?? { url: 'http://127.0.0.1:4320/mcp', command: 'sightline', args: ['mcp'] };
  const stdio = { command: mcp.command, args: mcp.args };
  // Indented, with arrays of plain values kept on one line.
  const json = (value: unknown) =>
    JSON.stringify(value, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, items: string) => `[${items.split(/,\s+/).join(', ')}]`);
  return [
    {
      label: 'Claude Code',
      code: `claude mcp add sightline -- ${[mcp.command, ...mcp.args].map(shellWord).join(' ')}`,
    },
    {
      label: 'Claude Code over HTTP',
      code: `claude mcp add --transport http sightline ${mcp.url}`,
    },
    {
      label: 'Cursor',
      code: json({ mcpServers: { sightline: stdio } }),
    },
    {
      label: 'VS Code',
      code: json({ servers: { sightline: { type: 'stdio', ...stdio } } }),
    },
    { label: 'Any MCP client: Streamable HTTP', code: mcp.url },
  ];
}
