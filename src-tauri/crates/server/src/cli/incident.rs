//! `sightline incident …`: incident windows from a terminal, through a running engine's API
//! (the UI address, under its token when it has one). Prints one window per line, or JSON with
//! `--json`.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::target::Target;

#[derive(clap::Subcommand)]
pub enum IncidentCommand {
    /// Start a window of enriched capture (payloads, headers, every console level)
    Start {
        /// How long it lasts
        #[arg(long, default_value_t = 15)]
        minutes: i64,
        /// Only this user's sessions
        #[arg(long, conflicts_with_all = ["session", "url"])]
        user: Option<String>,
        /// Only this session
        #[arg(long, conflicts_with = "url")]
        session: Option<String>,
        /// Only pages matching this URL pattern (`*` matches anything)
        #[arg(long)]
        url: Option<String>,
        /// What it is about
        #[arg(long)]
        label: Option<String>,
        /// A link to the ticket
        #[arg(long)]
        ticket: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Move a window's end later
    Extend {
        id: String,
        #[arg(long, default_value_t = 15)]
        minutes: i64,
        #[command(flatten)]
        target: Target,
    },
    /// End a window now (without an id: every active window)
    Stop {
        id: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// The windows, newest first
    List {
        #[command(flatten)]
        target: Target,
    },
}

/// How long the CLI waits for the engine: it is local, so anything longer means it is stuck.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

struct Api {
    client: reqwest::blocking::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    fn new(t: &Target) -> Result<Api> {
        Ok(Api {
            client: reqwest::blocking::Client::builder()
                .timeout(TIMEOUT)
                .build()?,
            base: format!("http://{}/api/v1", t.ui),
            token: t.token.clone(),
        })
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().with_context(|| {
            format!(
                "Sightline does not answer at {} (is it running? --ui sets the address)",
                self.base
            )
        })?;
        let status = resp.status();
        let body: Value = resp.json().unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["message"].as_str().unwrap_or("no message");
            bail!("Sightline refused ({status}): {message}");
        }
        Ok(body)
    }
}

fn line(w: &Value) -> String {
    let scope = match (w["scope"]["kind"].as_str(), w["scope"]["value"].as_str()) {
        (Some(kind), Some(value)) => format!("{kind}={value}"),
        _ => "everyone".to_owned(),
    };
    let state = if w["active"] == true {
        "active"
    } else {
        "ended"
    };
    let until = w["untilMs"].as_i64().unwrap_or(0);
    let mut out = format!(
        "{}\t{state}\tuntil={until}\tscope={scope}\tby={}",
        w["id"].as_str().unwrap_or("?"),
        w["startedBy"].as_str().unwrap_or("?")
    );
    if let Some(label) = w["label"].as_str() {
        out.push_str(&format!("\tlabel={label}"));
    }
    if let Some(ticket) = w["ticketUrl"].as_str() {
        out.push_str(&format!("\tticket={ticket}"));
    }
    out
}

fn print(target: &Target, answer: &Value, windows: &[Value]) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if target.json {
        writeln!(out, "{answer}")?;
    } else {
        for w in windows {
            writeln!(out, "{}", line(w))?;
        }
    }
    Ok(())
}

pub fn run(command: IncidentCommand) -> Result<()> {
    use reqwest::Method;
    match command {
        IncidentCommand::Start {
            minutes,
            user,
            session,
            url,
            label,
            ticket,
            target,
        } => {
            let body = json!({"minutes": minutes, "user": user, "session": session, "url": url,
                              "label": label, "ticketUrl": ticket, "startedBy": "cli"});
            let w = Api::new(&target)?.call(Method::POST, "/incidents", Some(body))?;
            print(&target, &w, std::slice::from_ref(&w))
        }
        IncidentCommand::Extend {
            id,
            minutes,
            target,
        } => {
            let path = format!("/incidents/{id}/extend");
            let w =
                Api::new(&target)?.call(Method::POST, &path, Some(json!({"minutes": minutes})))?;
            print(&target, &w, std::slice::from_ref(&w))
        }
        IncidentCommand::Stop { id, target } => {
            let api = Api::new(&target)?;
            let ids: Vec<String> = match id {
                Some(id) => vec![id],
                None => api.call(Method::GET, "/incidents", None)?["incidents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|w| w["active"] == true)
                    .filter_map(|w| w["id"].as_str().map(str::to_owned))
                    .collect(),
            };
            let mut stopped = Vec::new();
            for id in ids {
                stopped.push(api.call(Method::POST, &format!("/incidents/{id}/stop"), None)?);
            }
            print(&target, &json!({ "stopped": stopped }), &stopped)
        }
        IncidentCommand::List { target } => {
            let all = Api::new(&target)?.call(Method::GET, "/incidents", None)?;
            let windows = all["incidents"].as_array().cloned().unwrap_or_default();
            print(&target, &all, &windows)
        }
    }
}
