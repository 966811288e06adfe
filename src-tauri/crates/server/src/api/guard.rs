//! Who may use the UI address: loopback Host names only (DNS rebinding), the token when the
//! engine has one, no state change from another site (CSRF), and the security headers every
//! answer carries.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ServerError;

/// Whether a Host header names this machine: `localhost` (and `*.localhost`), 127.0.0.0/8 or
/// `[::1]`, with any port.
fn is_loopback_host(host: &str) -> bool {
    let port_ok = |port: &str| port.is_empty() || port.bytes().all(|b| b.is_ascii_digit());
    let name = if let Some(rest) = host.strip_prefix('[') {
        // `[::1]` or `[::1]:port`, nothing else after the bracket.
        match rest.split_once(']') {
            Some((addr, "")) => addr,
            Some((addr, after)) if after.strip_prefix(':').is_some_and(port_ok) => addr,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((h, port)) if port_ok(port) => h,
            Some(_) => return false,
            None => host,
        }
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Who may use the UI address.
#[derive(Clone)]
pub(super) struct Access {
    /// When set, every request must present it; the Host check is then moot (a rebinding page
    /// does not know the token), which is what lets a token-protected engine be reached by name
    /// from another machine.
    pub(super) token: Option<Arc<str>>,
}

/// The cookie a browser keeps the token in after opening the UI with `?token=`, so the page's
/// own requests (and its EventSource, which cannot set headers) carry it.
const TOKEN_COOKIE: &str = "sightline_token";

/// The token a request presents: `Authorization: Bearer`, the cookie, or `?token=`; and
/// whether it came in the query (then the answer sets the cookie).
fn presented_token(req: &Request) -> (Option<String>, bool) {
    let headers = req.headers();
    if let Some(bearer) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
    {
        return (Some(bearer.trim().to_owned()), false);
    }
    let cookie = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == TOKEN_COOKIE)
        .map(|(_, value)| value.to_owned());
    if cookie.is_some() {
        return (cookie, false);
    }
    let query = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    let from_query = query.is_some();
    (query, from_query)
}

/// Compares in time independent of where the strings differ, so response timing does not
/// reveal a prefix of the token.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Body types a web page may send to another origin without a CORS preflight: a state-changing
/// request in one of them can be a forgery from any page the developer has open.
const SIMPLE_BODY_TYPES: &[&str] = &[
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

/// Why a state-changing request may not have come from Sightline's own UI or a local tool, if
/// it may not. Browsers name the page that sent a request (`Origin`, `Sec-Fetch-Site`); the
/// CLI and other local tools send neither. The API grants no CORS, so a foreign page can only
/// send "simple" requests, which these checks refuse (OWASP's CSRF defences for a local API).
fn forged(req: &Request, host: &str) -> Option<String> {
    if matches!(
        *req.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    ) {
        return None;
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    if let Some(site) = header("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return Some(format!("a {site} request"));
        }
    }
    if let Some(origin) = header("origin") {
        let own = [format!("http://{host}"), format!("https://{host}")];
        if !own.iter().any(|o| o.eq_ignore_ascii_case(&origin)) {
            return Some(format!("a request from {origin}"));
        }
    }
    let media = header("content-type")
        .map(|t| t.split(';').next().unwrap_or("").trim().to_owned())
        .unwrap_or_default();
    if SIMPLE_BODY_TYPES.contains(&media.as_str()) {
        return Some(format!(
            "a {media} body (a form or a page can send one anywhere)"
        ));
    }
    // A body with no type at all is "simple" too (a page's Blob body), but every browser that
    // sends one names its page in `Origin`, refused above; a local tool may send a file as is.
    None
}

/// Headers every answer on the UI address carries: no page may frame the UI (clickjacking),
/// the UI and its replays connect only to this address, nothing is sniffed into a script, and
/// no address (with its session ids) leaks to another site.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "frame-ancestors 'none'; connect-src 'self'; object-src 'none'; form-action 'self'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
];

pub(super) async fn guard(State(access): State<Access>, req: Request, next: Next) -> Response {
    let mut resp = admit(access, req, next).await;
    for (name, value) in SECURITY_HEADERS {
        resp.headers_mut()
            .insert(*name, http::HeaderValue::from_static(value));
    }
    resp
}

async fn admit(access: Access, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_owned();
    if let Some(why) = forged(&req, &host) {
        return ServerError::Forbidden(format!(
            "refused {why}: this API changes state only for Sightline's own UI and local tools \
             (a guard against cross-site request forgery); send JSON as `application/json`"
        ))
        .to_api();
    }
    if let Some(token) = &access.token {
        let (presented, from_query) = presented_token(&req);
        return match presented {
            Some(p) if same_secret(&p, token) => {
                let mut resp = next.run(req).await;
                if from_query {
                    let cookie = format!("{TOKEN_COOKIE}={p}; Path=/; HttpOnly; SameSite=Strict");
                    if let Ok(value) = http::HeaderValue::from_str(&cookie) {
                        resp.headers_mut().append(http::header::SET_COOKIE, value);
                    }
                }
                resp
            }
            Some(_) => ServerError::Unauthorized("the token is not this engine's".into()).to_api(),
            None => ServerError::Unauthorized(
                "this engine requires its token: send `Authorization: Bearer TOKEN`, or open the \
                 UI once with ?token=TOKEN"
                    .into(),
            )
            .to_api(),
        };
    }
    if is_loopback_host(&host) {
        next.run(req).await
    } else {
        ServerError::Forbidden(format!(
            "this API answers requests addressed to localhost only, not {host:?} (a guard \
             against DNS rebinding)"
        ))
        .to_api()
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_host_names_pass() {
        for ok in [
            "localhost",
            "localhost:4320",
            "127.0.0.1:4320",
            "127.8.9.10",
            "[::1]:4320",
            "app.localhost:1",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:4320",
            "10.0.0.1:4320",
            "localhost.evil.example",
            "",
            "[::2]:1",
            "[::1]evil.example",
            "[::1]:80evil.example",
            "localhost:80evil",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
