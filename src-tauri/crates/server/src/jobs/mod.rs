//! Background jobs of a running engine: retention ([`retention`]: age and size) and the inbox
//! ([`inbox`]: bundles and files dropped in a folder, and a followed OTLP JSON lines file).

pub mod inbox;
pub mod retention;
