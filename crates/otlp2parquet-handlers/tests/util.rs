//! Helpers shared by the handlers integration tests.
#![allow(dead_code)]

use otlp2parquet_common::config::Config;
use otlp2parquet_common::platform::Platform;
use otlp2parquet_handlers::{Request, Response, Signal, handle};
use otlp2parquet_writer::MemoryStorage;

/// 2024-01-15T14:30:00Z, the received-at time of every test request.
pub const RECEIVED_AT_NS: i64 = 1_705_329_000_000_000_000;

#[cfg(feature = "e2e")]
pub use otlp2parquet_testkit::python;
pub use otlp2parquet_testkit::{block_on, repo_root};

pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("testdata").join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn signal_of(name: &str) -> Signal {
    if name.starts_with("log") {
        Signal::Logs
    } else if name.starts_with("trace") {
        Signal::Traces
    } else {
        Signal::Metrics
    }
}

pub fn content_type_of(name: &str) -> &'static str {
    if name.ends_with(".jsonl") {
        "application/x-ndjson"
    } else if name.ends_with(".json") {
        "application/json"
    } else {
        "application/x-protobuf"
    }
}

pub fn config() -> Config {
    Config::defaults(Platform::Server)
}

/// Runs the whole per-request pipeline into a fresh in-memory store.
pub fn run(
    signal: Signal,
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
) -> (Response, MemoryStorage) {
    let storage = MemoryStorage::new();
    let req = Request {
        signal,
        content_type,
        content_encoding,
        body,
        received_at_ns: RECEIVED_AT_NS,
    };
    let resp = block_on(handle(&req, &config(), 42, &storage));
    (resp, storage)
}

/// Every request fixture of `testdata/otlp` (not the invalid ones), by file name.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("testdata/otlp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") || n.ends_with(".jsonl") || n.ends_with(".pb"))
        .collect();
    names.sort();
    names
}
