//! OTLP/JSON decode throughput: the shared fixtures (`testdata/otlp/*.json` and `*.jsonl`)
//! repeated into one large request per signal, in bytes and records (log records, spans, data
//! points) per second.
//!
//! `cargo bench -p otlp2parquet-proto --bench decode_json`

#![allow(
    clippy::expect_used,
    reason = "bench setup: a missing fixture is a broken checkout"
)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp2parquet_proto::{DecodeError, ExportRequest, LogsRequest, MetricsRequest, TracesRequest};
use serde_json::Value;

/// Target body size: large enough that per-request overhead disappears.
const TARGET_BYTES: usize = 4 << 20;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/otlp")
        .join(name);
    std::fs::read(path).expect("fixture")
}

/// The `key` arrays (resource groups) of every request in `files`, repeated into one request
/// of about [`TARGET_BYTES`], in the fixtures' own formatting style (compact, as SDKs send).
fn large_request(key: &str, files: &[&str]) -> Vec<u8> {
    let mut groups = Vec::new();
    for file in files {
        let bytes = fixture(file);
        let docs: Vec<Value> = if file.ends_with(".jsonl") {
            bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .map(|l| serde_json::from_slice(l).expect("fixture line"))
                .collect()
        } else {
            vec![serde_json::from_slice(&bytes).expect("fixture")]
        };
        for doc in docs {
            if let Some(Value::Array(items)) = doc.get(key) {
                groups.extend(items.iter().cloned());
            }
        }
    }
    let one = serde_json::to_vec(&groups).expect("serialize").len().max(1);
    let copies = TARGET_BYTES.div_ceil(one);
    let all: Vec<Value> = (0..copies).flat_map(|_| groups.iter().cloned()).collect();
    let mut request = serde_json::Map::new();
    request.insert(key.to_owned(), Value::Array(all));
    serde_json::to_vec(&Value::Object(request)).expect("serialize")
}

fn bench_signal(c: &mut Criterion, name: &str, body: &[u8], count: fn(&[u8]) -> usize) {
    let records = count(body);
    let mut group = c.benchmark_group(format!("decode_json/{name}"));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("bytes", |b| b.iter(|| count(black_box(body))));
    group.throughput(Throughput::Elements(records as u64));
    group.bench_function("records", |b| b.iter(|| count(black_box(body))));
    group.finish();
}

fn records<'a, R: ExportRequest<'a>>(result: Result<R, DecodeError>) -> usize {
    result.map(|r| r.record_count()).expect("decodes")
}

fn decode(c: &mut Criterion) {
    let logs = large_request("resourceLogs", &["log.json", "logs.jsonl"]);
    bench_signal(c, "logs", &logs, |b| records(LogsRequest::decode_json(b)));
    let traces = large_request("resourceSpans", &["trace.json", "traces.jsonl"]);
    bench_signal(c, "traces", &traces, |b| {
        records(TracesRequest::decode_json(b))
    });
    let metrics = large_request(
        "resourceMetrics",
        &[
            "metrics_gauge.json",
            "metrics_sum.json",
            "metrics_histogram.json",
            "metrics_exponential_histogram.json",
            "metrics_summary.json",
            "metrics_mixed.json",
        ],
    );
    bench_signal(c, "metrics", &metrics, |b| {
        records(MetricsRequest::decode_json(b))
    });
}

criterion_group!(benches, decode);
criterion_main!(benches);
