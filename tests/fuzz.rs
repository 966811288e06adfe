//! Fuzzing every decoder that takes outside input: OTLP protobuf and JSON (with normalizing,
//! which reads the replay carried in logs), compressed bodies, `/v1/replay` batches (with the
//! DOM mirror and the event index), the files the inbox and Import take (Collector output,
//! rrweb recordings), and bundles — the last through the running engine, with forged bundles
//! whose checksum is made to match.
//!
//! A mutation fuzzer on the stable toolchain: inputs start from what real clients sent (the
//! official SDKs' exports in `tests/fixtures/exporters`, the labelled corpus's recorder and SDK
//! requests, the Collector file exporter's output, a bundle the engine exported) and are
//! mutated byte by byte (flips, interesting bytes, huge varints, cuts, splices) or, for JSON,
//! value by value (extreme numbers, control characters and long strings, swapped types, deleted
//! and duplicated members). Inputs a decoder accepts join the pool, so mutations go deeper.
//! A panic, a 500 or a dropped connection is a finding: its input is saved to
//! `$CARGO_TARGET_TMPDIR/fuzz/` and the test fails naming it.
//!
//! Briefly in every `cargo test` ([`DEFAULT_SECONDS`] a target); longer on demand:
//! `SIGHTLINE_FUZZ_SECONDS=600 cargo test --release --test fuzz -- --nocapture`, and
//! `SIGHTLINE_FUZZ_SEED=N` repeats a run.

use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sightline_ingest::{content, files, normalize, otlp, replay, Encoding, Format};
use sightline_tests::Engine;

/// Seconds each target runs for in a plain `cargo test`: enough to catch a regression in the
/// shallow paths on every run without slowing the suite.
const DEFAULT_SECONDS: f64 = 2.0;
/// Mutated inputs past this size are skipped: the limits above the decoders (64 MiB bodies,
/// 16 MiB replay batches) are tested elsewhere, and big inputs only slow the loop.
const MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;
/// The most inputs the pool keeps; past it, a newly accepted input replaces a random one.
const MAX_POOL: usize = 512;
/// Accepted inputs shorter than this do not join the pool (an empty protobuf body is a valid
/// empty request, and a pool of those tests nothing).
const MIN_POOLED_BYTES: usize = 32;
/// What inflating may produce, as the receiver's limit would cap it (smaller, for speed).
const INFLATE_LIMIT: usize = 4 * 1024 * 1024;
/// A fixed "now" for decoders that stamp what they receive.
const NOW_MS: i64 = 1_763_000_000_000;

fn budget() -> Duration {
    let s = std::env::var("SIGHTLINE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(DEFAULT_SECONDS);
    Duration::from_secs_f64(s)
}

fn rng(target: &str) -> StdRng {
    let seed = std::env::var("SIGHTLINE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(rand::random);
    eprintln!("fuzz {target}: SIGHTLINE_FUZZ_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

// ---------------------------------------------------------------------------------------------
// Mutations

const INTERESTING_BYTES: &[u8] = &[0, 1, 0x7f, 0x80, 0xff, b'{', b'[', b'"', b'\\', b'\n', b':'];

/// One to four byte-level mutations of `input`, sometimes splicing in part of `other`.
fn mutate_bytes(rng: &mut StdRng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = b.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..len)
        };
        match rng.random_range(0..9) {
            0 if len > 0 => b[at] ^= 1 << rng.random_range(0..8),
            1 if len > 0 => b[at] = INTERESTING_BYTES[rng.random_range(0..INTERESTING_BYTES.len())],
            2 if len > 0 => b[at] = rng.random(),
            // A huge protobuf varint: a length or count that claims far more than is there.
            3 => b
                .splice(at..at, [0xff, 0xff, 0xff, 0xff, 0x0f])
                .for_each(drop),
            4 => {
                let n = rng.random_range(1..=16);
                let junk: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                b.splice(at..at, junk).for_each(drop);
            }
            5 if len > 1 => {
                let end = (at + rng.random_range(1..=len.min(64))).min(len);
                b.drain(at..end);
            }
            6 if len > 1 => {
                let end = (at + rng.random_range(1..=len.min(256))).min(len);
                let copy = b[at..end].to_vec();
                b.splice(at..at, copy).for_each(drop);
            }
            7 if len > 0 => b.truncate(at),
            8 if !other.is_empty() => {
                let from = rng.random_range(0..other.len());
                let end = (from + rng.random_range(1..=other.len().min(512))).min(other.len());
                let cut = at.min(b.len());
                b.truncate(cut);
                b.extend_from_slice(&other[from..end]);
            }
            _ => {}
        }
    }
    b
}

/// Keys the decoders look for: a mutation that adds one reaches code a random key would not.
const KEYS: &[&str] = &[
    "type",
    "id",
    "data",
    "source",
    "timestamp",
    "node",
    "childNodes",
    "adds",
    "removes",
    "parentId",
    "nextId",
    "attributes",
    "texts",
    "tagName",
    "textContent",
    "href",
    "positions",
    "tag",
    "payload",
    "sessionId",
    "batch",
    "events",
    "meta",
    "url",
    "traceId",
    "spanId",
    "parentSpanId",
    "timeUnixNano",
    "startTimeUnixNano",
    "endTimeUnixNano",
    "observedTimeUnixNano",
    "intValue",
    "stringValue",
    "doubleValue",
    "boolValue",
    "arrayValue",
    "kvlistValue",
    "bytesValue",
    "values",
    "key",
    "value",
    "body",
    "resource",
    "resourceSpans",
    "scopeSpans",
    "spans",
    "resourceLogs",
    "scopeLogs",
    "logRecords",
    "resourceMetrics",
    "scopeMetrics",
    "metrics",
    "gauge",
    "sum",
    "histogram",
    "exponentialHistogram",
    "dataPoints",
    "bucketCounts",
    "explicitBounds",
    "status",
    "code",
    "kind",
    "session.id",
    "rr-web.event",
    "rr-web.chunk",
    "rr-web.total-chunks",
    "rum.sessionId",
    "page.url",
    "frustration.type",
    "error.message",
    "isSVG",
    "isStyle",
    "rr_src",
    "srcdoc",
    "style",
    "x",
    "y",
    "width",
    "height",
];

fn interesting_value(rng: &mut StdRng) -> Value {
    match rng.random_range(0..22) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(u64::MAX),
        3 => json!(i64::MIN),
        4 => json!(1e308),
        5 => json!(-1e308),
        6 => json!(0.5),
        7 => json!(9_007_199_254_740_993u64),
        8 => json!(""),
        9 => json!("\u{0}\r\n\u{7}\u{202e}"),
        10 => Value::String("a".repeat(rng.random_range(1..70_000))),
        11 => Value::String("😀".repeat(rng.random_range(1..2_000))),
        12 => json!("http://evil.example/x.gif"),
        13 => json!("18446744073709551616"),
        14 => json!("ffffffffffffffffffffffffffffffff"),
        15 => Value::Null,
        16 => json!(true),
        17 => json!({}),
        18 => json!([]),
        19 => {
            // Deep, but under serde_json's recursion limit, so it parses and reaches the code.
            let mut v = json!(1);
            for _ in 0..rng.random_range(10..120) {
                v = json!([v]);
            }
            v
        }
        20 => Value::String(KEYS[rng.random_range(0..KEYS.len())].to_owned()),
        _ => json!(rng.random_range(-5i64..100_000)),
    }
}

/// How many values `v` holds, itself included (to pick one at random).
fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// The `n`-th value of `v` in pre-order.
fn nth(v: &mut Value, mut n: usize) -> Option<&mut Value> {
    if n == 0 {
        return Some(v);
    }
    n -= 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Object(o) => o.values_mut().collect(),
        _ => return None,
    };
    for c in children {
        let k = count(c);
        if n < k {
            return nth(c, n);
        }
        n -= k;
    }
    None
}

/// A value of `v` reached by a random walk down from it, stopping at each level with
/// probability 1/3.
fn walk<'a>(rng: &mut StdRng, v: &'a mut Value) -> &'a mut Value {
    let len = match &*v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    if len == 0 || rng.random_bool(1.0 / 3.0) {
        return v;
    }
    let i = rng.random_range(0..len);
    match v {
        Value::Array(a) => walk(rng, &mut a[i]),
        Value::Object(o) => walk(rng, o.values_mut().nth(i).unwrap()),
        _ => unreachable!("only containers have children"),
    }
}

/// One to three value-level mutations of `doc`.
fn mutate_json(rng: &mut StdRng, doc: &mut Value) {
    for _ in 0..rng.random_range(1..=3) {
        let total = count(doc);
        let donor = nth(doc, rng.random_range(0..total))
            .cloned()
            .unwrap_or(Value::Null);
        // Half the time any value alike; half the time by a walk from the top that stops at
        // each level with a chance, so a batch's few top fields (its session id, its batch
        // number) are hit as often as its thousands of DOM nodes.
        let v = if rng.random_bool(0.5) {
            match nth(doc, rng.random_range(0..total)) {
                Some(v) => v,
                None => continue,
            }
        } else {
            walk(rng, doc)
        };
        match (rng.random_range(0..6), &mut *v) {
            (0, _) => *v = interesting_value(rng),
            (1, _) => *v = donor,
            (2, Value::Object(o)) if !o.is_empty() => {
                let k = o.keys().nth(rng.random_range(0..o.len())).cloned().unwrap();
                o.remove(&k);
            }
            (3, Value::Object(o)) => {
                let k = KEYS[rng.random_range(0..KEYS.len())];
                o.insert(k.to_owned(), interesting_value(rng));
            }
            (4, Value::Array(a)) if !a.is_empty() => {
                let i = rng.random_range(0..a.len());
                match rng.random_range(0..3) {
                    0 => {
                        a.remove(i);
                    }
                    1 => {
                        let c = a[i].clone();
                        a.insert(i, c);
                    }
                    _ => a.push(donor),
                }
            }
            (5, Value::Number(n)) => {
                let x = n.as_i64().unwrap_or(0);
                *v = json!(match rng.random_range(0..4) {
                    0 => x.wrapping_add(1),
                    1 => x.wrapping_neg(),
                    2 => x.wrapping_mul(1 << rng.random_range(1..40)),
                    _ => x.wrapping_sub(1),
                });
            }
            (_, v) => *v = interesting_value(rng),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The loop

struct Finding {
    input: PathBuf,
    what: String,
}

/// What one input did: the decoder accepted it (it joins the pool), refused it, or failed in a
/// way no input may make it fail.
enum Verdict {
    Accepted,
    Refused,
    Broken(String),
}

/// Runs `target` on mutants of `seeds` for the time budget; JSON seeds are mutated as JSON
/// half the time when `json` is set. Fails the test with every finding.
fn fuzz(name: &str, seeds: Vec<Vec<u8>>, json: bool, mut target: impl FnMut(&[u8]) -> Verdict) {
    assert!(!seeds.is_empty(), "{name}: no seeds");
    let mut rng = rng(name);
    let n_seeds = seeds.len();
    let mut pool = seeds;
    let mut findings: Vec<Finding> = Vec::new();
    let (mut runs, mut accepted) = (0u64, 0u64);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz");
    let started = Instant::now();
    // Seeds must be accepted as they are: a fuzzer fed inputs its target refuses tests little.
    for (i, seed) in pool.iter().enumerate() {
        if let Verdict::Refused | Verdict::Broken(_) = run_one(&mut target, seed) {
            panic!("{name}: seed {i} is not accepted as it is");
        }
    }
    while started.elapsed() < budget() {
        // Half the time from a seed: inputs that are accepted drift small (a cut protobuf is
        // often a valid shorter message), and the seeds keep the loop deep.
        let base = if rng.random_bool(0.5) {
            &pool[rng.random_range(0..n_seeds)]
        } else {
            &pool[rng.random_range(0..pool.len())]
        };
        let input = if json && rng.random_bool(0.5) {
            match serde_json::from_slice::<Value>(base) {
                Ok(mut doc) => {
                    mutate_json(&mut rng, &mut doc);
                    serde_json::to_vec(&doc).unwrap()
                }
                Err(_) => mutate_bytes(&mut rng, base, &[]),
            }
        } else {
            let other = &pool[rng.random_range(0..pool.len())];
            mutate_bytes(&mut rng, base, other)
        };
        if input.len() > MAX_INPUT_BYTES {
            continue;
        }
        runs += 1;
        match run_one(&mut target, &input) {
            Verdict::Accepted => {
                accepted += 1;
                if input.len() < MIN_POOLED_BYTES {
                    // Too small to lead anywhere new.
                } else if pool.len() < MAX_POOL {
                    pool.push(input);
                } else if pool.len() > n_seeds {
                    // Seeds stay; a newer accepted input replaces an older one.
                    let i = rng.random_range(n_seeds..pool.len());
                    pool[i] = input;
                }
            }
            Verdict::Refused => {}
            Verdict::Broken(what) => {
                std::fs::create_dir_all(&out).unwrap();
                let file = out.join(format!("{name}-{}.bin", findings.len()));
                std::fs::write(&file, &input).unwrap();
                findings.push(Finding { input: file, what });
            }
        }
    }
    eprintln!(
        "fuzz {name}: {runs} inputs in {:.1} s, {accepted} accepted, {} findings, pool {}",
        started.elapsed().as_secs_f64(),
        findings.len(),
        pool.len()
    );
    let report: Vec<String> = findings
        .iter()
        .map(|f| format!("{}: {}", f.input.display(), f.what))
        .collect();
    assert!(report.is_empty(), "{name}:\n{}", report.join("\n"));
}

fn run_one(target: &mut impl FnMut(&[u8]) -> Verdict, input: &[u8]) -> Verdict {
    match catch_unwind(AssertUnwindSafe(|| target(input))) {
        Ok(v) => v,
        Err(panic) => Verdict::Broken(format!(
            "panicked: {}",
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        )),
    }
}

fn verdict(ok: bool) -> Verdict {
    if ok {
        Verdict::Accepted
    } else {
        Verdict::Refused
    }
}

// ---------------------------------------------------------------------------------------------
// Seeds: what real clients sent

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The official SDKs' OTLP/JSON exports, and the corpus's OTLP/JSON requests (the JS logs SDK
/// carrying session-replay events, and the web SDK's traces).
fn otlp_json_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(root().join("exporters"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".json") && !n.contains("-ids")
        })
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    seeds.extend(
        corpus_requests()
            .into_iter()
            .filter(|(path, _)| path != "/v1/replay")
            .map(|(_, body)| body),
    );
    seeds.sort();
    seeds
}

/// `(path, body)` of every request in the labelled corpus (Sightline's recorder, rrweb's own
/// `record()`, the OpenTelemetry JS logs SDK), as they were sent.
fn corpus_requests() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("corpus"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    paths.sort();
    for p in paths {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&p).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        for r in v["requests"].as_array().into_iter().flatten() {
            let path = r["path"].as_str().unwrap_or("/v1/replay").to_owned();
            out.push((path, r["body"].to_string().into_bytes()));
        }
    }
    out
}

fn replay_seeds() -> Vec<Vec<u8>> {
    corpus_requests()
        .into_iter()
        .filter(|(path, _)| path == "/v1/replay")
        .map(|(_, body)| body)
        .collect()
}

/// Which request a JSON seed is, by its top-level key: an OTLP signal, or else a replay batch.
fn signal_of(body: &[u8]) -> &'static str {
    let head = &body[..body.len().min(64)];
    let has = |k: &[u8]| head.windows(k.len()).any(|w| w == k);
    if has(b"resourceSpans") {
        "traces"
    } else if has(b"resourceLogs") {
        "logs"
    } else if has(b"resourceMetrics") {
        "metrics"
    } else {
        "replay"
    }
}

/// The JSON seeds as protobuf, as a gRPC or OTLP/HTTP protobuf client would send them.
fn otlp_protobuf_seeds() -> Vec<Vec<u8>> {
    otlp_json_seeds()
        .iter()
        .map(|body| match signal_of(body) {
            "traces" => otlp::decode::<ExportTraceServiceRequest>(body, Format::Json, "seed")
                .unwrap()
                .encode_to_vec(),
            "logs" => otlp::decode::<ExportLogsServiceRequest>(body, Format::Json, "seed")
                .unwrap()
                .encode_to_vec(),
            _ => otlp::decode::<ExportMetricsServiceRequest>(body, Format::Json, "seed")
                .unwrap()
                .encode_to_vec(),
        })
        .collect()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn deflate(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// The Collector file exporter's output and an rrweb recording, plain and compressed as the
/// exporter and people write them.
fn file_seeds() -> Vec<Vec<u8>> {
    let dir = root().join("collector");
    let jsonl = std::fs::read(dir.join("storefront.jsonl")).unwrap();
    let rrweb = std::fs::read(dir.join("checkout-recording.json")).unwrap();
    vec![
        jsonl.clone(),
        gzip(&jsonl),
        zstd::encode_all(&jsonl[..], 3).unwrap(),
        rrweb.clone(),
        gzip(&rrweb),
    ]
}

// ---------------------------------------------------------------------------------------------
// Targets in this process: the decoders themselves

/// Every OTLP request type decoded from `body` in `format`, and normalized as ingest would.
fn otlp_target(body: &[u8], format: Format) -> Verdict {
    let mut ok = false;
    if let Ok(r) = otlp::decode::<ExportTraceServiceRequest>(body, format, "traces") {
        std::hint::black_box(normalize::traces(&r));
        ok = true;
    }
    if let Ok(r) = otlp::decode::<ExportLogsServiceRequest>(body, format, "logs") {
        std::hint::black_box(normalize::logs(&r, NOW_MS));
        ok = true;
    }
    if let Ok(r) = otlp::decode::<ExportMetricsServiceRequest>(body, format, "metrics") {
        std::hint::black_box(normalize::metrics(&r));
        ok = true;
    }
    verdict(ok)
}

#[test]
fn otlp_protobuf_decoders_never_panic() {
    fuzz("otlp-protobuf", otlp_protobuf_seeds(), false, |b| {
        otlp_target(b, Format::Protobuf)
    });
}

#[test]
fn otlp_json_decoders_never_panic() {
    fuzz("otlp-json", otlp_json_seeds(), true, |b| {
        otlp_target(b, Format::Json)
    });
}

#[test]
fn compressed_bodies_never_panic_and_stay_bounded() {
    let plain = otlp_json_seeds();
    let mut seeds: Vec<Vec<u8>> = plain.iter().map(|b| gzip(b)).collect();
    seeds.extend(plain.iter().map(|b| deflate(b)));
    fuzz("inflate", seeds, false, |b| {
        let mut ok = false;
        for encoding in [Encoding::Gzip, Encoding::Deflate] {
            if let Ok(out) =
                content::inflate(bytes::Bytes::copy_from_slice(b), encoding, INFLATE_LIMIT)
            {
                if out.len() > INFLATE_LIMIT {
                    return Verdict::Broken(format!(
                        "inflated to {} bytes past the limit",
                        out.len()
                    ));
                }
                ok = true;
            }
        }
        verdict(ok)
    });
}

#[test]
fn replay_batches_never_panic() {
    fuzz("replay", replay_seeds(), true, |b| {
        verdict(std::hint::black_box(replay::decode(b, NOW_MS)).is_ok())
    });
}

#[test]
fn imported_files_never_panic() {
    fuzz("files", file_seeds(), true, |b| {
        let parsed = files::decompress(b).and_then(|d| files::parse(&d, "fuzz.jsonl"));
        verdict(std::hint::black_box(parsed).is_ok())
    });
}

// ---------------------------------------------------------------------------------------------
// Targets through the engine: what the decoders feed (the writer, the signals, the import)

/// What an engine's answer says of an input: a 5xx (but 503, which is backpressure) or a
/// dropped connection is a finding.
fn answered(resp: reqwest::Result<reqwest::blocking::Response>) -> Verdict {
    match resp {
        Ok(r) if r.status().is_success() => Verdict::Accepted,
        Ok(r) if r.status().is_server_error() && r.status().as_u16() != 503 => {
            let status = r.status();
            Verdict::Broken(format!("{status}: {}", r.text().unwrap_or_default()))
        }
        Ok(_) => Verdict::Refused,
        Err(e) => Verdict::Broken(format!("no answer: {e}")),
    }
}

/// Still up and consistent after the run: the API answers and SQLite finds the file intact.
fn still_well(e: &Engine) {
    let (status, stats) = e.api("/api/v1/stats");
    assert_eq!(status, 200, "{stats}");
    let (status, check) = e.sql("PRAGMA quick_check");
    assert_eq!(status, 200, "{check}");
    assert!(check.to_string().contains("ok"), "{check}");
}

#[test]
fn ingest_through_the_engine_never_fails_inside() {
    let e = Engine::start();
    let client = reqwest::blocking::Client::new();
    // Each input goes as OTLP/JSON, OTLP protobuf (when it decodes as JSON first) or a replay
    // batch, by what it was made from.
    let mut seeds: Vec<Vec<u8>> = otlp_json_seeds();
    seeds.extend(replay_seeds());
    fuzz("engine-ingest", seeds, true, |b| {
        let (path, kind, body) = if signal_of(b) == "replay" {
            ("/v1/replay".to_owned(), "application/json", b.to_vec())
        } else {
            let path = format!("/v1/{}", signal_of(b));
            match (signal_of(b), b.len() % 2) {
                ("traces", 0) => {
                    match otlp::decode::<ExportTraceServiceRequest>(b, Format::Json, "t") {
                        Ok(r) => (path, "application/x-protobuf", r.encode_to_vec()),
                        Err(_) => (path, "application/json", b.to_vec()),
                    }
                }
                ("logs", 0) => match otlp::decode::<ExportLogsServiceRequest>(b, Format::Json, "l")
                {
                    Ok(r) => (path, "application/x-protobuf", r.encode_to_vec()),
                    Err(_) => (path, "application/json", b.to_vec()),
                },
                _ => (path, "application/json", b.to_vec()),
            }
        };
        answered(
            client
                .post(e.otlp_url(&path))
                .header("content-type", kind)
                .body(body)
                .send(),
        )
    });
    still_well(&e);
}

/// A bundle the engine exported of a corpus session with its backend trace.
fn exported_bundle(e: &Engine) -> Vec<u8> {
    let client = reqwest::blocking::Client::new();
    let mut session = None;
    for (path, body) in corpus_requests() {
        if path == "/v1/replay" {
            let v: Value = serde_json::from_slice(&body).unwrap();
            session.get_or_insert_with(|| v["sessionId"].as_str().unwrap().to_owned());
        }
        client
            .post(e.otlp_url(&path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
    }
    let id = session.unwrap();
    let resp = client
        .get(e.api_url(&format!("/api/v1/export?session={id}")))
        .send()
        .unwrap();
    assert!(
        resp.status().is_success(),
        "export answered {}",
        resp.status()
    );
    resp.bytes().unwrap().to_vec()
}

/// A forged bundle: one value of `otlp`, `replay_batches` or `sessions` changed as the fuzzer
/// would change it, rows deleted or doubled, and the checksum made to match, so the import
/// reads past the checksum into what it validates.
fn forge(rng: &mut StdRng, bundle: &[u8], dir: &Path) -> Option<Vec<u8>> {
    let path = dir.join("forged.sightline");
    std::fs::write(&path, bundle).ok()?;
    let conn = sightline_store::Connection::open(&path).ok()?;
    let edit = match rng.random_range(0..6) {
        0 => {
            let (id, request): (i64, Vec<u8>) = conn
                .query_row("SELECT id, request FROM otlp ORDER BY random() LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .ok()?;
            let forged = mutate_bytes(rng, &request, &[]);
            conn.execute("UPDATE otlp SET request = ?1 WHERE id = ?2", (forged, id))
        }
        1 => conn.execute(
            "UPDATE otlp SET signal = ?1 WHERE id = (SELECT id FROM otlp ORDER BY random() LIMIT 1)",
            [["traces", "logs", "metrics", "bogus", ""][rng.random_range(0..5)]],
        ),
        2 => {
            let (sid, batch, events): (String, i64, String) = conn
                .query_row(
                    "SELECT session_id, batch, events FROM replay_batches ORDER BY random() LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .ok()?;
            let mut doc: Value = serde_json::from_str(&events).ok()?;
            mutate_json(rng, &mut doc);
            conn.execute(
                "UPDATE replay_batches SET events = ?1 WHERE session_id = ?2 AND batch = ?3",
                (doc.to_string(), sid, batch),
            )
        }
        3 => {
            let column = ["session_id", "user_id", "user_email", "start_url", "user_agent", "viewport", "attributes"]
                [rng.random_range(0..7)];
            let value = match interesting_value(rng) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            conn.execute(&format!("UPDATE sessions SET {column} = ?1"), [value])
        }
        4 => conn.execute(
            ["UPDATE replay_batches SET batch = -1", "UPDATE replay_batches SET received_ms = 9223372036854775807",
             "UPDATE replay_batches SET session_id = 'other'", "DELETE FROM sessions",
             "INSERT INTO replay_batches SELECT session_id, batch + 1000, first_ms, last_ms, received_ms, events FROM replay_batches"]
                [rng.random_range(0..5)],
            [],
        ),
        _ => conn.execute("DELETE FROM otlp WHERE id = (SELECT id FROM otlp ORDER BY random() LIMIT 1)", []),
    };
    edit.ok()?;
    let sum = sightline_store::bundle::checksum(&conn).ok()?;
    conn.execute(
        "UPDATE manifest SET value = ?1 WHERE key = 'checksum'",
        [Value::String(sum).to_string()],
    )
    .ok()?;
    drop(conn);
    std::fs::read(&path).ok()
}

#[test]
fn imports_through_the_engine_never_fail_inside() {
    let source = Engine::start();
    let bundle = exported_bundle(&source);
    let e = Engine::start();
    let client = reqwest::blocking::Client::new();
    let scratch = tempfile::tempdir().unwrap();
    let mut forger = rng("forger");
    let mut seeds = file_seeds();
    seeds.push(bundle.clone());
    // Byte mutations of a bundle mostly meet its checksum or SQLite's own checks; half the
    // bundles tried are forged with a checksum that matches.
    fuzz("engine-import", seeds, true, |b| {
        // The seed itself goes as it is (it must be accepted); a mutant of it is swapped for a
        // forged bundle half the time.
        let forged =
            (b.starts_with(b"SQLite format 3\0") && b != &bundle[..] && forger.random_bool(0.5))
                .then(|| forge(&mut forger, &bundle, scratch.path()))
                .flatten();
        let body = forged.unwrap_or_else(|| b.to_vec());
        // Named as such a file would be: the name is what the user sees, the content decides.
        let name = if body.starts_with(b"SQLite format 3\0") {
            "fuzz.sightline"
        } else {
            "fuzz.jsonl"
        };
        answered(
            client
                .post(e.api_url("/api/v1/import"))
                .header("x-file-name", name)
                .header("content-type", "application/octet-stream")
                .body(body)
                .send(),
        )
    });
    still_well(&e);
}
