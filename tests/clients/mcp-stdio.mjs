// An agent's first minutes with Sightline, through the official MCP TypeScript SDK over stdio:
// list the tools, find the failing sessions, read one's story, follow it to traces, logs and
// SQL, and be told clearly when an argument is wrong.
//
//   node mcp-stdio.mjs SIGHTLINE_BIN UI_ADDR        prints what it saw as JSON
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [bin, ui] = process.argv.slice(2);
if (!bin || !ui) {
  console.error('usage: node mcp-stdio.mjs SIGHTLINE_BIN UI_ADDR');
  process.exit(2);
}
const client = new Client({ name: 'sightline-test', version: '1.0.0' });
await client.connect(new StdioClientTransport({ command: bin, args: ['mcp', '--ui', ui], stderr: 'inherit' }));
const answer = async (name, args) => {
  const r = await client.callTool({ name, arguments: args });
  if (r.isError) return { error: r.content.map((c) => c.text).join(' ') };
  return JSON.parse(r.content[0].text);
};
const refused = async (name, args) => {
  try {
    const r = await client.callTool({ name, arguments: args });
    return r.isError ? r.content.map((c) => c.text).join(' ') : null;
  } catch (e) {
    return String(e.message ?? e);
  }
};
const tools = (await client.listTools()).tools;
const failing = await answer('list_sessions', { has_errors: true });
const story = await answer('get_session_story', { session_id: failing.sessions[0].sessionId });
const traces = await answer('search_traces', { session_id: failing.sessions[0].sessionId });
const logs = await answer('search_logs', { severity: 'error' });
const sql = await answer('query_sql', { sql: 'select count(*) as n from sessions' });
const small = await answer('list_sessions', { max_bytes: 1024 });
const out = {
  server: client.getServerVersion(),
  tools: tools.map((t) => ({ name: t.name, readOnly: t.annotations?.readOnlyHint === true, params: Object.keys(t.inputSchema?.properties ?? {}) })),
  failing: failing.sessions.map((s) => s.sessionId),
  story,
  traces: traces.traces.map((t) => t.traceId),
  logs: logs.logs.length,
  sql: sql.rows,
  smallBytes: JSON.stringify(small).length,
  smallCut: small.cut ?? null,
  badLimit: await refused('list_sessions', { limit: 'many' }),
  unknownArgument: await refused('list_sessions', { colour: 'red' }),
  badBudget: await refused('list_sessions', { max_bytes: 5 }),
  unknownSession: await refused('get_session_story', { session_id: 'nobody' }),
  badStatus: await refused('search_traces', { status: 'sideways' }),
};
await client.close();
console.log(JSON.stringify(out));
