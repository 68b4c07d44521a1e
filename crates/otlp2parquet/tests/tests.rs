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

// Every test here runs the server binary against real components (a real port, s3s-fs, the
// Python and Node SDKs, grpcio, DuckDB): the `e2e` feature (`make test`, `make test-e2e`).
#[cfg(feature = "e2e")]
mod e2e {
    pub mod bad_input;
    pub mod batching;
    mod compact;
    mod durability;
    mod engines;
    mod grpc;
    mod hostile;
    mod http;
    mod lookup;
    mod s3;
    pub mod sdk;
    mod tls;
}
#[cfg(feature = "e2e")]
use e2e::{bad_input, batching, sdk};
#[cfg(feature = "e2e")]
mod util;
