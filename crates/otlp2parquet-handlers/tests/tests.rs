//! Integration tests of the pipeline. `e2e::` tests read the files back with ClickHouse
//! (chdb), DuckDB and the Python reference implementation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod body;
#[cfg(feature = "e2e")]
mod e2e;
mod pipeline;
mod util;
