// Hash routes, so every view and state has a link that the engine can serve from one page:
// #/sessions, #/sessions/{id}?t=12.5s, #/traces/{traceId}?span={spanId}, #/logs?q=…

import { useEffect, useState } from 'react';

export interface Route {
  /** Path segments: ["sessions", "abc"]. */
  parts: string[];
  params: URLSearchParams;
}

export function parse(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/sessions';
  const [path = '', search = ''] = raw.split('?', 2);
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  return { parts: parts.length ? parts : ['sessions'], params: new URLSearchParams(search) };
}

export function href(parts: string[], params?: Record<string, string | number | undefined | null>): string {
  const path = parts.map(encodeURIComponent).join('/');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return `#/${path}${s ? `?${s}` : ''}`;
}

export function navigate(to: string, replace = false): void {
  if (replace) {
    history.replaceState(null, '', to);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = to.replace(/^#/, '');
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** "12.5s" or "12500ms" or "12.5" (seconds) from a `t` parameter, in milliseconds. */
export function parseOffset(t: string | null): number | null {
  if (!t) return null;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(t.trim());
  if (!m || m[1] === undefined) return null;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : n * 1000;
}
