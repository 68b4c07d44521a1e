//! The Cloudflare Worker adapter (docs/adr/0008-worker.md): a `wasm32-unknown-unknown` cdylib
//! that turns each Worker `fetch` into an [`otlp2parquet_handlers::Head`], admits it with
//! [`otlp2parquet_handlers::admit`], reads the body up to the admitted bound and writes the
//! Parquet files through the R2 binding before it answers.
//!
//! The platform-free parts (reading the configuration from Worker vars and secrets, the log
//! sink) are plain Rust modules that build and test natively; the parts that
//! need the `worker` crate live in `fetch` and build for wasm32 only, so a native
//! `cargo test --workspace` never compiles the JS bindings.

pub mod env;
pub mod log;
pub mod spool;

#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod object;
#[cfg(target_arch = "wasm32")]
mod r2;
