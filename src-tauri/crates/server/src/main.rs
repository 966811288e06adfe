//! The `sightline` binary: `sightline serve` runs the engine headless (see `cli.rs`).

use std::process::ExitCode;

/// Decoding OTLP allocates every key and value of every attribute; mimalloc's thread-local
/// free lists cut that cost markedly on the ingest path compared with the system allocator
/// (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    sightline_server::cli::run(std::env::args_os())
}
