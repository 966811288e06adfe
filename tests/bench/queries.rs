//! Query latency benchmark: p50/p95 of the API's reads on a database filled by
//! `sightline dev seed`, over HTTP on loopback, one request at a time (a person clicking
//! through the UI), against the release `sightline serve`; then each MCP tool's answer (its
//! size and latency) over Streamable HTTP at `/mcp`, as an agent calls them.
//!
//!     cargo bench --bench queries -- [--data-dir DIR] [--sessions 10000] [--spans 5000000]
//!                                    [--logs 5000000] [--rounds 60]
//!
//! Without `--data-dir` it seeds a fresh temporary database (minutes at the full size). With
//! one, it seeds it if it is empty and reuses it otherwise, so repeated runs skip the seeding.
//! Each kind of request rotates through varied parameters (different sessions, users, filters,
//! words), so caching one answer cannot flatter the figures. Times include reading the body.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sightline_tests::{seed, Process};

struct Args {
    data_dir: Option<PathBuf>,
    sessions: u64,
    spans: u64,
    logs: u64,
    rounds: usize,
}

fn args() -> Args {
    let mut a = Args {
        data_dir: None,
        sessions: 10_000,
        spans: 5_000_000,
        logs: 5_000_000,
        rounds: 60,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        let num = || value.parse::<u64>().unwrap_or(0);
        match argv[i].as_str() {
            "--data-dir" => a.data_dir = Some(PathBuf::from(&value)),
            "--sessions" => a.sessions = num(),
            "--spans" => a.spans = num(),
            "--logs" => a.logs = num(),
            "--rounds" => a.rounds = num().max(5) as usize,
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

struct Api {
    base: String,
    client: reqwest::blocking::Client,
}

impl Api {
    /// GET, returning the body and the time until it was read.
    fn get(&self, path: &str) -> (Value, Duration) {
        let t = Instant::now();
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .expect("request");
        let status = resp.status();
        let body: Value = resp.json().expect("JSON");
        let took = t.elapsed();
        assert!(status.is_success(), "{path}: {status} {body}");
        (body, took)
    }

    /// One MCP tool call over Streamable HTTP (the server is stateless: no handshake needed
    /// for a call); the structured answer, its size as JSON text, and the time.
    fn tool(&self, name: &str, arguments: Value) -> (Value, usize, Duration) {
        let t = Instant::now();
        let body: Value = self
            .client
            .post(format!("{}/mcp", self.base))
            .header("accept", "application/json, text/event-stream")
            .json(
                &serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": name, "arguments": arguments}}),
            )
            .send()
            .expect("tools/call")
            .json()
            .expect("JSON-RPC");
        let took = t.elapsed();
        let answer = body["result"]["structuredContent"].clone();
        assert!(answer.is_object(), "{name}: {body}");
        let size = answer.to_string().len();
        (answer, size, took)
    }

    fn sql(&self, q: &str) -> Vec<Vec<Value>> {
        let body: Value = self
            .client
            .post(format!("{}/api/v1/sql", self.base))
            .json(&serde_json::json!({ "sql": q }))
            .send()
            .expect("sql")
            .json()
            .expect("JSON");
        serde_json::from_value(body["rows"].clone()).unwrap_or_else(|_| panic!("{q}: {body}"))
    }
}

struct Row {
    name: &'static str,
    goal_ms: f64,
    times: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

fn main() {
    let a = args();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = a.data_dir.clone().unwrap_or_else(|| temp.path().to_owned());
    let db = dir.join("sightline.db");
    if !db.exists() {
        eprintln!(
            "seeding {} sessions, {} spans, {} logs into {} …",
            a.sessions,
            a.spans,
            a.logs,
            dir.display()
        );
        seed(&dir, a.sessions, a.spans, a.logs);
    }
    let server = Process::serve(&dir, &[]).expect("sightline serve");
    let api = Api {
        base: format!("http://{}", server.ui),
        client: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client"),
    };
    let (stats, _) = api.get("/api/v1/stats");
    let n = a.rounds;

    // Varied parameters, drawn from the data.
    let sessions: Vec<(String, i64, i64)> = api
        .sql(&format!(
            "SELECT session_id, first_seen_unix_nano / 1000000, last_seen_unix_nano / 1000000
               FROM sessions ORDER BY random() LIMIT {n}"
        ))
        .into_iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_owned(),
                r[1].as_i64().unwrap_or(0),
                r[2].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert!(!sessions.is_empty(), "the database has no sessions");
    let users: Vec<String> = api
        .sql(&format!(
            "SELECT DISTINCT user_id FROM sessions WHERE user_id IS NOT NULL ORDER BY random() LIMIT {n}"
        ))
        .into_iter()
        .filter_map(|r| r[0].as_str().map(str::to_owned))
        .collect();
    let traces: Vec<String> = api
        .sql(&format!(
            "SELECT trace_id FROM session_traces ORDER BY random() LIMIT {n}"
        ))
        .into_iter()
        .filter_map(|r| r[0].as_str().map(str::to_owned))
        .collect();
    let (last_ms,) = api
        .sql("SELECT max(last_seen_unix_nano) / 1000000 FROM sessions")
        .first()
        .map(|r| (r[0].as_i64().unwrap_or(0),))
        .unwrap_or((0,));
    let pick = |i: usize, len: usize| i % len.max(1);

    let mut rows: Vec<Row> = Vec::new();
    let mut measure =
        |name: &'static str, goal_ms: f64, rounds: usize, f: &mut dyn FnMut(usize) -> Duration| {
            for i in 0..3 {
                f(i); // warm the page cache and the prepared statements
            }
            let times = (0..rounds).map(|i| f(i + 3)).collect();
            rows.push(Row {
                name,
                goal_ms,
                times,
            });
            eprintln!("measured {name}");
        };

    measure(
        "session list, first page (with facets)",
        100.0,
        n,
        &mut |_| api.get("/api/v1/sessions").1,
    );
    measure("session list, no facets", 100.0, n, &mut |_| {
        api.get("/api/v1/sessions?facets=false").1
    });
    measure(
        "session list, filtered (rotating filters)",
        100.0,
        n,
        &mut |i| {
            let user = &users[pick(i, users.len())];
            let q = match i % 6 {
                0 => "hasError=true".to_owned(),
                1 => format!("user={user}"),
                2 => "url=/checkout".to_owned(),
                3 => "minFrustration=1".to_owned(),
                4 => format!("q=shopper{}", i % 2000),
                _ => format!("hasBackendTraces=true&fromMs={}", last_ms - 3_600_000),
            };
            api.get(&format!("/api/v1/sessions?{q}")).1
        },
    );
    measure("session page (detail + timeline)", 50.0, n, &mut |i| {
        let (id, _, _) = &sessions[pick(i, sessions.len())];
        let (_, a) = api.get(&format!("/api/v1/sessions/{id}"));
        let (_, b) = api.get(&format!("/api/v1/sessions/{id}/timeline"));
        a + b
    });
    measure(
        "replay range (30 s at a random moment)",
        100.0,
        n,
        &mut |i| {
            let (id, first, last) = &sessions[pick(i, sessions.len())];
            let span = (last - first).max(1);
            let from = first + (i as i64 * 7_919) % span;
            api.get(&format!(
                "/api/v1/sessions/{id}/replay?fromMs={from}&toMs={}",
                from + 30_000
            ))
            .1
        },
    );
    measure("trace, typical (from a session)", 100.0, n, &mut |i| {
        api.get(&format!("/api/v1/traces/{}", traces[pick(i, traces.len())]))
            .1
    });
    let big = |spans: u64| {
        let mut id = [0u8; 16];
        id[..2].copy_from_slice(&[0x5e, 0xed]);
        id[8..].copy_from_slice(&spans.to_be_bytes());
        hex::encode(id)
    };
    let (t1k, t20k) = (big(1_000), big(20_000));
    if api
        .client
        .get(format!("{}/api/v1/traces/{t20k}", api.base))
        .send()
        .is_ok_and(|r| r.status().is_success())
    {
        measure("trace of 1,000 spans", 100.0, n, &mut |_| {
            api.get(&format!("/api/v1/traces/{t1k}")).1
        });
        measure("trace of 20,000 spans", 300.0, n.min(20), &mut |_| {
            api.get(&format!("/api/v1/traces/{t20k}")).1
        });
    }
    measure("trace search (rotating filters)", 100.0, n, &mut |i| {
        let q = match i % 6 {
            0 => "service=payment-svc".to_owned(),
            1 => "status=error".to_owned(),
            2 => "minDurationMs=1000".to_owned(),
            3 => "attribute=http.route=/api/checkout".to_owned(),
            4 => "name=POST%20/api/checkout".to_owned(),
            _ => format!("session={}", sessions[pick(i, sessions.len())].0),
        };
        api.get(&format!("/api/v1/traces?{q}")).1
    });
    measure(
        "log search, full text (rotating words)",
        100.0,
        n,
        &mut |i| {
            let q = match i % 6 {
                0 => "q=declined".to_owned(),
                1 => "q=fraud%20score".to_owned(),
                2 => format!("q=order%20{}", 1000 + i * 37 % 5000),
                3 => "q=timeout&minSeverity=error".to_owned(),
                4 => "q=charging&service=payment-svc".to_owned(),
                _ => format!("q=cache&fromMs={}", last_ms - 3_600_000),
            };
            api.get(&format!("/api/v1/logs?{q}")).1
        },
    );
    measure(
        "log search, filters only (severity, service, trace)",
        100.0,
        n,
        &mut |i| {
            let q = match i % 3 {
                0 => "minSeverity=error".to_owned(),
                1 => "service=fraud-svc".to_owned(),
                _ => format!("traceId={}", traces[pick(i, traces.len())]),
            };
            api.get(&format!("/api/v1/logs?{q}")).1
        },
    );
    measure("service map, everything", 100.0, n, &mut |_| {
        api.get("/api/v1/service-map").1
    });
    measure("service map, last hour", 100.0, n, &mut |_| {
        api.get(&format!(
            "/api/v1/service-map?fromMs={}",
            last_ms - 3_600_000
        ))
        .1
    });
    measure("services", 100.0, n, &mut |_| api.get("/api/v1/services").1);
    measure("diagnostics", 100.0, n.min(20), &mut |_| {
        api.get("/api/v1/diagnostics").1
    });

    println!(
        "\nDatabase: {} spans, {} logs, {} sessions, {:.0} MiB",
        stats["spans"],
        stats["logs"],
        stats["sessions"],
        stats["databaseBytes"].as_f64().unwrap_or(0.0) / 1048576.0
    );
    println!("| request | n | p50 ms | p95 ms | max ms | goal p95 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for mut row in rows {
        row.times.sort();
        let p95 = percentile(&row.times, 0.95);
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | < {} ms{} |",
            row.name,
            row.times.len(),
            percentile(&row.times, 0.50),
            p95,
            row.times.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
            row.goal_ms,
            if p95 < row.goal_ms { "" } else { " (missed)" }
        );
    }
    // MCP: each tool as an agent calls it, its answer's size (within the 16 KiB default
    // budget unless asked) and latency.
    struct ToolRow {
        name: String,
        sizes: Vec<usize>,
        times: Vec<Duration>,
        cut: usize,
    }
    let mut tool_rows: Vec<ToolRow> = Vec::new();
    let mut call = |label: &str, rounds: usize, f: &mut dyn FnMut(usize) -> (String, Value)| {
        let mut row = ToolRow {
            name: label.to_owned(),
            sizes: Vec::new(),
            times: Vec::new(),
            cut: 0,
        };
        for i in 0..rounds + 2 {
            let (tool, args) = f(i);
            let (answer, size, took) = api.tool(&tool, args);
            if i >= 2 {
                row.sizes.push(size);
                row.times.push(took);
                row.cut += usize::from(answer.get("cut").is_some());
            }
        }
        tool_rows.push(row);
        eprintln!("measured MCP {label}");
    };

    call("list_sessions (has_errors)", n, &mut |_| {
        ("list_sessions".into(), json!({"has_errors": true}))
    });
    call("list_sessions (rotating filters)", n, &mut |i| {
        let user = &users[pick(i, users.len())];
        let args = match i % 3 {
            0 => json!({"user": user}),
            1 => json!({"frustrated": true}),
            _ => json!({"url": "/checkout"}),
        };
        ("list_sessions".into(), args)
    });
    call("get_session_story", n, &mut |i| {
        let (id, _, _) = &sessions[pick(i, sessions.len())];
        ("get_session_story".into(), json!({"session_id": id}))
    });
    call("search_traces (rotating filters)", n, &mut |i| {
        let args = match i % 3 {
            0 => json!({"service": "payment-svc"}),
            1 => json!({"status": "error"}),
            _ => json!({"min_duration_ms": 1000}),
        };
        ("search_traces".into(), args)
    });
    call("get_trace, typical", n, &mut |i| {
        let id = &traces[pick(i, traces.len())];
        ("get_trace".into(), json!({"trace_id": id}))
    });
    let has_big = api
        .client
        .get(format!("{}/api/v1/traces/{t20k}", api.base))
        .send()
        .is_ok_and(|r| r.status().is_success());
    if has_big {
        call("get_trace, 1,000 spans", n, &mut |_| {
            ("get_trace".into(), json!({"trace_id": t1k}))
        });
        call("get_trace, 20,000 spans", n.min(20), &mut |_| {
            ("get_trace".into(), json!({"trace_id": t20k}))
        });
        call(
            "get_trace, 20,000 spans, 200 spans a page",
            n.min(20),
            &mut |_| {
                (
                    "get_trace".into(),
                    json!({"trace_id": t20k, "max_spans": 200, "max_bytes": 262144}),
                )
            },
        );
    }
    let spans: Vec<(String, String)> = traces
        .iter()
        .take(n)
        .filter_map(|t| {
            let (outline, _, _) = api.tool("get_trace", json!({"trace_id": t, "max_spans": 1}));
            let span = outline["errors"][0]["spanId"]
                .as_str()
                .or(outline["root"]["spanId"].as_str())?
                .to_owned();
            Some((t.clone(), span))
        })
        .collect();
    call("get_span", n, &mut |i| {
        let (t, s) = &spans[pick(i, spans.len())];
        ("get_span".into(), json!({"trace_id": t, "span_id": s}))
    });
    call("search_logs (rotating)", n, &mut |i| {
        let args = match i % 3 {
            0 => json!({"query": "declined"}),
            1 => json!({"severity": "error"}),
            _ => json!({"trace_id": traces[pick(i, traces.len())]}),
        };
        ("search_logs".into(), args)
    });
    call("query_sql (errors by service)", n, &mut |_| {
        (
            "query_sql".into(),
            json!({"sql": "SELECT service_name, count(*) FROM spans WHERE status_code = 2 GROUP BY 1"}),
        )
    });
    call("diagnostics", n.min(20), &mut |_| {
        ("diagnostics".into(), json!({}))
    });
    println!("\nMCP tools over Streamable HTTP (answer = the structured content as JSON text)");
    println!("| tool call | n | answer bytes p50 | max | cut | p50 ms | p95 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for mut row in tool_rows {
        row.times.sort();
        row.sizes.sort();
        println!(
            "| {} | {} | {} | {} | {} | {:.1} | {:.1} |",
            row.name,
            row.times.len(),
            row.sizes[row.sizes.len() / 2],
            row.sizes.last().copied().unwrap_or(0),
            row.cut,
            percentile(&row.times, 0.50),
            percentile(&row.times, 0.95),
        );
    }
    if has_big {
        let bytes = api
            .client
            .get(format!("{}/api/v1/traces/{t20k}", api.base))
            .send()
            .and_then(|r| r.bytes())
            .map_or(0, |b| b.len());
        println!("(the whole 20,000-span trace from /api/v1/traces/{{id}}: {bytes} bytes)");
    }
    println!(
        "server peak RSS: {} MiB",
        server.peak_rss_kib().unwrap_or(0) / 1024
    );
    server.kill9();
}
