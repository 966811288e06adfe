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

#[derive(Clone, Copy, PartialEq)]
enum Svc {
    Api,
    Order,
    Payment,
    Fraud,
    Search,
}

const SERVICES: [(Svc, &str, &str); 5] = [
    (Svc::Api, "storefront-api", "node"),
    (Svc::Order, "order-svc", "go"),
    (Svc::Payment, "payment-svc", "java"),
    (Svc::Fraud, "fraud-svc", "python"),
    (Svc::Search, "search-svc", "rust"),
];

fn svc_index(s: Svc) -> usize {
    SERVICES.iter().position(|(x, _, _)| *x == s).unwrap_or(0)
}

/// A span before it has times: built as a tree, then laid out left to right.
struct Node {
    svc: Svc,
    name: String,
    kind: span::SpanKind,
    attrs: Vec<KeyValue>,
    /// Time spent in this span outside its children.
    self_ms: f64,
    error: Option<String>,
    children: Vec<Node>,
}

fn node(svc: Svc, name: &str, kind: span::SpanKind, self_ms: f64) -> Node {
    Node {
        svc,
        name: name.into(),
        kind,
        attrs: Vec::new(),
        self_ms,
        error: None,
        children: Vec::new(),
    }
}

fn kv(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn kv_int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

impl Node {
    fn count(&self) -> usize {
        1 + self.children.iter().map(Node::count).sum::<usize>()
    }

    /// The deepest server span's node: where an N+1 query pattern would add its queries.
    fn deepest_server(&mut self) -> &mut Node {
        let has_server_child = self
            .children
            .iter()
            .any(|c| c.kind == span::SpanKind::Server || !c.children.is_empty());
        if !has_server_child {
            return self;
        }
        let idx = self
            .children
            .iter()
            .rposition(|c| c.kind == span::SpanKind::Server || !c.children.is_empty())
            .unwrap_or(0);
        self.children[idx].deepest_server()
    }
}

/// A call from the API to another service: a client span with the callee's server span in it.
fn call(from: Svc, to: Svc, method: &str, route: &str, server: Node) -> Node {
    let mut client = node(
        from,
        &format!("{method} {route}"),
        span::SpanKind::Client,
        0.4,
    );
    client.attrs = vec![
        kv("http.request.method", method),
        kv("server.address", SERVICES[svc_index(to)].1),
        kv(
            "url.full",
            format!("http://{}{route}", SERVICES[svc_index(to)].1),
        ),
        kv_int("http.response.status_code", 200),
    ];
    client.children.push(server);
    client
}

fn server(svc: Svc, method: &str, route: &str, self_ms: f64) -> Node {
    let mut n = node(
        svc,
        &format!("{method} {route}"),
        span::SpanKind::Server,
        self_ms,
    );
    n.attrs = vec![
        kv("http.request.method", method),
        kv("http.route", route),
        kv_int("http.response.status_code", 200),
    ];
    n
}

fn db(svc: Svc, statement: &str, table: &str, ms: f64) -> Node {
    let op = statement.split_whitespace().next().unwrap_or("SELECT");
    let mut n = node(svc, &format!("{op} {table}"), span::SpanKind::Client, ms);
    n.attrs = vec![
        kv("db.system.name", "postgresql"),
        kv("db.namespace", "shop"),
        kv("db.operation.name", op),
        kv("db.collection.name", table),
        kv("db.query.text", statement),
    ];
    n
}

/// The storefront's API, as the browser sees it.
#[derive(Clone, Copy, PartialEq)]
enum Endpoint {
    Products,
    Product,
    Recommendations,
    AddToCart,
    Cart,
    Search,
    Checkout,
}

impl Endpoint {
    fn request(self, product: u32) -> (&'static str, String, &'static str) {
        match self {
            Endpoint::Products => ("GET", "/api/products?page=1".into(), "/api/products"),
            Endpoint::Product => (
                "GET",
                format!("/api/products/{product}"),
                "/api/products/:id",
            ),
            Endpoint::Recommendations => (
                "GET",
                format!("/api/recommendations?product={product}"),
                "/api/recommendations",
            ),
            Endpoint::AddToCart => ("POST", "/api/cart/items".into(), "/api/cart/items"),
            Endpoint::Cart => ("GET", "/api/cart".into(), "/api/cart"),
            Endpoint::Search => ("GET", "/api/search?q=linen+shirt".into(), "/api/search"),
            Endpoint::Checkout => ("POST", "/api/checkout".into(), "/api/checkout"),
        }
    }
}

/// How a request ended, decided before its trace is built.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Ok,
    /// payment-svc declines the card: 402 with an error on the payment span.
    Declined,
    /// order-svc's insert hangs for 5 s and the API answers 500.
    Timeout,
    /// An unhandled exception in the API.
    Crash,
}

struct Trace {
    root: Node,
    status: i64,
}

fn build_trace(
    rng: &mut StdRng,
    ep: Endpoint,
    product: u32,
    outcome: Outcome,
    size: usize,
) -> Trace {
    let (method, _, route) = ep.request(product);
    let mut root = server(Svc::Api, method, route, rng.random_range(0.5..3.0));
    match ep {
        Endpoint::Products | Endpoint::Search => {
            let mut s = server(Svc::Search, "GET", "/search", rng.random_range(1.0..6.0));
            s.children.push(db(
                Svc::Search,
                "SELECT id, name, price FROM products WHERE tsv @@ $1 LIMIT 24",
                "products",
                rng.random_range(2.0..20.0),
            ));
            root.children
                .push(call(Svc::Api, Svc::Search, "GET", "/search", s));
        }
        Endpoint::Product | Endpoint::Recommendations => {
            let mut cache = node(
                Svc::Api,
                "cache.get",
                span::SpanKind::Client,
                rng.random_range(0.2..1.5),
            );
            cache.attrs = vec![
                kv("db.system.name", "redis"),
                kv("db.operation.name", "GET"),
            ];
            root.children.push(cache);
            root.children.push(db(
                Svc::Api,
                "SELECT * FROM products WHERE id = $1",
                "products",
                rng.random_range(1.0..8.0),
            ));
        }
        Endpoint::AddToCart | Endpoint::Cart => {
            let method = if ep == Endpoint::Cart { "GET" } else { "POST" };
            let mut o = server(Svc::Order, method, "/carts/:id", rng.random_range(0.5..3.0));
            o.children.push(db(
                Svc::Order,
                "SELECT * FROM cart_items WHERE cart_id = $1",
                "cart_items",
                rng.random_range(1.0..6.0),
            ));
            if ep == Endpoint::AddToCart {
                o.children.push(db(
                    Svc::Order,
                    "INSERT INTO cart_items (cart_id, product_id, qty) VALUES ($1, $2, $3)",
                    "cart_items",
                    rng.random_range(1.0..6.0),
                ));
            }
            root.children
                .push(call(Svc::Api, Svc::Order, method, "/carts/:id", o));
        }
        Endpoint::Checkout => {
            let mut fraud = server(Svc::Fraud, "POST", "/score", rng.random_range(5.0..40.0));
            fraud.children.push(db(Svc::Fraud, "SELECT count(*) FROM charges WHERE card_hash = $1 AND at > now() - interval '1 day'", "charges", rng.random_range(2.0..10.0)));
            let mut pay = server(
                Svc::Payment,
                "POST",
                "/charges",
                rng.random_range(20.0..120.0),
            );
            pay.children
                .push(call(Svc::Payment, Svc::Fraud, "POST", "/score", fraud));
            if outcome == Outcome::Declined {
                pay.error = Some("card_declined: insufficient funds".into());
                pay.attrs
                    .push(kv("payment.decline_code", "insufficient_funds"));
                set_status(&mut pay, 402);
            } else {
                pay.children.push(db(
                    Svc::Payment,
                    "INSERT INTO charges (order_id, amount, currency) VALUES ($1, $2, $3)",
                    "charges",
                    rng.random_range(2.0..8.0),
                ));
            }
            let mut pay_call = call(Svc::Api, Svc::Payment, "POST", "/charges", pay);
            if outcome == Outcome::Declined {
                set_status(&mut pay_call, 402);
            }
            root.children.push(pay_call);
            if outcome != Outcome::Declined {
                let mut o = server(Svc::Order, "POST", "/orders", rng.random_range(1.0..4.0));
                let mut insert = db(
                    Svc::Order,
                    "INSERT INTO orders (cart_id, total, status) VALUES ($1, $2, 'paid')",
                    "orders",
                    rng.random_range(2.0..12.0),
                );
                if outcome == Outcome::Timeout {
                    insert.self_ms = 5_000.0 + rng.random_range(0.0..40.0);
                    insert.error = Some("canceling statement due to statement timeout".into());
                    o.error = Some("database timeout".into());
                    set_status(&mut o, 500);
                }
                o.children.push(insert);
                root.children
                    .push(call(Svc::Api, Svc::Order, "POST", "/orders", o));
            }
        }
    }
    // Pad to the requested size with the queries an N+1 loop makes.
    let pad = size.saturating_sub(root.count());
    let target = root.deepest_server();
    let svc = target.svc;
    for i in 0..pad {
        target.children.push(db(
            svc,
            "SELECT * FROM product_variants WHERE product_id = $1",
            "product_variants",
            0.3 + (i % 7) as f64 * 0.15,
        ));
    }
    let status = match outcome {
        Outcome::Ok if ep == Endpoint::AddToCart => 201,
        Outcome::Ok => 200,
        Outcome::Declined => 402,
        Outcome::Timeout | Outcome::Crash => 500,
    };
    if outcome == Outcome::Crash {
        root.error = Some("TypeError: Cannot read properties of undefined (reading 'sku')".into());
    }
    if outcome == Outcome::Timeout {
        root.error = Some("upstream order-svc failed: database timeout".into());
    }
    set_status(&mut root, status);
    Trace { root, status }
}

fn set_status(n: &mut Node, status: i64) {
    n.attrs.retain(|a| a.key != "http.response.status_code");
    n.attrs.push(kv_int("http.response.status_code", status));
}

fn random_id<const N: usize>(rng: &mut StdRng) -> [u8; N] {
    let mut id = [0u8; N];
    rng.fill(&mut id[..]);
    id
}

/// A span laid out in time, with its service.
struct Placed {
    svc: Svc,
    span: Span,
}

/// Lays a tree out from `start_ns`: children one after another inside their parent. Returns
/// the end time.
fn place(
    rng: &mut StdRng,
    n: Node,
    trace_id: &[u8; 16],
    parent: Option<[u8; 8]>,
    start_ns: u64,
    session: Option<&str>,
    out: &mut Vec<Placed>,
) -> u64 {
    let span_id: [u8; 8] = random_id(rng);
    let index = out.len();
    out.push(Placed {
        svc: n.svc,
        span: Span::default(),
    });
    let lead = (n.self_ms * 0.3 * 1e6) as u64;
    let mut t = start_ns + lead;
    for child in n.children {
        t = place(
            rng,
            child,
            trace_id,
            Some(span_id),
            t + 50_000,
            session,
            out,
        );
    }
    let end = t + (n.self_ms * 0.7 * 1e6) as u64;
    let mut attrs = n.attrs;
    if let (Some(s), span::SpanKind::Server) = (session, n.kind) {
        if n.svc == Svc::Api {
            attrs.push(kv("session.id", s));
        }
    }
    let events = match &n.error {
        Some(message) => vec![span::Event {
            time_unix_nano: end.saturating_sub(100_000),
            name: "exception".into(),
            attributes: vec![
                kv("exception.type", "Error"),
                kv("exception.message", message.clone()),
            ],
            dropped_attributes_count: 0,
        }],
        None => Vec::new(),
    };
    out[index].span = Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id.to_vec(),
        parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
        name: n.name,
        kind: n.kind as i32,
        start_time_unix_nano: start_ns,
        end_time_unix_nano: end,
        attributes: attrs,
        events,
        status: n.error.map(|message| Status { code: 2, message }),
        ..Default::default()
    };
    end
}

/// Log lines a service writes while serving a span.
fn log_line(rng: &mut StdRng, p: &Placed, order: u32) -> (i32, &'static str, String) {
    let name = &p.span.name;
    if let Some(status) = &p.span.status {
        if status.code == 2 {
            return (17, "ERROR", format!("{name} failed: {}", status.message));
        }
    }
    match p.svc {
        Svc::Api => match rng.random_range(0..4) {
            0 => (9, "INFO", format!("{name} handled")),
            1 => (5, "DEBUG", format!("cache hit for product:{}", rng.random_range(1..500))),
            2 => (9, "INFO", json!({"event": "cart.updated", "items": rng.random_range(1..6), "total": rng.random_range(10..400)}).to_string()),
            _ => (9, "INFO", format!("session authenticated via cookie (order {order})")),
        },
        Svc::Payment => (9, "INFO", format!("charging card ending 4242 for order {order}: {}.{:02} EUR", rng.random_range(10..400), rng.random_range(0..100))),
        Svc::Fraud => (9, "INFO", format!("fraud score 0.{:02} for order {order}", rng.random_range(0..100))),
        Svc::Order => match rng.random_range(0..3) {
            0 => (9, "INFO", format!("order {order} created")),
            1 => (5, "DEBUG", format!("query took {} ms", rng.random_range(1..20))),
            _ => (9, "INFO", format!("cart {} updated", rng.random_range(1000..9999))),
        },
        Svc::Search => (9, "INFO", format!("search returned {} products in {} ms", rng.random_range(0..48), rng.random_range(2..40))),
    }
}

const JS_ERRORS: [&str; 3] = [
    "TypeError: Cannot read properties of undefined (reading 'price')",
    "ReferenceError: dataLayer is not defined",
    "Error: Request failed with status code 500",
];
const PAGES: [&str; 5] = ["/", "/products", "/products/{id}", "/cart", "/checkout"];
const CSS: &str = "body{font:14px system-ui;margin:0;color:#1d2433}header{display:flex;gap:16px;padding:12px 24px;background:#1d2433;color:#fff}header a{color:#fff}main{padding:24px}.grid{display:grid;grid-template-columns:repeat(4,1fr);gap:16px}.card{border:1px solid #dde;border-radius:8px;padding:12px}button{background:#3a5bd9;color:#fff;border:0;border-radius:6px;padding:8px 12px}";

/// A page's full snapshot (rrweb's serialized DOM) and the ids of its controls.
struct Page {
    snapshot: Value,
    buttons: Vec<(u32, String)>,
    input: u32,
}

fn page_snapshot(path: &str, product: u32) -> Page {
    let mut next = 1u32;
    let mut id = || {
        next += 1;
        next
    };
    let mut buttons = Vec::new();
    let el = |id: u32, tag: &str, attrs: Value, children: Vec<Value>| json!({"type": 2, "tagName": tag, "attributes": attrs, "childNodes": children, "id": id});
    let text = |id: u32, t: &str| json!({"type": 3, "textContent": t, "id": id});
    let title = match path {
        "/" => "Linen & Co — new season".to_owned(),
        "/products" => "All products".to_owned(),
        "/cart" => "Your cart".to_owned(),
        "/checkout" => "Checkout".to_owned(),
        _ => format!("Linen shirt no. {product}"),
    };
    let mut nav = Vec::new();
    for label in ["Shop", "Search", "Cart"] {
        let a = id();
        buttons.push((a, label.to_owned()));
        nav.push(el(a, "a", json!({"href": "#"}), vec![text(id(), label)]));
    }
    let mut cards = Vec::new();
    for i in 0..8 {
        // The button's text node directly follows it, as the nav links' do: the page's
        // reaction to a click rewrites that text.
        let b = id();
        let b_text = id();
        let label = if path == "/checkout" {
            "Place order"
        } else {
            "Add to cart"
        };
        buttons.push((b, label.to_owned()));
        cards.push(el(
            id(),
            "div",
            json!({"class": "card"}),
            vec![
                el(
                    id(),
                    "h3",
                    json!({}),
                    vec![text(id(), &format!("Linen shirt no. {}", product + i))],
                ),
                el(
                    id(),
                    "p",
                    json!({}),
                    vec![text(id(), &format!("€{}.00", 39 + i * 5))],
                ),
                el(
                    b,
                    "button",
                    json!({"type": "button"}),
                    vec![text(b_text, label)],
                ),
            ],
        ));
    }
    let input = id();
    let body = el(
        id(),
        "body",
        json!({}),
        vec![
            el(id(), "header", json!({}), nav),
            el(
                id(),
                "main",
                json!({}),
                vec![
                    el(id(), "h1", json!({}), vec![text(id(), &title)]),
                    el(
                        input,
                        "input",
                        json!({"type": "search", "placeholder": "Search"}),
                        vec![],
                    ),
                    el(id(), "div", json!({"class": "grid"}), cards),
                ],
            ),
        ],
    );
    let head = el(
        id(),
        "head",
        json!({}),
        vec![
            el(id(), "title", json!({}), vec![text(id(), &title)]),
            el(
                id(),
                "style",
                json!({}),
                vec![json!({"type": 3, "textContent": CSS, "isStyle": true, "id": id()})],
            ),
        ],
    );
    let html = el(id(), "html", json!({"lang": "en"}), vec![head, body]);
    Page {
        snapshot: json!({"node": {"type": 0, "childNodes": [{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": id()}, html], "id": 1},
                         "initialOffset": {"left": 0, "top": 0}}),
        buttons,
        input,
    }
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
