// Time-series charts (uPlot: canvas, one pass per frame, fast on long series) in the app's theme,
// redrawn when the theme or the width changes; and the histogram heatmap, drawn on a canvas.

import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { serviceColor } from './Waterfall';

export interface Line {
  label: string;
  values: (number | null)[];
  color?: string;
  dash?: boolean;
}

/** Whether the page is drawn dark (the app follows the system's scheme). */
function useDark(): boolean {
  const q = '(prefers-color-scheme: dark)';
  const [dark, setDark] = useState(() => typeof matchMedia !== 'undefined' && matchMedia(q).matches);
  useEffect(() => {
    if (typeof matchMedia === 'undefined') return;
    const m = matchMedia(q);
    const on = () => setDark(m.matches);
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, []);
  return dark;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** The colour of a series: its given one, else one per label (the services' palette). */
export function lineColor(line: Line): string {
  return line.color ?? serviceColor(line.label);
}

/**
 * A line chart of `lines` over the bucket starts `xs` (Unix seconds), with a unit on the y axis.
 * `onPick` receives the time range a drag selects (Unix ms), to zoom the page's range.
 */
export function TimeChart({ xs, lines, unit, height = 220, onPick, label }: { xs: number[]; lines: Line[]; unit: string; height?: number; onPick?: (fromMs: number, toMs: number) => void; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dark = useDark();
  const pick = useRef(onPick);
  pick.current = onPick;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = cssVar('--muted', dark ? '#9aa3b2' : '#667085');
    const grid = cssVar('--border', dark ? '#2a303b' : '#e1e4ea');
    const axis: uPlot.Axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      series: [
        {},
        ...lines.map((l) => ({
          label: l.label,
          stroke: lineColor(l),
          width: 1.5,
          spanGaps: false,
          // Sparse series (a few exports in a long range) would draw nothing as lines alone.
          points: { show: xs.length < 60 || l.values.filter((v) => v !== null).length < 40, size: 5 },
          ...(l.dash ? { dash: [6, 4] } : {}),
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : formatValue(v, unit)),
        })),
      ],
      axes: [
        { ...axis },
        {
          ...axis,
          values: (_u, vals) => vals.map((v) => formatValue(v, unit)),
          // Wide enough for the longest label ("1.25k order/s"), about 7 px a character.
          size: (_u, vals) => Math.max(40, ...(vals ?? []).map((v) => String(v).length * 7 + 18)),
        },
      ],
      scales: { x: { time: true } },
      cursor: { drag: { x: true, y: false } },
      legend: { show: true },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4 || !pick.current) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            pick.current(Math.round(a * 1000), Math.round(b * 1000));
          },
        ],
      },
    };
    const data = [xs, ...lines.map((l) => l.values)] as uPlot.AlignedData;
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [xs, lines, unit, height, dark]);
  return <div className="chart" ref={box} role="img" aria-label={label} />;
}

/** A value with its unit, short: 1.2 s, 340 ms, 12/s, 3.4k. */
export function formatValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return String(v);
  if (unit === 's') {
    const a = Math.abs(v);
    if (a === 0) return '0';
    if (a < 1e-3) return `${+(v * 1e6).toPrecision(3)} µs`;
    if (a < 1) return `${+(v * 1e3).toPrecision(3)} ms`;
    return `${+v.toPrecision(3)} s`;
  }
  if (unit === 'ms') return v >= 1000 ? `${+(v / 1000).toPrecision(3)} s` : `${+v.toPrecision(3)} ms`;
  const a = Math.abs(v);
  const short = a >= 1e9 ? `${+(v / 1e9).toPrecision(3)}G` : a >= 1e6 ? `${+(v / 1e6).toPrecision(3)}M` : a >= 1e4 ? `${+(v / 1e3).toPrecision(3)}k` : `${+v.toPrecision(4)}`;
  const u = unit.replace(/^\{.*\}$/, '');
  return u && u !== '1' ? `${short} ${u}` : short;
}

export interface HeatRowData {
  lower?: number | null;
  upper?: number | null;
  counts: number[];
}

/** Observations per value range (rows, lowest at the bottom) and time bucket (columns). */
export function Heatmap({ rows, unit, fromMs, stepMs, label }: { rows: HeatRowData[]; unit: string; fromMs: number; stepMs: number; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const dark = useDark();
  const [hover, setHover] = useState<string | null>(null);
  const cols = rows[0]?.counts.length ?? 0;
  const max = Math.max(1, ...rows.flatMap((r) => r.counts));
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const draw = () => {
      const w = c.clientWidth;
      const h = c.clientHeight;
      const dpr = window.devicePixelRatio || 1;
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      const ctx = c.getContext('2d');
      if (!ctx) return;
      ctx.scale(dpr, dpr);
      ctx.clearRect(0, 0, w, h);
      const cw = w / Math.max(cols, 1);
      const rh = h / Math.max(rows.length, 1);
      const accent = cssVar('--accent', dark ? '#6f8dff' : '#315efb');
      rows.forEach((r, ri) => {
        r.counts.forEach((n, ci) => {
          if (!n) return;
          // Log intensity: a single slow request stays visible beside thousands of fast ones.
          ctx.globalAlpha = 0.15 + 0.85 * (Math.log1p(n) / Math.log1p(max));
          ctx.fillStyle = accent;
          ctx.fillRect(ci * cw, h - (ri + 1) * rh, Math.ceil(cw), Math.ceil(rh));
        });
      });
      ctx.globalAlpha = 1;
    };
    draw();
    const ro = new ResizeObserver(draw);
    ro.observe(c);
    return () => ro.disconnect();
  }, [rows, cols, max, dark]);
  const bound = (v: number | null | undefined, open: string) => (v === null || v === undefined ? open : formatValue(v, unit));
  return (
    <div className="heatmap">
      <div className="heat-axis">
        <span>{bound(rows[rows.length - 1]?.upper, '∞')}</span>
        <span>{bound(rows[0]?.lower ?? rows[0]?.upper, '−∞')}</span>
      </div>
      <canvas
        ref={canvas}
        role="img"
        aria-label={label}
        onMouseMove={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          const ci = Math.floor(((e.clientX - r.left) / r.width) * cols);
          const ri = rows.length - 1 - Math.floor(((e.clientY - r.top) / r.height) * rows.length);
          const row = rows[ri];
          if (!row) return setHover(null);
          const at = new Date(fromMs + ci * stepMs).toLocaleTimeString();
          setHover(`${at}: ${row.counts[ci] ?? 0} between ${bound(row.lower, '−∞')} and ${bound(row.upper, '∞')}`);
        }}
        onMouseLeave={() => setHover(null)}
      />
      <div className="muted small heat-hover">{hover ?? 'Darker: more observations in that range and time.'}</div>
    </div>
  );
}
