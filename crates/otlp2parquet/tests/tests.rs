//! The `otlp2parquet` binary as users run it: a real process on a free 127.0.0.1 port, spoken
//! to over raw HTTP/1.1 (`http`) and by real OpenTelemetry SDKs (`sdk`), stopped by PID.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout,
    reason = "test code: failures are panics with context; the harness prints the server log"
)]

mod bad_input;
mod batching;
mod durability;
mod grpc;
mod http;
mod s3;
mod sdk;
mod util;
