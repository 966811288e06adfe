//! Turning what Sightline receives into rows for the store.
//!
//! Owns content negotiation (media types, gzip/deflate with a bounded inflate), OTLP decoding in
//! protobuf and JSON, and normalization: validation with partial-success accounting, attribute
//! encoding, service names and session ids. Owns no sockets: the server crate calls it.

pub mod content;
pub mod dom;
mod error;
pub mod facts;
pub mod files;
pub mod log_replay;
pub mod normalize;
pub mod otlp;
pub mod replay;
pub mod session;

pub use content::{inflate, Encoding, Format};
pub use error::{IngestError, Result};
pub use normalize::Normalized;
