// Numbers and times for people: durations such as "1.2 s", relative times, the time zone.

/** A duration in milliseconds: "850 µs", "12 ms", "1.2 s", "4 min 05 s", "2 h 03 min". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const a = Math.abs(ms);
  if (a < 1) return `${Math.round(ms * 1000)} µs`;
  if (a < 10) return `${trim(ms.toFixed(1))} ms`;
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 10_000) return `${trim((ms / 1000).toFixed(2))} s`;
  if (a < 60_000) return `${trim((ms / 1000).toFixed(1))} s`;
  const s = Math.round(a / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
}

/** A replay clock: "0:07", "12:34", "1:02:03"; with `tenths`, "0:07.4" (for short sessions). */
export function clock(ms: number, tenths = false): string {
  if (tenths && ms < 600_000) {
    const t = Math.max(0, Math.floor(ms / 100));
    return `${Math.floor(t / 600)}:${pad(Math.floor((t % 600) / 10))}.${t % 10}`;
  }
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago". */
export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) return '—';
  const d = now - ms;
  if (d < 5_000) return 'just now';
  if (d < 60_000) return `${Math.floor(d / 1000)} s ago`;
  if (d < 3_600_000) return `${Math.floor(d / 60_000)} min ago`;
  if (d < 86_400_000) return `${Math.floor(d / 3_600_000)} h ago`;
  const days = Math.floor(d / 86_400_000);
  return days === 1 ? 'yesterday' : `${days} days ago`;
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** A full local date and time with the zone, e.g. "Nov 22, 2026, 09:41:07 UTC". */
export function dateTimeWithZone(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : dateTime.format(new Date(ms));
}

export function timeOfDay(ms: number): string {
  return timeOnly.format(new Date(ms));
}

/** Nanosecond strings (they exceed 2^53) to milliseconds, precise enough for display. */
export function nsToMs(ns: string | null | undefined): number | null {
  if (!ns) return null;
  const n = Number(ns);
  return Number.isFinite(n) ? n / 1e6 : null;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${trim(v.toFixed(v < 10 ? 1 : 0))} ${units[i]}`;
}

export function count(n: number): string {
  return new Intl.NumberFormat().format(n);
}

/** "1 session", "2,431 sessions". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** A URL without its origin when it is the page's own kind of path: "/checkout?step=2". */
export function shortUrl(url: string | null | undefined): string {
  if (!url) return '—';
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}` || '/';
  } catch {
    return url;
  }
}

function pad(n: number): string {
  return n.toString().padStart(2, '0');
}

function trim(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
