// The trace page's other ways to look at a trace: a minimap of the whole trace with the window
// the waterfall shows (drag to zoom, as Jaeger's), a time ruler, a flame graph (canvas, so a
// 20,000-span trace draws in one pass), and find-in-trace.

import { useEffect, useRef, useState } from 'react';
import { duration } from '../format';
import { type Row, serviceColor, spanLabel } from './Waterfall';

/** A time window of the trace, in the trace's absolute milliseconds. */
export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

/** Matches a find looks at at most: a forged trace's attribute values can be huge. */
const FIND_VALUE_CHARS = 2000;

/**
 * The spans `q` finds, in row order: by name (as shown or as sent), service, span id, or an
 * attribute's key or value (case folded; `key=value` looks for that pair).
 */
export function findSpans(rows: Row[], q: string): string[] {
  const needle = q.trim().toLowerCase();
  if (!needle) return [];
  const eq = needle.indexOf('=');
  const [k, v] = eq > 0 ? [needle.slice(0, eq), needle.slice(eq + 1)] : [null, null];
  const text = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x) ?? '').slice(0, FIND_VALUE_CHARS).toLowerCase();
  const out: string[] = [];
  for (const r of rows) {
    const s = r.span;
    const attrs = Object.entries(s.attributes ?? {});
    const hit =
      k !== null
        ? attrs.some(([ak, av]) => ak.toLowerCase() === k && text(av).includes(v ?? ''))
        : spanLabel(s).toLowerCase().includes(needle) ||
          s.name.toLowerCase().includes(needle) ||
          (s.serviceName ?? '').toLowerCase().includes(needle) ||
          s.spanId.startsWith(needle) ||
          attrs.some(([ak, av]) => ak.toLowerCase().includes(needle) || text(av).includes(needle));
    if (hit) out.push(s.spanId);
  }
  return out;
}

/** Round tick steps: 1, 2 or 5 times a power of ten milliseconds. */
export function ticks(spanMs: number, count = 5): number[] {
  if (!(spanMs > 0)) return [0];
  const raw = spanMs / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= spanMs + 1e-9 && out.length < 50; t += step) out.push(t);
  return out;
}

/** Tick labels over the bar area: offsets from the trace's start. */
export function Ruler({ traceStartMs, view }: { traceStartMs: number; view: TimeWindow }) {
  const span = Math.max(view.toMs - view.fromMs, 0.001);
  const base = view.fromMs - traceStartMs;
  return (
    <div className="wf-ruler" aria-hidden="true">
      <div className="wf-ruler-name" />
      <div className="wf-ruler-area">
        {ticks(span).map((t) => (
          <span key={t} className="tick" style={{ left: `${(t / span) * 100}%` }}>
            {base + t === 0 ? '0' : duration(base + t)}
          </span>
        ))}
      </div>
    </div>
  );
}

function useCanvas(draw: (ctx: CanvasRenderingContext2D, w: number, h: number) => void, deps: unknown[]) {
  const ref = useRef<HTMLCanvasElement>(null);
  const drawRef = useRef(draw);
  drawRef.current = draw;
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const paint = () => {
      const w = c.clientWidth;
      const h = c.clientHeight;
      const dpr = window.devicePixelRatio || 1;
      c.width = Math.max(1, Math.round(w * dpr));
      c.height = Math.max(1, Math.round(h * dpr));
      const ctx = c.getContext('2d');
      if (!ctx) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      drawRef.current(ctx, w, h);
    };
    paint();
    const ro = new ResizeObserver(paint);
    ro.observe(c);
    return () => ro.disconnect();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return ref;
}

/**
 * The whole trace in a strip (a line per row, by service colour) with the window shown below
 * it; drag across to zoom the waterfall to that stretch, double-click to see all of it again.
 */
export function Minimap({ rows, startMs, endMs, view, setView }: { rows: Row[]; startMs: number; endMs: number; view: TimeWindow; setView: (v: TimeWindow | null) => void }) {
  const total = Math.max(endMs - startMs, 0.001);
  const [drag, setDrag] = useState<{ a: number; b: number } | null>(null);
  const canvas = useCanvas(
    (ctx, w, h) => {
      const n = Math.max(rows.length, 1);
      const rowH = Math.max(h / n, 0.5);
      rows.forEach((r, i) => {
        ctx.fillStyle = r.span.status.code === 2 ? '#d92d20' : serviceColor(r.span.serviceName);
        const x = ((r.startMs - startMs) / total) * w;
        const width = Math.max(((r.endMs - r.startMs) / total) * w, 1);
        ctx.fillRect(x, (i / n) * h, width, Math.max(rowH - (rowH > 2 ? 1 : 0), 0.5));
      });
    },
    [rows, startMs, total],
  );
  const frac = (e: React.MouseEvent) => {
    const r = e.currentTarget.getBoundingClientRect();
    return Math.min(Math.max((e.clientX - r.left) / r.width, 0), 1);
  };
  const shownA = drag ? Math.min(drag.a, drag.b) : (view.fromMs - startMs) / total;
  const shownB = drag ? Math.max(drag.a, drag.b) : (view.toMs - startMs) / total;
  const zoomed = view.fromMs > startMs + 1e-6 || view.toMs < endMs - 1e-6;
  return (
    <div className="minimap">
      <div
        className="minimap-track"
        onMouseDown={(e) => {
          const f = frac(e);
          setDrag({ a: f, b: f });
        }}
        onMouseMove={(e) => drag && setDrag({ ...drag, b: frac(e) })}
        onMouseUp={() => {
          if (!drag) return;
          const [a, b] = [Math.min(drag.a, drag.b), Math.max(drag.a, drag.b)];
          setDrag(null);
          if (b - a > 0.002) setView({ fromMs: startMs + a * total, toMs: startMs + b * total });
        }}
        onMouseLeave={() => setDrag(null)}
        onDoubleClick={() => setView(null)}
        title="Drag across to zoom; double-click to see the whole trace"
      >
        <canvas ref={canvas} role="img" aria-label="The whole trace, with the stretch shown below" />
        <div className="minimap-dim" style={{ left: 0, width: `${shownA * 100}%` }} />
        <div className="minimap-window" style={{ left: `${shownA * 100}%`, width: `${Math.max(shownB - shownA, 0.002) * 100}%` }} />
        <div className="minimap-dim" style={{ left: `${shownB * 100}%`, right: 0 }} />
      </div>
      {zoomed && (
        <button className="btn small" onClick={() => setView(null)}>
          Show all {duration(total)}
        </button>
      )}
    </div>
  );
}

const FLAME_ROW = 20;

/**
 * The trace as a flame graph on its time axis (Jaeger's): a row per depth, each span under its
 * parent, as wide as it lasted, coloured by service, errors in red, matches of a find outlined.
 * Click a span to select it.
 */
export function FlameGraph({ rows, view, selected, onSelect, matches }: { rows: Row[]; view: TimeWindow; selected: string | null; onSelect: (spanId: string) => void; matches: Set<string> }) {
  const depth = rows.reduce((m, r) => Math.max(m, r.depth), 0) + 1;
  const height = depth * FLAME_ROW + 4;
  const span = Math.max(view.toMs - view.fromMs, 0.001);
  const [hover, setHover] = useState<Row | null>(null);
  const canvas = useCanvas(
    (ctx, w) => {
      ctx.font = '11px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      for (const r of rows) {
        const x0 = ((r.startMs - view.fromMs) / span) * w;
        const x1 = ((r.endMs - view.fromMs) / span) * w;
        if (x1 < 0 || x0 > w) continue;
        const x = Math.max(x0, 0);
        const width = Math.max(Math.min(x1, w) - x, 1);
        const y = r.depth * FLAME_ROW;
        const err = r.span.status.code === 2;
        ctx.globalAlpha = matches.size && !matches.has(r.span.spanId) ? 0.25 : 1;
        ctx.fillStyle = err ? '#d92d20' : serviceColor(r.span.serviceName);
        ctx.fillRect(x, y + 1, width, FLAME_ROW - 2);
        if (r.span.spanId === selected || matches.has(r.span.spanId)) {
          ctx.strokeStyle = r.span.spanId === selected ? '#111' : '#f5b400';
          ctx.lineWidth = 2;
          ctx.strokeRect(x + 1, y + 2, Math.max(width - 2, 1), FLAME_ROW - 4);
        }
        if (width > 40) {
          ctx.fillStyle = '#fff';
          const label = `${spanLabel(r.span)} ${duration(r.endMs - r.startMs)}`;
          ctx.save();
          ctx.beginPath();
          ctx.rect(x, y, width, FLAME_ROW);
          ctx.clip();
          ctx.fillText(label, x + 4, y + FLAME_ROW / 2);
          ctx.restore();
        }
      }
      ctx.globalAlpha = 1;
    },
    [rows, view.fromMs, span, selected, matches],
  );
  const at = (e: React.MouseEvent): Row | null => {
    const r = e.currentTarget.getBoundingClientRect();
    const t = view.fromMs + ((e.clientX - r.left) / r.width) * span;
    const d = Math.floor((e.clientY - r.top) / FLAME_ROW);
    // The narrowest span at that depth covering t (a later sibling wins a tie at a boundary).
    let best: Row | null = null;
    for (const row of rows) if (row.depth === d && row.startMs <= t && t <= row.endMs && (!best || row.endMs - row.startMs <= best.endMs - best.startMs)) best = row;
    return best;
  };
  return (
    <div className="flame">
      <canvas
        ref={canvas}
        style={{ height }}
        role="img"
        aria-label="Flame graph of the trace"
        onClick={(e) => {
          const r = at(e);
          if (r) onSelect(r.span.spanId);
        }}
        onMouseMove={(e) => setHover(at(e))}
        onMouseLeave={() => setHover(null)}
      />
      <div className="muted small flame-hover">
        {hover ? `${hover.span.serviceName ?? 'unknown'} · ${spanLabel(hover.span)} · ${duration(hover.endMs - hover.startMs)}` : 'Click a span to select it.'}
      </div>
    </div>
  );
}
