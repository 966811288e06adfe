//! The live stream: what changed, coalesced, as Server-Sent Events.

use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use sightline_store::Change;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::ApiState;

/// Changes arriving within this window go out as one message per kind: a burst of ingest
/// becomes a few UI refreshes, not hundreds.
const STREAM_COALESCE: Duration = Duration::from_millis(250);

fn event(kind: &str, data: serde_json::Value) -> Event {
    Event::default().event(kind).data(data.to_string())
}

/// One coalesced burst of changes as events: `sessions` {new, updated}, `traces` {spans,
/// traces}, `logs` {logs}; `resync` when changes were missed (the client refetches).
fn events_for(change: &Change, lagged: bool) -> Vec<Event> {
    let mut out = Vec::new();
    if lagged {
        out.push(event("resync", serde_json::json!({})));
    }
    if !change.new_sessions.is_empty() || !change.updated_sessions.is_empty() {
        out.push(event(
            "sessions",
            serde_json::json!({ "new": change.new_sessions, "updated": change.updated_sessions }),
        ));
    }
    if change.spans > 0 {
        out.push(event(
            "traces",
            serde_json::json!({ "spans": change.spans, "traces": change.traces }),
        ));
    }
    if change.logs > 0 {
        out.push(event("logs", serde_json::json!({ "logs": change.logs })));
    }
    out
}

/// Server-Sent Events announcing what changed, coalesced, so the UI can refresh without
/// polling: `sessions` {new, updated}, `traces` {spans, traces}, `logs` {logs}, `ingest`
/// {paused}, `incidents`, and `resync` when changes were missed. Ends when the engine shuts
/// down.
#[utoipa::path(get, path = "/api/v1/stream", tag = "engine",
    responses((status = 200, description = "The event stream", content_type = "text/event-stream",
        body = String)))]
pub(super) async fn live(
    State(s): State<ApiState>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let state = (
        s.changes.subscribe(),
        s.stop.clone(),
        s.control.watch_paused(),
        s.incidents.watch(),
    );
    let batches = stream::unfold(
        state,
        |(mut rx, mut stop, mut paused, mut incidents)| async move {
            enum Woke {
                Data(Change, bool),
                Paused,
                Incidents,
            }
            let woke = tokio::select! {
                got = rx.recv() => match got {
                    Ok(change) => Woke::Data(change, false),
                    Err(RecvError::Lagged(_)) => Woke::Data(Change::default(), true),
                    Err(RecvError::Closed) => return None,
                },
                flipped = paused.changed() => match flipped {
                    Ok(()) => Woke::Paused,
                    Err(_) => return None,
                },
                changed = incidents.changed() => match changed {
                    Ok(()) => Woke::Incidents,
                    Err(_) => return None,
                },
                _ = stop.wait_for(|stopped| *stopped) => return None,
            };
            let (first, mut lagged) = match woke {
                Woke::Data(change, lagged) => (change, lagged),
                // A pause switch goes out at once, alone: the UI's banner should not wait for data.
                Woke::Paused => {
                    let now = *paused.borrow_and_update();
                    let events = vec![event("ingest", serde_json::json!({ "paused": now }))];
                    return Some((events, (rx, stop, paused, incidents)));
                }
                // Windows started, extended or stopped (from anywhere): the UI refetches them.
                Woke::Incidents => {
                    incidents.borrow_and_update();
                    let events = vec![event("incidents", serde_json::json!({}))];
                    return Some((events, (rx, stop, paused, incidents)));
                }
            };
            let mut merged = first;
            tokio::time::sleep(STREAM_COALESCE).await;
            loop {
                match rx.try_recv() {
                    Ok(change) => merged.merge(change),
                    Err(TryRecvError::Lagged(_)) => lagged = true,
                    Err(_) => break,
                }
            }
            Some((events_for(&merged, lagged), (rx, stop, paused, incidents)))
        },
    );
    Sse::new(batches.flat_map(|events| stream::iter(events.into_iter().map(Ok))))
        .keep_alive(KeepAlive::default())
}
