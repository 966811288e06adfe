import { describe, expect, it } from 'vitest';
import { ago, bytes, clock, duration, nsToMs, plural, shortUrl } from './format';

describe('duration', () => {
  it('picks a unit people read at a glance', () => {
    expect(duration(0.25)).toBe('250 µs');
    expect(duration(3.25)).toBe('3.3 ms');
    expect(duration(42)).toBe('42 ms');
    expect(duration(1234)).toBe('1.23 s');
    expect(duration(5000)).toBe('5 s');
    expect(duration(12_345)).toBe('12.3 s');
    expect(duration(245_000)).toBe('4 min 05 s');
    expect(duration(7_380_000)).toBe('2 h 03 min');
    expect(duration(null)).toBe('—');
  });
});

describe('clock', () => {
  it('counts like a media player', () => {
    expect(clock(7_900)).toBe('0:07');
    expect(clock(754_000)).toBe('12:34');
    expect(clock(3_723_000)).toBe('1:02:03');
    expect(clock(-5)).toBe('0:00');
    expect(clock(7_460, true)).toBe('0:07.4');
    expect(clock(312, true)).toBe('0:00.3');
  });
});

describe('ago', () => {
  const now = 1_800_000_000_000;
  it('says how long ago, coarsely', () => {
    expect(ago(now - 1_000, now)).toBe('just now');
    expect(ago(now - 42_000, now)).toBe('42 s ago');
    expect(ago(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(ago(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(ago(now - 30 * 3_600_000, now)).toBe('yesterday');
    expect(ago(now - 3 * 86_400_000, now)).toBe('3 days ago');
  });
});

describe('units', () => {
  it('formats sizes, nanosecond strings and URLs', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(4_470_000_000)).toBe('4.2 GiB');
    expect(nsToMs('1763000000123456789')).toBeCloseTo(1763000000123.4568, 2);
    expect(nsToMs(null)).toBeNull();
    expect(shortUrl('https://shop.example/checkout?step=2')).toBe('/checkout?step=2');
    expect(shortUrl('/api/pay')).toBe('/api/pay');
    expect(plural(1, 'session')).toBe('1 session');
    expect(plural(2431, 'session')).toBe('2,431 sessions');
  });
});
