//! Services and the service map, from the spans stored.

use rusqlite::Connection;
use serde::Serialize;

use crate::error::Result;

/// A service with its span counts and error rate.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub service_name: String,
    pub span_count: i64,
    pub error_count: i64,
    /// Errors per span, 0 to 1.
    pub error_rate: f64,
    /// Unix nanoseconds, as strings.
    pub first_seen_unix_nano: Option<String>,
    pub last_seen_unix_nano: Option<String>,
}

/// Calls from one service to another, and how many failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEdge {
    pub from: String,
    pub to: String,
    pub call_count: i64,
    pub error_count: i64,
}

/// Services with their span counts and error rates, busiest first.
pub fn services(conn: &Connection) -> Result<Vec<Service>> {
    conn.prepare_cached(
        "SELECT service_name, span_count, error_count, first_seen_unix_nano, last_seen_unix_nano
           FROM service_stats ORDER BY span_count DESC, service_name",
    )?
    .query_map([], |r| {
        let spans: i64 = r.get(1)?;
        let errors: i64 = r.get(2)?;
        Ok(Service {
            service_name: r.get(0)?,
            span_count: spans,
            error_count: errors,
            error_rate: if spans > 0 {
                errors as f64 / spans as f64
            } else {
                0.0
            },
            first_seen_unix_nano: r.get::<_, Option<i64>>(3)?.map(|v| v.to_string()),
            last_seen_unix_nano: r.get::<_, Option<i64>>(4)?.map(|v| v.to_string()),
        })
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// The service map: calls from one service to another (a server or consumer span whose parent
/// is in another service), with call and error counts, for calls that started in the minute of
/// `from_ns` or later. The writer keeps the counts (`service_edges`).
pub fn service_map(conn: &Connection, from_ns: i64) -> Result<Vec<ServiceEdge>> {
    conn.prepare_cached(
        "SELECT parent_service, child_service, sum(call_count), sum(error_count)
           FROM service_edges WHERE minute >= ?1
          GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
    )?
    .query_map([from_ns.max(0) / 60_000_000_000], |r| {
        Ok(ServiceEdge {
            from: r.get(0)?,
            to: r.get(1)?,
            call_count: r.get(2)?,
            error_count: r.get(3)?,
        })
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
        assert_eq!(s[0].service_name, "shop-api");
        assert_eq!((s[0].span_count, s[0].error_count), (3, 2));
        // One service calls no other: no edges.
        assert_eq!(
            crate::views::fixture::read(|c| service_map(c, 0)),
            Vec::<ServiceEdge>::new()
        );
    }
}
