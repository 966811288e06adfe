//! `sightline export …` and `sightline import FILE…`: session bundles from a terminal, through
//! a running engine's API (the UI address, under its token when it has one).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::target::Target;

/// Exporting or importing a large bundle takes a while on a laptop; past this the engine is
/// stuck, not busy.
const TIMEOUT: Duration = Duration::from_secs(600);

#[derive(clap::Args)]
pub struct ExportArgs {
    /// A session to export (repeat it for several)
    #[arg(long = "session", value_name = "ID", conflicts_with_all = ["incident", "from"])]
    sessions: Vec<String>,
    /// What an incident window caught
    #[arg(long, value_name = "ID", conflicts_with = "from")]
    incident: Option<String>,
    /// The start of a time range: Unix milliseconds or an RFC 3339 time (2026-11-22T14:00:00Z)
    #[arg(long, requires = "to", value_parser = parse_time)]
    from: Option<i64>,
    /// The end of the time range
    #[arg(long, requires = "from", value_parser = parse_time)]
    to: Option<i64>,
    /// Where to write the bundle [default: the name Sightline gives it, in this directory]
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Bundles (`.sightline` files) to import
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    target: Target,
}

fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("{s:?} is neither Unix milliseconds nor an RFC 3339 time: {e}"))
}

fn client() -> Result<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .build()?)
}

/// Sends a request to the engine (with its token), and says in words when it is not there or
/// refuses.
fn send(
    mut req: reqwest::blocking::RequestBuilder,
    target: &Target,
) -> Result<reqwest::blocking::Response> {
    if let Some(token) = &target.token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().with_context(|| {
        format!(
            "Sightline does not answer at {} (is it running? --ui sets the address)",
            target.ui
        )
    })?;
    if !resp.status().is_success() {
        return Err(refusal(resp));
    }
    Ok(resp)
}

fn refusal(resp: reqwest::blocking::Response) -> anyhow::Error {
    let status = resp.status();
    let body: Value = resp.json().unwrap_or(Value::Null);
    anyhow::anyhow!(
        "Sightline refused ({status}): {}",
        body["message"].as_str().unwrap_or("no message")
    )
}

pub fn export(a: ExportArgs) -> Result<()> {
    let mut query: Vec<(&str, String)> =
        a.sessions.iter().map(|s| ("session", s.clone())).collect();
    if let Some(id) = &a.incident {
        query.push(("incident", id.clone()));
    }
    if let (Some(from), Some(to)) = (a.from, a.to) {
        query.push(("fromMs", from.to_string()));
        query.push(("toMs", to.to_string()));
    }
    if query.is_empty() {
        bail!("say what to export: --session ID (one or more), --incident ID, or --from and --to");
    }
    let base = format!("http://{}/api/v1", a.target.ui);
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    let resp = send(client()?.get(format!("{base}/export?{query}")), &a.target)?;
    let suggested = resp
        .headers()
        .get(http::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("filename=\"").nth(1))
        .and_then(|v| v.split('"').next())
        .map(str::to_owned)
        .unwrap_or_else(|| "export.sightline".to_owned());
    let counts: Value = resp
        .headers()
        .get("x-sightline-counts")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or(Value::Null);
    let bytes = resp.bytes()?;
    let path = a.output.unwrap_or_else(|| PathBuf::from(&suggested));
    let tmp = path.with_extension("sightline.partial");
    std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    if a.target.json {
        println!(
            "{}",
            serde_json::json!({"file": path, "bytes": bytes.len(), "counts": counts})
        );
    } else {
        println!(
            "{}\t{} bytes\t{} sessions, {} traces, {} spans, {} logs",
            path.display(),
            bytes.len(),
            counts["sessions"],
            counts["traces"],
            counts["spans"],
            counts["logs"]
        );
    }
    Ok(())
}

pub fn import(a: ImportArgs) -> Result<()> {
    let base = format!("http://{}/api/v1", a.target.ui);
    let client = client()?;
    let mut failed = 0;
    for file in &a.files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bundle.sightline".to_owned());
        let outcome = (|| -> Result<Value> {
            let body = std::fs::File::open(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let req = client
                .post(format!("{base}/import"))
                .header("x-file-name", &name)
                .header(
                    http::header::CONTENT_TYPE,
                    "application/vnd.sightline.bundle+sqlite3",
                )
                .body(body);
            Ok(send(req, &a.target)?.json()?)
        })();
        match outcome {
            Ok(v) if a.target.json => println!("{v}"),
            Ok(v) if v["imported"] == false => println!("{}\talready imported", file.display()),
            Ok(v) => println!(
                "{}\timported\t{} sessions, {} spans, {} logs",
                file.display(),
                v["sessions"].as_array().map_or(0, Vec::len),
                v["spans"],
                v["logs"]
            ),
            Err(err) => {
                failed += 1;
                eprintln!("{}: {err}", file.display());
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} files were not imported", a.files.len());
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The session to report
    #[arg(long, value_name = "ID")]
    session: String,
    #[command(flatten)]
    target: Target,
}

/// `sightline report --session ID`: the session as a bug report, Markdown (JSON with `--json`).
pub fn report(a: ReportArgs) -> Result<()> {
    let base = format!("http://{}/api/v1", a.target.ui);
    let format = if a.target.json { "json" } else { "markdown" };
    let session = form_urlencoded::byte_serialize(a.session.as_bytes()).collect::<String>();
    let req = client()?.get(format!("{base}/sessions/{session}/report?format={format}"));
    let resp = send(req, &a.target)?;
    print!("{}", resp.text()?);
    Ok(())
}
