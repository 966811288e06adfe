// The time range of a list or chart, kept in the URL: a relative range (`range=15m`, moving with
// now each time the page loads) or a fixed one (`fromMs`, and `toMs` or open-ended), picked from
// presets or typed as local date and time, as Jaeger's and Aspire's pickers do.

import { useEffect, useRef, useState } from 'react';
import { dateTimeWithZone } from '../format';

/** The relative ranges offered, as `range` values. */
export const RELATIVE: [string, string][] = [
  ['5m', 'Last 5 minutes'],
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['6h', 'Last 6 hours'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
];

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m` → 900000; anything else → null. */
export function relativeMs(range: string | null | undefined): number | null {
  const m = /^(\d{1,4})([smhd])$/.exec(range ?? '');
  if (!m || !m[1] || !m[2]) return null;
  const n = Number(m[1]) * (UNIT_MS[m[2]] ?? 0);
  return n > 0 ? n : null;
}

export interface Range {
  fromMs?: number;
  toMs?: number;
}

/** The range a page's parameters name, resolved against `now`; `fallback` when they name none. */
export function resolveRange(params: URLSearchParams | Record<string, string | undefined>, now: number, fallback?: string): Range {
  const get = (k: string) => (params instanceof URLSearchParams ? params.get(k) : params[k]) ?? undefined;
  const rel = relativeMs(get('range') ?? (get('fromMs') || get('toMs') ? undefined : fallback));
  if (rel !== null) return { fromMs: now - rel, toMs: now };
  const num = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
  const out: Range = {};
  const from = num(get('fromMs'));
  const to = num(get('toMs'));
  if (from !== undefined) out.fromMs = from;
  if (to !== undefined) out.toMs = to;
  return out;
}

/** A list's filters as the API takes them: `range` resolved into `fromMs`/`toMs` at `now`. */
export function withRange(filters: Record<string, string>, now = Date.now()): Record<string, string | number> {
  const { range: _range, fromMs: _from, toMs: _to, ...rest } = filters;
  const r = resolveRange(filters, now);
  const out: Record<string, string | number> = { ...rest };
  if (r.fromMs !== undefined) out.fromMs = r.fromMs;
  if (r.toMs !== undefined) out.toMs = r.toMs;
  return out;
}

/** `filters` with the range the picker chose in place of the old one. */
export function rangeChanged(filters: Record<string, string>, v: { range: string | null; fromMs: string | null; toMs: string | null }): Record<string, string> {
  const next = { ...filters };
  for (const k of ['range', 'fromMs', 'toMs'] as const) {
    const value = v[k];
    if (value === null || value === '') delete next[k];
    else next[k] = value;
  }
  return next;
}

/** What a range is called on its button. */
export function describeRange(range: string | undefined, fromMs: string | undefined, toMs: string | undefined, anyLabel: string): string {
  const rel = RELATIVE.find(([k]) => k === range);
  if (rel) return rel[1];
  if (range && relativeMs(range)) return `Last ${range}`;
  if (fromMs && toMs) return `${dateTimeWithZone(Number(fromMs))} → ${dateTimeWithZone(Number(toMs))}`;
  if (fromMs) return `Since ${dateTimeWithZone(Number(fromMs))}`;
  if (toMs) return `Until ${dateTimeWithZone(Number(toMs))}`;
  return anyLabel;
}

/** Unix ms as the value of a `datetime-local` input (local time, to the second: a range zoomed
 * on a chart survives Apply unchanged). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A `datetime-local` value as Unix ms; null when it is not one. */
export function fromLocalInput(v: string): number | null {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(v)) return null;
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? t : null;
}

export interface RangeValue {
  range?: string | undefined;
  fromMs?: string | undefined;
  toMs?: string | undefined;
}

/**
 * The picker: a button naming the range; it opens presets and a from/to form. `set` receives the
 * three URL parameters (unset ones as null). With `anyLabel`, "any time" is offered too.
 */
export function RangePicker({ value, set, anyLabel }: { value: RangeValue; set: (v: { range: string | null; fromMs: string | null; toMs: string | null }) => void; anyLabel?: string }) {
  const [open, setOpen] = useState(false);
  const now = Date.now();
  const current = resolveRange({ range: value.range, fromMs: value.fromMs, toMs: value.toMs }, now);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    setFrom(toLocalInput(current.fromMs ?? now - 3_600_000));
    setTo(current.toMs !== undefined && !value.range ? toLocalInput(current.toMs) : '');
    setError(null);
    const away = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
    // Filled once per opening, from the range it opened on.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);
  const pick = (range: string | null) => {
    set({ range, fromMs: null, toMs: null });
    setOpen(false);
  };
  const apply = () => {
    const f = fromLocalInput(from);
    const t = to ? fromLocalInput(to) : null;
    if (f === null) return setError('Give a start (date and time).');
    if (to && t === null) return setError('The end is not a date and time.');
    if (t !== null && t <= f) return setError('The end must be after the start.');
    set({ range: null, fromMs: String(f), toMs: t === null ? null : String(t) });
    setOpen(false);
  };
  const label = describeRange(value.range, value.fromMs, value.toMs, anyLabel ?? 'Last hour');
  return (
    <div className="range-picker" ref={box} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <button className="chip" aria-haspopup="dialog" aria-expanded={open} onClick={() => setOpen(!open)} title="Time range">
        {label} ▾
      </button>
      {open && (
        <div className="range-pop" role="dialog" aria-label="Time range">
          <div className="range-presets">
            {anyLabel && (
              <button className={`btn small ${!value.range && !value.fromMs && !value.toMs ? 'on' : ''}`} onClick={() => pick(null)}>
                {anyLabel}
              </button>
            )}
            {RELATIVE.map(([k, name]) => (
              <button key={k} className={`btn small ${value.range === k ? 'on' : ''}`} onClick={() => pick(k)} autoFocus={value.range === k}>
                {name}
              </button>
            ))}
          </div>
          <form
            className="range-custom"
            onSubmit={(e) => {
              e.preventDefault();
              apply();
            }}
          >
            <label>
              From <input type="datetime-local" step={1} value={from} onChange={(e) => setFrom(e.target.value)} aria-label="From" />
            </label>
            <label>
              To <input type="datetime-local" step={1} value={to} onChange={(e) => setTo(e.target.value)} aria-label="To (empty: now)" />
            </label>
            <div className="range-actions">
              <span className="muted small">{to ? '' : 'No end: up to now.'}</span>
              <div className="grow" />
              <button className="btn primary small" type="submit">
                Apply
              </button>
            </div>
            {error && (
              <div className="err small" role="alert">
                {error}
              </div>
            )}
          </form>
        </div>
      )}
    </div>
  );
}
