//! Integration tests of the Worker: `e2e` runs the built wasm in workerd (Miniflare) with a
//! local R2 bucket and reads the objects back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: failures are panics with context"
)]

mod e2e;
mod util;
