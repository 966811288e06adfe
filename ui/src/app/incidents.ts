// Incident windows in the UI: one shared, polled list (the banner, the Incidents page and its
// controls read it), the actions, and how a window is described.

import { useEffect, useState } from 'react';
import { api, type Incident, type IncidentScope } from './api';
import { clock } from './format';
import { subscribe } from './stream';

/** The live stream announces every change to the windows; polling too is the fallback for a
 * stream that dropped (it reconnects by itself, but a change may fall in the gap). */
const POLL_MS = 60_000;

type Listener = (incidents: Incident[] | null) => void;
const listeners = new Set<Listener>();
let latest: Incident[] | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
let unsubscribe: (() => void) | null = null;

export async function refreshIncidents(): Promise<void> {
  try {
    const answer = await api.get<{ incidents: Incident[] }>('/incidents');
    latest = answer.incidents;
  } catch {
    /* the shell shows an engine that does not answer; keep what was known */
  }
  for (const l of listeners) l(latest);
}

/** The windows, newest first, kept fresh while any view uses them. */
export function useIncidents(): Incident[] | null {
  const [list, setList] = useState<Incident[] | null>(latest);
  useEffect(() => {
    listeners.add(setList);
    if (!timer) {
      void refreshIncidents();
      timer = setInterval(() => void refreshIncidents(), POLL_MS);
      unsubscribe = subscribe((kind) => {
        if (kind === 'incidents' || kind === 'resync') void refreshIncidents();
      });
    }
    return () => {
      listeners.delete(setList);
      if (listeners.size === 0 && timer) {
        clearInterval(timer);
        timer = null;
        unsubscribe?.();
        unsubscribe = null;
      }
    };
  }, []);
  return list;
}

/** The current time, ticking every second while `on`. */
export function useNow(on: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}

/** Windows still capturing at `now` (the server's `active` can be up to a poll old). */
export function activeAt(list: Incident[] | null, now: number): Incident[] {
  return (list ?? []).filter((i) => i.startedMs <= now && now < i.untilMs);
}

export function describeScope(scope: IncidentScope): string {
  switch (scope.kind) {
    case 'all':
      return 'everyone';
    case 'user':
      return `user ${scope.value}`;
    case 'session':
      return `session ${scope.value}`;
    case 'url':
      return `pages matching ${scope.value}`;
  }
}

/** "12:04 left", "0:09 left". */
export function remaining(incident: Incident, now: number): string {
  return `${clock(Math.max(0, incident.untilMs - now))} left`;
}

export interface StartForm {
  minutes: number;
  scope: IncidentScope['kind'];
  value: string;
  label: string;
  ticketUrl: string;
}

/** The API request for a start form; a string says what is missing. */
export function startRequest(form: StartForm): Record<string, unknown> | string {
  if (!Number.isInteger(form.minutes) || form.minutes < 1 || form.minutes > 1440) return 'Minutes must be 1 to 1440.';
  const body: Record<string, unknown> = { minutes: form.minutes, startedBy: 'ui' };
  if (form.scope !== 'all') {
    const value = form.value.trim();
    if (!value) return `Name the ${form.scope === 'url' ? 'URL pattern' : form.scope} this window covers.`;
    body[form.scope] = value;
  }
  if (form.label.trim()) body.label = form.label.trim();
  if (form.ticketUrl.trim()) body.ticketUrl = form.ticketUrl.trim();
  return body;
}

export async function startIncident(body: Record<string, unknown>): Promise<Incident> {
  const started = await api.post<Incident>('/incidents', body);
  await refreshIncidents();
  return started;
}

export async function extendIncident(id: string, minutes: number): Promise<void> {
  await api.post(`/incidents/${encodeURIComponent(id)}/extend`, { minutes });
  await refreshIncidents();
}

export async function stopIncident(id: string): Promise<void> {
  await api.post(`/incidents/${encodeURIComponent(id)}/stop`, {});
  await refreshIncidents();
}
