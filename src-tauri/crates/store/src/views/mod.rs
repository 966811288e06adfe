//! Read views of stored data, one module per resource (what the API, the tray, bundles and
//! the tests read). Each owns its SQL and reads through a reader's connection; nothing here
//! writes.

use serde_json::Value as Json;

mod diagnostics;
mod export;
#[cfg(test)]
pub(crate) mod fixture;
mod incidents;
mod logs;
mod metrics;
mod outline;
mod replay;
mod services;
mod sessions;
mod stats;
mod timeline;
mod traces;

pub use diagnostics::*;
pub use export::*;
pub use incidents::*;
pub use logs::*;
pub use metrics::*;
pub use outline::*;
pub use replay::*;
pub use services::*;
pub use sessions::*;
pub use stats::*;
pub use timeline::*;
pub use traces::*;

pub(crate) fn parse_json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or(Json::Null)
}

fn hex_opt(bytes: Option<Vec<u8>>) -> String {
    bytes.map(hex::encode).unwrap_or_default()
}

/// A stored value that does not read back as it was written.
fn corrupt(what: &str, err: impl std::fmt::Display) -> crate::error::StoreError {
    crate::error::StoreError::Corrupt(format!("{what}: {err}"))
}
