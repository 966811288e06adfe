//! Replay: a session's stored rrweb events, whole or as a window from the nearest full snapshot.

use rusqlite::{Connection, OptionalExtension};
use serde_json::Value as Json;

use crate::error::Result;

use super::*;

/// Decompresses one stored chunk. The stored raw size bounds the output, so a corrupt chunk
/// cannot make a read allocate without limit.
pub fn chunk_events(data: &[u8], raw_bytes: i64) -> Result<Vec<Json>> {
    let json = zstd::bulk::decompress(data, raw_bytes.max(0) as usize)
        .map_err(|e| corrupt("replay chunk", e))?;
    match serde_json::from_slice(&json) {
        Ok(Json::Array(events)) => Ok(events),
        Ok(_) => Err(corrupt("replay chunk", "not a JSON array")),
        Err(e) => Err(corrupt("replay chunk", e)),
    }
}

/// A session's rrweb events in batch order (the order the recorder produced them, whatever
/// order the batches arrived in).
pub fn replay_events(conn: &Connection, session_id: &str) -> Result<Vec<Json>> {
    let mut stmt = conn.prepare_cached(
        "SELECT data, raw_bytes FROM replay_chunks WHERE session_id = ?1 ORDER BY batch",
    )?;
    let mut rows = stmt.query([session_id])?;
    let mut events = Vec::new();
    while let Some(r) = rows.next()? {
        events.extend(chunk_events(&r.get::<_, Vec<u8>>(0)?, r.get(1)?)?);
    }
    Ok(events)
}

/// A session's full snapshots: (timestamp, batch, index in the batch), in time order.
pub fn replay_checkpoints(conn: &Connection, session_id: &str) -> Result<Vec<(i64, i64, i64)>> {
    conn.prepare_cached(
        "SELECT timestamp_ms, batch, event_index FROM replay_checkpoints WHERE session_id = ?1
          ORDER BY timestamp_ms, batch, event_index",
    )?
    .query_map([session_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// The events a player needs to show `[from_ms, to_ms]` of a session.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayWindow {
    /// The full snapshot playback starts from, if the session has one at or before `from_ms`.
    pub checkpoint_ms: Option<i64>,
    /// rrweb events as recorded, in order.
    #[schema(value_type = Vec<RrwebEvent>)]
    pub events: Vec<Json>,
    /// Chunks decompressed to answer: the cost of the seek.
    pub chunks_decoded: usize,
}

/// An rrweb event as the recorder sent it (stored and served as it came: the envelope is
/// rrweb's, the rest is the player's business).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the served JSON; never built
pub struct RrwebEvent {
    /// rrweb's `EventType`: 2 full snapshot, 3 incremental, 4 meta, 5 custom, 6 plugin.
    r#type: i64,
    /// Unix ms.
    timestamp: i64,
    #[schema(value_type = Value)]
    data: Json,
}

const RRWEB_META: i64 = 4;

/// Seeks: starts at the last full snapshot at or before `from_ms` (with the meta event that
/// announces it), so reaching minute 40 decodes only the chunks from that snapshot on, not
/// the whole session.
pub fn replay_window(
    conn: &Connection,
    session_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<ReplayWindow> {
    let checkpoint: Option<(i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT timestamp_ms, batch, event_index FROM replay_checkpoints
              WHERE session_id = ?1 AND timestamp_ms <= ?2
              ORDER BY timestamp_ms DESC, batch DESC, event_index DESC LIMIT 1",
        )?
        .query_row(rusqlite::params![session_id, from_ms], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (start_batch, start_index) = checkpoint.map(|(_, b, i)| (b, i)).unwrap_or((i64::MIN, 0));
    let mut stmt = conn.prepare_cached(
        "SELECT batch, data, raw_bytes FROM replay_chunks
          WHERE session_id = ?1 AND batch >= ?2 AND first_ms <= ?3
          ORDER BY batch",
    )?;
    let mut rows = stmt.query(rusqlite::params![session_id, start_batch, to_ms])?;
    let mut events = Vec::new();
    let mut chunks_decoded = 0;
    while let Some(r) = rows.next()? {
        let batch: i64 = r.get(0)?;
        let mut chunk = chunk_events(&r.get::<_, Vec<u8>>(1)?, r.get(2)?)?;
        chunks_decoded += 1;
        if batch == start_batch {
            let mut skip = start_index.max(0) as usize;
            // rrweb announces each full snapshot with a meta event (page URL, viewport).
            if skip > 0 && chunk.get(skip - 1).and_then(|e| e["type"].as_i64()) == Some(RRWEB_META)
            {
                skip -= 1;
            }
            chunk.drain(..skip.min(chunk.len()));
        }
        events.extend(
            chunk
                .into_iter()
                .filter(|e| e["timestamp"].as_f64().is_some_and(|t| t <= to_ms as f64)),
        );
    }
    Ok(ReplayWindow {
        checkpoint_ms: checkpoint.map(|(t, _, _)| t),
        events,
        chunks_decoded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixture::{read, SESSION, T0};

    #[test]
    fn events_whole_and_as_a_window_from_the_snapshot() {
        let all = read(|c| replay_events(c, SESSION));
        assert_eq!(all.len(), 3);
        assert_eq!(all[0]["type"], 4);
        assert_eq!(read(|c| replay_checkpoints(c, SESSION)), [(T0 + 5, 0, 1)]);
        // From after the snapshot: the window starts at it, so the page can be drawn.
        let w = read(|c| replay_window(c, SESSION, T0 + 500, T0 + 5_000));
        assert_eq!(w.checkpoint_ms, Some(T0 + 5));
        assert!(w.events.iter().any(|e| e["type"] == 2), "{:?}", w.events);
        assert!(read(|c| replay_events(c, "nobody")).is_empty());
    }
}
