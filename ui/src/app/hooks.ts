// Data loading with the states every view shows: loading, error (with retry), and data;
// and the engine's live stream of changes.

import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';
import { subscribe, type StreamKind } from './stream';

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `key` changes; an unreachable engine is retried every few seconds. */
export function useLoad<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef
      .current(ctl.signal)
      .then((data) => {
        if (!ctl.signal.aborted) setState({ data, error: null, loading: false });
      })
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        const error = e instanceof ApiError ? e : new ApiError(0, 'error', String(e));
        setState((s) => ({ data: s.data, error, loading: false }));
      });
    return () => ctl.abort();
  }, [key, tick]);

  // An engine that is gone may come back: try again until it does.
  useEffect(() => {
    if (!state.error?.unreachable) return;
    const t = setTimeout(reload, 3000);
    return () => clearTimeout(t);
  }, [state.error, reload]);

  return { ...state, reload };
}

export type { StreamKind } from './stream';

/** Calls `on` for each change the engine announces (coalesced by the engine). */
export function useStream(on: (kind: StreamKind, data: unknown) => void): void {
  const onRef = useRef(on);
  onRef.current = on;
  useEffect(() => subscribe((kind, data) => onRef.current(kind, data)), []);
}

/** Global keyboard shortcuts that do not fire while typing. */
export function useKeys(map: Record<string, (e: KeyboardEvent) => void>): void {
  const ref = useRef(map);
  ref.current = map;
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
      // Enter and Space on a focused control are that control's own (a button, a link, a tab).
      if ((e.key === 'Enter' || e.key === ' ') && t?.closest?.('button, a, select, summary, [role="button"], [role="tab"], [role="separator"]')) return;
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      const f = ref.current[e.key];
      if (f) {
        e.preventDefault();
        f(e);
      }
    };
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, []);
}
