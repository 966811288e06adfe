//! Building the WHERE clause of the list and search queries (sessions, traces, logs): numbered
//! parameters, the clauses they share (attribute match, time range, keyset cursor), and
//! splitting a page from the row that says there is a next one.

use rusqlite::types::Value;

use crate::error::{Result, StoreError};

/// Conditions joined with AND, and their parameters, numbered as they are added.
pub(crate) struct Clauses {
    parts: Vec<String>,
    args: Vec<Value>,
}

impl Clauses {
    /// Starts with a condition every row of the query must meet.
    pub(crate) fn new(base: &str) -> Self {
        Self {
            parts: vec![base.to_owned()],
            args: Vec::new(),
        }
    }

    /// Binds a parameter; returns its placeholder (`?N`).
    pub(crate) fn arg(&mut self, value: impl Into<Value>) -> String {
        self.args.push(value.into());
        format!("?{}", self.args.len())
    }

    pub(crate) fn push(&mut self, condition: impl Into<String>) {
        self.parts.push(condition.into());
    }

    /// The condition "attribute `key` of the JSON object in `column` equals `value` as text".
    /// The caller places it (directly, or inside an EXISTS over child rows).
    pub(crate) fn attribute_equals(
        &mut self,
        column: &str,
        key: &str,
        value: &str,
    ) -> Result<String> {
        // The key becomes a JSON path; a quote in it would end the path early.
        if key.contains('"') || key.contains('\\') {
            return Err(StoreError::Sql(format!(
                "attribute key {key:?} may not contain quotes"
            )));
        }
        let path = self.arg(format!("$.\"{key}\""));
        let value = self.arg(value.to_owned());
        Ok(format!(
            "CAST(json_extract({column}, {path}) AS TEXT) = {value}"
        ))
    }

    /// `column` (Unix ns) within [from_ms, to_ms], either end open.
    pub(crate) fn ns_range(&mut self, column: &str, from_ms: Option<i64>, to_ms: Option<i64>) {
        if let Some(from) = from_ms {
            let a = self.arg(from.saturating_mul(1_000_000));
            self.push(format!("{column} >= {a}"));
        }
        if let Some(to) = to_ms {
            let a = self.arg(to.saturating_mul(1_000_000));
            self.push(format!("{column} <= {a}"));
        }
    }

    /// Keyset pagination for a descending order on `key` (a row-value expression such as
    /// `(t.start_time_unix_nano, t.id)`): rows strictly after the cursor.
    pub(crate) fn before(
        &mut self,
        key: &str,
        cursor: Option<(impl Into<Value>, impl Into<Value>)>,
    ) {
        if let Some((a, b)) = cursor {
            let (a, b) = (self.arg(a), self.arg(b));
            self.push(format!("{key} < ({a}, {b})"));
        }
    }

    /// Whether only the base condition is there (nothing filters).
    pub(crate) fn is_base_only(&self) -> bool {
        self.parts.len() == 1
    }

    /// The conditions, for after WHERE.
    pub(crate) fn sql(&self) -> String {
        self.parts.join(" AND ")
    }

    /// A LIMIT placeholder one row past the page: that row's presence means a next page.
    pub(crate) fn limit_one_past(&mut self, limit: usize) -> String {
        self.arg(limit as i64 + 1)
    }

    pub(crate) fn params(&self) -> rusqlite::ParamsFromIter<std::slice::Iter<'_, Value>> {
        rusqlite::params_from_iter(self.args.iter())
    }
}

/// Cuts a query's rows (fetched with [`Clauses::limit_one_past`]) to the page, and gives the
/// cursor of its last row when there is more.
pub(crate) fn split_page<T, K>(
    mut rows: Vec<T>,
    limit: usize,
    cursor_of: impl Fn(&T) -> K,
) -> (Vec<T>, Option<K>) {
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(&cursor_of);
        (rows, next)
    } else {
        (rows, None)
    }
}
