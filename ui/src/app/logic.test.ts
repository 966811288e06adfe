import { activeAt, describeScope, remaining, startRequest } from './incidents';
import { settingsOf } from './views/Settings';
import { describe, expect, it } from 'vitest';
import type { Span } from './api';
import { deepestErrorSpan, flatten, prettyJson, serviceColor, spanLabel, traceStatistics } from './components/Waterfall';
import { href, parse, parseOffset } from './router';
import { mcpSnippets, snippets } from './setup';

describe('routes', () => {
  it('parses deep links and builds them back', () => {
    const r = parse('#/sessions/abc-1?t=12.5s');
    expect(r.parts).toEqual(['sessions', 'abc-1']);
    expect(parseOffset(r.params.get('t'))).toBe(12_500);
    expect(parse('').parts).toEqual(['sessions']);
    expect(parse('#/traces/0af7?span=b7ad').params.get('span')).toBe('b7ad');
    expect(href(['traces', 'x y'], { span: 's', empty: '' })).toBe('#/traces/x%20y?span=s');
  });
  it('reads offsets in seconds or milliseconds, and refuses the rest', () => {
    expect(parseOffset('90')).toBe(90_000);
    expect(parseOffset('250ms')).toBe(250);
    expect(parseOffset('1.25s')).toBe(1250);
    expect(parseOffset('soon')).toBeNull();
    expect(parseOffset(null)).toBeNull();
  });
});

function span(id: string, parent: string, start: number, end: number, error = false): Span {
  return {
    traceId: 't',
    spanId: id,
    parentSpanId: parent,
    traceState: '',
    flags: 0,
    name: id,
    kind: 1,
    startTimeUnixNano: String(start * 1e6),
    endTimeUnixNano: String(end * 1e6),
    attributes: {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    incidentId: null,
    status: { code: error ? 2 : 0, message: '' },
    serviceName: 'svc',
    sessionId: null,
    resourceId: '1',
    scope: { name: '', version: '' },
  };
}

describe('waterfall', () => {
  const spans = [span('c2', 'root', 30, 90), span('root', 'browser', 0, 100), span('c1', 'root', 10, 40), span('g', 'c2', 40, 85, true)];
  it('orders depth first by start; a span whose parent is missing is a root', () => {
    const { rows, startMs, endMs } = flatten(spans, new Set());
    expect(rows.map((r) => [r.span.spanId, r.depth])).toEqual([
      ['root', 0],
      ['c1', 1],
      ['c2', 1],
      ['g', 2],
    ]);
    expect([startMs, endMs]).toEqual([0, 100]);
  });
  it('marks the critical path: the child that ends last, all the way down', () => {
    const { rows } = flatten(spans, new Set());
    expect(rows.filter((r) => r.critical).map((r) => r.span.spanId)).toEqual(['root', 'c2', 'g']);
  });
  it('picks the error span deepest in the tree, not the callers that passed it up', () => {
    const failing = [
      span('api', 'browser', 0, 100, true),
      span('client', 'api', 10, 90, true),
      span('server', 'client', 20, 80),
      span('authorize', 'server', 30, 60, true),
      span('other', 'api', 5, 9, true),
    ];
    expect(deepestErrorSpan(failing)?.spanId).toBe('authorize');
    expect(deepestErrorSpan(spans.filter((s) => s.spanId !== 'g'))).toBeNull();
    // A forged trace whose parents loop still answers.
    expect(deepestErrorSpan([span('x', 'y', 0, 1, true), span('y', 'x', 0, 1, true)])?.spanId).toBe('x');
  });
  it('hides a collapsed span’s descendants', () => {
    const { rows } = flatten(spans, new Set(['c2']));
    expect(rows.map((r) => r.span.spanId)).toEqual(['root', 'c1', 'c2']);
  });
});

describe('text', () => {
  it('pretty-prints JSON bodies and leaves the rest alone', () => {
    expect(prettyJson('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyJson('order {7} created')).toBe('order {7} created');
    expect(prettyJson('{not json')).toBe('{not json');
  });
  it('gives coding agents the engine they talk to', () => {
    const s = mcpSnippets({
      mcp: { url: 'http://127.0.0.1:5320/mcp', command: '/opt/My Apps/sightline', args: ['mcp', '--ui', '127.0.0.1:5320'] },
    } as never);
    expect(s[0]?.code).toBe("claude mcp add sightline -- '/opt/My Apps/sightline' mcp --ui 127.0.0.1:5320");
    expect(s[1]?.code).toBe('claude mcp add --transport http sightline http://127.0.0.1:5320/mcp');
    expect(JSON.parse(s[2]?.code ?? "")).toEqual({
      mcpServers: { sightline: { command: '/opt/My Apps/sightline', args: ['mcp', '--ui', '127.0.0.1:5320'] } },
    });
    expect(JSON.parse(s[3]?.code ?? "").servers.sightline.type).toBe('stdio');
    expect(s[4]?.code).toBe('http://127.0.0.1:5320/mcp');
  });

  it('points setup snippets at the engine that serves the page', () => {
    const s = snippets({ otlpHttp: '0.0.0.0:5318' } as never);
    expect(s[0]?.code).toBe('<script src="http://127.0.0.1:5318/sightline.js"></script>');
    expect(s[1]?.code).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:5318');
  });
});

describe('settings form', () => {
  const draft = {
    otlpGrpcPort: '4317',
    otlpHttpPort: ' 4318 ',
    uiPort: '4320',
    dataDir: '  ',
    launchAtLogin: false,
    keepRunningInTray: true,
    notifyErrorSessions: false,
    watchInbox: true,
    inboxDir: ' /home/qa/Drop ',
    tailFile: '',
    keepDays: '14',
    keepErrorDays: ' 60',
    keepOrphanDays: '14',
    maxDatabaseMib: '0',
  };
  it('turns the fields into settings (blank paths = default or none)', () => {
    expect(settingsOf(draft)).toEqual({
      ...draft,
      otlpGrpcPort: 4317,
      otlpHttpPort: 4318,
      uiPort: 4320,
      dataDir: null,
      inboxDir: '/home/qa/Drop',
      tailFile: null,
      keepDays: 14,
      keepErrorDays: 60,
      keepOrphanDays: 14,
      maxDatabaseMib: 0,
    });
    expect(settingsOf({ ...draft, keepDays: '0' })).toMatch(/Days sessions are kept/);
  });
  it('names the first field that is not a port', () => {
    expect(settingsOf({ ...draft, uiPort: '70000' })).toMatch(/UI port/);
    expect(settingsOf({ ...draft, otlpGrpcPort: 'abc' })).toMatch(/gRPC/);
    expect(settingsOf({ ...draft, otlpHttpPort: '43.5' })).toMatch(/HTTP/);
  });
});

describe('incident windows', () => {
  const form = { minutes: 15, scope: 'all' as const, value: '', label: '', ticketUrl: '' };
  it('turns the start form into a request', () => {
    expect(startRequest(form)).toEqual({ minutes: 15, startedBy: 'ui' });
    expect(startRequest({ ...form, scope: 'user', value: ' ada ', label: 'pay 500s', ticketUrl: 'https://t/1' })).toEqual({
      minutes: 15,
      startedBy: 'ui',
      user: 'ada',
      label: 'pay 500s',
      ticketUrl: 'https://t/1',
    });
    expect(startRequest({ ...form, scope: 'url', value: '  ' })).toMatch(/URL pattern/);
    expect(startRequest({ ...form, minutes: 0 })).toMatch(/Minutes/);
  });
  it('counts down and knows which windows are open', () => {
    const w = {
      id: 'inc_1',
      startedMs: 1_000,
      untilMs: 61_000,
      endedEarly: false,
      scope: { kind: 'user' as const, value: 'ada' },
      label: null,
      ticketUrl: null,
      startedBy: 'cli' as const,
      active: true,
    };
    expect(remaining(w, 1_000)).toBe('1:00 left');
    expect(remaining(w, 99_000)).toBe('0:00 left');
    expect(activeAt([w], 60_999)).toHaveLength(1);
    expect(activeAt([w], 61_000)).toHaveLength(0);
    expect(describeScope(w.scope)).toBe('user ada');
  });
});

describe('traces read the same everywhere', () => {
  const sp = (id: string, parent: string, svc: string, name: string, start: number, end: number, attrs = {}) =>
    ({
      spanId: id,
      parentSpanId: parent,
      serviceName: svc,
      name,
      startTimeUnixNano: String(start * 1e6),
      endTimeUnixNano: String(end * 1e6),
      attributes: attrs,
      status: { code: 0, message: '' },
    }) as unknown as Span;

  it('gives a service one colour whatever else the trace holds', () => {
    expect(serviceColor('payment-svc')).toBe(serviceColor('payment-svc'));
    const names = ['a', 'b', 'c', 'd', 'e', 'payment-svc', 'storefront-api', 'order-svc'];
    expect(new Set(names.map(serviceColor)).size).toBeGreaterThan(3);
  });

  it('names a span known only by its method by its route', () => {
    expect(spanLabel(sp('1', '', 's', 'GET', 0, 1, { 'http.route': '/cart/{id}' }))).toBe('GET /cart/{id}');
    expect(spanLabel(sp('1', '', 's', 'GET', 0, 1))).toBe('GET');
    expect(spanLabel(sp('1', '', 's', 'authorize card', 0, 1, { 'http.route': '/x' }))).toBe('authorize card');
    // A browser's fetch span: the path of its URL, without the query.
    expect(spanLabel(sp('1', '', 's', 'POST', 0, 1, { 'http.url': 'http://127.0.0.1:3000/api/checkout?x=1' }))).toBe('POST /api/checkout');
    expect(spanLabel(sp('1', '', 's', 'GET', 0, 1, { 'url.full': 'https://shop' }))).toBe('GET /');
  });

  it('counts own time per service and operation', () => {
    // root 0..100 with children 10..40 and 30..60 (overlapping): own 100 - 50 = 50.
    const stats = traceStatistics([
      sp('r', '', 'api', 'POST /checkout', 0, 100),
      sp('a', 'r', 'db', 'INSERT', 10, 40),
      sp('b', 'r', 'db', 'INSERT', 30, 60),
    ]);
    // Most own time first.
    expect(stats.map((o) => [o.service, o.name, o.count, o.selfMs, o.totalMs])).toEqual([
      ['db', 'INSERT', 2, 60, 60],
      ['api', 'POST /checkout', 1, 50, 100],
    ]);
  });
});

