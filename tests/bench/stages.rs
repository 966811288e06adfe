//! Where ingest time goes, stage by stage, on one core: build and encode a request (the
//! client's share), decode it, normalize it into rows, and insert the rows through the store's
//! writer (with and without the secondary indexes). No network.
//!
//!     cargo bench --bench stages -- [--requests 400]

use std::time::Instant;

use prost::Message;
use rand::SeedableRng;
use sightline_ingest::{normalize, otlp, Format};
use sightline_store::Store;

// Each bench uses part of the shared workload.
#[allow(dead_code)]
mod workload;
use workload::{request, SPANS_PER_REQUEST};

fn rate(label: &str, spans: usize, t: Instant) {
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{label:<34} {:>10.0} spans/s  ({:.2} µs/span)",
        spans as f64 / secs,
        secs * 1e6 / spans as f64
    );
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let requests = argv
        .iter()
        .position(|a| a == "--requests")
        .and_then(|i| argv.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(400usize);
    let spans = requests * SPANS_PER_REQUEST;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);

    let t = Instant::now();
    let reqs: Vec<_> = (0..requests).map(|i| request(&mut rng, i % 3)).collect();
    rate("client: build request", spans, t);

    let t = Instant::now();
    let bodies: Vec<_> = reqs.iter().map(|r| r.encode_to_vec()).collect();
    rate("client: protobuf encode", spans, t);
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    println!("  {} bytes/span on the wire", bytes / spans);
    drop(reqs);

    let t = Instant::now();
    let decoded: Vec<opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest> =
        bodies
            .iter()
            .map(|b| otlp::decode(b, Format::Protobuf, "ExportTraceServiceRequest").unwrap())
            .collect();
    rate("server: protobuf decode", spans, t);

    let json: Vec<_> = decoded
        .iter()
        .take(40)
        .map(|r| serde_json::to_vec(r).unwrap())
        .collect();
    let json_spans = json.len() * SPANS_PER_REQUEST;
    let t = Instant::now();
    for b in &json {
        let _: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest =
            otlp::decode(b, Format::Json, "ExportTraceServiceRequest").unwrap();
    }
    rate("server: JSON decode", json_spans, t);

    let t = Instant::now();
    let batches: Vec<_> = decoded.iter().map(|r| normalize::traces(r).batch).collect();
    rate("server: normalize (rows, JSON attrs)", spans, t);

    // The part of normalizing that is redaction by content: every string a span carries (its
    // name, status message, string attributes and event attributes) scanned for secrets.
    let t = Instant::now();
    let mut scanned = 0usize;
    let mut found = 0usize;
    for r in &decoded {
        for span in r
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans)
        {
            let strings = std::iter::once(span.name.as_str())
                .chain(span.status.as_ref().map(|s| s.message.as_str()))
                .chain(
                    span.attributes
                        .iter()
                        .chain(span.events.iter().flat_map(|e| &e.attributes))
                        .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(v) => Some(v.as_str()),
                            _ => None,
                        }),
                );
            for text in strings {
                scanned += text.len();
                found += std::hint::black_box(sightline_store::redact::redact_text(text))
                    .map_or(0, |(_, n)| n);
            }
        }
    }
    rate("  of which redaction by content", spans, t);
    println!(
        "  {} bytes/span of text scanned, {:.0} MB/s, {found} secrets found",
        scanned / spans,
        scanned as f64 / t.elapsed().as_secs_f64() / 1e6
    );
    // Hostile text: repetitions that make every word start look for a key, a card or a PEM
    // block; a scan that re-read the rest of the text at each start took seconds here.
    for unit in [
        "-----BEGIN ",
        "sk-",
        "eyJ-",
        "4242 ",
        "Bearer ",
        "password=",
    ] {
        let text = unit.repeat((1 << 20) / unit.len());
        let t = Instant::now();
        std::hint::black_box(sightline_store::scrub::scrub(&text));
        let secs = t.elapsed().as_secs_f64();
        println!(
            "  redaction of 1 MiB of {unit:?} repeated: {:.1} ms ({:.0} MB/s)",
            secs * 1e3,
            text.len() as f64 / secs / 1e6
        );
    }
    let row_bytes: usize = batches
        .iter()
        .flat_map(|b| &b.spans)
        .map(|s| s.attributes.len() + s.events.len() + s.name.len() + 60)
        .sum();
    println!("  ~{} bytes/span as rows", row_bytes / spans);

    let variants: &[(&str, &str)] = &[
        ("store: insert + commit (all indexes)", ""),
        ("  without spans_by_trace", "DROP INDEX spans_by_trace;"),
        (
            "  without trace summary indexes",
            "DROP INDEX traces_by_session; DROP INDEX traces_by_start;",
        ),
        (
            "store: insert + commit (no indexes)",
            "DROP INDEX spans_by_trace; DROP INDEX traces_by_session; DROP INDEX traces_by_start;",
        ),
    ];
    for (label, drop_sql) in variants {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_dir(dir.path()).unwrap();
        if !drop_sql.is_empty() {
            let conn = sightline_store::Connection::open(store.path()).unwrap();
            conn.execute_batch(drop_sql).unwrap();
        }
        let writer = store.writer();
        // Queue everything from a few threads so the writer can group commits, as under load.
        let t = Instant::now();
        std::thread::scope(|s| {
            for chunk in batches.chunks(batches.len().div_ceil(4)) {
                let writer = writer.clone();
                s.spawn(move || {
                    for b in chunk {
                        writer.write_blocking(b.clone()).unwrap();
                    }
                });
            }
        });
        rate(label, spans, t);
        drop(writer);
        let db = store.path().to_owned();
        store.close();
        println!(
            "  {} bytes/span in the database",
            std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) as usize / spans
        );
    }
}
