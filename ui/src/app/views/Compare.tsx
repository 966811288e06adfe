// Compare two traces: structure and durations side by side (Jaeger's trace comparison), the
// differences marked and counted, each side's span one click away. With one trace named, it
// offers the other traces of the same root operation to compare with, or a pasted id.

import { useEffect, useMemo, useState } from 'react';
import { api, query, type TraceList, type TraceView as Trace } from '../api';
import { Failed, Loading } from '../components/common';
import { serviceColor, spanLabel } from '../components/Waterfall';
import { compareTraces, type Change } from '../compare';
import { ago, duration, nsToMs } from '../format';
import { useLoad } from '../hooks';
import { href, navigate } from '../router';

const CHANGE_LABEL: Record<Change, string> = {
  same: '',
  added: 'only in B',
  removed: 'only in A',
  more: 'more spans in B',
  fewer: 'fewer spans in B',
  slower: 'slower in B',
  faster: 'faster in B',
};

function span(t: Trace) {
  const starts = t.spans.map((s) => nsToMs(s.startTimeUnixNano) ?? Infinity);
  const ends = t.spans.map((s) => nsToMs(s.endTimeUnixNano) ?? -Infinity);
  return Math.max(Math.max(...ends) - Math.min(...starts), 0);
}

export function CompareView({ params }: { params: URLSearchParams }) {
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  const load = (id: string) => (signal: AbortSignal) => api.get<Trace>(`/traces/${encodeURIComponent(id)}`, signal);
  const ta = useLoad<Trace | null>(`cmp-a|${a}`, (signal) => (a ? load(a)(signal) : Promise.resolve(null)));
  const tb = useLoad<Trace | null>(`cmp-b|${b}`, (signal) => (b ? load(b)(signal) : Promise.resolve(null)));
  // What a load kept from the previous id is not this id's trace.
  const traceA = ta.data && ta.data.traceId === a ? ta.data : null;
  const traceB = tb.data && tb.data.traceId === b ? tb.data : null;
  const rows = useMemo(() => (traceA && traceB ? compareTraces(traceA.spans, traceB.spans) : []), [traceA, traceB]);
  const [onlyChanges, setOnlyChanges] = useState(false);
  const set = (k: 'a' | 'b', v: string) => navigate(href(['compare'], { a: k === 'a' ? v : a, b: k === 'b' ? v : b }), true);

  const header = (
    <div className="toolbar">
      <h1>Compare traces</h1>
      <TraceInput label="A" value={a} set={(v) => set('a', v)} />
      <TraceInput label="B" value={b} set={(v) => set('b', v)} />
      {a && b && (
        <button className="btn small" onClick={() => navigate(href(['compare'], { a: b, b: a }), true)} title="Swap A and B">
          ⇄ Swap
        </button>
      )}
      <div className="grow" />
      {rows.length > 0 && (
        <label className="toggle">
          <input type="checkbox" checked={onlyChanges} onChange={(e) => setOnlyChanges(e.target.checked)} /> only differences
        </label>
      )}
    </div>
  );
  const failed = [
    [ta, traceA],
    [tb, traceB],
  ].find(([t, d]) => (t as typeof ta).error && !d)?.[0] as typeof ta | undefined;
  if (failed?.error)
    return (
      <>
        {header}
        {failed.error.status === 404 ? (
          <div className="state">
            <h2>No such trace</h2>
            <div>{failed.error.message}</div>
          </div>
        ) : (
          <Failed error={failed.error} retry={failed.reload} />
        )}
      </>
    );
  if (!a)
    return (
      <>
        {header}
        <div className="state">
          <h2>Pick two traces</h2>
          <div>Paste a trace id as A and B, or open a trace and choose “Compare…”.</div>
        </div>
      </>
    );
  if (!traceA) return <>{header}<Loading what="trace A" /></>;
  if (!b) return <>{header}<Candidates a={traceA} pick={(id) => set('b', id)} /></>;
  if (!traceB) return <>{header}<Loading what="trace B" /></>;
  const A = traceA;
  const B = traceB;
  const changed = rows.filter((r) => r.change !== 'same');
  const shown = onlyChanges ? changed : rows;
  const rootA = A.spans.find((s) => !s.parentSpanId) ?? A.spans[0];
  const rootB = B.spans.find((s) => !s.parentSpanId) ?? B.spans[0];
  const [da, db] = [span(A), span(B)];
  return (
    <>
      {header}
      <div className="page">
        <div className="cards compare-cards">
          <div className="card">
            <div className="k">A</div>
            <div className="v">{duration(da)}</div>
            <div className="small muted">
              <a href={href(['traces', a])}>{rootA ? spanLabel(rootA) : a}</a> · {A.spans.length} spans
            </div>
          </div>
          <div className="card">
            <div className="k">B</div>
            <div className="v">{duration(db)}</div>
            <div className="small muted">
              <a href={href(['traces', b])}>{rootB ? spanLabel(rootB) : b}</a> · {B.spans.length} spans
            </div>
          </div>
          <div className="card">
            <div className="k">B − A</div>
            <div className="v" style={{ color: db > da ? 'var(--error)' : undefined }}>
              {db >= da ? '+' : '−'}
              {duration(Math.abs(db - da))}
            </div>
            <div className="small muted">{changed.length ? `${changed.length} operations differ` : 'same structure and times'}</div>
          </div>
        </div>
        <table className="grid compare" aria-label="The two traces, operation by operation">
          <thead>
            <tr>
              <th>Operation</th>
              <th className="num">Spans A</th>
              <th className="num">Time A</th>
              <th className="num">Spans B</th>
              <th className="num">Time B</th>
              <th className="num">Δ time</th>
              <th>Difference</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => {
              const d = r.b.totalMs - r.a.totalMs;
              return (
                <tr key={r.key} className={`chg-${r.change}`} data-change={r.change}>
                  <td style={{ paddingLeft: 10 + r.depth * 16 }}>
                    <span className="dot" style={{ background: serviceColor(r.service) }} /> <span className="muted small">{r.service}</span>{' '}
                    <span style={{ color: r.a.errors || r.b.errors ? 'var(--error)' : undefined }}>{r.name}</span>
                  </td>
                  <td className="num">{r.a.spanId ? <a href={href(['traces', a], { span: r.a.spanId })}>{r.a.count}</a> : '—'}</td>
                  <td className="num">{r.a.count ? duration(r.a.totalMs) : '—'}</td>
                  <td className="num">{r.b.spanId ? <a href={href(['traces', b], { span: r.b.spanId })}>{r.b.count}</a> : '—'}</td>
                  <td className="num">{r.b.count ? duration(r.b.totalMs) : '—'}</td>
                  <td className="num">{r.a.count && r.b.count ? `${d >= 0 ? '+' : '−'}${duration(Math.abs(d))}` : ''}</td>
                  <td>
                    {r.change !== 'same' && <span className={`badge chg ${r.change}`}>{CHANGE_LABEL[r.change]}</span>}
                    {(r.a.errors > 0) !== (r.b.errors > 0) && <span className="badge error">{r.b.errors ? 'fails in B' : 'fails in A'}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p className="faint small">Operations are matched by their path from the root (service and name at each level); times are the sum over a node's spans.</p>
      </div>
    </>
  );
}

function TraceInput({ label, value, set }: { label: string; value: string; set: (v: string) => void }) {
  const [text, setText] = useState(value);
  // A pick from the list, Swap or Back change the value under the field.
  useEffect(() => setText(value), [value]);
  return (
    <label className="search" style={{ width: 300 }} title={`Trace ${label}: its 32-digit id`}>
      <b className="muted small" style={{ marginRight: 6 }}>
        {label}
      </b>
      <input
        aria-label={`Trace ${label}`}
        placeholder="trace id"
        className="mono"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => text.trim() !== value && set(text.trim().toLowerCase())}
        onKeyDown={(e) => e.key === 'Enter' && set(text.trim().toLowerCase())}
      />
    </label>
  );
}

/** Other traces of A's root operation (the same request, another time), to compare with. */
function Candidates({ a, pick }: { a: Trace; pick: (id: string) => void }) {
  const root = a.spans.find((s) => !s.parentSpanId) ?? a.spans[0];
  const list = useLoad<TraceList>(`cmp-cands|${root?.name ?? ''}|${root?.serviceName ?? ''}`, (signal) =>
    api.get<TraceList>(`/traces${query({ name: root?.name, service: root?.serviceName ?? undefined, limit: 30 })}`, signal),
  );
  const others = (list.data?.traces ?? []).filter((t) => t.traceId !== a.traceId);
  return (
    <div className="page">
      <h2>Compare {root ? spanLabel(root) : 'this trace'} with…</h2>
      {list.error && !list.data ? (
        <Failed error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="traces of the same operation" />
      ) : others.length === 0 ? (
        <div className="muted">No other trace of this operation is stored; paste an id as B.</div>
      ) : (
        <table className="grid" aria-label="Traces of the same operation">
          <thead>
            <tr>
              <th>Trace</th>
              <th className="num">Started</th>
              <th className="num">Duration</th>
              <th className="num">Spans</th>
              <th className="num">Errors</th>
            </tr>
          </thead>
          <tbody>
            {others.map((t) => (
              <tr key={t.traceId} onClick={() => pick(t.traceId)} style={{ cursor: 'pointer' }}>
                <td className="mono">
                  <a
                    href={href(['compare'], { a: a.traceId, b: t.traceId })}
                    onClick={(e) => {
                      e.preventDefault();
                      pick(t.traceId);
                    }}
                  >
                    {t.traceId.slice(0, 16)}
                  </a>
                </td>
                <td className="num">{ago(nsToMs(t.startTimeUnixNano) ?? 0)}</td>
                <td className="num">{duration(t.durationMs ?? 0)}</td>
                <td className="num">{t.spanCount}</td>
                <td className="num" style={{ color: t.errorCount ? 'var(--error)' : undefined }}>
                  {t.errorCount || ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
