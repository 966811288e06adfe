//! Incident windows: a time-boxed period of enriched capture, with a scope (everyone, one user,
//! one session, or pages matching a URL pattern). This module owns the model and its rules
//! (what a window covers, when it is active, how it is extended or ended); the writer persists
//! windows and the receivers tag what arrives inside one.

use serde::{Deserialize, Serialize};

/// Who a window covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Scope {
    All,
    User(String),
    Session(String),
    /// A URL pattern: `*` matches any run of characters; without a `*` it matches any URL
    /// that contains it (`/checkout` covers `http://shop/checkout?step=2`).
    Url(String),
}

impl Scope {
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::User(_) => "user",
            Scope::Session(_) => "session",
            Scope::Url(_) => "url",
        }
    }

    pub fn value(&self) -> Option<&str> {
        match self {
            Scope::All => None,
            Scope::User(v) | Scope::Session(v) | Scope::Url(v) => Some(v),
        }
    }

    /// From the stored pair (`kind`, `value`).
    pub fn from_parts(kind: &str, value: Option<String>) -> Option<Scope> {
        match (kind, value) {
            ("all", _) => Some(Scope::All),
            ("user", Some(v)) if !v.is_empty() => Some(Scope::User(v)),
            ("session", Some(v)) if !v.is_empty() => Some(Scope::Session(v)),
            ("url", Some(v)) if !v.is_empty() => Some(Scope::Url(v)),
            _ => None,
        }
    }

    /// Whether a client or a record with these facts is inside the scope. Facts not known
    /// (`None`) never match a scope that needs them.
    pub fn covers(&self, who: &Who<'_>) -> bool {
        match self {
            Scope::All => true,
            Scope::User(u) => who.user == Some(u.as_str()),
            Scope::Session(s) => who.session == Some(s.as_str()),
            Scope::Url(pattern) => who.urls.iter().any(|url| url_matches(pattern, url)),
        }
    }
}

/// What is known about a client or a record when deciding whether a window covers it.
#[derive(Debug, Default, Clone)]
pub struct Who<'a> {
    pub user: Option<&'a str>,
    pub session: Option<&'a str>,
    /// The page or request URLs involved (the recorder's page, a span's `url.full`).
    pub urls: Vec<&'a str>,
}

/// `*` is a wildcard; a pattern without one matches as a substring. Case-sensitive, as URLs'
/// paths are.
pub fn url_matches(pattern: &str, url: &str) -> bool {
    if !pattern.contains('*') {
        return url.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !url.starts_with(first) || url.len() < first.len() + last.len() || !url.ends_with(last) {
        return false;
    }
    let mut rest = &url[first.len()..url.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Where a window was started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Ui,
    Tray,
    Cli,
    Api,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Ui => "ui",
            Origin::Tray => "tray",
            Origin::Cli => "cli",
            Origin::Api => "api",
        }
    }

    pub fn parse(text: &str) -> Option<Origin> {
        match text {
            "ui" => Some(Origin::Ui),
            "tray" => Some(Origin::Tray),
            "cli" => Some(Origin::Cli),
            "api" => Some(Origin::Api),
            _ => None,
        }
    }
}

/// The longest window: incident capture is verbose (payloads, every console line), and a
/// forgotten window would keep it on indefinitely. Extending past it needs a new window.
pub const MAX_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// One incident window. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    pub id: String,
    pub started_ms: i64,
    /// When capture stops: the planned end, moved by extensions, or the moment it was ended.
    pub until_ms: i64,
    /// Set when it was ended before its planned end.
    pub ended_early: bool,
    pub scope: Scope,
    pub label: Option<String>,
    pub ticket_url: Option<String>,
    pub started_by: Origin,
}

impl Incident {
    /// Whether capture is on at `now_ms`.
    pub fn active_at(&self, now_ms: i64) -> bool {
        self.started_ms <= now_ms && now_ms < self.until_ms
    }

    /// Moves the end `minutes` later than the later of now and the current end, within
    /// [`MAX_WINDOW_MS`] of the start. An ended window cannot be extended.
    pub fn extend(&mut self, now_ms: i64, minutes: i64) -> Result<(), String> {
        if !self.active_at(now_ms) {
            return Err(format!("incident {} has ended; start a new one", self.id));
        }
        if minutes <= 0 {
            return Err("an extension is a positive number of minutes".into());
        }
        let until = self.until_ms.max(now_ms) + minutes * 60_000;
        if until - self.started_ms > MAX_WINDOW_MS {
            return Err(format!(
                "a window lasts at most {} hours; start a new one",
                MAX_WINDOW_MS / 3_600_000
            ));
        }
        self.until_ms = until;
        Ok(())
    }

    /// Ends capture now (a no-op on a window already over).
    pub fn stop(&mut self, now_ms: i64) {
        if self.active_at(now_ms) {
            self.until_ms = now_ms;
            self.ended_early = true;
        }
    }
}

/// The first active window at `now_ms` covering `who`, newest first: the one a client should
/// follow and a record is tagged with.
pub fn covering<'a>(windows: &'a [Incident], now_ms: i64, who: &Who<'_>) -> Option<&'a Incident> {
    covering_record(windows, now_ms, None, who)
}

/// [`covering`] for a record that says when it happened (`at_ms`): only windows open by
/// then. A backend's log written just before a window opened may arrive inside it, but is not
/// the window's.
pub fn covering_record<'a>(
    windows: &'a [Incident],
    now_ms: i64,
    at_ms: Option<i64>,
    who: &Who<'_>,
) -> Option<&'a Incident> {
    windows
        .iter()
        .filter(|w| w.active_at(now_ms) && w.scope.covers(who))
        .filter(|w| at_ms.is_none_or(|t| t >= w.started_ms))
        .max_by_key(|w| w.started_ms)
}

/// How many windows the history lists: months of daily incidents, one small page.
pub const HISTORY: usize = 500;

/// Stored windows, newest first (at most [`HISTORY`]).
pub fn history(conn: &rusqlite::Connection) -> crate::Result<Vec<Incident>> {
    load(conn, "1 = 1", rusqlite::params![HISTORY as i64])
}

/// Windows whose capture has not ended at `now_ms` (what the receivers follow).
pub fn open_at(conn: &rusqlite::Connection, now_ms: i64) -> crate::Result<Vec<Incident>> {
    load(
        conn,
        "until_ms > ?2",
        rusqlite::params![HISTORY as i64, now_ms],
    )
}

pub fn get(conn: &rusqlite::Connection, id: &str) -> crate::Result<Option<Incident>> {
    Ok(load(conn, "id = ?2", rusqlite::params![1, id])?.pop())
}

fn load(
    conn: &rusqlite::Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> crate::Result<Vec<Incident>> {
    let sql = format!(
        "SELECT id, started_ms, until_ms, ended_early, scope_kind, scope_value, label, ticket_url,
                started_by
         FROM incidents WHERE {filter} ORDER BY started_ms DESC, id LIMIT ?1"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, |r| {
        let kind: String = r.get(4)?;
        let origin: String = r.get(8)?;
        Ok((
            Incident {
                id: r.get(0)?,
                started_ms: r.get(1)?,
                until_ms: r.get(2)?,
                ended_early: r.get(3)?,
                scope: Scope::All,
                label: r.get(6)?,
                ticket_url: r.get(7)?,
                started_by: Origin::parse(&origin).unwrap_or(Origin::Api),
            },
            kind,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut incident, kind, value) = row?;
        incident.scope = Scope::from_parts(&kind, value).ok_or_else(|| {
            crate::StoreError::Corrupt(format!("incident {} has scope {kind:?}", incident.id))
        })?;
        out.push(incident);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(scope: Scope) -> Incident {
        Incident {
            id: "inc1".into(),
            started_ms: 1_000,
            until_ms: 1_000 + 15 * 60_000,
            ended_early: false,
            scope,
            label: None,
            ticket_url: None,
            started_by: Origin::Cli,
        }
    }

    #[test]
    fn scopes_cover_what_they_name() {
        let ada = Who {
            user: Some("ada"),
            session: Some("s1"),
            urls: vec!["http://shop.test/checkout?step=2"],
        };
        let anonymous = Who::default();
        assert!(Scope::All.covers(&anonymous));
        assert!(Scope::User("ada".into()).covers(&ada));
        assert!(!Scope::User("bob".into()).covers(&ada));
        assert!(
            !Scope::User("ada".into()).covers(&anonymous),
            "unknown user"
        );
        assert!(Scope::Session("s1".into()).covers(&ada));
        assert!(!Scope::Session("s2".into()).covers(&ada));
        assert!(Scope::Url("/checkout".into()).covers(&ada));
        assert!(Scope::Url("http://shop.test/*?step=*".into()).covers(&ada));
        assert!(!Scope::Url("http://other/*".into()).covers(&ada));
        assert!(!Scope::Url("/cart".into()).covers(&ada));
    }

    #[test]
    fn url_patterns() {
        assert!(url_matches("*", ""));
        assert!(url_matches("a*c", "abc"));
        assert!(url_matches("a*c", "ac"));
        assert!(!url_matches("a*c", "ab"));
        assert!(url_matches("*/api/*/pay", "http://x/api/v2/pay"));
        assert!(!url_matches("*/api/*/pay", "http://x/api/v2/pay/now"));
        assert!(!url_matches("ab*ba", "aba"), "the ends may not overlap");
    }

    #[test]
    fn a_window_is_active_from_start_to_until() {
        let w = window(Scope::All);
        assert!(!w.active_at(999));
        assert!(w.active_at(1_000));
        assert!(w.active_at(w.until_ms - 1));
        assert!(!w.active_at(w.until_ms), "the end is exclusive");
    }

    #[test]
    fn extending_moves_the_end_and_stopping_ends_it() {
        let mut w = window(Scope::All);
        let end = w.until_ms;
        w.extend(2_000, 10).unwrap();
        assert_eq!(w.until_ms, end + 10 * 60_000);
        assert!(w.extend(2_000, 0).is_err());
        let err = w.extend(2_000, 24 * 60).unwrap_err();
        assert!(err.contains("at most 24 hours"), "{err}");
        w.stop(5_000);
        assert_eq!((w.until_ms, w.ended_early), (5_000, true));
        assert!(!w.active_at(5_000));
        assert!(w.extend(6_000, 5).is_err(), "an ended window stays ended");
        let before = w.clone();
        w.stop(7_000);
        assert_eq!(w, before, "stopping twice changes nothing");
    }

    #[test]
    fn windows_are_stored_replaced_by_id_and_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open_dir(dir.path()).unwrap();
        let mut first = window(Scope::User("ada".into()));
        let second = Incident {
            id: "inc2".into(),
            started_ms: 5_000,
            scope: Scope::Url("/checkout*".into()),
            label: Some("checkout 500s".into()),
            ticket_url: Some("https://tracker/BUG-1".into()),
            started_by: Origin::Ui,
            ..window(Scope::All)
        };
        let write = |incidents: Vec<Incident>| {
            store
                .writer()
                .write_blocking(crate::Batch {
                    incidents,
                    ..Default::default()
                })
                .unwrap()
        };
        write(vec![first.clone(), second.clone()]);
        first.stop(2_000);
        write(vec![first.clone()]);
        let got = store.readers().with_conn(history).unwrap();
        assert_eq!(got, vec![second.clone(), first.clone()]);
        let open = store.readers().with_conn(|c| open_at(c, 3_000)).unwrap();
        assert_eq!(open, vec![second.clone()], "the stopped one is closed");
        let one = store.readers().with_conn(|c| get(c, "inc1")).unwrap();
        assert_eq!(one, Some(first));
        store.close();
    }

    #[test]
    fn the_newest_covering_window_wins() {
        let everyone = window(Scope::All);
        let ada = Incident {
            id: "inc2".into(),
            started_ms: 2_000,
            scope: Scope::User("ada".into()),
            ..window(Scope::All)
        };
        let windows = [everyone, ada];
        let who = Who {
            user: Some("ada"),
            ..Default::default()
        };
        assert_eq!(covering(&windows, 3_000, &who).unwrap().id, "inc2");
        let bob = Who {
            user: Some("bob"),
            ..Default::default()
        };
        assert_eq!(covering(&windows, 3_000, &bob).unwrap().id, "inc1");
        assert!(covering(&windows, 999_999_999, &bob).is_none(), "expired");
    }

    #[test]
    fn a_record_is_tagged_only_by_windows_open_when_it_happened() {
        let everyone = window(Scope::All);
        let later = Incident {
            id: "inc2".into(),
            started_ms: 2_000,
            ..window(Scope::All)
        };
        let windows = [everyone.clone(), later];
        let who = Who::default();
        let at = |t| covering_record(&windows, 3_000, t, &who).map(|w| w.id.as_str());
        assert_eq!(at(Some(2_500)), Some("inc2"));
        assert_eq!(at(Some(everyone.started_ms)), Some("inc1"), "the older one");
        assert_eq!(at(Some(everyone.started_ms - 1)), None, "before both");
        assert_eq!(
            at(None),
            Some("inc2"),
            "a record without a time goes by arrival"
        );
    }
}
