//! Parquet encoding alone (docs/schema.md#file-layout), per signal: the partitions of one
//! generated request of 10 000 records over 8 services (a dozen attributes each, trace ids),
//! converted once, then encoded the way the handlers do it — one file per partition, default
//! options (zstd level 1).
//!
//!     cargo bench -p otlp2parquet-writer --bench encode
//!
//! `merge/logs` models the server's batcher: 200 SDK-sized requests (512 records, one service)
//! merged into one file with `encode_merged`, once with requests that follow each other in time
//! and once with overlapping ones (the sort-and-interleave path).
//!
//! With `ENCODE_ONCE=<logs|traces|metrics|merge>` set, the binary encodes that signal's partitions
//! once and exits instead of benchmarking: a stable target for `valgrind --tool=callgrind`
//! (instruction counts do not depend on machine load, wall-clock figures do). There,
//! `ENCODE_BLOOM=0` turns the bloom filters off, `ENCODE_UNIT=us` writes microseconds and
//! `ENCODE_BYTES=1` prints the bytes written, to measure what each costs (docs/benchmarks.md#query-ready-files).

use std::hint::black_box;

use arrow_array::RecordBatch;
use criterion::{BenchmarkId, Criterion, Throughput};
use otlp2parquet_proto::{ExportRequest, LogsRequest, MetricsRequest, TracesRequest, testing};
use otlp2parquet_writer::{
    ParquetOptions, Partition, convert_logs, convert_metrics, convert_traces, encode_merged,
    encode_parquet,
};
use prost::Message as _;

const RECORDS: usize = 10_000;
const RECEIVED_AT_NS: i64 = 1_705_329_000_000_000_000;

/// The converted partitions of one request per signal, with `services` services.
fn partitions(signal: &str, services: usize) -> Vec<Partition> {
    let converted = match signal {
        "logs" => {
            let body = testing::logs_request(RECORDS, services, 1).encode_to_vec();
            LogsRequest::decode_protobuf(&body)
                .ok()
                .and_then(|r| convert_logs(&r, RECEIVED_AT_NS).ok())
        }
        "traces" => {
            let body = testing::traces_request(RECORDS, services, 2).encode_to_vec();
            TracesRequest::decode_protobuf(&body)
                .ok()
                .and_then(|r| convert_traces(&r, RECEIVED_AT_NS).ok())
        }
        _ => {
            let body = testing::metrics_request(RECORDS, services, 3).encode_to_vec();
            MetricsRequest::decode_protobuf(&body)
                .ok()
                .and_then(|r| convert_metrics(&r, RECEIVED_AT_NS).ok())
        }
    };
    converted.unwrap_or_default()
}

/// Encodes every partition as its own file; returns the total file size.
fn encode_all(partitions: &[Partition], opts: &ParquetOptions) -> usize {
    partitions
        .iter()
        .filter_map(|p| encode_parquet(p.table, std::slice::from_ref(&p.batch), opts).ok())
        .map(|f| f.len())
        .sum()
}

/// The batches of `requests` single-service requests of 512 log records each. With `in_order`,
/// request `i` is shifted to follow request `i - 1` in time; otherwise they all overlap.
fn request_batches(requests: usize, in_order: bool) -> Vec<RecordBatch> {
    (0..requests)
        .filter_map(|i| {
            let received = RECEIVED_AT_NS + i as i64;
            let mut req = testing::logs_request(512, 1, i as u64 + 10);
            if in_order {
                // Each request's five minutes squeezed into its own second.
                let base = testing::BASE_TIME_UNIX_NANO;
                for r in &mut req.resource_logs {
                    for s in &mut r.scope_logs {
                        for l in &mut s.log_records {
                            l.time_unix_nano =
                                base + i as u64 * 1_000_000_000 + (l.time_unix_nano - base) / 300;
                        }
                    }
                }
            }
            let body = req.encode_to_vec();
            let decoded = LogsRequest::decode_protobuf(&body).ok()?;
            let parts = convert_logs(&decoded, received).ok()?;
            parts.into_iter().next().map(|p| p.batch)
        })
        .collect()
}

fn merge_bench(c: &mut Criterion) {
    let opts = ParquetOptions::default();
    let mut group = c.benchmark_group("merge/logs");
    group.sample_size(10);
    for in_order in [true, false] {
        let batches = request_batches(200, in_order);
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        group.throughput(Throughput::Elements(rows as u64));
        let id = if in_order { "in_order" } else { "overlapping" };
        group.bench_function(id, |b| {
            b.iter(|| encode_merged(otlp2parquet_writer::Table::Logs, black_box(&batches), &opts))
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    let opts = ParquetOptions::default();
    for signal in ["logs", "traces", "metrics"] {
        let mut group = c.benchmark_group(format!("encode/{signal}"));
        group.sample_size(20);
        for services in [8, 1] {
            let parts = partitions(signal, services);
            let rows: usize = parts.iter().map(Partition::num_rows).sum();
            group.throughput(Throughput::Elements(rows as u64));
            let id = BenchmarkId::new("files", parts.len());
            group.bench_function(id, |b| b.iter(|| encode_all(black_box(&parts), &opts)));
        }
        group.finish();
    }
}

/// The options of an `ENCODE_ONCE` run: the defaults, or what `ENCODE_BLOOM` and `ENCODE_UNIT`
/// ask for.
fn once_options() -> ParquetOptions {
    let mut opts = ParquetOptions::default();
    if std::env::var("ENCODE_BLOOM").is_ok_and(|v| v == "0") {
        opts.bloom_filters = false;
    }
    if std::env::var("ENCODE_UNIT").is_ok_and(|v| v == "us") {
        opts.timestamp_unit = otlp2parquet_writer::TimestampUnit::Microsecond;
    }
    opts
}

/// With `ENCODE_BYTES` set, prints the bytes an `ENCODE_ONCE` run wrote (file size per record).
fn print_bytes(bytes: usize) {
    if std::env::var_os("ENCODE_BYTES").is_some() {
        #[allow(clippy::print_stdout, reason = "the measurement this mode exists for")]
        {
            println!("{bytes}");
        }
    }
}

fn main() {
    if let Some(signal) = std::env::var_os("ENCODE_ONCE") {
        let signal = signal.to_string_lossy();
        let opts = once_options();
        if signal == "merge" || signal == "merge-overlapping" {
            let batches = request_batches(200, signal == "merge");
            let file = encode_merged(otlp2parquet_writer::Table::Logs, &batches, &opts);
            let bytes = file.map(|f| f.len()).unwrap_or_default();
            print_bytes(bytes);
            black_box(bytes);
            return;
        }
        let services = std::env::var("ENCODE_SERVICES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(8);
        let parts = partitions(&signal, services);
        let bytes = encode_all(&parts, &opts);
        print_bytes(bytes);
        black_box(bytes);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    merge_bench(&mut c);
    c.final_summary();
}
