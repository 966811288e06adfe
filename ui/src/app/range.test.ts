import { describe, expect, it } from 'vitest';
import { describeRange, fromLocalInput, relativeMs, resolveRange, toLocalInput } from './components/RangePicker';

describe('time ranges in the URL', () => {
  const now = 1_800_000_000_000;
  it('reads relative ranges and refuses anything else', () => {
    expect(relativeMs('15m')).toBe(900_000);
    expect(relativeMs('7d')).toBe(7 * 86_400_000);
    expect(relativeMs('0m')).toBeNull();
    expect(relativeMs('15 minutes')).toBeNull();
    expect(relativeMs(undefined)).toBeNull();
  });
  it('resolves a relative range against now, a fixed one as given, and falls back only when none is named', () => {
    expect(resolveRange(new URLSearchParams('range=1h'), now)).toEqual({ fromMs: now - 3_600_000, toMs: now });
    expect(resolveRange(new URLSearchParams('fromMs=1000&toMs=2000'), now, '1h')).toEqual({ fromMs: 1000, toMs: 2000 });
    expect(resolveRange(new URLSearchParams('fromMs=1000'), now, '1h')).toEqual({ fromMs: 1000 });
    expect(resolveRange(new URLSearchParams(''), now, '15m')).toEqual({ fromMs: now - 900_000, toMs: now });
    expect(resolveRange(new URLSearchParams(''), now)).toEqual({});
    // A garbled bound is no bound, never NaN sent to the engine.
    expect(resolveRange(new URLSearchParams('fromMs=abc'), now)).toEqual({});
  });
  it('names ranges on the button', () => {
    expect(describeRange('15m', undefined, undefined, 'Any time')).toBe('Last 15 minutes');
    expect(describeRange('90m', undefined, undefined, 'Any time')).toBe('Last 90m');
    expect(describeRange(undefined, undefined, undefined, 'Any time')).toBe('Any time');
    expect(describeRange(undefined, '1000', undefined, 'Any time')).toMatch(/^Since /);
    expect(describeRange(undefined, '1000', '2000', 'Any time')).toContain('→');
  });
  it('round-trips the local date-time inputs to the second', () => {
    const t = new Date(2026, 11, 4, 21, 37).getTime();
    expect(toLocalInput(t)).toBe('2026-12-04T21:37:00');
    expect(toLocalInput(t + 5_000)).toBe('2026-12-04T21:37:05');
    expect(fromLocalInput(toLocalInput(t))).toBe(t);
    expect(fromLocalInput('yesterday')).toBeNull();
  });
});
