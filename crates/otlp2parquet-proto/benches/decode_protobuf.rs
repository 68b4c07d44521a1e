//! Protobuf decode throughput: the zero-copy `wire` decoder against prost's owned decode of the
//! same bytes, in records (log records, spans, data points) per second.
//!
//! `cargo bench -p otlp2parquet-proto --features testing --bench decode_protobuf`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp2parquet_proto::{
    DecodeError, ExportRequest, LogsRequest, MetricsRequest, TracesRequest, pb, testing,
};
use prost::Message;

const RECORDS: usize = 10_000;
const SERVICES: usize = 6;
const SEED: u64 = 42;

/// Benchmarks `wire` (decode, then count records so the result is used) against `P::decode`.
fn bench_signal<P: Message + Default>(
    c: &mut Criterion,
    name: &str,
    body: &[u8],
    records: usize,
    wire: fn(&[u8]) -> Result<usize, DecodeError>,
) {
    let mut group = c.benchmark_group(format!("decode_protobuf/{name}"));
    group.throughput(Throughput::Elements(records as u64));
    group.bench_function("wire", |b| {
        b.iter(|| {
            let n = wire(black_box(body));
            assert_eq!(n, Ok(records));
        })
    });
    group.bench_function("prost", |b| b.iter(|| P::decode(black_box(body))));
    group.finish();
}

fn decode(c: &mut Criterion) {
    let logs = testing::logs_request(RECORDS, SERVICES, SEED).encode_to_vec();
    bench_signal::<pb::ExportLogsServiceRequest>(c, "logs", &logs, RECORDS, |b| {
        LogsRequest::decode_protobuf(b).map(|r| r.record_count())
    });

    let traces = testing::traces_request(RECORDS, SERVICES, SEED).encode_to_vec();
    bench_signal::<pb::ExportTraceServiceRequest>(c, "traces", &traces, RECORDS, |b| {
        TracesRequest::decode_protobuf(b).map(|r| r.record_count())
    });

    let metrics = testing::metrics_request(RECORDS, SERVICES, SEED).encode_to_vec();
    bench_signal::<pb::ExportMetricsServiceRequest>(c, "metrics", &metrics, RECORDS, |b| {
        MetricsRequest::decode_protobuf(b).map(|r| r.record_count())
    });
}

criterion_group!(benches, decode);
criterion_main!(benches);
