//! The seed's backend: the five services' trace shapes per endpoint and outcome, placed in
//! time, and the log lines they write.

use super::*;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Svc {
    Api,
    Order,
    Payment,
    Fraud,
    Search,
}

pub(super) const SERVICES: [(Svc, &str, &str); 5] = [
    (Svc::Api, "storefront-api", "node"),
    (Svc::Order, "order-svc", "go"),
    (Svc::Payment, "payment-svc", "java"),
    (Svc::Fraud, "fraud-svc", "python"),
    (Svc::Search, "search-svc", "rust"),
];

pub(super) fn svc_index(s: Svc) -> usize {
    SERVICES.iter().position(|(x, _, _)| *x == s).unwrap_or(0)
}

/// A span before it has times: built as a tree, then laid out left to right.
pub(super) struct Node {
    pub(super) svc: Svc,
    pub(super) name: String,
    pub(super) kind: span::SpanKind,
    pub(super) attrs: Vec<KeyValue>,
    /// Time spent in this span outside its children.
    pub(super) self_ms: f64,
    pub(super) error: Option<String>,
    pub(super) children: Vec<Node>,
}

pub(super) fn node(svc: Svc, name: &str, kind: span::SpanKind, self_ms: f64) -> Node {
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

pub(super) fn kv(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

pub(super) fn kv_int(key: &str, value: i64) -> KeyValue {
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
pub(super) fn call(from: Svc, to: Svc, method: &str, route: &str, server: Node) -> Node {
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

pub(super) fn server(svc: Svc, method: &str, route: &str, self_ms: f64) -> Node {
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

pub(super) fn db(svc: Svc, statement: &str, table: &str, ms: f64) -> Node {
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
pub(super) enum Endpoint {
    Products,
    Product,
    Recommendations,
    AddToCart,
    Cart,
    Search,
    Checkout,
}

impl Endpoint {
    pub(super) fn request(self, product: u32) -> (&'static str, String, &'static str) {
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
pub(super) enum Outcome {
    Ok,
    /// payment-svc declines the card: 402 with an error on the payment span.
    Declined,
    /// order-svc's insert hangs for 5 s and the API answers 500.
    Timeout,
    /// An unhandled exception in the API.
    Crash,
}

pub(super) struct Trace {
    pub(super) root: Node,
    pub(super) status: i64,
}

pub(super) fn build_trace(
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

pub(super) fn set_status(n: &mut Node, status: i64) {
    n.attrs.retain(|a| a.key != "http.response.status_code");
    n.attrs.push(kv_int("http.response.status_code", status));
}

pub(super) fn random_id<const N: usize>(rng: &mut StdRng) -> [u8; N] {
    let mut id = [0u8; N];
    rng.fill(&mut id[..]);
    id
}

/// A span laid out in time, with its service.
pub(super) struct Placed {
    pub(super) svc: Svc,
    pub(super) span: Span,
}

/// Lays a tree out from `start_ns`: children one after another inside their parent. Returns
/// the end time.
pub(super) fn place(
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
pub(super) fn log_line(rng: &mut StdRng, p: &Placed, order: u32) -> (i32, &'static str, String) {
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
