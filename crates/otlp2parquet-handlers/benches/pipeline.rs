//! The pure core, stage by stage and end to end, per signal: protobuf decode, OTLP → Arrow
//! conversion, Parquet encoding (zstd level 1), and protobuf body → Parquet bytes.
//! Payloads: 10 000 generated records each (a dozen attributes, trace ids, 8 services),
//! serialized like an SDK would send them. No I/O.
//!
//!     cargo bench -p otlp2parquet-handlers --bench pipeline

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use otlp2parquet_common::config::Config;
use otlp2parquet_common::platform::Platform;
use otlp2parquet_handlers::{Request, Signal, convert, encode_files};
use otlp2parquet_proto::{ExportRequest, LogsRequest, MetricsRequest, TracesRequest, testing};
use otlp2parquet_writer::{convert_logs, convert_metrics, convert_traces};
use prost::Message as _;
use std::hint::black_box;

const RECORDS: usize = 10_000;
const SERVICES: usize = 8;
const RECEIVED_AT_NS: i64 = 1_705_329_000_000_000_000;

fn payloads() -> Vec<(Signal, Vec<u8>, usize)> {
    let logs = testing::logs_request(RECORDS, SERVICES, 1).encode_to_vec();
    let traces = testing::traces_request(RECORDS, SERVICES, 2).encode_to_vec();
    let metrics_req = testing::metrics_request(RECORDS, SERVICES, 3);
    let metrics = metrics_req.encode_to_vec();
    let points = MetricsRequest::decode_protobuf(&metrics)
        .map(|r| r.record_count())
        .unwrap_or(RECORDS);
    vec![
        (Signal::Logs, logs, RECORDS),
        (Signal::Traces, traces, RECORDS),
        (Signal::Metrics, metrics, points),
    ]
}

fn stages(c: &mut Criterion) {
    let config = Config::defaults(Platform::Server);
    for (signal, body, records) in payloads() {
        let mut group = c.benchmark_group(signal.as_str());
        group.throughput(Throughput::Elements(records as u64));
        group.sample_size(20);

        group.bench_function(BenchmarkId::new("decode", "protobuf"), |b| {
            b.iter(|| match signal {
                Signal::Logs => {
                    LogsRequest::decode_protobuf(black_box(&body)).map(|r| r.record_count())
                }
                Signal::Traces => {
                    TracesRequest::decode_protobuf(black_box(&body)).map(|r| r.record_count())
                }
                Signal::Metrics => {
                    MetricsRequest::decode_protobuf(black_box(&body)).map(|r| r.record_count())
                }
            })
        });

        group.bench_function(BenchmarkId::new("convert", "arrow"), |b| match signal {
            Signal::Logs => {
                let r = LogsRequest::decode_protobuf(&body).unwrap_or_default();
                b.iter(|| convert_logs(black_box(&r), RECEIVED_AT_NS).map(|p| p.len()))
            }
            Signal::Traces => {
                let r = TracesRequest::decode_protobuf(&body).unwrap_or_default();
                b.iter(|| convert_traces(black_box(&r), RECEIVED_AT_NS).map(|p| p.len()))
            }
            Signal::Metrics => {
                let r = MetricsRequest::decode_protobuf(&body).unwrap_or_default();
                b.iter(|| convert_metrics(black_box(&r), RECEIVED_AT_NS).map(|p| p.len()))
            }
        });

        let request = Request {
            signal,
            content_type: Some("application/x-protobuf"),
            content_encoding: None,
            body: &body,
            received_at_ns: RECEIVED_AT_NS,
        };
        let converted = convert(&request, usize::MAX).ok();
        group.bench_function(BenchmarkId::new("encode", "parquet-zstd"), |b| {
            let partitions = converted
                .as_ref()
                .map(|c| c.partitions.as_slice())
                .unwrap_or_default();
            b.iter(|| encode_files(black_box(partitions), &config, 7).map(|f| f.len()))
        });

        group.bench_function(BenchmarkId::new("end_to_end", "protobuf-to-parquet"), |b| {
            b.iter(|| {
                let c = convert(black_box(&request), usize::MAX).ok();
                c.map(|c| encode_files(&c.partitions, &config, 7).map(|f| f.len()))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
