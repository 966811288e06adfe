// Importing bundles from the UI: files dropped on the window or picked with "Import…" go to
// the engine one by one; the results are shared with whatever shows them (the drop overlay's
// report).

import { useEffect, useState } from 'react';
import { ApiError } from './api';

export interface ImportResult {
  file: string;
  ok: boolean;
  /** False when the bundle had been imported before. */
  imported?: boolean;
  sessions?: string[];
  spans?: number;
  logs?: number;
  message?: string;
}

type Listener = (results: ImportResult[], busy: boolean) => void;
const listeners = new Set<Listener>();
let results: ImportResult[] = [];
let busy = false;

function publish() {
  for (const l of listeners) l(results, busy);
}

/** Sends each file to the engine; resolves with what happened to each. */
export async function importFiles(files: File[]): Promise<ImportResult[]> {
  busy = true;
  results = [];
  publish();
  for (const f of files) {
    let r: ImportResult;
    try {
      const resp = await fetch('/api/v1/import', {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.sightline.bundle+sqlite3', 'x-file-name': f.name },
        body: f,
      });
      const body = (await resp.json().catch(() => null)) as Record<string, unknown> | null;
      if (!resp.ok) throw new ApiError(resp.status, String(body?.error ?? 'error'), String(body?.message ?? `HTTP ${resp.status}`));
      r = {
        file: f.name,
        ok: true,
        imported: body?.imported === true,
        sessions: (body?.sessions as string[] | undefined) ?? [],
        spans: Number(body?.spans ?? 0),
        logs: Number(body?.logs ?? 0),
      };
    } catch (e) {
      r = { file: f.name, ok: false, message: e instanceof ApiError ? e.message : 'Sightline is not answering.' };
    }
    results = [...results, r];
    publish();
  }
  busy = false;
  publish();
  return results;
}

export function clearImports() {
  results = [];
  publish();
}

export function useImports(): [ImportResult[], boolean] {
  const [state, setState] = useState<[ImportResult[], boolean]>([results, busy]);
  useEffect(() => {
    const l: Listener = (r, b) => setState([r, b]);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return state;
}

/** Whether a drag carries files (not text or a link dragged within the page). */
export function carriesFiles(e: DragEvent | React.DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}
