// Read-only SQL over the documented views: the schema, ready-to-run examples, a result grid
// and CSV export.

import { useEffect, useState } from 'react';
import { api, ApiError, type SqlAnswer } from '../api';
import { count } from '../format';
import examples from '../sql-examples.json';

const VIEWS = ['sessions', 'session_events', 'session_traces', 'spans', 'logs', 'metrics'];

/** Ready-to-run examples; `tests/sql.rs` runs each against recorded data, so none goes stale.
 * The last three are the OpenTelemetry session-replay scheme's own questions, asked of its
 * events as the OTLP logs they are. */
export const EXAMPLES: [string, string][] = examples.map((e) => [e.label, e.sql]);

function csv(a: SqlAnswer): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [a.columns.map(cell).join(','), ...a.rows.map((r) => r.map(cell).join(','))].join('\n');
}

export function SqlView() {
  const [sql, setSql] = useState(() => localStorage.getItem('sightline.sql') ?? EXAMPLES[0]?.[1] ?? '');
  const [answer, setAnswer] = useState<SqlAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [schema, setSchema] = useState<Record<string, string[]>>({});
  useEffect(() => {
    void Promise.all(VIEWS.map((v) => api.post<SqlAnswer>('/sql', { sql: `SELECT * FROM ${v} LIMIT 0` }).then((a) => [v, a.columns] as const).catch(() => [v, []] as const))).then((all) => setSchema(Object.fromEntries(all)));
  }, []);
  const run = async (text = sql) => {
    setRunning(true);
    setError(null);
    localStorage.setItem('sightline.sql', text);
    try {
      setAnswer(await api.post<SqlAnswer>('/sql', { sql: text }));
    } catch (e) {
      setAnswer(null);
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setRunning(false);
    }
  };
  const download = () => {
    if (!answer) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv(answer)], { type: 'text/csv' }));
    a.download = 'sightline-query.csv';
    a.click();
    URL.revokeObjectURL(a.href);
  };
  return (
    <>
      <div className="toolbar">
        <h1>SQL</h1>
        <span className="muted small">Read-only, one statement, 5 s and 10,000 rows at most.</span>
      </div>
      <div style={{ display: 'grid', gridTemplateColumns: '240px minmax(0, 1fr)', flex: 1, minHeight: 0 }}>
        <aside className="facets" style={{ borderLeft: 0, borderRight: '1px solid var(--border)' }}>
          <h3>Examples</h3>
          {EXAMPLES.map(([label, text]) => (
            <div
              key={label}
              className="facet"
              onClick={() => {
                setSql(text);
                void run(text);
              }}
            >
              <span>{label}</span>
            </div>
          ))}
          <h3>Views</h3>
          {VIEWS.map((v) => (
            <details key={v} className="schema">
              <summary className="mono">{v}</summary>
              <div className="mono faint small">{(schema[v] ?? []).join(', ')}</div>
            </details>
          ))}
        </aside>
        <div style={{ display: 'flex', flexDirection: 'column', minHeight: 0 }}>
          <textarea
            className="editor"
            value={sql}
            spellCheck={false}
            aria-label="SQL"
            onChange={(e) => setSql(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void run();
              }
            }}
          />
          <div className="toolbar" style={{ borderTop: '1px solid var(--border)' }}>
            <button className="btn primary" onClick={() => void run()} disabled={running}>
              {running ? 'Running…' : 'Run'} <span className="kbd" style={{ color: 'inherit' }}>Ctrl ↵</span>
            </button>
            {answer && (
              <span className="muted small">
                {count(answer.rows.length)} rows{answer.truncated ? ' (truncated)' : ''} in {answer.elapsedMs.toFixed(1)} ms
              </span>
            )}
            <div className="grow" />
            <button className="btn" onClick={download} disabled={!answer}>
              Export CSV
            </button>
          </div>
          <div className="tab-body" style={{ background: 'var(--panel)' }}>
            {error && <div className="banner">{error}</div>}
            {answer && (
              <table className="grid results">
                <thead>
                  <tr>
                    {answer.columns.map((c) => (
                      <th key={c}>{c}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {answer.rows.map((r, i) => (
                    <tr key={i}>
                      {r.map((v, j) => (
                        <td key={j} className={typeof v === 'number' ? 'num mono' : 'mono'} title={typeof v === 'string' ? v : undefined}>
                          {v === null ? <span className="faint">null</span> : typeof v === 'string' ? v : JSON.stringify(v)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {!answer && !error && <div className="empty-hint">Run a query, or pick an example.</div>}
          </div>
        </div>
      </div>
    </>
  );
}
