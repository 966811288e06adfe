// An agent's first minutes with Sightline, through the official MCP TypeScript SDK, over stdio
// (`sightline mcp`) or Streamable HTTP (`{ui}/mcp`): list the tools and the prompt, find the
// failing sessions, read each one's story, follow its failing requests into their traces and
// the span that failed, search around it, and be told clearly when an argument is wrong. The
// SDK's client validates every structured answer against the tool's declared output schema
// (a mismatch throws), so each answer here was checked.
//
//   node mcp-agent.mjs stdio SIGHTLINE_BIN UI_ADDR [TOKEN]    prints what it saw as JSON
//   node mcp-agent.mjs http  URL [TOKEN]
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [mode, target, extra] = process.argv.slice(2);
if (!['stdio', 'http'].includes(mode) || !target) {
  console.error('usage: node mcp-agent.mjs stdio SIGHTLINE_BIN UI_ADDR [TOKEN] | http URL [TOKEN]');
  process.exit(2);
}
const transport =
  mode === 'stdio'
    ? new StdioClientTransport({
        command: target,
        args: ['mcp', '--ui', extra, ...(process.argv[5] ? ['--token', process.argv[5]] : [])],
        stderr: 'inherit',
      })
    : new StreamableHTTPClientTransport(new URL(target), {
        requestInit: extra ? { headers: { authorization: `Bearer ${extra}` } } : undefined,
      });
const client = new Client({ name: 'sightline-test', version: '1.0.0' });
await client.connect(transport);
const sizes = {};
const answer = async (name, args) => {
  const t0 = performance.now();
  const r = await client.callTool({ name, arguments: args });
  const ms = performance.now() - t0;
  if (r.isError) return { error: r.content.map((c) => c.text).join(' ') };
  const bytes = JSON.stringify(r.structuredContent).length;
  (sizes[name] ??= []).push({ bytes, ms: Math.round(ms * 10) / 10 });
  if (JSON.stringify(JSON.parse(r.content[0].text)) !== JSON.stringify(r.structuredContent)) {
    throw new Error(`${name}: the text content is not the structured content`);
  }
  return r.structuredContent;
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
const prompts = (await client.listPrompts()).prompts;
const failing = await answer('list_sessions', { has_errors: true });
const stories = {};
const traces = {};
const spans = {};
for (const s of failing.sessions.slice(0, 6)) {
  const story = await answer('get_session_story', { session_id: s.sessionId });
  stories[s.sessionId] = story;
  for (const f of story.failingRequests) {
    if (!f.traceId || traces[f.traceId]) continue;
    const trace = await answer('get_trace', { trace_id: f.traceId });
    traces[f.traceId] = trace;
    const deepest = trace.errors?.[0];
    if (deepest) spans[f.traceId] = await answer('get_span', { trace_id: f.traceId, span_id: deepest.spanId });
    for (const o of trace.overlapping ?? []) {
      if (!traces[o.traceId]) traces[o.traceId] = await answer('get_trace', { trace_id: o.traceId, max_spans: 5 });
    }
  }
}
const first = failing.sessions[0]?.sessionId;
const out = {
  server: client.getServerVersion(),
  tools: tools.map((t) => ({
    name: t.name,
    readOnly: t.annotations?.readOnlyHint === true,
    params: Object.keys(t.inputSchema?.properties ?? {}),
    outputSchema: t.outputSchema?.type ?? null,
  })),
  prompts: prompts.map((p) => ({ name: p.name, args: (p.arguments ?? []).map((a) => a.name) })),
  prompt: first ? (await client.getPrompt({ name: 'debug_session', arguments: { session_id: first } })).messages[0].content.text : null,
  failing: failing.sessions.map((s) => s.sessionId),
  stories,
  traces,
  spans,
  sessionTraces: first ? (await answer('search_traces', { session_id: first })).traces.map((t) => t.traceId) : [],
  logs: (await answer('search_logs', { severity: 'error' })).logs.length,
  sql: (await answer('query_sql', { sql: 'select count(*) as n from sessions' })).rows,
  diagnostics: await answer('diagnostics', {}),
  small: await answer('list_sessions', { max_bytes: 1024 }),
  smallTrace: failing.sessions[0] && stories[first]?.failingRequests[0]?.traceId
    ? await answer('get_trace', { trace_id: stories[first].failingRequests[0].traceId, max_spans: 500, max_bytes: 1500 })
    : null,
  incident: await (async () => {
    const started = await answer('start_incident', { minutes: 1, label: 'agent test' });
    const caught = await answer('get_incident', { incident_id: started.id });
    const stopped = await answer('stop_incident', { incident_id: started.id });
    return { started, caught, stopped, listed: (await answer('list_incidents', {})).incidents.map((i) => i.id) };
  })(),
  notFrustrated: await refused('list_sessions', { frustrated: false }),
  dotId: await refused('get_session_story', { session_id: '..' }),
  badLimit: await refused('list_sessions', { limit: 'many' }),
  unknownArgument: await refused('list_sessions', { colour: 'red' }),
  badBudget: await refused('list_sessions', { max_bytes: 5 }),
  unknownSession: await refused('get_session_story', { session_id: 'nobody' }),
  badStatus: await refused('search_traces', { status: 'sideways' }),
  badTrace: await refused('get_trace', { trace_id: 'xyz' }),
  missingArgument: await refused('get_session_story', {}),
  sizes,
};
await client.close();
console.log(JSON.stringify(out));
