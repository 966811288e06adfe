// A link to an incident window, named by its label when it has one: how records captured in a
// window say so.

import { useIncidents } from '../incidents';
import { href } from '../router';

export function IncidentChip({ id }: { id: string }) {
  const known = useIncidents()?.find((i) => i.id === id);
  return (
    <a className="badge incident" href={href(['incidents', id])} title={`Captured in incident window ${id}`} onClick={(e) => e.stopPropagation()}>
      ⚑ {known?.label ?? 'incident'}
    </a>
  );
}

/** The "incident only" filter of a list: off, any window (`any`), or one window (its id). */
export function IncidentFilter({ value, set }: { value: string | undefined; set: (v: string | null) => void }) {
  if (value && value !== 'any') {
    return (
      <button className="chip on" onClick={() => set(null)} title="Only what was captured in this incident window">
        incident {value} <span className="x">✕</span>
      </button>
    );
  }
  return (
    <button className={`chip ${value ? 'on' : ''}`} aria-pressed={!!value} onClick={() => set(value ? null : 'any')} title="Only what was captured in an incident window">
      Incident only
    </button>
  );
}
