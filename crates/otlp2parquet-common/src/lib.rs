//! Types shared by every otlp2parquet crate: signals and metric kinds, configuration loading
//! and validation (docs/configuration.md), and platform detection.

#![deny(missing_docs)]

pub mod config;
pub mod platform;
mod signal;

pub use signal::{MetricKind, Signal};
