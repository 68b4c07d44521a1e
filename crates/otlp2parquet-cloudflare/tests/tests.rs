//! Integration tests of the Worker: `e2e` runs the built wasm in workerd (Miniflare) with a
//! local R2 bucket and reads the objects back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    reason = "test code: failures are panics with context; the Worker's log is echoed to stderr"
)]

#[cfg(feature = "e2e")]
mod e2e;
#[cfg(feature = "e2e")]
mod util;
