//! Bug reports: a session told as a QA engineer would write it — the environment, the steps
//! to reproduce in plain words (from the recorded actions), the failing requests with the
//! backend span that failed, the error logs, and a link back. As Markdown to paste into a
//! ticket, and the same content as JSON for tools and AI assistants. Deterministic: the same
//! session gives the same report, no model involved.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
use crate::views::parse_json;

/// Steps listed at most: a long session's story is its first part plus where it went wrong.
pub const MAX_STEPS: usize = 60;
/// Failing requests and error logs listed at most.
pub const MAX_FAILURES: usize = 20;
pub const MAX_ERROR_LOGS: usize = 20;
/// A failing request's own error logs listed at most: the first few say what failed; the
/// session's error logs follow in `error_logs`, and search_logs has the rest.
pub const MAX_REQUEST_LOGS: usize = 3;
/// Overlapping traces listed at most per failing request, and the failing requests that get
/// them (each costs a search of the traces around it).
pub const MAX_OVERLAPPING: usize = 3;
pub const MAX_ENRICHED: usize = 5;
/// Frustration signals listed at most: a rage-clicking session fires dozens; the first ones
/// and their reasons say enough.
pub const MAX_SIGNALS: usize = 20;
/// Clicks on one element this close together are told as one step ("6 times in 0.8 s").
const CLICK_RUN_MS: i64 = 1_500;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub session_id: String,
    pub title: String,
    pub environment: Environment,
    pub steps: Vec<Step>,
    pub failing_requests: Vec<FailingRequest>,
    pub error_logs: Vec<ErrorLog>,
    /// Frustration signals, each with why it fired, at most 20.
    pub signals: Vec<StorySignal>,
    /// Errors the page threw, at most 20.
    pub page_errors: Vec<PageError>,
    /// `sightline://session/{id}?t=…`: opens the session at the first failure.
    pub link: String,
    /// The same place in the web UI, from its address: `/#/sessions/{id}?t=…`.
    pub ui_path: String,
    /// The bundle file `sightline export --session` writes for this session.
    pub bundle_file: String,
}

/// A frustration signal as the story tells it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorySignal {
    pub offset_ms: i64,
    /// `rage_click`, `dead_click`, `error_click`, `thrashing`, or a client's own name.
    pub kind: String,
    pub target: Option<String>,
    /// Why it fired, in words.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageError {
    pub offset_ms: i64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub user: Option<String>,
    pub browser: Option<String>,
    pub viewport: Option<String>,
    pub url: Option<String>,
    pub started_ms: Option<i64>,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// From the session's start.
    pub offset_ms: i64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailingRequest {
    pub offset_ms: i64,
    pub method: String,
    pub url: String,
    /// The HTTP status, or 0 when the request never got an answer.
    pub status: i64,
    pub trace_id: Option<String>,
    /// The span that failed (the deepest error span of the trace): service, name, message.
    pub failing_span: Option<FailingSpan>,
    /// The error logs of its trace, at most 3.
    pub error_logs: Vec<ErrorLog>,
    /// Other traces of the same services that ran at the same time (what held a lock, say),
    /// at most 3.
    pub overlapping: Vec<crate::views::OverlappingTrace>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailingSpan {
    pub service: Option<String>,
    pub name: String,
    pub span_id: String,
    pub message: Option<String>,
    /// Its `error.type` attribute, or its exception event's type.
    pub error_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorLog {
    pub offset_ms: i64,
    pub service: Option<String>,
    pub message: String,
    pub trace_id: Option<String>,
}

/// "Chrome 131 on Linux" from a user agent; `None` when it says nothing recognizable.
pub fn browser(user_agent: &str) -> Option<String> {
    let version = |name: &str| {
        user_agent.split(name).nth(1).map(|rest| {
            rest.trim_start_matches('/')
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or("")
                .to_owned()
        })
    };
    let name = if let Some(v) = version("Edg/") {
        format!("Edge {v}")
    } else if let Some(v) = version("Firefox/") {
        format!("Firefox {v}")
    } else if let Some(v) = version("Chrome/") {
        if user_agent.contains("HeadlessChrome") {
            format!("Chrome {v} (headless)")
        } else {
            format!("Chrome {v}")
        }
    } else if let Some(v) = version("HeadlessChrome/") {
        format!("Chrome {v} (headless)")
    } else if user_agent.contains("Safari/") {
        format!("Safari {}", version("Version/").unwrap_or_default())
    } else {
        return None;
    };
    let os = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| user_agent.contains(k))
    .map(|(_, v)| *v);
    Some(match os {
        Some(os) => format!("{} on {os}", name.trim()),
        None => name.trim().to_owned(),
    })
}

/// "0:12" or "1:02:03".
pub fn clock(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The path (and query) of a URL, as a person reads it in a step.
fn short_url(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => rest[i..].to_owned(),
            None => "/".to_owned(),
        },
        None => url.to_owned(),
    }
}

fn seconds(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

struct Event {
    ms: i64,
    kind: String,
    target: Option<String>,
    level: Option<String>,
    trace_id: Option<String>,
    data: Value,
}

/// The report for a session; `None` when no such session is stored.
pub fn session_report(conn: &Connection, session_id: &str) -> Result<Option<Report>> {
    let session = conn
        .prepare_cached(
            "SELECT first_seen_ms, last_seen_ms, user_id, user_email, start_url, user_agent, viewport
               FROM sessions WHERE session_id = ?1",
        )?
        .query_row([session_id], |r| {
            Ok((
                r.get::<_, Option<i64>>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .optional()?;
    let Some((first, last, user_id, email, start_url, agent, viewport)) = session else {
        return Ok(None);
    };
    let start = first.unwrap_or(0);
    let duration_ms = last.unwrap_or(start).saturating_sub(start);
    let viewport = viewport.map(|v| parse_json(&v)).and_then(|v| {
        Some(format!(
            "{}×{}",
            v.get("width")?.as_i64()?,
            v.get("height")?.as_i64()?
        ))
    });
    let environment = Environment {
        user: email.clone().or(user_id.clone()),
        browser: agent.as_deref().and_then(browser),
        viewport,
        url: start_url.clone(),
        started_ms: first,
        duration_ms,
    };

    let events: Vec<Event> = conn
        .prepare_cached(
            "SELECT timestamp_ms, kind, target, level, trace_id, data FROM session_events
              WHERE session_id = ?1 AND kind IN ('page_view', 'click', 'input', 'network', 'error')
              ORDER BY timestamp_ms, id",
        )?
        .query_map([session_id], |r| {
            Ok(Event {
                ms: r.get(0)?,
                kind: r.get(1)?,
                target: r.get(2)?,
                level: r.get(3)?,
                trace_id: r.get(4)?,
                data: parse_json(&r.get::<_, String>(5)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    // Frustration signals name the clicks that were rage or dead clicks.
    let stored_signals: Vec<(i64, String, Option<String>, String)> = conn
        .prepare_cached(
            "SELECT timestamp_ms, kind, target, reason FROM frustration_signals
              WHERE session_id = ?1 ORDER BY timestamp_ms, id",
        )?
        .query_map([session_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let signals: Vec<(i64, String)> = stored_signals
        .iter()
        .map(|(t, k, ..)| (*t, k.clone()))
        .collect();

    let failing_status = |e: &Event| -> Option<i64> {
        let status = e.level.as_deref()?.parse::<i64>().ok()?;
        (status == 0 || status >= 400).then_some(status)
    };
    let mut steps: Vec<Step> = Vec::new();
    // Clicks already told as part of a run.
    let mut told = vec![false; events.len()];
    let mut i = 0;
    while i < events.len() {
        let e = &events[i];
        if told[i] {
            i += 1;
            continue;
        }
        let offset = e.ms.saturating_sub(start);
        let text = match e.kind.as_str() {
            "page_view" => {
                let url = e.target.as_deref().unwrap_or("a page");
                // The first page, or a navigation to another page than the last one.
                let last_page = events[..i]
                    .iter()
                    .rev()
                    .find(|p| p.kind == "page_view")
                    .and_then(|p| p.target.as_deref());
                if last_page == Some(url) {
                    None
                } else if steps.is_empty() {
                    Some(format!("Opened {url}"))
                } else {
                    Some(format!("Went to {}", short_url(url)))
                }
            }
            "click" => {
                // A run: clicks on the same element, each soon after the last, whatever the
                // page did in between (its requests are told after the run).
                let target = e.target.clone();
                let mut run = vec![i];
                for (j, next) in events.iter().enumerate().skip(i + 1) {
                    let last = events[run[run.len() - 1]].ms;
                    if next.ms.saturating_sub(last) > CLICK_RUN_MS || next.kind == "page_view" {
                        break;
                    }
                    if next.kind == "click" {
                        if next.target != target {
                            break;
                        }
                        run.push(j);
                    }
                }
                let end = events[run[run.len() - 1]].ms;
                for &j in &run {
                    told[j] = true;
                }
                let n = run.len();
                let span = end.saturating_sub(e.ms);
                let what = match &target {
                    Some(t) => format!("Clicked \"{t}\""),
                    None => "Clicked".to_owned(),
                };
                let signal = signals
                    .iter()
                    .filter(|(t, _)| *t >= e.ms.saturating_sub(50) && *t <= end.saturating_add(50))
                    .map(|(_, k)| k.as_str())
                    .find(|k| *k == "rage_click" || *k == "dead_click");
                let why = match signal {
                    Some("rage_click") => " (rage click)",
                    Some("dead_click") => " (nothing happened: dead click)",
                    _ => "",
                };
                Some(if n > 1 {
                    format!("{what} {n} times in {}{why}", seconds(span))
                } else {
                    format!("{what}{why}")
                })
            }
            "input" => {
                // Typing is one step per field: the inputs that follow in the same field.
                let mut j = i + 1;
                while j < events.len() && events[j].kind == "input" && events[j].target == e.target
                {
                    j += 1;
                }
                i = j - 1;
                Some(match &e.target {
                    Some(field) => format!("Typed in \"{field}\""),
                    None => "Typed in a field".to_owned(),
                })
            }
            "network" => {
                let method = e
                    .data
                    .get("method")
                    .and_then(Value::as_str)
                    .unwrap_or("GET");
                let url = short_url(e.target.as_deref().unwrap_or("?"));
                match failing_status(e) {
                    Some(0) => Some(format!(
                        "The page's request {method} {url} failed (no answer)"
                    )),
                    Some(status) => Some(format!(
                        "The page's request {method} {url} failed with {status}"
                    )),
                    // A request that changed something is a step of its own; the reads a
                    // page makes as it goes (GET, HEAD, OPTIONS) are not.
                    None if !matches!(method, "GET" | "HEAD" | "OPTIONS") => {
                        let status = e.level.as_deref().unwrap_or("?");
                        Some(format!("Sent {method} {url} → {status}"))
                    }
                    None => None,
                }
            }
            "error" => Some(format!(
                "The page threw an error: {}",
                e.target.as_deref().unwrap_or("unknown error")
            )),
            _ => None,
        };
        if let Some(text) = text {
            steps.push(Step {
                offset_ms: offset,
                text,
            });
        }
        i += 1;
    }
    if steps.len() > MAX_STEPS {
        let first_bad = steps
            .iter()
            .position(|s| s.text.starts_with("The page"))
            .unwrap_or(MAX_STEPS);
        let keep_from = first_bad
            .saturating_sub(MAX_STEPS / 2)
            .min(steps.len() - MAX_STEPS);
        steps = steps.split_off(keep_from);
        steps.truncate(MAX_STEPS);
    }

    let mut failing_requests = Vec::new();
    for e in events.iter().filter(|e| e.kind == "network") {
        let Some(status) = failing_status(e) else {
            continue;
        };
        if failing_requests.len() >= MAX_FAILURES {
            break;
        }
        let (failing_span, error_logs, overlapping) = match &e.trace_id {
            Some(t) => request_backend(conn, t, start, failing_requests.len() < MAX_ENRICHED)?,
            None => (None, Vec::new(), Vec::new()),
        };
        failing_requests.push(FailingRequest {
            offset_ms: e.ms.saturating_sub(start),
            method: e
                .data
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_owned(),
            url: e.target.clone().unwrap_or_default(),
            status,
            trace_id: e.trace_id.clone(),
            failing_span,
            error_logs,
            overlapping,
        });
    }

    let error_logs: Vec<ErrorLog> = conn
        .prepare_cached(
            "SELECT l.time_unix_nano, l.service_name, l.body, lower(hex(l.trace_id))
               FROM logs l
              WHERE l.severity_number >= 17
                AND (l.session_id = ?1
                     OR l.trace IN (SELECT trace FROM trace_sessions WHERE session_id = ?1))
              ORDER BY l.time_unix_nano, l.id LIMIT ?2",
        )?
        .query_map(params![session_id, MAX_ERROR_LOGS as i64], |r| {
            let body = r.get::<_, Option<String>>(2)?.map(|b| parse_json(&b));
            Ok(ErrorLog {
                offset_ms: (r.get::<_, i64>(0)? / 1_000_000).saturating_sub(start),
                service: r.get(1)?,
                message: match body {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
                trace_id: r.get::<_, Option<String>>(3)?.filter(|t| !t.is_empty()),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;

    // The link opens the session a moment before the first thing that went wrong.
    let first_failure = steps
        .iter()
        .find(|s| s.text.starts_with("The page"))
        .map(|s| s.offset_ms)
        .or_else(|| failing_requests.first().map(|f| f.offset_ms))
        .unwrap_or(0);
    let at = first_failure.saturating_sub(2_000).max(0);
    let title = match (
        failing_requests.first(),
        steps.iter().find(|s| s.text.starts_with("The page threw")),
    ) {
        (Some(f), _) => format!(
            "{} {} fails with {}{}",
            f.method,
            short_url(&f.url),
            if f.status == 0 {
                "no answer".to_owned()
            } else {
                f.status.to_string()
            },
            f.failing_span
                .as_ref()
                .and_then(|s| s.message.as_deref())
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ),
        (None, Some(err)) => err.text.replacen("The page threw an error: ", "Error: ", 1),
        (None, None) => format!(
            "Session of {}",
            environment.user.as_deref().unwrap_or("an anonymous user")
        ),
    };
    Ok(Some(Report {
        session_id: session_id.to_owned(),
        title,
        environment,
        steps,
        failing_requests,
        error_logs,
        signals: stored_signals
            .into_iter()
            .take(MAX_SIGNALS)
            .map(|(t, kind, target, reason)| StorySignal {
                offset_ms: t.saturating_sub(start),
                kind,
                target,
                reason,
            })
            .collect(),
        page_errors: events
            .iter()
            .filter(|e| e.kind == "error")
            .take(MAX_FAILURES)
            .map(|e| PageError {
                offset_ms: e.ms.saturating_sub(start),
                message: e.target.clone().unwrap_or_else(|| "unknown error".into()),
            })
            .collect(),
        link: format!(
            "sightline://session/{}?t={:.1}s",
            encode(session_id),
            at as f64 / 1000.0
        ),
        ui_path: format!(
            "/#/sessions/{}?t={:.1}s",
            encode(session_id),
            at as f64 / 1000.0
        ),
        bundle_file: bundle_file(session_id),
    }))
}

/// The file name `sightline export --session ID` gives a session's bundle.
pub fn bundle_file(session_id: &str) -> String {
    let id: String = session_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(36)
        .collect();
    format!("sightline-session-{id}.{}", crate::bundle::EXTENSION)
}

/// A URL path segment: everything but unreserved characters percent-encoded (session ids are
/// client-chosen strings).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the backend says of a failing request's trace: the span that failed, the trace's
/// error logs, and the traces of the same services that overlapped it.
fn request_backend(
    conn: &Connection,
    trace_hex: &str,
    session_start: i64,
    with_overlapping: bool,
) -> Result<(
    Option<FailingSpan>,
    Vec<ErrorLog>,
    Vec<crate::views::OverlappingTrace>,
)> {
    let Ok(trace_id) = hex::decode(trace_hex) else {
        return Ok((None, Vec::new(), Vec::new()));
    };
    let Some((row, t0, t1)) = conn
        .prepare_cached(
            "SELECT id, start_time_unix_nano, end_time_unix_nano FROM traces WHERE trace_id = ?1",
        )?
        .query_row([&trace_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })
        .optional()?
    else {
        return Ok((None, Vec::new(), Vec::new()));
    };
    let span = failing_span(conn, row)?;
    let logs = conn
        .prepare_cached(
            "SELECT time_unix_nano, service_name, body FROM logs
              WHERE trace = ?1 AND severity_number >= 17
              ORDER BY time_unix_nano, id LIMIT ?2",
        )?
        .query_map(params![row, MAX_REQUEST_LOGS as i64], |r| {
            let body = r.get::<_, Option<String>>(2)?.map(|b| parse_json(&b));
            Ok(ErrorLog {
                offset_ms: (r.get::<_, i64>(0)? / 1_000_000).saturating_sub(session_start),
                service: r.get(1)?,
                message: match body {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
                trace_id: Some(trace_hex.to_owned()),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut overlapping = match (t0, t1) {
        (Some(t0), Some(t1)) if with_overlapping => crate::views::overlapping(conn, row, t0, t1)?,
        _ => Vec::new(),
    };
    overlapping.truncate(MAX_OVERLAPPING);
    Ok((span, logs, overlapping))
}

/// A span of the trace: id, parent id, status code, name, service, status message, row id.
type TraceSpan = (
    Vec<u8>,
    Option<Vec<u8>>,
    i64,
    String,
    Option<String>,
    String,
    i64,
);

/// Parents followed at most when measuring a span's depth: deeper than any real trace, and a
/// bound on a forged trace whose parents form a loop.
const MAX_SPAN_DEPTH: usize = 1_000;

/// The span that failed in a trace: the error span deepest in the tree (the cause, not the
/// callers that passed the error up, nor a client span that saw the failed answer), its
/// message from its status or its exception event.
fn failing_span(conn: &Connection, trace_row: i64) -> Result<Option<FailingSpan>> {
    let spans: Vec<TraceSpan> = conn
        .prepare_cached(
            "SELECT span_id, parent_span_id, status_code, name, service_name, status_message, id
               FROM spans WHERE trace = ?1
              ORDER BY start_time_unix_nano, span_id",
        )?
        .query_map([trace_row], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let parents: std::collections::HashMap<&[u8], Option<&[u8]>> = spans
        .iter()
        .map(|(id, parent, ..)| (id.as_slice(), parent.as_deref()))
        .collect();
    let depth = |id: &[u8]| {
        let mut d = 0;
        let mut at = parents.get(id).copied().flatten();
        while let Some(p) = at {
            d += 1;
            if d >= MAX_SPAN_DEPTH {
                break;
            }
            at = parents.get(p).copied().flatten();
        }
        d
    };
    // The deepest error span; among equals, the first to start.
    let leaf = spans
        .iter()
        .filter(|s| s.2 == 2)
        .map(|s| (depth(&s.0), s))
        .fold(None::<(usize, &TraceSpan)>, |best, (d, s)| match best {
            Some((bd, _)) if bd >= d => best,
            _ => Some((d, s)),
        })
        .map(|(_, s)| s);
    let Some((id, _, _, name, service, message, row)) = leaf else {
        return Ok(None);
    };
    // Attributes and events of the one span told, not of every span of the trace.
    let (attributes, events): (String, String) = conn
        .prepare_cached("SELECT attributes, events FROM spans WHERE id = ?1")?
        .query_row([row], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let (message, error_type) = crate::views::error_details(message, &attributes, &events);
    Ok(Some(FailingSpan {
        service: service.clone(),
        name: name.clone(),
        span_id: hex::encode(id),
        message,
        error_type,
    }))
}

impl Report {
    /// The report as Markdown, to paste into a ticket.
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write;
        let mut md = String::new();
        let _ = writeln!(md, "## {}\n", self.title);
        let e = &self.environment;
        let _ = writeln!(md, "**Environment**\n");
        let _ = writeln!(md, "- User: {}", e.user.as_deref().unwrap_or("anonymous"));
        if let Some(b) = &e.browser {
            let _ = writeln!(md, "- Browser: {b}");
        }
        if let Some(v) = &e.viewport {
            let _ = writeln!(md, "- Viewport: {v}");
        }
        if let Some(u) = &e.url {
            let _ = writeln!(md, "- URL: {u}");
        }
        let _ = writeln!(md, "- Duration: {}", clock(e.duration_ms));
        let _ = writeln!(md, "\n**Steps to reproduce**\n");
        if self.steps.is_empty() {
            let _ = writeln!(md, "No actions were recorded.");
        }
        for (n, s) in self.steps.iter().enumerate() {
            let _ = writeln!(md, "{}. {} _(at {})_", n + 1, s.text, clock(s.offset_ms));
        }
        if !self.failing_requests.is_empty() {
            let _ = writeln!(md, "\n**Failing requests**\n");
            for f in &self.failing_requests {
                let status = if f.status == 0 {
                    "no answer".to_owned()
                } else {
                    f.status.to_string()
                };
                let _ = write!(md, "- `{} {}` → {status}", f.method, f.url);
                if let Some(t) = &f.trace_id {
                    let _ = write!(md, " · trace `{t}`");
                }
                let _ = writeln!(md);
                if let Some(s) = &f.failing_span {
                    let _ = writeln!(
                        md,
                        "  - failing span: `{}` in {}{}",
                        s.name,
                        s.service.as_deref().unwrap_or("an unnamed service"),
                        s.message
                            .as_deref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        if !self.error_logs.is_empty() {
            let _ = writeln!(md, "\n**Error logs**\n");
            let _ = writeln!(md, "```");
            for l in &self.error_logs {
                let _ = writeln!(
                    md,
                    "{} {} {}",
                    clock(l.offset_ms),
                    l.service.as_deref().unwrap_or("-"),
                    l.message.replace('\n', " ")
                );
            }
            let _ = writeln!(md, "```");
        }
        let _ = writeln!(
            md,
            "\nOpen in Sightline: {} · bundle: `{}` (`sightline export --session {}`)",
            self.link, self.bundle_file, self.session_id
        );
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_as_people_say_them() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.85 Safari/537.36";
        assert_eq!(browser(chrome).as_deref(), Some("Chrome 131 on Linux"));
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(browser(firefox).as_deref(), Some("Firefox 133 on Windows"));
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(browser(safari).as_deref(), Some("Safari 17 on iOS"));
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70";
        assert_eq!(browser(edge).as_deref(), Some("Edge 131 on Windows"));
        assert_eq!(browser("curl/8.5"), None);
    }

    #[test]
    fn clocks_and_urls_read_short() {
        assert_eq!(clock(12_400), "0:12");
        assert_eq!(clock(3_723_000), "1:02:03");
        assert_eq!(short_url("https://shop.test/cart?x=1"), "/cart?x=1");
        assert_eq!(short_url("https://shop.test"), "/");
        assert_eq!(bundle_file("ab/c d"), "sightline-session-abcd.sightline");
    }
}
