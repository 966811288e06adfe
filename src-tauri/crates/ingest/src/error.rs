//! The ingest crate's one error type. The server maps it to each protocol's status.

/// Why a request body could not be turned into rows.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("unsupported content type {0:?}: send application/x-protobuf or application/json")]
    UnsupportedMediaType(String),
    #[error(
        "unsupported content type {0:?}: send application/json (or text/plain holding JSON, as \
         navigator.sendBeacon does)"
    )]
    UnsupportedReplayMediaType(String),
    #[error("unsupported content encoding {0:?}: send gzip, deflate or identity")]
    UnsupportedEncoding(String),
    #[error("the request body exceeds the limit of {limit} bytes after decompression")]
    TooLarge { limit: usize },
    #[error("the body is not valid {encoding} data: {reason}")]
    Decompress {
        encoding: &'static str,
        reason: String,
    },
    #[error("the body is not a valid {message} in {format}: {reason}")]
    Decode {
        message: &'static str,
        format: &'static str,
        reason: String,
    },
}

pub type Result<T, E = IngestError> = std::result::Result<T, E>;
