// Two traces compared as Jaeger compares them: the span trees merged by operation path (the
// services and operations from the root down), each node with its span count, time and errors
// on either side, and what differs marked — only in one, more or fewer spans, slower or faster.

import type { Span } from './api';
import { spanLabel } from './components/Waterfall';
import { nsToMs } from './format';

export interface Side {
  count: number;
  totalMs: number;
  errors: number;
  /** A span of this node, to open. */
  spanId: string | null;
}

export type Change = 'same' | 'added' | 'removed' | 'more' | 'fewer' | 'slower' | 'faster';

export interface DiffRow {
  key: string;
  depth: number;
  service: string;
  name: string;
  a: Side;
  b: Side;
  change: Change;
}

/** A node slower or faster by at least this share and this much is marked as such. */
export const CHANGE_RATIO = 0.2;
export const CHANGE_MIN_MS = 1;
/** Depth followed at most: a forged trace may loop. */
const MAX_DEPTH = 200;

interface Node {
  service: string;
  name: string;
  depth: number;
  a: Side;
  b: Side;
  order: number;
  children: Map<string, Node>;
}

const empty = (): Side => ({ count: 0, totalMs: 0, errors: 0, spanId: null });

function add(root: Map<string, Node>, spans: Span[], side: 'a' | 'b', counter: { n: number }) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const kids = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      const l = kids.get(s.parentSpanId) ?? [];
      l.push(s);
      kids.set(s.parentSpanId, l);
    } else roots.push(s);
  }
  const start = (s: Span) => nsToMs(s.startTimeUnixNano) ?? 0;
  const seen = new Set<string>();
  const walk = (s: Span, level: Map<string, Node>, depth: number) => {
    if (depth > MAX_DEPTH || seen.has(s.spanId)) return;
    seen.add(s.spanId);
    const service = s.serviceName ?? 'unknown';
    const name = spanLabel(s);
    const key = `${service}\u0000${name}`;
    let node = level.get(key);
    if (!node) {
      node = { service, name, depth, a: empty(), b: empty(), order: counter.n++, children: new Map() };
      level.set(key, node);
    }
    const sideOf = node[side];
    sideOf.count += 1;
    sideOf.totalMs += Math.max((nsToMs(s.endTimeUnixNano) ?? 0) - start(s), 0);
    sideOf.errors += s.status.code === 2 ? 1 : 0;
    sideOf.spanId ??= s.spanId;
    for (const k of (kids.get(s.spanId) ?? []).sort((x, y) => start(x) - start(y))) walk(k, node.children, depth + 1);
  };
  for (const r of roots.sort((x, y) => start(x) - start(y))) walk(r, root, 0);
}

function changeOf(a: Side, b: Side): Change {
  if (a.count === 0) return 'added';
  if (b.count === 0) return 'removed';
  if (b.count > a.count) return 'more';
  if (b.count < a.count) return 'fewer';
  const d = b.totalMs - a.totalMs;
  if (Math.abs(d) >= CHANGE_MIN_MS && Math.abs(d) >= CHANGE_RATIO * Math.max(a.totalMs, 1e-9)) return d > 0 ? 'slower' : 'faster';
  return 'same';
}

/** The merged tree of `a` and `b`, depth first in the order operations first appear. */
export function compareTraces(a: Span[], b: Span[]): DiffRow[] {
  const root = new Map<string, Node>();
  const counter = { n: 0 };
  add(root, a, 'a', counter);
  add(root, b, 'b', counter);
  const out: DiffRow[] = [];
  const emit = (level: Map<string, Node>, path: string) => {
    for (const n of [...level.values()].sort((x, y) => x.order - y.order)) {
      const key = `${path}/${n.service}:${n.name}`;
      out.push({ key, depth: n.depth, service: n.service, name: n.name, a: n.a, b: n.b, change: changeOf(n.a, n.b) });
      emit(n.children, key);
    }
  };
  emit(root, '');
  return out;
}
