//! OTLP message bodies: decoding requests and encoding responses in either format.

use bytes::Bytes;
use prost::Message;
use serde::{de::DeserializeOwned, Serialize};

use crate::content::Format;
use crate::error::{IngestError, Result};

/// Decodes an OTLP request body. `message` names it in errors ("ExportTraceServiceRequest").
///
/// An empty body is the empty request in both formats (a protobuf message with no fields is
/// zero bytes; some JSON clients send nothing for "nothing to report").
pub fn decode<T>(body: &[u8], format: Format, message: &'static str) -> Result<T>
where
    T: Message + DeserializeOwned + Default,
{
    match format {
        Format::Protobuf => T::decode(body).map_err(|e| IngestError::Decode {
            message,
            format: "protobuf",
            reason: e.to_string(),
        }),
        Format::Json if body.iter().all(u8::is_ascii_whitespace) => Ok(T::default()),
        Format::Json => serde_json::from_slice(body).map_err(|e| IngestError::Decode {
            message,
            format: "JSON",
            reason: e.to_string(),
        }),
    }
}

/// Encodes a response message in the request's format.
pub fn encode<T: Message + Serialize>(message: &T, format: Format) -> Bytes {
    match format {
        Format::Protobuf => message.encode_to_vec().into(),
        Format::Json => serde_json::to_vec(message)
            .unwrap_or_else(|_| b"{}".to_vec())
            .into(),
    }
}
