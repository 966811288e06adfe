// Checks the corpus's fixtures and says what each holds:
//
//   node corpus-check.mjs [DIR]        (default ../fixtures/corpus)
//
// Each file must decode (gzip, JSON), have the format's fields and at least one request; replay
// fixtures must hold a full snapshot (type 2) and, for every labelled click target, a click on
// an element with that text; an rrweb fixture's error_click label must also have an error from
// rrweb's console plugin after that click; otel-logs fixtures must hold log records of the
// session. Prints one line per fixture (clicks by target, scrolls, custom and plugin events, log
// bodies) and exits 1 on a problem.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? path.join(here, '../fixtures/corpus');
const SIGNALS = new Set(['rage_click', 'dead_click', 'error_click', 'thrashing']);
let problems = 0;
const fail = (name, msg) => {
  problems++;
  console.log(`  PROBLEM ${name}: ${msg}`);
};

/** rrweb's serialized nodes by id, from full snapshots and added nodes, to name click targets. */
function nodeIndex(events) {
  const byId = new Map();
  const walk = (node, parent) => {
    if (!node || typeof node.id !== 'number') return;
    node.parentId = parent;
    byId.set(node.id, node);
    for (const c of node.childNodes ?? []) walk(c, node.id);
  };
  for (const e of events) {
    if (e.type === 2) walk(e.data.node, null);
    if (e.type === 3 && e.data.source === 0) for (const a of e.data.adds ?? []) {
      a.node.childNodes ??= [];
      walk(a.node, a.parentId);
      const p = byId.get(a.parentId);
      if (p) (p.childNodes ??= []).push(a.node);
    }
  }
  return byId;
}
const textOf = (n) => (n?.type === 3 ? n.textContent ?? '' : (n?.childNodes ?? []).map(textOf).join(' '));
const nameOf = (byId, id) => {
  const n = byId.get(id);
  if (!n) return `#${id}?`;
  const label = n.attributes?.['aria-label'] ?? (textOf(n).replace(/\s+/g, ' ').trim() || n.attributes?.name || n.attributes?.id || '');
  return `${n.tagName ?? 'node'}:${label.slice(0, 40)}`;
};
const MOUSE = { 0: 'up', 1: 'down', 2: 'click', 3: 'contextmenu', 4: 'dblclick', 5: 'focus', 6: 'blur' };

const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json.gz')).sort();
let total = 0;
for (const file of files) {
  const name = file.replace(/\.json\.gz$/, '');
  const bytes = fs.readFileSync(path.join(dir, file));
  total += bytes.length;
  let f;
  try {
    f = JSON.parse(zlib.gunzipSync(bytes).toString('utf8'));
  } catch (e) {
    fail(name, `does not decode: ${e.message}`);
    continue;
  }
  for (const k of ['name', 'recorder', 'sessionId', 'description', 'made', 'labels', 'requests']) if (!(k in f)) fail(name, `no ${k}`);
  if (f.name !== name) fail(name, `name is ${f.name}`);
  if (!['sightline', 'rrweb', 'otel-logs'].includes(f.recorder)) fail(name, `recorder ${f.recorder}`);
  if (!f.requests?.length) fail(name, 'no requests');
  for (const l of f.labels ?? []) {
    if (!SIGNALS.has(l.signal)) fail(name, `label signal ${l.signal}`);
    if (l.signal !== 'thrashing' && !l.target) fail(name, `label ${l.signal} has no target`);
  }
  for (const r of f.requests ?? []) {
    if (!['/v1/replay', '/v1/logs', '/v1/traces'].includes(r.path)) fail(name, `request path ${r.path}`);
    if (typeof r.body !== 'object' || r.body === null) fail(name, 'a body is not JSON');
  }
  const replays = (f.requests ?? []).filter((r) => r.path === '/v1/replay');
  const summary = [];
  if (f.recorder !== 'otel-logs') {
    const events = replays.flatMap((r) => r.body.events ?? []);
    if (replays.some((r) => r.body.sessionId !== f.sessionId)) fail(name, 'a replay batch of another session');
    if (f.recorder === 'rrweb') {
      const batches = replays.map((r) => r.body.batch);
      if (batches.some((b, i) => b !== i)) fail(name, `rrweb batches ${batches}`);
      if (replays.some((r) => 'meta' in r.body) || events.some((e) => e.type === 5)) fail(name, 'rrweb glue sent meta or custom events');
    }
    if (!events.some((e) => e.type === 2)) fail(name, 'no full snapshot');
    const byId = nodeIndex(events);
    const mouse = events.filter((e) => e.type === 3 && e.data.source === 2 && [2, 4].includes(e.data.type));
    const clicks = {};
    for (const e of mouse) {
      const key = `${MOUSE[e.data.type]} ${nameOf(byId, e.data.id)}`;
      clicks[key] = (clicks[key] ?? 0) + 1;
    }
    for (const l of f.labels ?? []) {
      if (l.target && !mouse.some((e) => e.data.type === 2 && nameOf(byId, e.data.id).toLowerCase().includes(l.target.toLowerCase()))) {
        fail(name, `no click on "${l.target}"`);
      }
    }
    // rrweb's console plugin: { type: 6, data: { plugin: 'rrweb/console@1', payload: { level, trace, payload } } }
    const consoleEvents = events.filter((e) => e.type === 6 && e.data?.plugin === 'rrweb/console@1');
    if (f.recorder === 'rrweb') {
      for (const l of (f.labels ?? []).filter((l) => l.signal === 'error_click')) {
        const at = mouse.find((e) => e.data.type === 2 && nameOf(byId, e.data.id).toLowerCase().includes(l.target.toLowerCase()))?.timestamp;
        if (at !== undefined && !consoleEvents.some((e) => e.data.payload?.level === 'error' && e.timestamp >= at)) fail(name, `no console-plugin error after the click on "${l.target}"`);
      }
    }
    const scrolls = events.filter((e) => e.type === 3 && e.data.source === 3).map((e) => Math.round(e.data.y));
    const custom = {};
    for (const e of events.filter((e) => e.type === 5)) custom[e.data.tag] = (custom[e.data.tag] ?? 0) + 1;
    const inputs = events.filter((e) => e.type === 3 && e.data.source === 5).length;
    summary.push(`${replays.length} batches, ${events.length} events (${events.filter((e) => e.type === 2).length} full snapshot)`);
    summary.push(`clicks ${JSON.stringify(clicks)}`);
    if (inputs) summary.push(`${inputs} input events`);
    if (scrolls.length) summary.push(`scroll y ${scrolls.join(',')}`);
    if (Object.keys(custom).length) summary.push(`custom ${JSON.stringify(custom)}`);
    const plugins = {};
    for (const e of events.filter((e) => e.type === 6)) {
      const key = e.data?.plugin === 'rrweb/console@1' ? `console.${e.data.payload?.level}` : String(e.data?.plugin);
      plugins[key] = (plugins[key] ?? 0) + 1;
    }
    if (Object.keys(plugins).length) summary.push(`plugin ${JSON.stringify(plugins)}`);
    if (f.recorder === 'sightline') {
      const targets = events.filter((e) => e.type === 5 && e.data.tag === 'sightline.click').map((e) => e.data.payload.target);
      summary.push(`sightline.click targets ${JSON.stringify(targets)}`);
    }
  } else {
    const records = (f.requests ?? []).flatMap((r) => (r.body.resourceLogs ?? []).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
    const attr = (r, k) => {
      const v = r.attributes.find((a) => a.key === k)?.value;
      return v?.stringValue ?? v?.intValue ?? v?.doubleValue ?? v?.boolValue;
    };
    if (!records.length) fail(name, 'no log records');
    if (records.some((r) => attr(r, 'session.id') !== f.sessionId)) fail(name, 'a log record of another session');
    const seq = records.map((r) => Number(attr(r, 'session.sequence')));
    if (seq.some((s, i) => i && s <= seq[i - 1])) fail(name, `session.sequence not increasing: ${seq}`);
    summary.push(`${f.requests.length} exports, ${records.length} records`);
    summary.push(records.map((r) => {
      const t = attr(r, 'target.semantic_name');
      return `${r.body.stringValue.replace(/^user\./, '')}${t ? `(${t})` : ''}`;
    }).join(' '));
  }
  const labels = (f.labels ?? []).map((l) => `${l.signal}${l.target ? `:${l.target}` : ''}`).join(', ') || 'none';
  console.log(`${name} [${f.recorder}] labels: ${labels}\n  ${summary.join('\n  ')}`);
}
console.log(`${files.length} fixtures, ${total} bytes`);
process.exit(problems ? 1 : 0);
