//! A small shop's data written through the real writer into a real SQLite file, for the
//! views' unit tests: one service's checkout trace that failed two spans deep, its error log,
//! and the browser session that made the request (a page, a click on Pay, the request).

use tempfile::TempDir;

use crate::model::{Batch, ReplayChunkRow, ReplayMeta, ResourceRow, ScopeRow, SessionEventRow};
use crate::model::{LogRow, SpanRow};
use crate::Store;

pub const TRACE: [u8; 16] = [0xd1; 16];
/// A job's span whose parent never arrived.
pub const ORPHAN: [u8; 16] = [0x0b; 16];
/// A request the browser made whose trace never arrived.
pub const MISSING: [u8; 16] = [0x0c; 16];
pub const SESSION: &str = "s-ada";
/// The session's first event (Unix ms).
pub const T0: i64 = 1_763_000_000_000;
const MS: u64 = 1_000_000;

fn span(id: u8, parent: Option<u8>, name: &str, start_ms: i64, error: Option<&str>) -> SpanRow {
    SpanRow {
        resource: 0,
        scope: 0,
        trace_id: if id == 9 { ORPHAN } else { TRACE },
        span_id: [id; 8],
        parent_span_id: parent.map(|p| [p; 8]),
        trace_state: String::new(),
        flags: 0,
        name: name.into(),
        kind: 2,
        start_time_unix_nano: start_ms as u64 * MS,
        end_time_unix_nano: (start_ms as u64 + 80) * MS,
        attributes: r#"{"http.route":"/api/checkout"}"#.into(),
        dropped_attributes_count: 0,
        events: "[]".into(),
        dropped_events_count: 0,
        links: "[]".into(),
        dropped_links_count: 0,
        status_code: if error.is_some() { 2 } else { 0 },
        status_message: error.unwrap_or_default().into(),
        session_id: (id != 9).then(|| SESSION.into()),
        incident_id: None,
        facts: Default::default(),
    }
}

fn event(t: i64, kind: &'static str, target: Option<&str>, data: &str) -> SessionEventRow {
    SessionEventRow {
        timestamp_ms: t,
        kind,
        target: target.map(str::to_owned),
        data: data.into(),
        ..Default::default()
    }
}

/// The shop, written and committed; the store is open for reading.
pub fn shop() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_dir(dir.path()).unwrap();
    let events = serde_json::json!([
        {"type": 4, "timestamp": T0, "data": {"href": "https://shop.test/cart", "width": 1280, "height": 720}},
        {"type": 2, "timestamp": T0 + 5, "data": {"node": {"type": 0, "id": 1, "childNodes": []}, "initialOffset": {"left": 0, "top": 0}}},
        {"type": 3, "timestamp": T0 + 900, "data": {"source": 2, "type": 2, "id": 5, "x": 10, "y": 10}},
    ]);
    let raw = events.to_string();
    let network = format!(
        r#"{{"method":"POST","url":"https://shop.test/api/checkout","status":402,"durationMs":80,"traceId":"{}","spanId":"0101010101010101"}}"#,
        hex::encode(TRACE)
    );
    let mut request = event(T0 + 1_000, "network", Some("POST /api/checkout"), &network);
    request.trace_id = Some(hex::encode(TRACE));
    let mut stock = event(
        T0 + 1_500,
        "network",
        Some("GET /api/stock"),
        r#"{"method":"GET","url":"https://shop.test/api/stock","status":200,"durationMs":12}"#,
    );
    stock.trace_id = Some(hex::encode(MISSING));
    let batch = Batch {
        resources: vec![ResourceRow::new(
            r#"{"service.name":"shop-api"}"#.into(),
            0,
            "[]".into(),
            String::new(),
            Some("shop-api".into()),
        )],
        scopes: vec![ScopeRow::new(
            "checkout".into(),
            "1.0".into(),
            "{}".into(),
            0,
            String::new(),
        )],
        spans: vec![
            span(
                1,
                None,
                "POST /api/checkout",
                T0 + 1_000,
                Some("payment failed"),
            ),
            span(
                2,
                Some(1),
                "authorize card",
                T0 + 1_010,
                Some("card_declined"),
            ),
            span(9, Some(7), "inventory sync", T0 + 3_000, None),
        ],
        logs: vec![LogRow {
            resource: 0,
            scope: 0,
            time_unix_nano: (T0 as u64 + 1_020) * MS,
            observed_time_unix_nano: (T0 as u64 + 1_020) * MS,
            severity_number: 17,
            severity_text: "ERROR".into(),
            body: Some(r#""payment declined for order 42""#.into()),
            attributes: r#"{"order.id":"42"}"#.into(),
            dropped_attributes_count: 0,
            flags: 0,
            trace_id: Some(TRACE),
            span_id: Some([2; 8]),
            event_name: String::new(),
            session_id: Some(SESSION.into()),
            incident_id: None,
            facts: Default::default(),
        }],
        replay: vec![ReplayChunkRow {
            session_id: SESSION.into(),
            batch: 0,
            first_ms: T0,
            last_ms: T0 + 1_500,
            event_count: 3,
            raw_bytes: raw.len() as u64,
            data: zstd::encode_all(raw.as_bytes(), 3).unwrap(),
            checkpoints: vec![(T0 + 5, 1)],
            pages: vec![("https://shop.test/cart".into(), T0)],
            meta: ReplayMeta {
                user_id: Some("u-ada".into()),
                user_email: Some("ada@example.com".into()),
                url: Some("https://shop.test/cart".into()),
                user_agent: None,
                viewport: None,
                attributes: "{}".into(),
            },
            received_ms: T0 + 2_000,
            index: vec![
                event(T0, "page_view", None, r#"{"url":"https://shop.test/cart"}"#),
                event(T0 + 900, "click", Some("Pay"), "{}"),
                request,
                stock,
            ],
            nodes: vec![],
        }],
        ..Default::default()
    };
    store.writer().write_blocking(batch).unwrap();
    (dir, store)
}

/// Runs `f` on a reader of the shop.
pub fn read<T>(f: impl FnOnce(&rusqlite::Connection) -> crate::Result<T>) -> T {
    let (_dir, store) = shop();
    store.readers().with_conn(f).unwrap()
}
