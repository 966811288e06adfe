import { describe, expect, it } from 'vitest';
import type { Span } from './api';
import { compareTraces } from './compare';
import { findSpans, ticks } from './components/TraceViews';
import { flatten } from './components/Waterfall';

const ms = (n: number) => String(BigInt(n) * 1_000_000n);
function span(id: string, parent: string, service: string, name: string, start: number, end: number, extra: Partial<Span> = {}): Span {
  return {
    spanId: id,
    parentSpanId: parent,
    traceId: 't',
    serviceName: service,
    name,
    startTimeUnixNano: ms(start),
    endTimeUnixNano: ms(end),
    attributes: {},
    events: [],
    links: [],
    status: { code: 0, message: '' },
    kind: 2,
    ...extra,
  } as unknown as Span;
}

describe('find in trace', () => {
  const spans = [
    span('a1', '', 'storefront-api', 'POST', 0, 100, { attributes: { 'http.route': '/api/checkout' } } as Partial<Span>),
    span('b2', 'a1', 'payment-svc', 'authorize card', 10, 90, { attributes: { 'error.type': 'card_declined', 'payment.amount': 4200 } } as Partial<Span>),
    span('c3', 'b2', 'fraud-svc', 'score', 20, 30),
  ];
  const { rows } = flatten(spans, new Set());
  it('finds by shown name, service, span id and attributes, in row order', () => {
    expect(findSpans(rows, 'checkout')).toEqual(['a1']);
    expect(findSpans(rows, 'FRAUD')).toEqual(['c3']);
    expect(findSpans(rows, 'b2')).toEqual(['b2']);
    expect(findSpans(rows, 'declined')).toEqual(['b2']);
    expect(findSpans(rows, 'svc')).toEqual(['b2', 'c3']);
  });
  it('takes key=value for one attribute, numbers as text', () => {
    expect(findSpans(rows, 'error.type=card')).toEqual(['b2']);
    expect(findSpans(rows, 'payment.amount=4200')).toEqual(['b2']);
    expect(findSpans(rows, 'error.type=timeout')).toEqual([]);
    expect(findSpans(rows, '  ')).toEqual([]);
  });
  it('puts ticks on round steps', () => {
    expect(ticks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(7)).toEqual([0, 2, 4, 6]);
    expect(ticks(0)).toEqual([0]);
  });
});

describe('compare two traces', () => {
  const a = [span('r', '', 'api', 'POST /checkout', 0, 100), span('p', 'r', 'pay', 'authorize', 10, 60), span('o', 'r', 'orders', 'INSERT', 60, 90)];
  const b = [
    span('r', '', 'api', 'POST /checkout', 0, 400),
    span('p', 'r', 'pay', 'authorize', 10, 60),
    span('p2', 'r', 'pay', 'authorize', 60, 110),
    span('x', 'r', 'orders', 'retry', 110, 390, { status: { code: 2, message: 'locked' } } as Partial<Span>),
  ];
  const rows = compareTraces(a, b);
  const of = (name: string) => rows.find((r) => r.name === name);
  it('merges by operation path and marks what differs', () => {
    expect(rows.map((r) => `${r.depth}:${r.name}`)).toEqual(['0:POST /checkout', '1:authorize', '1:INSERT', '1:retry']);
    expect(of('POST /checkout')?.change).toBe('slower');
    expect(of('authorize')).toMatchObject({ change: 'more', a: { count: 1 }, b: { count: 2 } });
    expect(of('INSERT')?.change).toBe('removed');
    expect(of('retry')).toMatchObject({ change: 'added', b: { errors: 1 } });
  });
  it('says nothing differs when a trace is compared with itself', () => {
    expect(compareTraces(a, a).every((r) => r.change === 'same')).toBe(true);
  });
  it('survives a parent loop', () => {
    const loop = [span('x', 'y', 's', 'one', 0, 1), span('y', 'x', 's', 'two', 0, 1)];
    expect(compareTraces(loop, loop).length).toBeLessThanOrEqual(2);
  });
});
