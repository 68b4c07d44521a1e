//! The Cloudflare Worker adapter (SPEC §6): a `wasm32-unknown-unknown` cdylib that turns each
//! Worker `fetch` into an [`otlp2parquet_handlers::Exchange`], answers it with
//! [`otlp2parquet_handlers::respond`] and writes the Parquet files through the R2 binding
//! before it answers.
//!
//! The platform-free parts (reading the configuration from Worker vars and secrets, the log
//! sink, the body bound) are plain Rust modules that build and test natively; the parts that
//! need the `worker` crate live in `fetch` and build for wasm32 only, so a native
//! `cargo test --workspace` never compiles the JS bindings.

pub mod body;
pub mod env;
pub mod log;

#[cfg(target_arch = "wasm32")]
mod fetch;
