//! The Lambda function as AWS runs it, emulated locally: `cargo lambda watch` in front of the
//! `bootstrap` binary, writing to a real local S3 server (`e2e`), in spool mode with the
//! compactor (`e2e_spool`); and its start-up errors (`startup`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "test code: failures are panics with context; a timing is printed for the record"
)]

#[cfg(feature = "e2e")]
mod e2e;
#[cfg(feature = "e2e")]
mod e2e_spool;
mod startup;
#[cfg(feature = "e2e")]
mod util;
