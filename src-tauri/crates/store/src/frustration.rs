//! Frustration signals, computed from the session event index so they work for any rrweb
//! stream. Pure functions over events; the writer decides which window to recompute.
//!
//! Definitions differ between vendors, so every threshold is configurable
//! ([`FrustrationConfig`]) and every signal carries why it fired and the events behind it.

use serde_json::json;

/// The thresholds. Defaults follow the most common definitions.
#[derive(Debug, Clone, PartialEq)]
pub struct FrustrationConfig {
    /// Rage click: at least this many clicks…
    pub rage_clicks: usize,
    /// …within this many milliseconds…
    pub rage_window_ms: i64,
    /// …all within this distance (px) of the first.
    pub rage_radius_px: f64,
    /// Dead click: no DOM change, navigation or request within this many ms after a click.
    pub dead_click_ms: i64,
    /// Error click: an uncaught error within this many ms after a click.
    pub error_click_ms: i64,
    /// Thrashing: at least this many scroll-direction reversals…
    pub thrash_reversals: usize,
    /// …within this many ms.
    pub thrash_window_ms: i64,
}

impl Default for FrustrationConfig {
    fn default() -> Self {
        Self {
            rage_clicks: 3,
            rage_window_ms: 1_000,
            rage_radius_px: 30.0,
            dead_click_ms: 1_000,
            error_click_ms: 1_000,
            thrash_reversals: 4,
            thrash_window_ms: 2_000,
        }
    }
}

/// The recorder reports a request when it completes, with its duration; the rules count it at
/// its start too, since that is when the page answered the click. Requests longer than this are
/// placed this long before their report: it bounds how far back a late report can change a
/// signal, and no click waits a minute for its answer.
pub const MAX_REQUEST_MS: i64 = 60_000;

/// When a request reported at `reported_ms` after `duration_ms` began, for the rules.
pub fn request_start(reported_ms: i64, duration_ms: Option<f64>) -> i64 {
    let d = duration_ms.filter(|d| d.is_finite()).unwrap_or(0.0);
    reported_ms - (d.max(0.0) as i64).min(MAX_REQUEST_MS)
}

impl FrustrationConfig {
    /// How far a signal's evidence can reach from its anchor event.
    pub fn horizon_ms(&self) -> i64 {
        self.rage_window_ms
            .max(self.dead_click_ms)
            .max(self.error_click_ms)
            .max(self.thrash_window_ms)
    }
}

/// The parts of an indexed session event the rules look at.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub timestamp_ms: i64,
    pub kind: String,
    pub target: Option<String>,
    pub node_id: Option<i64>,
    pub x: Option<f64>,
    pub y: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub timestamp_ms: i64,
    pub kind: &'static str,
    pub score: f64,
    pub target: Option<String>,
    pub reason: String,
    /// Timestamps of the events that made it fire.
    pub evidence: serde_json::Value,
}

fn describe(target: &Option<String>) -> String {
    target
        .as_deref()
        .map(|t| format!(" on {t:?}"))
        .unwrap_or_default()
}

/// All signals in `events` (sorted by time).
pub fn signals(events: &[Event], cfg: &FrustrationConfig) -> Vec<Signal> {
    let clicks: Vec<&Event> = events.iter().filter(|e| e.kind == "click").collect();
    let mut out = Vec::new();
    rage_clicks(&clicks, cfg, &mut out);
    for click in &clicks {
        let after = |kinds: &[&str], window: i64| {
            events.iter().find(|e| {
                // The same millisecond counts: a click's handler often starts its request
                // or changes the page before the clock moves on.
                e.timestamp_ms >= click.timestamp_ms
                    && e.timestamp_ms <= click.timestamp_ms + window
                    && kinds.contains(&e.kind.as_str())
            })
        };
        if let Some(error) = after(&["error"], cfg.error_click_ms) {
            out.push(Signal {
                timestamp_ms: click.timestamp_ms,
                kind: "error_click",
                score: 1.0,
                target: click.target.clone(),
                reason: format!(
                    "an uncaught error followed the click{} within {} ms",
                    describe(&click.target),
                    error.timestamp_ms - click.timestamp_ms
                ),
                evidence: json!([click.timestamp_ms, error.timestamp_ms]),
            });
        } else if after(&["dom", "page_view", "network"], cfg.dead_click_ms).is_none() {
            out.push(Signal {
                timestamp_ms: click.timestamp_ms,
                kind: "dead_click",
                score: 0.5,
                target: click.target.clone(),
                reason: format!(
                    "nothing changed on the page, no navigation and no request within {} ms of \
                     the click{}",
                    cfg.dead_click_ms,
                    describe(&click.target)
                ),
                evidence: json!([click.timestamp_ms]),
            });
        }
    }
    thrashing(events, cfg, &mut out);
    out.sort_by_key(|s| s.timestamp_ms);
    out
}

fn rage_clicks(clicks: &[&Event], cfg: &FrustrationConfig, out: &mut Vec<Signal>) {
    let near = |a: &Event, b: &Event| match (a.x, a.y, b.x, b.y) {
        (Some(ax), Some(ay), Some(bx), Some(by)) => {
            ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt() <= cfg.rage_radius_px
        }
        // Without positions, clicks on the same element count as together.
        _ => a.node_id.is_some() && a.node_id == b.node_id,
    };
    let mut i = 0;
    while i < clicks.len() {
        let first = clicks[i];
        let burst: Vec<&Event> = clicks[i..]
            .iter()
            .take_while(|c| c.timestamp_ms - first.timestamp_ms <= cfg.rage_window_ms)
            .filter(|c| near(first, c))
            .copied()
            .collect();
        if burst.len() >= cfg.rage_clicks.max(1) {
            let last = burst[burst.len() - 1];
            out.push(Signal {
                timestamp_ms: first.timestamp_ms,
                kind: "rage_click",
                score: 1.0 + (burst.len() - cfg.rage_clicks) as f64 * 0.25,
                target: first.target.clone(),
                reason: format!(
                    "{} clicks within {} ms and {} px{}",
                    burst.len(),
                    last.timestamp_ms - first.timestamp_ms,
                    cfg.rage_radius_px,
                    describe(&first.target)
                ),
                evidence: json!(burst.iter().map(|c| c.timestamp_ms).collect::<Vec<_>>()),
            });
            // Clicks in a burst are not the start of another.
            let end = last.timestamp_ms;
            while i < clicks.len() && clicks[i].timestamp_ms <= end {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
}

fn thrashing(events: &[Event], cfg: &FrustrationConfig, out: &mut Vec<Signal>) {
    // Reversals of vertical scroll direction, per scrolled element.
    let mut by_node: std::collections::BTreeMap<i64, Vec<&Event>> = Default::default();
    for e in events
        .iter()
        .filter(|e| e.kind == "scroll" && e.y.is_some())
    {
        by_node.entry(e.node_id.unwrap_or(0)).or_default().push(e);
    }
    for scrolls in by_node.values() {
        let mut reversals: Vec<i64> = Vec::new();
        let mut last_dir = 0.0f64;
        for pair in scrolls.windows(2) {
            let dy = pair[1].y.unwrap_or(0.0) - pair[0].y.unwrap_or(0.0);
            if dy == 0.0 {
                continue;
            }
            let dir = dy.signum();
            if last_dir != 0.0 && dir != last_dir {
                reversals.push(pair[0].timestamp_ms);
            }
            last_dir = dir;
        }
        let mut i = 0;
        while i < reversals.len() {
            let start = reversals[i];
            let within: Vec<i64> = reversals[i..]
                .iter()
                .copied()
                .take_while(|t| t - start <= cfg.thrash_window_ms)
                .collect();
            if within.len() >= cfg.thrash_reversals.max(1) {
                out.push(Signal {
                    timestamp_ms: start,
                    kind: "thrashing",
                    score: 0.5,
                    target: None,
                    reason: format!(
                        "the scroll direction reversed {} times within {} ms",
                        within.len(),
                        within[within.len() - 1] - start
                    ),
                    evidence: json!(within),
                });
                i += within.len();
            } else {
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, t: i64, x: f64, y: f64) -> Event {
        Event {
            timestamp_ms: t,
            kind: kind.into(),
            target: Some("Place order".into()),
            node_id: Some(7),
            x: Some(x),
            y: Some(y),
        }
    }

    fn kinds(events: &[Event]) -> Vec<&'static str> {
        signals(events, &FrustrationConfig::default())
            .iter()
            .map(|s| s.kind)
            .collect()
    }

    /// A DOM change right after each click, so only the rule under test can fire.
    fn alive(mut clicks: Vec<Event>) -> Vec<Event> {
        let mut all = Vec::new();
        for c in clicks.drain(..) {
            let t = c.timestamp_ms;
            all.push(c);
            all.push(ev("dom", t + 10, 0.0, 0.0));
        }
        all.sort_by_key(|e| e.timestamp_ms);
        all
    }

    #[test]
    fn rage_click_at_its_thresholds() {
        let three_in_1s = alive(vec![
            ev("click", 0, 100.0, 100.0),
            ev("click", 500, 110.0, 100.0),
            ev("click", 1000, 100.0, 129.0),
        ]);
        assert_eq!(kinds(&three_in_1s), ["rage_click"]);
        let s = &signals(&three_in_1s, &FrustrationConfig::default())[0];
        assert!(s.reason.contains("3 clicks within 1000 ms"), "{}", s.reason);
        assert_eq!(s.evidence, json!([0, 500, 1000]));

        let too_slow = alive(vec![
            ev("click", 0, 100.0, 100.0),
            ev("click", 500, 100.0, 100.0),
            ev("click", 1001, 100.0, 100.0),
        ]);
        assert!(kinds(&too_slow).is_empty());
        let too_far = alive(vec![
            ev("click", 0, 100.0, 100.0),
            ev("click", 100, 100.0, 100.0),
            ev("click", 200, 131.0, 100.0),
        ]);
        assert!(kinds(&too_far).is_empty());
        let two = alive(vec![ev("click", 0, 1.0, 1.0), ev("click", 10, 1.0, 1.0)]);
        assert!(kinds(&two).is_empty());
        let five = alive((0..5).map(|i| ev("click", i * 100, 5.0, 5.0)).collect());
        let s = signals(&five, &FrustrationConfig::default());
        assert_eq!(s.len(), 1, "one burst, one signal");
        assert_eq!(s[0].score, 1.5);
    }

    #[test]
    fn dead_click_at_its_threshold() {
        assert_eq!(kinds(&[ev("click", 0, 1.0, 1.0)]), ["dead_click"]);
        for kind in ["dom", "page_view", "network"] {
            let answered = [ev("click", 0, 1.0, 1.0), ev(kind, 1000, 0.0, 0.0)];
            assert!(
                kinds(&answered).is_empty(),
                "{kind} at 1000 ms answers the click"
            );
        }
        let late = [ev("click", 0, 1.0, 1.0), ev("dom", 1001, 0.0, 0.0)];
        assert_eq!(kinds(&late), ["dead_click"]);
    }

    #[test]
    fn error_click_at_its_threshold() {
        let e = [ev("click", 0, 1.0, 1.0), ev("error", 1000, 0.0, 0.0)];
        assert_eq!(kinds(&e), ["error_click"]);
        let late = [
            ev("click", 0, 1.0, 1.0),
            ev("dom", 5, 0.0, 0.0),
            ev("error", 1001, 0.0, 0.0),
        ];
        assert!(kinds(&late).is_empty());
    }

    #[test]
    fn thrashing_at_its_threshold() {
        // Down, up, down, up, down: 4 reversals, 100 ms apart.
        let ys = [0.0, 300.0, 100.0, 400.0, 50.0, 500.0];
        let scrolls: Vec<Event> = ys
            .iter()
            .enumerate()
            .map(|(i, y)| ev("scroll", i as i64 * 100, 0.0, *y))
            .collect();
        assert_eq!(kinds(&scrolls), ["thrashing"]);
        // Three reversals are not enough.
        assert!(kinds(&scrolls[..5]).is_empty());
        // Four, but spread over more than 2 s.
        let slow: Vec<Event> = ys
            .iter()
            .enumerate()
            .map(|(i, y)| ev("scroll", i as i64 * 700, 0.0, *y))
            .collect();
        assert!(kinds(&slow).is_empty());
    }

    #[test]
    fn thresholds_are_configurable() {
        let cfg = FrustrationConfig {
            rage_clicks: 2,
            ..FrustrationConfig::default()
        };
        let two = alive(vec![ev("click", 0, 1.0, 1.0), ev("click", 10, 1.0, 1.0)]);
        assert_eq!(signals(&two, &cfg)[0].kind, "rage_click");
    }
}
