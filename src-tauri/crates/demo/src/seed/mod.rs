//! `sightline dev seed`: a storefront's data at any volume, for benchmarks and for trying the
//! UI on a full database.
//!
//! Browser sessions (pages, pointer moves, clicks, inputs, scrolls, rage clicks, errors) whose
//! requests start backend traces across five services, and logs correlated with those traces.
//! Everything goes through the ingest path live data takes (OTLP normalisation, session
//! extraction, replay chunking and indexing) into the single writer, so the database is the
//! one a real storefront would produce. A fixed seed gives the same data every time.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use sightline_ingest::{normalize, replay};
use sightline_store::model::{Batch, ReplayChunkRow};
use sightline_store::Writer;

use crate::{DemoError, Result};

mod pages;
mod traces;

use pages::*;
use traces::*;

/// What to generate. Totals are targets: traces have whole shapes, so the counts written
/// (in [`SeedReport`]) land within a fraction of a percent.
#[derive(Debug, Clone)]
pub struct SeedConfig {
    pub sessions: usize,
    pub spans: u64,
    pub logs: u64,
    /// Sessions are spread evenly over the `hours` before this moment (Unix ms).
    pub end_ms: i64,
    pub hours: f64,
    pub seed: u64,
}

impl Default for SeedConfig {
    fn default() -> Self {
        Self {
            sessions: 10_000,
            spans: 5_000_000,
            logs: 5_000_000,
            end_ms: now_ms(),
            hours: 24.0,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub sessions: usize,
    pub traces: u64,
    pub spans: u64,
    pub logs: u64,
    pub replay_events: u64,
    pub replay_bytes: u64,
    /// The large traces (hex id, span count): a 1,000-span request in the first session and a
    /// 20,000-span background job, for measuring big waterfalls.
    pub big_traces: Vec<(String, usize)>,
    pub elapsed: Duration,
}

/// The sizes of the large traces added when the span budget allows.
pub const BIG_TRACES: [usize; 2] = [1_000, 20_000];

/// The id of the seeded trace of `spans` spans: `5eed` then the size, so it can be named
/// without a lookup.
pub fn big_trace_id(spans: usize) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..2].copy_from_slice(&[0x5e, 0xed]);
    id[8..].copy_from_slice(&(spans as u64).to_be_bytes());
    id
}

/// Batches waiting for the writer. Enough to keep a group commit full while the generator
/// builds the next ones; few enough that memory stays at tens of MiB.
const QUEUE: usize = 8;
/// Threads handing batches to the writer, so several are in one group commit.
const SUBMITTERS: usize = 3;
/// Spans (or logs) per generated OTLP request, as a busy SDK batch processor sends them.
const ROWS_PER_REQUEST: usize = 2_000;
/// rrweb events per replay batch: about what the recorder sends in one flush.
const EVENTS_PER_BATCH: usize = 60;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Generates and writes everything; `progress` is called now and then with what is done.
pub fn run(
    writer: &Writer,
    config: &SeedConfig,
    progress: impl FnMut(&SeedReport),
) -> Result<SeedReport> {
    let started = Instant::now();
    let (tx, rx) = mpsc::sync_channel::<Batch>(QUEUE);
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let submitters: Vec<_> = (0..SUBMITTERS)
        .map(|_| {
            let rx = rx.clone();
            let writer = writer.clone();
            std::thread::spawn(move || -> Result<()> {
                loop {
                    let next = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return Ok(()),
                    };
                    let Ok(batch) = next else { return Ok(()) };
                    writer
                        .write_blocking(batch)
                        .map_err(|e| DemoError::Seed(e.to_string()))?;
                }
            })
        })
        .collect();
    let generated = Generator::new(config).run(&tx, progress);
    drop(tx);
    let mut failure = generated.as_ref().err().map(ToString::to_string);
    for s in submitters {
        match s.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = failure.or(Some(e.to_string())),
            Err(_) => failure = failure.or(Some("a writer thread panicked".into())),
        }
    }
    if let Some(f) = failure {
        return Err(DemoError::Seed(f.to_string()));
    }
    let mut report = generated?;
    report.elapsed = started.elapsed();
    Ok(report)
}

struct Generator<'a> {
    config: &'a SeedConfig,
    rng: StdRng,
    report: SeedReport,
    spans: Vec<Placed>,
    logs: Vec<(Svc, LogRecord)>,
    chunks: Vec<ReplayChunkRow>,
    order: u32,
}

const SITE: &str = "https://shop.example";

impl<'a> Generator<'a> {
    fn new(config: &'a SeedConfig) -> Self {
        Self {
            config,
            rng: StdRng::seed_from_u64(config.seed),
            report: SeedReport::default(),
            spans: Vec::new(),
            logs: Vec::new(),
            chunks: Vec::new(),
            order: 1000,
        }
    }

    fn run(
        mut self,
        out: &mpsc::SyncSender<Batch>,
        mut progress: impl FnMut(&SeedReport),
    ) -> Result<SeedReport> {
        let c = self.config;
        let big_total: u64 = BIG_TRACES.iter().map(|n| *n as u64).sum();
        let with_big = c.spans >= big_total * 2 && c.sessions > 0;
        let mut spans_left = c.spans.saturating_sub(if with_big { big_total } else { 0 });
        let mut logs_left = c.logs;
        let window_ms = (c.hours * 3_600_000.0) as i64;
        let start_ms = c.end_ms - window_ms;
        let step = window_ms / c.sessions.max(1) as i64;
        let mut last_progress = Instant::now();
        for i in 0..c.sessions {
            let sessions_left = (c.sessions - i) as u64;
            let spans = spans_left / sessions_left;
            let logs = logs_left / sessions_left;
            let begin = start_ms + i as i64 * step + self.rng.random_range(0..step.max(1));
            let (s, l) = self.session(i, begin, spans, logs, with_big && i == 0)?;
            spans_left = spans_left.saturating_sub(s);
            logs_left = logs_left.saturating_sub(l);
            self.flush(out, false)?;
            if last_progress.elapsed() > Duration::from_secs(2) {
                last_progress = Instant::now();
                progress(&self.report);
            }
        }
        if with_big {
            self.background_job(c.end_ms - window_ms / 2)?;
            self.report.big_traces = BIG_TRACES
                .iter()
                .map(|n| (hex::encode(big_trace_id(*n)), *n))
                .collect();
        }
        self.flush(out, true)?;
        Ok(self.report)
    }

    /// Sends what has accumulated once it makes full requests (or everything, at the end).
    fn flush(&mut self, out: &mpsc::SyncSender<Batch>, all: bool) -> Result<()> {
        let closed = |_| DemoError::Seed("the writer stopped".into());
        while self.spans.len() >= ROWS_PER_REQUEST || (all && !self.spans.is_empty()) {
            let n = self.spans.len().min(ROWS_PER_REQUEST);
            let placed: Vec<Placed> = self.spans.drain(..n).collect();
            let mut by_svc: Vec<Vec<Span>> = vec![Vec::new(); SERVICES.len()];
            for p in placed {
                by_svc[svc_index(p.svc)].push(p.span);
            }
            let req = ExportTraceServiceRequest {
                resource_spans: by_svc
                    .into_iter()
                    .enumerate()
                    .filter(|(_, s)| !s.is_empty())
                    .map(|(i, spans)| ResourceSpans {
                        resource: Some(resource(i)),
                        scope_spans: vec![ScopeSpans {
                            scope: Some(scope()),
                            spans,
                            ..Default::default()
                        }],
                        ..Default::default()
                    })
                    .collect(),
            };
            out.send(normalize::traces(&req).batch).map_err(closed)?;
        }
        while self.logs.len() >= ROWS_PER_REQUEST || (all && !self.logs.is_empty()) {
            let n = self.logs.len().min(ROWS_PER_REQUEST);
            let records: Vec<(Svc, LogRecord)> = self.logs.drain(..n).collect();
            let received = records
                .last()
                .map_or(0, |(_, r)| (r.time_unix_nano / 1_000_000) as i64);
            let mut by_svc: Vec<Vec<LogRecord>> = vec![Vec::new(); SERVICES.len()];
            for (svc, r) in records {
                by_svc[svc_index(svc)].push(r);
            }
            let req = ExportLogsServiceRequest {
                resource_logs: by_svc
                    .into_iter()
                    .enumerate()
                    .filter(|(_, l)| !l.is_empty())
                    .map(|(i, log_records)| ResourceLogs {
                        resource: Some(resource(i)),
                        scope_logs: vec![ScopeLogs {
                            scope: Some(scope()),
                            log_records,
                            ..Default::default()
                        }],
                        ..Default::default()
                    })
                    .collect(),
            };
            out.send(normalize::logs(&req, received).batch)
                .map_err(closed)?;
        }
        if self.chunks.len() >= 16 || (all && !self.chunks.is_empty()) {
            let replay = std::mem::take(&mut self.chunks);
            out.send(Batch {
                replay,
                ..Default::default()
            })
            .map_err(closed)?;
        }
        Ok(())
    }

    /// One browser session and the backend work it caused. Returns the spans and logs made.
    fn session(
        &mut self,
        index: usize,
        begin_ms: i64,
        span_budget: u64,
        log_budget: u64,
        big: bool,
    ) -> Result<(u64, u64)> {
        let rng = &mut self.rng;
        let session_id = uuid(rng);
        let user = rng.random_range(0..2_000u32);
        let identified = rng.random_bool(0.7);
        let product = rng.random_range(1..480u32);
        let crashy = rng.random_bool(0.15);
        let raging = rng.random_bool(0.10);
        let requests = (span_budget / 10).clamp(1, 400) as usize;
        let mut meta = Map::new();
        if identified {
            meta.insert("userId".into(), json!(format!("user-{user}")));
            meta.insert(
                "userEmail".into(),
                json!(format!("shopper{user}@example.com")),
            );
        }
        meta.insert(
            "userAgent".into(),
            json!(
                [
                    "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
                    "Mozilla/5.0 (Windows NT 10.0) Firefox/133.0"
                ][user as usize % 3]
            ),
        );
        meta.insert("viewport".into(), json!({"width": 1280, "height": 800}));

        let mut events: Vec<Value> = Vec::new();
        let mut t = begin_ms;
        let mut spans_made = 0u64;
        let mut logs_made = 0u64;
        let mut page = page_snapshot("/", product);
        let pages_per_visit = (requests / 4).max(1);
        let mut path_index = 0usize;
        for r in 0..requests + usize::from(big) {
            if r % pages_per_visit == 0 {
                let path =
                    PAGES[path_index.min(PAGES.len() - 1)].replace("{id}", &product.to_string());
                path_index += 1;
                page = page_snapshot(&path, product);
                let href = format!("{SITE}{path}");
                if r == 0 {
                    meta.insert("url".into(), json!(href));
                }
                events.push(json!({"type": 4, "timestamp": t, "data": {"href": href, "width": 1280, "height": 800}}));
                events.push(json!({"type": 2, "timestamp": t + 1, "data": page.snapshot}));
                t += 300;
            }
            let rng = &mut self.rng;
            t += rng.random_range(800..9_000);
            let (button, label) = page.buttons[rng.random_range(0..page.buttons.len())].clone();
            let (x, y) = (
                rng.random_range(40..1200) as f64,
                rng.random_range(60..760) as f64,
            );
            events.push(json!({"type": 3, "timestamp": t - 400, "data": {"source": 1, "positions": [{"x": x - 30.0, "y": y + 20.0, "id": button, "timeOffset": -200}, {"x": x, "y": y, "id": button, "timeOffset": 0}]}}));
            if rng.random_bool(0.2) {
                events.push(json!({"type": 3, "timestamp": t - 200, "data": {"source": 3, "id": 1, "x": 0, "y": rng.random_range(0..1600)}}));
            }
            if rng.random_bool(0.1) {
                events.push(json!({"type": 3, "timestamp": t - 100, "data": {"source": 5, "id": page.input, "text": "linen", "isChecked": false}}));
            }
            events.push(json!({"type": 3, "timestamp": t, "data": {"source": 2, "type": 2, "id": button, "x": x, "y": y}}));
            events.push(json!({"type": 5, "timestamp": t, "data": {"tag": "sightline.click", "payload": {"target": label, "x": x, "y": y}}}));

            let last = r + 1 == requests + usize::from(big);
            let ep = match path_index {
                0 | 1 => [Endpoint::Products, Endpoint::Search][r % 2],
                2 => Endpoint::Products,
                3 => [
                    Endpoint::Product,
                    Endpoint::Recommendations,
                    Endpoint::AddToCart,
                ][r % 3],
                4 => Endpoint::Cart,
                _ => Endpoint::Checkout,
            };
            let ep = if big && last {
                Endpoint::Recommendations
            } else {
                ep
            };
            let outcome = if ep == Endpoint::Checkout {
                match rng.random_range(0..100) {
                    0..6 => Outcome::Declined,
                    6..9 => Outcome::Timeout,
                    _ => Outcome::Ok,
                }
            } else if rng.random_bool(0.01) {
                Outcome::Crash
            } else {
                Outcome::Ok
            };
            let remaining = span_budget.saturating_sub(spans_made) as usize;
            let left = requests - r.min(requests - 1);
            let size = if big && last {
                BIG_TRACES[0]
            } else if left <= 1 {
                remaining.max(3)
            } else {
                ((remaining / left) as f64 * rng.random_range(0.5..1.5)) as usize
            };
            let trace_id = if big && last {
                big_trace_id(BIG_TRACES[0])
            } else {
                random_id(rng)
            };
            let trace = build_trace(rng, ep, product, outcome, size);
            let status = trace.status;
            let start_ns = (t as u64 + 3) * 1_000_000;
            let first = self.spans.len();
            let end_ns = place(
                &mut self.rng,
                trace.root,
                &trace_id,
                None,
                start_ns,
                Some(&session_id),
                &mut self.spans,
            );
            let made = (self.spans.len() - first) as u64;
            if !(big && last) {
                spans_made += made;
            }
            self.report.spans += made;
            self.report.traces += 1;
            let rng = &mut self.rng;

            let logs_left = log_budget.saturating_sub(logs_made);
            let want = if left <= 1 {
                logs_left
            } else {
                ((logs_left / left as u64) as f64 * rng.random_range(0.5..1.5)) as u64
            };
            let want = want.min(logs_left);
            for _ in 0..want {
                let pick = first + rng.random_range(0..(self.spans.len() - first));
                let p = &self.spans[pick];
                let (sev, sev_text, body) = log_line(rng, p, self.order);
                let at = rng.random_range(p.span.start_time_unix_nano..=p.span.end_time_unix_nano);
                let mut attributes = vec![kv("code.function", p.span.name.clone())];
                if p.svc == Svc::Api {
                    attributes.push(kv("session.id", session_id.clone()));
                }
                attributes.push(kv_int("order.id", i64::from(self.order)));
                self.logs.push((
                    p.svc,
                    LogRecord {
                        time_unix_nano: at,
                        observed_time_unix_nano: at + 1_000_000,
                        severity_number: sev,
                        severity_text: sev_text.into(),
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(body)),
                        }),
                        attributes,
                        trace_id: trace_id.to_vec(),
                        span_id: p.span.span_id.clone(),
                        ..Default::default()
                    },
                ));
            }
            logs_made += want;
            self.report.logs += want;
            self.order += u32::from(ep == Endpoint::Checkout);

            let (method, url, _) = ep.request(product);
            let root_span = self.spans[first].span.span_id.clone();
            let done_ms = (end_ns / 1_000_000) as i64 + 2;
            events.push(json!({"type": 5, "timestamp": done_ms, "data": {"tag": "sightline.network", "payload": {
                "method": method, "url": format!("{SITE}{url}"), "status": status,
                "durationMs": done_ms - (t + 3), "traceId": hex::encode(trace_id), "spanId": hex::encode(&root_span)}}}));
            // The page reacts (so the click is not dead), unless it is a rage-click moment.
            let rng = &mut self.rng;
            let rage_now = raging && r == requests / 2;
            if !rage_now {
                events.push(json!({"type": 3, "timestamp": done_ms + 5, "data": {"source": 0, "texts": [{"id": button + 1, "value": label}], "attributes": [], "removes": [], "adds": []}}));
            } else {
                // Four more clicks on the same spot within a second, nothing answering.
                for k in 1..=4 {
                    let at = done_ms + 40 + k * rng.random_range(90..160);
                    events.push(json!({"type": 3, "timestamp": at, "data": {"source": 2, "type": 2, "id": button, "x": x + k as f64, "y": y}}));
                    events.push(json!({"type": 5, "timestamp": at, "data": {"tag": "sightline.click", "payload": {"target": label, "x": x + k as f64, "y": y}}}));
                }
            }
            if crashy && r == requests * 2 / 3 {
                let message = JS_ERRORS[index % JS_ERRORS.len()];
                events.push(json!({"type": 5, "timestamp": done_ms + 20, "data": {"tag": "sightline.error", "payload": {
                    "message": message,
                    "source": format!("{SITE}/assets/app.js"), "line": 1, "column": 4821,
                    "stack": "at renderCart (app.js:1:4821)\n    at onClick (app.js:1:9120)"}}}));
            }
            t = done_ms + 20;
        }

        events.sort_by_key(|e| e["timestamp"].as_i64().unwrap_or(0));
        let mut batch_no = 0i64;
        let mut chunk_events = Vec::new();
        for e in events {
            chunk_events.push(e);
            if chunk_events.len() >= EVENTS_PER_BATCH {
                self.chunk(
                    &session_id,
                    &mut batch_no,
                    std::mem::take(&mut chunk_events),
                    &meta,
                )?;
            }
        }
        self.chunk(&session_id, &mut batch_no, chunk_events, &meta)?;
        self.report.sessions += 1;
        Ok((spans_made, logs_made))
    }

    fn chunk(
        &mut self,
        session_id: &str,
        batch: &mut i64,
        events: Vec<Value>,
        meta: &Map<String, Value>,
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let received = events
            .last()
            .and_then(|e| e["timestamp"].as_i64())
            .unwrap_or(0);
        let first = events
            .first()
            .and_then(|e| e["timestamp"].as_i64())
            .unwrap_or(0);
        self.report.replay_events += events.len() as u64;
        // The recorder's batch numbering: first event time, then a per-tab nonce.
        let number = first * 1000 + *batch % 1000;
        *batch += 1;
        if let Some(chunk) =
            replay::build_chunk(session_id.to_owned(), number, events, meta, received)
                .map_err(|e| DemoError::Seed(e.to_string()))?
        {
            self.report.replay_bytes += chunk.raw_bytes;
            self.chunks.push(chunk);
        }
        Ok(())
    }

    /// A nightly catalog reindex: one trace of 20,000 spans in search-svc, with no session.
    fn background_job(&mut self, at_ms: i64) -> Result<()> {
        let size = BIG_TRACES[1];
        let mut root = node(
            Svc::Search,
            "catalog.reindex",
            span::SpanKind::Internal,
            50.0,
        );
        let per_batch = 99;
        let mut made = 1;
        let mut b = 0;
        while made < size {
            let mut batch = node(
                Svc::Search,
                &format!("index batch {b}"),
                span::SpanKind::Internal,
                2.0,
            );
            made += 1;
            for _ in 0..per_batch.min(size - made) {
                batch.children.push(db(
                    Svc::Search,
                    "UPDATE products SET tsv = to_tsvector($1) WHERE id = $2",
                    "products",
                    0.4,
                ));
                made += 1;
            }
            root.children.push(batch);
            b += 1;
        }
        let first = self.spans.len();
        place(
            &mut self.rng,
            root,
            &big_trace_id(size),
            None,
            at_ms as u64 * 1_000_000,
            None,
            &mut self.spans,
        );
        self.report.spans += (self.spans.len() - first) as u64;
        self.report.traces += 1;
        Ok(())
    }
}

fn uuid(rng: &mut StdRng) -> String {
    let b: [u8; 16] = random_id(rng);
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    )
}

fn resource(i: usize) -> Resource {
    let (_, name, language) = SERVICES[i];
    Resource {
        attributes: vec![
            kv("service.name", name),
            kv("service.version", "2.4.1"),
            kv("deployment.environment.name", "local"),
            kv("host.name", format!("dev-laptop-{i}")),
            kv("telemetry.sdk.name", "opentelemetry"),
            kv("telemetry.sdk.language", language),
        ],
        ..Default::default()
    }
}

fn scope() -> opentelemetry_proto::tonic::common::v1::InstrumentationScope {
    opentelemetry_proto::tonic::common::v1::InstrumentationScope {
        name: "sightline-seed".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    }
}
