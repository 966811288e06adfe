//! Frustration signals, computed from the session event index so they work for any rrweb
//! stream. Pure functions over events; the writer decides which window to recompute.
//!
//! Definitions differ between vendors, so every threshold is configurable
//! ([`FrustrationConfig`]) and every signal carries why it fired and the events behind it.
//!
//! A signal needs evidence and respects intent:
//! - a click is answered by anything the page did after it: a DOM change, a navigation (a
//!   page load or a route change), a request, focus, typing, a text selection or a scroll;
//! - a click into a field (input, textarea, select, contenteditable, a label of one), on a
//!   link whose answer is outside the page (a download, a new tab), or on the page itself
//!   (a paragraph, a container: nothing that reads as a control) is never dead;
//! - the dead-click rule needs DOM evidence, so it runs only on sessions recorded as a DOM
//!   stream: a session told only as semantic events has no way to show that nothing changed;
//! - a double or triple click that selects text is a selection, not a rage click;
//! - where the client reports a signal itself, that is the session's signal (marked as
//!   reported, with the client's score) and the engine does not add a second copy of it.

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
    /// A burst of at most this many clicks that selects text is a double or triple click
    /// (selecting a word or a paragraph), not rage.
    pub selection_clicks: usize,
    /// Dead click: nothing answers a click within this many ms. PostHog's 2.5 s: a slow but
    /// working button (1.5 s) is not dead.
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
            selection_clicks: 3,
            dead_click_ms: 2_500,
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

/// A reported signal stands for the engine's own of the same kind on the same target within
/// this many ms of it (clients time their signals from the first or the last click).
const REPORTED_MATCH_MS: i64 = 3_000;

/// Signals a client may report per recomputed window: a person's session has a handful; a
/// flood past this is not read (each one is compared with the signals before it).
const MAX_REPORTED_SIGNALS: usize = 1_000;

/// The user's own next action answers a click only this soon after it: focus moving to a
/// field, a selection, a scroll the click caused. Later, it is the user moving on from a
/// click that did nothing.
const USER_ANSWER_MS: i64 = 500;

/// Selection events this long after a burst's last click still belong to it (the browser
/// extends a triple click's selection after the click event).
const SELECTION_SLACK_MS: i64 = 500;

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
            .max(REPORTED_MATCH_MS)
    }
}

/// Event kinds that show the page answered a click, within the dead-click window.
pub const PAGE_ANSWERS: &[&str] = &["dom", "page_view", "network"];
/// And the user-side ones, within [`USER_ANSWER_MS`].
pub const USER_ANSWERS: &[&str] = &["input", "focus", "selection", "scroll"];

/// The first event of `kinds` in `[from, from + window]`; `events` is sorted by time.
fn first_in<'a>(events: &'a [Event], from: i64, window: i64, kinds: &[&str]) -> Option<&'a Event> {
    let start = events.partition_point(|e| e.timestamp_ms < from);
    events[start..]
        .iter()
        .take_while(|e| e.timestamp_ms <= from.saturating_add(window))
        .find(|e| kinds.contains(&e.kind.as_str()))
}

/// Whether anything answered a click at `at`.
fn answered(events: &[Event], at: i64, cfg: &FrustrationConfig) -> bool {
    first_in(events, at, cfg.dead_click_ms, PAGE_ANSWERS).is_some()
        || first_in(
            events,
            at,
            USER_ANSWER_MS.min(cfg.dead_click_ms),
            USER_ANSWERS,
        )
        .is_some()
}

/// The parts of an indexed session event the rules look at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    pub timestamp_ms: i64,
    pub kind: String,
    pub target: Option<String>,
    pub node_id: Option<i64>,
    pub x: Option<f64>,
    pub y: Option<f64>,
    /// Clicks: the kind of control hit (`editable`, `external`, `link`, `button`, `static`,
    /// `content`), when known.
    pub control: Option<String>,
    /// Kind `frustration`: the signal the client reported.
    pub reported: Option<Reported>,
}

/// A signal a client found itself (the OpenTelemetry session-replay scheme's
/// `user.frustration.*` events).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reported {
    /// `rage_click`, `dead_click`, `thrashing`, or the client's own name.
    pub kind: String,
    pub score: Option<f64>,
    pub click_count: Option<i64>,
    pub duration_ms: Option<f64>,
}

/// Who found a signal.
pub const ENGINE: &str = "engine";
pub const CLIENT: &str = "client";

#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub timestamp_ms: i64,
    pub kind: String,
    pub score: f64,
    pub target: Option<String>,
    pub reason: String,
    /// Timestamps of the events that made it fire.
    pub evidence: serde_json::Value,
    /// [`ENGINE`] or [`CLIENT`].
    pub source: &'static str,
}

fn describe(target: &Option<String>) -> String {
    target
        .as_deref()
        .map(|t| format!(" on {t:?}"))
        .unwrap_or_default()
}

fn is(control: &Option<String>, kinds: &[&str]) -> bool {
    control.as_deref().is_some_and(|c| kinds.contains(&c))
}

/// All signals in `events` (sorted by time). `has_dom`: the session was recorded as a DOM
/// stream (it has a full snapshot), so the absence of a change is evidence.
pub fn signals(events: &[Event], cfg: &FrustrationConfig, has_dom: bool) -> Vec<Signal> {
    let clicks: Vec<&Event> = events.iter().filter(|e| e.kind == "click").collect();
    let mut out = Vec::new();
    let in_bursts = rage_clicks(&clicks, events, cfg, &mut out);
    // One error is one error click, though a burst of clicks preceded it.
    let mut last_error: Option<i64> = None;
    for (i, click) in clicks.iter().enumerate() {
        // The same millisecond counts: a click's handler often starts its request or changes
        // the page before the clock moves on.
        if let Some(error) = first_in(events, click.timestamp_ms, cfg.error_click_ms, &["error"]) {
            if last_error == Some(error.timestamp_ms) {
                continue;
            }
            last_error = Some(error.timestamp_ms);
            out.push(Signal {
                timestamp_ms: click.timestamp_ms,
                kind: "error_click".into(),
                score: 1.0,
                target: click.target.clone(),
                reason: format!(
                    "an error (uncaught, or logged to the console) followed the click{} within \
                     {} ms",
                    describe(&click.target),
                    error.timestamp_ms - click.timestamp_ms
                ),
                evidence: json!([click.timestamp_ms, error.timestamp_ms]),
                source: ENGINE,
            });
            continue;
        }
        // A click in a rage burst is told by the burst; a field or an outside link is
        // answered by focus or by the browser; without a DOM stream nothing shows the page
        // stayed as it was.
        if in_bursts.contains(&i)
            || !has_dom
            || is(&click.control, &["editable", "external", "content"])
        {
            continue;
        }
        if !answered(events, click.timestamp_ms, cfg) {
            out.push(Signal {
                timestamp_ms: click.timestamp_ms,
                kind: "dead_click".into(),
                score: 0.5,
                target: click.target.clone(),
                reason: format!(
                    "nothing changed on the page, no navigation and no request within {} ms of \
                     the click{}, and no focus, typing, selection or scroll right after it",
                    cfg.dead_click_ms,
                    describe(&click.target)
                ),
                evidence: json!([click.timestamp_ms]),
                source: ENGINE,
            });
        }
    }
    if has_dom {
        thrashing(events, cfg, &mut out);
    }
    reported(events, &mut out);
    out.sort_by_key(|s| s.timestamp_ms);
    fold(&mut out);
    out
}

fn same_target(a: &Signal, b: &Signal) -> bool {
    a.target.is_none() || b.target.is_none() || a.target == b.target
}

/// One frustration is one signal: a client that reports the same signal again and again (each
/// scroll reversal past its threshold, say) is told once, and dead clicks on a rage click's
/// target while it lasts are part of the rage (an agent may report each click of the burst as
/// dead as well).
fn fold(out: &mut Vec<Signal>) {
    let rages: Vec<(i64, Option<String>)> = out
        .iter()
        .filter(|s| s.kind == "rage_click")
        .map(|s| (s.timestamp_ms, s.target.clone()))
        .collect();
    let mut folded: Vec<usize> = vec![0; rages.len()];
    out.retain(|s| {
        if s.kind != "dead_click" {
            return true;
        }
        // `rages` is in time order: only those near this click are looked at.
        let from = rages.partition_point(|(t, _)| *t < s.timestamp_ms - REPORTED_MATCH_MS);
        match rages[from..]
            .iter()
            .take_while(|(t, _)| *t <= s.timestamp_ms + REPORTED_MATCH_MS)
            .position(|(_, target)| target.is_none() || s.target.is_none() || *target == s.target)
            .map(|p| p + from)
        {
            Some(i) => {
                folded[i] += 1;
                false
            }
            None => true,
        }
    });
    for (s, n) in out
        .iter_mut()
        .filter(|s| s.kind == "rage_click")
        .zip(folded)
    {
        if n > 0 {
            s.reason.push_str(&format!(
                "; its clicks were also reported as {n} dead click{}, told here as one rage click",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    let mut kept: Vec<(Signal, usize)> = Vec::with_capacity(out.len());
    for s in out.drain(..) {
        let repeat = match s.source {
            CLIENT => kept.iter_mut().rev().find(|(k, _)| {
                k.source == CLIENT
                    && k.kind == s.kind
                    && same_target(k, &s)
                    && s.timestamp_ms - k.timestamp_ms <= REPORTED_MATCH_MS
            }),
            _ => None,
        };
        match repeat {
            Some((_, times)) => *times += 1,
            None => kept.push((s, 1)),
        }
    }
    *out = kept
        .into_iter()
        .map(|(mut s, times)| {
            if times > 1 {
                s.reason.push_str(&format!(" (reported {times} times)"));
            }
            s
        })
        .collect();
}

/// Rage clicks; returns the indexes (in `clicks`) of the clicks that belong to a burst (of
/// rage, or of a double or triple click that selected text): none of them is dead on its own.
fn rage_clicks(
    clicks: &[&Event],
    events: &[Event],
    cfg: &FrustrationConfig,
    out: &mut Vec<Signal>,
) -> std::collections::HashSet<usize> {
    let near = |a: &Event, b: &Event| match (a.x, a.y, b.x, b.y) {
        (Some(ax), Some(ay), Some(bx), Some(by)) => {
            ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt() <= cfg.rage_radius_px
        }
        // Without positions, clicks on the same element count as together.
        _ => match (a.node_id, b.node_id) {
            (Some(an), Some(bn)) => an == bn,
            _ => a.target.is_some() && a.target == b.target,
        },
    };
    let mut members = std::collections::HashSet::new();
    let mut i = 0;
    while i < clicks.len() {
        let first = clicks[i];
        let burst: Vec<usize> = (i..clicks.len())
            .take_while(|&j| clicks[j].timestamp_ms - first.timestamp_ms <= cfg.rage_window_ms)
            .filter(|&j| near(first, clicks[j]))
            .collect();
        let last = clicks[*burst.last().unwrap_or(&i)];
        // Clicking about in a field places the caret or selects its text.
        let in_field = is(&first.control, &["editable"]);
        // A double or triple click on text selects a word or a paragraph.
        let selects = burst.len() <= cfg.selection_clicks
            && !is(&first.control, &["button", "link"])
            && first_in(
                events,
                first.timestamp_ms,
                last.timestamp_ms - first.timestamp_ms + SELECTION_SLACK_MS,
                &["selection"],
            )
            .is_some();
        if burst.len() >= cfg.rage_clicks.max(1) && !in_field && !selects {
            let answered = first_in(
                events,
                first.timestamp_ms,
                last.timestamp_ms - first.timestamp_ms + cfg.rage_window_ms,
                PAGE_ANSWERS,
            )
            .is_some();
            out.push(Signal {
                timestamp_ms: first.timestamp_ms,
                kind: "rage_click".into(),
                score: 1.0 + (burst.len() - cfg.rage_clicks.max(1)) as f64 * 0.25,
                target: first.target.clone(),
                reason: format!(
                    "{} clicks within {} ms and {} px{}{}",
                    burst.len(),
                    last.timestamp_ms - first.timestamp_ms,
                    cfg.rage_radius_px,
                    describe(&first.target),
                    if answered {
                        ""
                    } else {
                        ", and nothing changed"
                    }
                ),
                evidence: json!(burst
                    .iter()
                    .map(|&j| clicks[j].timestamp_ms)
                    .collect::<Vec<_>>()),
                source: ENGINE,
            });
            members.extend(burst.iter().copied());
            // Clicks in a burst are not the start of another.
            let end = last.timestamp_ms;
            while i < clicks.len() && clicks[i].timestamp_ms <= end {
                i += 1;
            }
        } else if selects {
            // The clicks of a selection are answered by it, each of them.
            members.extend(burst.iter().copied());
            let end = last.timestamp_ms;
            while i < clicks.len() && clicks[i].timestamp_ms <= end {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    members
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
                    kind: "thrashing".into(),
                    score: 0.5,
                    target: None,
                    reason: format!(
                        "the scroll direction reversed {} times within {} ms",
                        within.len(),
                        within[within.len() - 1] - start
                    ),
                    evidence: json!(within),
                    source: ENGINE,
                });
                i += within.len();
            } else {
                i += 1;
            }
        }
    }
}

/// The client's own signals. Each replaces the engine's signal of the same kind on the same
/// target near it, so a session never shows one frustration twice.
fn reported(events: &[Event], out: &mut Vec<Signal>) {
    for e in events
        .iter()
        .filter(|e| e.kind == "frustration")
        .take(MAX_REPORTED_SIGNALS)
    {
        let Some(r) = &e.reported else { continue };
        // The rules' own names; anything else a client calls a signal is kept as `reported`,
        // with its name in the reason, so no client can invent kinds.
        let (kind, own) = match r.kind.as_str() {
            "rage" | "rage_click" => ("rage_click".to_owned(), None),
            "dead" | "dead_click" => ("dead_click".to_owned(), None),
            "error" | "error_click" => ("error_click".to_owned(), None),
            "thrash" | "thrashing" => ("thrashing".to_owned(), None),
            other => ("reported".to_owned(), Some(other)),
        };
        out.retain(|s| {
            !(s.source == ENGINE
                && s.kind == kind
                && (s.timestamp_ms - e.timestamp_ms).abs() <= REPORTED_MATCH_MS
                && (s.target.is_none() || e.target.is_none() || s.target == e.target))
        });
        let mut how = Vec::new();
        if let Some(n) = r.click_count {
            how.push(format!("{n} clicks"));
        }
        if let Some(d) = r.duration_ms.filter(|d| d.is_finite()) {
            how.push(format!("within {} ms", d.round() as i64));
        }
        let score = r.score.filter(|s| s.is_finite() && *s >= 0.0);
        out.push(Signal {
            timestamp_ms: e.timestamp_ms,
            kind,
            score: score.unwrap_or(1.0).min(100.0),
            target: e.target.clone(),
            reason: format!(
                "reported by the recorder{}{}{}{}",
                own.map(|o| format!(" as {o:?}")).unwrap_or_default(),
                if how.is_empty() {
                    String::new()
                } else {
                    format!(": {}", how.join(" "))
                },
                describe(&e.target),
                score
                    .map(|s| format!(" (its score {s})"))
                    .unwrap_or_default()
            ),
            evidence: json!([e.timestamp_ms]),
            source: CLIENT,
        });
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
            ..Event::default()
        }
    }

    fn kinds(events: &[Event]) -> Vec<String> {
        signals(events, &FrustrationConfig::default(), true)
            .into_iter()
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
        let s = &signals(&three_in_1s, &FrustrationConfig::default(), true)[0];
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
        let s = signals(&five, &FrustrationConfig::default(), true);
        assert_eq!(s.len(), 1, "one burst, one signal");
        assert_eq!(s[0].score, 1.5);
    }

    #[test]
    fn dead_click_at_its_threshold() {
        assert_eq!(kinds(&[ev("click", 0, 1.0, 1.0)]), ["dead_click"]);
        for kind in PAGE_ANSWERS {
            let answered = [ev("click", 0, 1.0, 1.0), ev(kind, 2500, 0.0, 0.0)];
            assert!(
                kinds(&answered).is_empty(),
                "{kind} at 2500 ms answers the click"
            );
        }
        // The user's own next move answers only at once: later it is moving on.
        for kind in USER_ANSWERS {
            let answered = [ev("click", 0, 1.0, 1.0), ev(kind, 500, 0.0, 0.0)];
            assert!(kinds(&answered).is_empty(), "{kind} at 500 ms");
            let moved_on = [ev("click", 0, 1.0, 1.0), ev(kind, 501, 0.0, 0.0)];
            assert_eq!(kinds(&moved_on), ["dead_click"], "{kind} at 501 ms");
        }
        let late = [ev("click", 0, 1.0, 1.0), ev("dom", 2501, 0.0, 0.0)];
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

    fn on(control: &str, e: Event) -> Event {
        Event {
            control: Some(control.into()),
            ..e
        }
    }

    #[test]
    fn clicks_that_show_intent_are_never_dead() {
        for control in ["editable", "external", "content"] {
            let click = [on(control, ev("click", 0, 1.0, 1.0))];
            assert!(kinds(&click).is_empty(), "a click on {control}");
        }
        for control in ["button", "link", "static"] {
            let click = [on(control, ev("click", 0, 1.0, 1.0))];
            assert_eq!(kinds(&click), ["dead_click"], "a click on {control}");
        }
        // Repeated clicks in a field place the caret; they are not rage.
        let field: Vec<Event> = (0..4)
            .map(|i| on("editable", ev("click", i * 100, 5.0, 5.0)))
            .collect();
        assert!(kinds(&field).is_empty());
    }

    #[test]
    fn without_a_dom_stream_nothing_is_dead() {
        let cfg = FrustrationConfig::default();
        let click = [ev("click", 0, 1.0, 1.0)];
        assert!(signals(&click, &cfg, false).is_empty());
        // Errors and rage need no DOM evidence.
        let e = [ev("click", 0, 1.0, 1.0), ev("error", 10, 0.0, 0.0)];
        assert_eq!(signals(&e, &cfg, false)[0].kind, "error_click");
    }

    #[test]
    fn a_triple_click_that_selects_text_is_not_rage() {
        let mut triple: Vec<Event> = (0..3)
            .map(|i| on("static", ev("click", i * 150, 5.0, 5.0)))
            .collect();
        triple.push(ev("selection", 160, 0.0, 0.0));
        assert!(kinds(&triple).is_empty(), "{:?}", kinds(&triple));
        // Five clicks are rage, though a double click selected a word on the way.
        let mut five: Vec<Event> = (0..5)
            .map(|i| on("static", ev("click", i * 150, 5.0, 5.0)))
            .collect();
        five.push(ev("selection", 160, 0.0, 0.0));
        let s = signals(&five, &FrustrationConfig::default(), true);
        assert_eq!(s.len(), 1, "one rage click, no dead clicks: {s:?}");
        assert_eq!(s[0].kind, "rage_click");
        assert!(s[0].reason.contains("nothing changed"), "{}", s[0].reason);
    }

    #[test]
    fn reported_signals_are_the_sessions_and_not_doubled() {
        let cfg = FrustrationConfig::default();
        let mut events: Vec<Event> = (0..4)
            .map(|i| Event {
                timestamp_ms: i * 100,
                kind: "click".into(),
                target: Some("Load more".into()),
                ..Event::default()
            })
            .collect();
        events.push(Event {
            timestamp_ms: 300,
            kind: "frustration".into(),
            target: Some("Load more".into()),
            reported: Some(Reported {
                kind: "rage_click".into(),
                score: Some(0.8),
                click_count: Some(4),
                duration_ms: Some(300.0),
            }),
            ..Event::default()
        });
        let s = signals(&events, &cfg, false);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(
            (s[0].kind.as_str(), s[0].source, s[0].score),
            ("rage_click", CLIENT, 0.8)
        );
        assert!(
            s[0].reason
                .contains("reported by the recorder: 4 clicks within 300 ms"),
            "{}",
            s[0].reason
        );
    }

    #[test]
    fn a_clients_repeated_and_overlapping_reports_are_one_signal() {
        let reported = |t: i64, kind: &str, target: Option<&str>| Event {
            timestamp_ms: t,
            kind: "frustration".into(),
            target: target.map(Into::into),
            reported: Some(Reported {
                kind: kind.into(),
                ..Reported::default()
            }),
            ..Event::default()
        };
        // An agent's rage click, with each of its five clicks also reported dead; and its
        // thrashing told twice.
        let mut events: Vec<Event> = (0..5)
            .map(|i| reported(i * 150, "dead_click", Some("Load more")))
            .collect();
        events.push(reported(600, "rage_click", Some("Load more")));
        events.push(reported(9_000, "thrashing", None));
        events.push(reported(9_400, "thrashing", None));
        // A dead click elsewhere, later, stays.
        events.push(reported(20_000, "dead_click", Some("Show details")));
        let s = signals(&events, &FrustrationConfig::default(), false);
        let kinds: Vec<(&str, Option<&str>)> = s
            .iter()
            .map(|s| (s.kind.as_str(), s.target.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("rage_click", Some("Load more")),
                ("thrashing", None),
                ("dead_click", Some("Show details"))
            ]
        );
        assert!(
            s[0].reason.contains("also reported as 5 dead clicks"),
            "{}",
            s[0].reason
        );
    }

    #[test]
    fn a_burst_before_one_error_is_one_error_click() {
        let mut events: Vec<Event> = (0..5).map(|i| ev("click", i * 100, 5.0, 5.0)).collect();
        events.push(ev("error", 450, 0.0, 0.0));
        let s = kinds(&events);
        assert_eq!(s, ["rage_click", "error_click"], "{s:?}");
    }

    #[test]
    fn thresholds_are_configurable() {
        let cfg = FrustrationConfig {
            rage_clicks: 2,
            ..FrustrationConfig::default()
        };
        let two = alive(vec![ev("click", 0, 1.0, 1.0), ev("click", 10, 1.0, 1.0)]);
        assert_eq!(signals(&two, &cfg, true)[0].kind, "rage_click");
    }
}
