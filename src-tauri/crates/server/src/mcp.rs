//! `sightline mcp`: a Model Context Protocol server over stdio for coding agents, on the
//! running engine's query API (its UI address, with its token), with the official Rust SDK.
//!
//! Every tool is read-only and answers JSON text within a byte budget ([`DEFAULT_BUDGET`],
//! settable per call up to [`MAX_BUDGET`]): a list that does not fit keeps its first rows and
//! says so, with the cursor or filters to get the rest. An agent's context is the scarce
//! thing; a 5,000-span dump is of no use to it.

use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// What one answer holds by default: about 4,000 tokens, room for an agent to read several.
pub const DEFAULT_BUDGET: usize = 16 * 1024;
/// What a call may ask for at most (`max_bytes`): a large trace's summary, not the trace.
pub const MAX_BUDGET: usize = 256 * 1024;
/// How long one API call may take: the slowest documented query answers in well under a
/// second; a stuck engine should not hang the agent.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The engine's API, as the MCP tools call it.
#[derive(Clone)]
pub struct Engine {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Engine {
    pub fn new(ui: std::net::SocketAddr, token: Option<String>) -> anyhow::Result<Engine> {
        Ok(Engine {
            client: reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?,
            base: format!("http://{ui}/api/v1"),
            token,
        })
    }

    /// One API call: the answer's JSON, or the engine's own error.
    async fn call(
        &self,
        method: reqwest::Method,
        path: String,
        body: Option<Value>,
    ) -> Result<Value, ErrorData> {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.map_err(|_| {
            ErrorData::internal_error(
                format!(
                    "Sightline does not answer at {} (is it running?)",
                    self.base
                ),
                None,
            )
        })?;
        let status = resp.status();
        let answer: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(answer);
        }
        let message = answer["message"]
            .as_str()
            .unwrap_or("the engine refused")
            .to_owned();
        // The engine's 4xx are the caller's arguments; anything else is the engine's.
        Err(if status.is_client_error() {
            ErrorData::invalid_params(message, None)
        } else {
            ErrorData::internal_error(message, None)
        })
    }

    /// Whether an engine answers, for the one-line error `sightline mcp` starts with.
    pub async fn check(&self) -> anyhow::Result<()> {
        self.call(reqwest::Method::GET, "/status".into(), None)
            .await
            .map(drop)
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}: start one with `sightline serve` (or the desktop app); --ui sets its address",
                    e.message
                )
            })
    }
}

/// A query string of the set parameters.
fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    let q = q.finish();
    if q.is_empty() {
        q
    } else {
        format!("?{q}")
    }
}

/// The list fields answers carry, in the order they are looked for.
const LIST_FIELDS: &[&str] = &[
    "sessions",
    "traces",
    "logs",
    "rows",
    "missingTraces",
    "spans",
    "steps",
];

/// `answer` as JSON text within `budget` bytes: whole when it fits; else its first list cut
/// to what fits, with `cut` saying how many rows were kept of how many, and how to get more.
fn fit(mut answer: Value, budget: usize) -> String {
    let text = answer.to_string();
    if text.len() <= budget {
        return text;
    }
    let Some(field) = LIST_FIELDS.iter().find(|f| answer[**f].is_array()).copied() else {
        let mut cut: String = text.chars().take(budget.saturating_sub(80)).collect();
        cut.push_str(" … [cut at the byte budget: narrow the question, or raise max_bytes]");
        return cut;
    };
    let all = answer[field].as_array().map_or(0, Vec::len);
    let mut keep = all;
    while keep > 0 {
        keep = keep * 3 / 4;
        if let Some(rows) = answer[field].as_array_mut() {
            rows.truncate(keep);
        }
        answer["cut"] = serde_json::json!({
            "field": field, "kept": keep, "of": all,
            "more": "ask again with a smaller limit, narrower filters, the nextCursor, or a larger max_bytes",
        });
        let text = answer.to_string();
        if text.len() <= budget {
            return text;
        }
    }
    answer.to_string()
}

fn budget(max_bytes: Option<usize>) -> Result<usize, ErrorData> {
    match max_bytes {
        None => Ok(DEFAULT_BUDGET),
        Some(n) if (1024..=MAX_BUDGET).contains(&n) => Ok(n),
        Some(n) => Err(ErrorData::invalid_params(
            format!("max_bytes={n}: it must be between 1024 and {MAX_BUDGET}"),
            None,
        )),
    }
}

fn text(answer: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(answer)])
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSessions {
    /// A user id or email, exactly.
    pub user: Option<String>,
    /// Sessions that visited a page whose URL contains this.
    pub url: Option<String>,
    /// Only sessions with (true) or without (false) errors: a page error, a failed request
    /// (5xx or no answer) or a failing backend trace.
    pub has_errors: Option<bool>,
    /// Only sessions with a frustration signal (rage, dead or error clicks, thrashing).
    pub frustrated: Option<bool>,
    /// An incident window's id, or `any`.
    pub incident_id: Option<String>,
    /// Unix ms: sessions active at or after this.
    pub since: Option<i64>,
    /// Unix ms: sessions active at or before this.
    pub until: Option<i64>,
    /// Rows, 1-500 (default 20).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous answer.
    pub cursor: Option<String>,
    /// The answer's byte budget (default 16384, at most 262144).
    pub max_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionStory {
    /// The session's id.
    pub session_id: String,
    /// The answer's byte budget (default 16384, at most 262144).
    pub max_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchTraces {
    /// Traces with a span of this service.
    pub service: Option<String>,
    /// Traces with a span of this name.
    pub name: Option<String>,
    /// `error`, `ok` or `any` (default).
    pub status: Option<String>,
    /// Traces at least this long.
    pub min_duration_ms: Option<f64>,
    /// `key=value`: a span attribute.
    pub attribute: Option<String>,
    /// Traces of this session.
    pub session_id: Option<String>,
    /// Unix ms: traces that started at or after this.
    pub since: Option<i64>,
    /// Unix ms: traces that started at or before this.
    pub until: Option<i64>,
    /// Rows, 1-500 (default 20).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous answer.
    pub cursor: Option<String>,
    /// The answer's byte budget (default 16384, at most 262144).
    pub max_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchLogs {
    /// Full text over body and attributes (whole words; a trailing `*` for a prefix).
    pub query: Option<String>,
    /// At least this severity: `trace`, `debug`, `info`, `warn`, `error`, `fatal`.
    pub severity: Option<String>,
    pub service: Option<String>,
    /// 32 hexadecimal digits.
    pub trace_id: Option<String>,
    pub session_id: Option<String>,
    /// Unix ms.
    pub since: Option<i64>,
    /// Unix ms.
    pub until: Option<i64>,
    /// Rows, 1-500 (default 20).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous answer.
    pub cursor: Option<String>,
    /// The answer's byte budget (default 16384, at most 262144).
    pub max_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuerySql {
    /// One read-only SQL statement over the views `spans`, `logs`, `sessions`,
    /// `session_events`, `metrics`, … (stopped at the engine's time limit, rows capped).
    pub sql: String,
    /// The answer's byte budget (default 16384, at most 262144).
    pub max_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// The answer's byte budget (default 16384, at most 262144).
    pub max_bytes: Option<usize>,
}

/// A page size for an agent: 20 rows by default.
fn limit(limit: Option<u32>) -> Option<String> {
    Some(limit.unwrap_or(20).to_string())
}

fn ms(v: Option<i64>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// The MCP server: its tools, each one or two API calls.
#[derive(Clone)]
pub struct Sightline {
    engine: Engine,
    tool_router: ToolRouter<Self>,
}

#[tool_router(router = tool_router)]
impl Sightline {
    pub fn new(engine: Engine) -> Sightline {
        Sightline {
            engine,
            tool_router: Self::tool_router(),
        }
    }

    /// Recorded browser sessions, newest first: id, user, start, duration, pages, error and
    /// frustration counts, failing backend traces, start page.
    #[tool(
        name = "list_sessions",
        annotations(title = "List sessions", read_only_hint = true)
    )]
    async fn list_sessions(
        &self,
        Parameters(p): Parameters<ListSessions>,
    ) -> Result<CallToolResult, ErrorData> {
        let budget = budget(p.max_bytes)?;
        let q = query(&[
            ("facets", Some("false".into())),
            ("user", p.user),
            ("url", p.url),
            ("hasError", p.has_errors.map(|b| b.to_string())),
            (
                "minFrustration",
                p.frustrated.and_then(|f| f.then(|| "0.5".to_owned())),
            ),
            ("incident", p.incident_id),
            ("fromMs", ms(p.since)),
            ("toMs", ms(p.until)),
            ("limit", limit(p.limit)),
            ("cursor", p.cursor),
        ]);
        let answer = self
            .engine
            .call(reqwest::Method::GET, format!("/sessions{q}"), None)
            .await?;
        Ok(text(fit(answer, budget)))
    }

    /// One session told as a bug report: environment, numbered steps with their offsets,
    /// each failing request with the backend span that failed (service, name, message), the
    /// error logs, and a link that opens it in Sightline.
    #[tool(
        name = "get_session_story",
        annotations(title = "A session's story", read_only_hint = true)
    )]
    async fn get_session_story(
        &self,
        Parameters(p): Parameters<SessionStory>,
    ) -> Result<CallToolResult, ErrorData> {
        let budget = budget(p.max_bytes)?;
        let id = form_urlencoded::byte_serialize(p.session_id.as_bytes()).collect::<String>();
        let answer = self
            .engine
            .call(reqwest::Method::GET, format!("/sessions/{id}/report"), None)
            .await?;
        Ok(text(fit(answer, budget)))
    }

    /// Backend traces, newest first: root, services, duration, span and error counts, session.
    #[tool(
        name = "search_traces",
        annotations(title = "Search traces", read_only_hint = true)
    )]
    async fn search_traces(
        &self,
        Parameters(p): Parameters<SearchTraces>,
    ) -> Result<CallToolResult, ErrorData> {
        let budget = budget(p.max_bytes)?;
        let q = query(&[
            ("service", p.service),
            ("name", p.name),
            ("status", p.status),
            ("minDurationMs", p.min_duration_ms.map(|d| d.to_string())),
            ("attribute", p.attribute),
            ("session", p.session_id),
            ("fromMs", ms(p.since)),
            ("toMs", ms(p.until)),
            ("limit", limit(p.limit)),
            ("cursor", p.cursor),
        ]);
        let answer = self
            .engine
            .call(reqwest::Method::GET, format!("/traces{q}"), None)
            .await?;
        Ok(text(fit(answer, budget)))
    }

    /// Log records, newest first, by full text and filters.
    #[tool(
        name = "search_logs",
        annotations(title = "Search logs", read_only_hint = true)
    )]
    async fn search_logs(
        &self,
        Parameters(p): Parameters<SearchLogs>,
    ) -> Result<CallToolResult, ErrorData> {
        let budget = budget(p.max_bytes)?;
        let q = query(&[
            ("q", p.query),
            ("minSeverity", p.severity),
            ("service", p.service),
            ("traceId", p.trace_id),
            ("session", p.session_id),
            ("fromMs", ms(p.since)),
            ("toMs", ms(p.until)),
            ("limit", limit(p.limit)),
            ("cursor", p.cursor),
        ]);
        let answer = self
            .engine
            .call(reqwest::Method::GET, format!("/logs{q}"), None)
            .await?;
        Ok(text(fit(answer, budget)))
    }

    /// One read-only SQL statement over Sightline's views (see the README's SQL section).
    #[tool(
        name = "query_sql",
        annotations(title = "Query with SQL", read_only_hint = true)
    )]
    async fn query_sql(
        &self,
        Parameters(p): Parameters<QuerySql>,
    ) -> Result<CallToolResult, ErrorData> {
        let budget = budget(p.max_bytes)?;
        let answer = self
            .engine
            .call(
                reqwest::Method::POST,
                "/sql".into(),
                Some(serde_json::json!({ "sql": p.sql })),
            )
            .await?;
        Ok(text(fit(answer, budget)))
    }

    /// What did not link, and why: requests whose trace never arrived, traces naming a session
    /// that has no replay, spans whose parent is missing.
    #[tool(
        name = "diagnostics",
        annotations(title = "Diagnostics", read_only_hint = true)
    )]
    async fn diagnostics(
        &self,
        Parameters(p): Parameters<Budget>,
    ) -> Result<CallToolResult, ErrorData> {
        let budget = budget(p.max_bytes)?;
        let answer = self
            .engine
            .call(reqwest::Method::GET, "/diagnostics".into(), None)
            .await?;
        Ok(text(fit(answer, budget)))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Sightline {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("sightline", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(
            "Sightline holds what a browser session did (replay, clicks, frustration, errors) \
             beside what the backend did (traces, logs). Start with list_sessions (has_errors), \
             then get_session_story on one; search_traces and search_logs go behind it."
                .into(),
        );
        info
    }
}

/// Serves MCP on stdin/stdout until the client hangs up.
pub async fn serve_stdio(engine: Engine) -> anyhow::Result<()> {
    let service = Sightline::new(engine)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| anyhow::anyhow!("MCP over stdio did not start: {e}"))?;
    service.waiting().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_that_does_not_fit_keeps_its_first_rows_and_says_so() {
        let rows: Vec<Value> = (0..400)
            .map(|i| serde_json::json!({"id": i, "pad": "x".repeat(40)}))
            .collect();
        let answer = serde_json::json!({"sessions": rows, "nextCursor": "c"});
        let out: Value = serde_json::from_str(&fit(answer.clone(), 4096)).unwrap();
        assert!(out.to_string().len() <= 4096);
        assert_eq!(out["cut"]["of"], 400);
        let kept = out["cut"]["kept"].as_u64().unwrap() as usize;
        assert_eq!(out["sessions"].as_array().unwrap().len(), kept);
        assert_eq!(out["sessions"][0]["id"], 0, "the first rows are kept");
        assert_eq!(
            fit(serde_json::json!({"a": 1}), 4096),
            "{\"a\":1}",
            "what fits is whole"
        );
    }

    #[test]
    fn budgets_are_bounded() {
        assert_eq!(budget(None).unwrap(), DEFAULT_BUDGET);
        assert!(budget(Some(10)).is_err());
        assert!(budget(Some(MAX_BUDGET + 1)).is_err());
    }
}
