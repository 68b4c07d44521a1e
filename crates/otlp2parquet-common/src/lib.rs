//! Types shared by every otlp2parquet crate: signals and metric kinds, configuration loading
//! and validation (SPEC §2), and platform detection.

pub mod config;
pub mod platform;
mod signal;

pub use signal::{MetricKind, Signal};
