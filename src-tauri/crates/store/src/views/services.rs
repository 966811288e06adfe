//! Services and the service map, from the spans stored.

use rusqlite::Connection;
use serde_json::{json, Value as Json};

use crate::error::Result;

/// Services with their span counts and error rates, busiest first.
pub fn services(conn: &Connection) -> Result<Vec<Json>> {
    conn.prepare_cached(
        "SELECT service_name, span_count, error_count, first_seen_unix_nano, last_seen_unix_nano
           FROM service_stats ORDER BY span_count DESC, service_name",
    )?
    .query_map([], |r| {
        let spans: i64 = r.get(1)?;
        let errors: i64 = r.get(2)?;
        Ok(json!({
            "serviceName": r.get::<_, String>(0)?,
            "spanCount": spans,
            "errorCount": errors,
            "errorRate": if spans > 0 { errors as f64 / spans as f64 } else { 0.0 },
            "firstSeenUnixNano": r.get::<_, Option<i64>>(3)?.map(|v| v.to_string()),
            "lastSeenUnixNano": r.get::<_, Option<i64>>(4)?.map(|v| v.to_string()),
        }))
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// The service map: calls from one service to another (a server or consumer span whose parent
/// is in another service), with call and error counts, for calls that started in the minute of
/// `from_ns` or later. The writer keeps the counts (`service_edges`).
pub fn service_map(conn: &Connection, from_ns: i64) -> Result<Vec<Json>> {
    conn.prepare_cached(
        "SELECT parent_service, child_service, sum(call_count), sum(error_count)
           FROM service_edges WHERE minute >= ?1
          GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
    )?
    .query_map([from_ns.max(0) / 60_000_000_000], |r| {
        Ok(json!({
            "from": r.get::<_, String>(0)?,
            "to": r.get::<_, String>(1)?,
            "callCount": r.get::<_, i64>(2)?,
            "errorCount": r.get::<_, i64>(3)?,
        }))
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_with_their_error_rate() {
        let s = crate::views::fixture::read(services);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0]["serviceName"], "shop-api");
        assert_eq!(s[0]["spanCount"], 3);
        assert_eq!(s[0]["errorCount"], 2);
        // One service calls no other: no edges.
        assert_eq!(
            crate::views::fixture::read(|c| service_map(c, 0)),
            Vec::<Json>::new()
        );
    }
}
