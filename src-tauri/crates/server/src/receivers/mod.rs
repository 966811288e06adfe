//! The receivers: OTLP over gRPC ([`grpc`]) and over HTTP ([`http`]), and on the HTTP port the
//! recorder's script, replay batches and incident poll ([`replay`]); all into one [`pipeline`]
//! (admission, decode, normalize, tag, write).
//! Connections, headers, bodies and time are bounded before a receiver sees a request
//! ([`crate::listen`]).

pub mod grpc;
pub mod http;
pub mod pipeline;
pub mod replay;
