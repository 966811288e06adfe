// Metrics: the instruments by service on the left; the chosen one charted over the page's range
// on the right — lines per attribute set or per value of a group-by key, percentiles, a heatmap
// and observation rates for histograms, filters on attribute values, the series as a table, and
// the exemplars that lead to their traces. Everything chosen is in the URL.

import { useEffect, useMemo, useRef } from 'react';
import { api, query, type InstrumentList, type MetricChart } from '../api';
import { formatValue, Heatmap, TimeChart, type Line } from '../components/Chart';
import { Failed, Loading } from '../components/common';
import { RangePicker, resolveRange } from '../components/RangePicker';
import { serviceColor } from '../components/Waterfall';
import { dateTimeWithZone, nsToMs, plural } from '../format';
import { attributeQuery, hrefWithAttributes, withAttribute } from '../filters';
import { useKeys, useLoad } from '../hooks';
import { href, navigate } from '../router';

/** The range a metrics page shows when its URL names none. */
const DEFAULT_RANGE = '1h';
/** Buckets across a chart: about one every 8 px on a 1280 px screen. */
const BUCKETS = 120;

const QUANTILE_COLORS = ['#12b76a', '#f79009', '#d92d20', '#7a5af8'];

export function MetricsView({ params }: { params: URLSearchParams }) {
  const get = (k: string) => params.get(k) ?? undefined;
  const state = {
    range: get('range'),
    fromMs: get('fromMs'),
    toMs: get('toMs'),
    service: get('service'),
    name: get('name'),
    groupBy: get('groupBy'),
  };
  const filters = params.getAll('attribute');
  const rangeKey = `${state.range ?? ''}|${state.fromMs ?? ''}|${state.toMs ?? ''}`;
  const go = (next: Record<string, string | null | undefined>, attrs: string[] = filters) => {
    const merged: Record<string, string | undefined> = { ...state };
    for (const [k, v] of Object.entries(next)) merged[k] = v ?? undefined;
    navigate(hrefWithAttributes(['metrics'], merged, attrs), true);
  };
  const list = useLoad<InstrumentList>(`instruments|${rangeKey}`, (signal) => {
    const r = resolveRange(params, Date.now(), DEFAULT_RANGE);
    return api.get<InstrumentList>(`/metrics${query({ fromMs: r.fromMs, toMs: r.toMs })}`, signal);
  });
  const instruments = list.data?.instruments ?? [];
  const selected = instruments.find((i) => i.name === state.name && (i.serviceName ?? '') === (state.service ?? ''));
  // Open on the first instrument with data, so the page is never an empty frame.
  useEffect(() => {
    if (!state.name && instruments.length) {
      const first = instruments.find((i) => i.pointCount > 0) ?? instruments[0];
      if (first) go({ name: first.name, service: first.serviceName ?? null, groupBy: null }, []);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [instruments, state.name]);
  const index = instruments.findIndex((i) => i === selected);
  const choose = (i: number) => {
    const m = instruments[Math.max(0, Math.min(i, instruments.length - 1))];
    if (m) go({ name: m.name, service: m.serviceName ?? null, groupBy: null }, []);
  };
  useKeys({ j: () => choose(index + 1), k: () => choose(index - 1), ArrowDown: () => choose(index + 1), ArrowUp: () => choose(index - 1) });

  const byService = useMemo(() => {
    const m = new Map<string, typeof instruments>();
    for (const i of instruments) {
      const k = i.serviceName ?? '(no service)';
      m.set(k, [...(m.get(k) ?? []), i]);
    }
    return [...m.entries()];
  }, [instruments]);

  return (
    <>
      <div className="toolbar">
        <h1>Metrics</h1>
        <RangePicker value={{ range: state.range ?? (state.fromMs || state.toMs ? undefined : DEFAULT_RANGE), fromMs: state.fromMs, toMs: state.toMs }} set={(v) => go(v)} />
        <div className="grow" />
        {list.data && <span className="muted small">{plural(instruments.length, 'instrument')}</span>}
      </div>
      {list.error && !list.data ? (
        <Failed error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="metrics" />
      ) : instruments.length === 0 ? (
        <div className="state">
          <h2>No metrics yet</h2>
          <div>
            Metrics sent over OTLP (<code>/v1/metrics</code>) appear here: an SDK's meter provider with an OTLP exporter pointed at Sightline. The demo shop's services send theirs.
          </div>
        </div>
      ) : (
        <div className="metrics">
          <nav className="instruments" aria-label="Instruments">
            {byService.map(([service, list]) => (
              <div key={service}>
                <div className="inst-service">
                  <span className="dot" style={{ background: serviceColor(service) }} /> {service}
                </div>
                {list.map((i) => (
                  <a
                    key={`${service}/${i.name}`}
                    className={`inst ${i === selected ? 'on' : ''} ${i.pointCount === 0 ? 'faint' : ''}`}
                    href={href(['metrics'], { ...state, name: i.name, service: i.serviceName ?? undefined, groupBy: undefined })}
                    aria-current={i === selected ? 'page' : undefined}
                    title={i.description || i.name}
                  >
                    <span className="ellipsis">{i.name}</span>
                    <span className="kind">{KIND_SHORT[i.kind] ?? i.kind}</span>
                  </a>
                ))}
              </div>
            ))}
          </nav>
          <section className="metric-pane">
            {selected ? (
              <ChartPane key={`${selected.serviceName}/${selected.name}`} params={params} service={selected.serviceName ?? undefined} name={selected.name} groupBy={state.groupBy} filters={filters} rangeKey={rangeKey} go={go} />
            ) : state.name ? (
              <div className="state">
                <h2>No instrument “{state.name}”</h2>
                <div>{state.service ? `${state.service} has sent no metric by that name.` : 'Nothing by that name is stored.'} Pick one on the left.</div>
              </div>
            ) : (
              <Loading what="the chart" />
            )}
          </section>
        </div>
      )}
    </>
  );
}

const KIND_SHORT: Record<string, string> = {
  gauge: 'gauge',
  sum: 'sum',
  histogram: 'histogram',
  exponential_histogram: 'exp hist',
  summary: 'summary',
  empty: 'no data',
};

function ChartPane({
  params,
  service,
  name,
  groupBy,
  filters,
  rangeKey,
  go,
}: {
  params: URLSearchParams;
  service: string | undefined;
  name: string;
  groupBy: string | undefined;
  filters: string[];
  rangeKey: string;
  go: (next: Record<string, string | null | undefined>, attrs?: string[]) => void;
}) {
  const key = JSON.stringify([service, name, groupBy, filters, rangeKey]);
  const chart = useLoad<MetricChart>(key, (signal) => {
    const r = resolveRange(params, Date.now(), DEFAULT_RANGE);
    const q = query({ name, service, groupBy, buckets: BUCKETS, fromMs: r.fromMs, toMs: r.toMs });
    return api.get<MetricChart>(`/metrics/chart${q}${attributeQuery(filters)}`, signal);
  });
  const c = chart.data;
  const xs = useMemo(() => {
    if (!c) return [];
    const from = Number(c.fromUnixNano) / 1e9;
    const step = Number(c.stepNano) / 1e9;
    return Array.from({ length: c.buckets }, (_, i) => from + i * step);
  }, [c]);
  const distribution = c ? ['histogram', 'exponential_histogram', 'summary'].includes(c.instrument.kind) : false;
  const unit = c?.instrument.unit ?? '';
  const valueLines: Line[] = useMemo(() => (c ? c.series.map((s) => ({ label: s.label, values: s.values })) : []), [c]);
  const quantileLines: Line[] = useMemo(() => {
    if (!c || !distribution) return [];
    // One series: every percentile; several (grouped): each group's p95.
    if (c.series.length === 1) {
      return (c.series[0]?.quantiles ?? []).map((q, i) => ({ label: `p${Math.round(q.quantile * 100)}`, values: q.values, color: QUANTILE_COLORS[i % QUANTILE_COLORS.length] }));
    }
    return c.series.map((s) => {
      const q = s.quantiles.find((x) => Math.abs(x.quantile - 0.95) < 1e-9) ?? s.quantiles[s.quantiles.length - 1];
      // The group's own colour, as in the rate chart below.
      return { label: `${s.label} p95`, values: q?.values ?? [], color: serviceColor(s.label) };
    });
  }, [c, distribution]);
  const zoom = (fromMs: number, toMs: number) => go({ range: null, fromMs: String(fromMs), toMs: String(toMs) });
  const selectRef = useRef<HTMLSelectElement>(null);
  if (chart.error && !c) return <Failed error={chart.error} retry={chart.reload} />;
  if (!c) return <Loading what={name} />;
  const inst = c.instrument;
  const activeFilters = new Map(filters.map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
  const setFilter = (k: string, v: string | null) => {
    go({}, v === null ? filters.filter((f) => !f.startsWith(`${k}=`)) : withAttribute(filters, k, v));
  };
  const empty = c.series.length === 0;
  return (
    <div className={`metric-detail ${chart.loading ? 'reloading' : ''}`}>
      <div className="metric-head">
        <h2 className="mono">{inst.name}</h2>
        <span className="kind">{KIND_SHORT[inst.kind] ?? inst.kind}</span>
        {inst.unit && <span className="muted small">unit {inst.unit}</span>}
        {inst.temporality !== 'unspecified' && (
          <span className="muted small">
            {inst.temporality}
            {inst.kind === 'sum' ? (inst.monotonic ? ', monotonic' : ', up-down') : ''}
          </span>
        )}
        <div className="grow" />
        <span className="muted small">
          {plural(c.pointsRead, 'point')} · {c.measure}
          {c.truncated ? ' · only the first points were read: narrow the range' : ''}
        </span>
      </div>
      {inst.description && <div className="muted small" style={{ margin: '2px 0 10px' }}>{inst.description}</div>}
      <div className="metric-controls">
        <label className="small muted">
          Group by{' '}
          <select ref={selectRef} className="speed" value={groupBy ?? ''} onChange={(e) => go({ groupBy: e.target.value || null })} aria-label="Group by">
            <option value="">{distribution ? 'nothing (all together)' : 'attribute set'}</option>
            {c.attributeKeys.map((k) => (
              <option key={k.key} value={k.key}>
                {k.key}
              </option>
            ))}
          </select>
        </label>
        {c.attributeKeys.map((k) => (
          <label key={k.key} className="small muted dim-filter">
            {k.key}{' '}
            <select className="speed" value={activeFilters.get(k.key) ?? ''} onChange={(e) => setFilter(k.key, e.target.value || null)} aria-label={`Filter ${k.key}`}>
              <option value="">any</option>
              {k.values.map((v) => (
                <option key={v} value={v}>
                  {v || '(empty)'}
                </option>
              ))}
            </select>
          </label>
        ))}
        {[...activeFilters.entries()]
          .filter(([k]) => !c.attributeKeys.some((a) => a.key === k))
          .map(([k, v]) => (
            <button key={k} className="chip on" onClick={() => setFilter(k, null)}>
              {k}={v} <span className="x">✕</span>
            </button>
          ))}
      </div>
      {empty ? (
        <div className="state">
          <h2>No points in this range</h2>
          <div>{filters.length ? 'Loosen a filter, or widen the range.' : 'Widen the range: this instrument last reported ' + (inst.lastUnixNano ? dateTimeWithZone(nsToMs(inst.lastUnixNano) ?? 0) : 'never') + '.'}</div>
        </div>
      ) : (
        <>
          {distribution ? (
            <>
              <h3 className="chart-title">Percentiles</h3>
              <TimeChart xs={xs} lines={quantileLines} unit={unit} onPick={zoom} label={`${inst.name} percentiles`} />
              {c.heatmap.length > 0 && (
                <>
                  <h3 className="chart-title">Distribution over time</h3>
                  <Heatmap rows={c.heatmap} unit={unit} fromMs={Number(c.fromUnixNano) / 1e6} stepMs={Number(c.stepNano) / 1e6} label={`${inst.name} heatmap`} />
                </>
              )}
              <h3 className="chart-title">Observations per second</h3>
              <TimeChart xs={xs} lines={valueLines} unit="/s" height={140} onPick={zoom} label={`${inst.name} rate`} />
            </>
          ) : (
            <TimeChart xs={xs} lines={valueLines} unit={c.measure === 'per second' ? `${unit.replace(/^\{(.*)\}$/, '$1')}/s` : unit} onPick={zoom} label={`${inst.name} chart`} />
          )}
          <p className="faint small">Drag across a chart to zoom the range.</p>
          <SeriesTable chart={c} distribution={distribution} />
          {c.exemplars.some((e) => e.traceId) && (
            <>
              <h3 className="chart-title">Exemplars</h3>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Time</th>
                    <th className="num">Value</th>
                    <th>Trace</th>
                  </tr>
                </thead>
                <tbody>
                  {c.exemplars
                    .filter((e) => e.traceId)
                    .slice(0, 10)
                    .map((e, i) => (
                      <tr key={i} onClick={() => navigate(href(['traces', e.traceId], e.spanId ? { span: e.spanId } : {}))}>
                        <td>{dateTimeWithZone(nsToMs(e.timeUnixNano) ?? 0)}</td>
                        <td className="num">{e.value === null || e.value === undefined ? '—' : formatValue(e.value, unit)}</td>
                        <td>
                          <a className="mono" href={href(['traces', e.traceId], e.spanId ? { span: e.spanId } : {})}>
                            {e.traceId.slice(0, 16)}
                          </a>
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </div>
  );
}

function SeriesTable({ chart, distribution }: { chart: MetricChart; distribution: boolean }) {
  const unit = chart.instrument.unit;
  const q = (s: MetricChart['series'][number], quantile: number) => s.quantiles.find((x) => Math.abs(x.quantile - quantile) < 1e-9)?.overall;
  const fmt = (v: number | null | undefined, u = unit) => (v === null || v === undefined ? '—' : formatValue(v, u));
  return (
    <>
      <h3 className="chart-title">
        Series{chart.seriesCount > chart.series.length ? ` (the ${chart.series.length} busiest of ${chart.seriesCount})` : ''}
      </h3>
      <table className="grid">
        <thead>
          <tr>
            <th>Series</th>
            {distribution ? (
              <>
                <th className="num">Observations</th>
                <th className="num">p50</th>
                <th className="num">p95</th>
                <th className="num">p99</th>
              </>
            ) : chart.measure === 'per second' ? (
              <>
                <th className="num">Increase</th>
                <th className="num">Last total</th>
              </>
            ) : (
              <>
                <th className="num">Average</th>
                <th className="num">Last</th>
              </>
            )}
            <th className="num">Points</th>
          </tr>
        </thead>
        <tbody>
          {chart.series.map((s) => (
            <tr key={s.label}>
              <td className="mono small">{s.label}</td>
              {distribution ? (
                <>
                  <td className="num">{fmt(s.total, '')}</td>
                  <td className="num">{fmt(q(s, 0.5))}</td>
                  <td className="num">{fmt(q(s, 0.95))}</td>
                  <td className="num">{fmt(q(s, 0.99))}</td>
                </>
              ) : (
                <>
                  <td className="num">{fmt(s.total)}</td>
                  <td className="num">{fmt(s.last)}</td>
                </>
              )}
              <td className="num">{s.pointCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
