// One connection to the engine's live stream (/api/v1/stream) for the whole page: views
// subscribe to what changed, and the shell learns from it whether the engine is there
// (the browser reconnects on its own when it comes back).

export type StreamKind = 'sessions' | 'traces' | 'logs' | 'resync' | 'ingest' | 'incidents';
type Listener = (kind: StreamKind, data: unknown) => void;
type ConnectionListener = (up: boolean) => void;

const listeners = new Set<Listener>();
const connection = new Set<ConnectionListener>();
let source: EventSource | null = null;
let up: boolean | null = null;

function setUp(next: boolean) {
  if (up === next) return;
  up = next;
  for (const l of connection) l(next);
}

function open() {
  if (source) return;
  const es = new EventSource('/api/v1/stream');
  source = es;
  es.onopen = () => setUp(true);
  es.onerror = () => setUp(false);
  for (const kind of ['sessions', 'traces', 'logs', 'resync', 'ingest', 'incidents'] as StreamKind[]) {
    es.addEventListener(kind, (ev) => {
      let data: unknown = null;
      try {
        data = JSON.parse(String((ev as MessageEvent).data));
      } catch {
        /* a bare event is still a change */
      }
      for (const l of listeners) l(kind, data);
    });
  }
}

export function subscribe(l: Listener): () => void {
  open();
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Called now (if known) and whenever the engine goes away or comes back. */
export function onConnection(l: ConnectionListener): () => void {
  open();
  connection.add(l);
  if (up !== null) l(up);
  return () => connection.delete(l);
}
