//! What incident tagging reads back: the user of a session and the window a trace's request was recorded in.

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;

/// The recorded user of each of `sessions` that has one.
pub fn session_users(
    conn: &Connection,
    sessions: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM sessions WHERE session_id = ?1 AND user_id IS NOT NULL",
    )?;
    let mut out = std::collections::HashMap::new();
    for id in sessions {
        if out.contains_key(id) {
            continue;
        }
        if let Some(user) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
            out.insert(id.clone(), user);
        }
    }
    Ok(out)
}

/// The incident window each trace's browser request was recorded in, for the traces that have
/// one.
pub fn trace_incidents(
    conn: &Connection,
    traces: &[[u8; 16]],
) -> Result<std::collections::HashMap<[u8; 16], String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT incident_id FROM session_events
          WHERE trace_id = ?1 AND incident_id IS NOT NULL LIMIT 1",
    )?;
    let mut out = std::collections::HashMap::new();
    for trace in traces {
        if let Some(id) = stmt
            .query_row([hex::encode(trace)], |r| r.get::<_, String>(0))
            .optional()?
        {
            out.insert(*trace, id);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixture::{read, SESSION, TRACE};

    #[test]
    fn users_of_sessions_and_windows_of_traces() {
        let users = read(|c| session_users(c, &[SESSION.into(), "nobody".into()]));
        assert_eq!(users.get(SESSION).map(String::as_str), Some("u-ada"));
        assert_eq!(users.len(), 1);
        let windows = read(|c| trace_incidents(c, &[TRACE]));
        assert!(
            windows.is_empty(),
            "the request was not recorded in a window"
        );
    }
}
