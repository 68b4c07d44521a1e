//! A lookup by trace id over a million spans (docs/benchmarks.md#trace-id-lookup): the same rows
//! written by the batcher's encoder (`encode_merged`) with and without bloom filters, in row
//! groups of 50 000 spans, then `tests/engines/bloom_lookup.py` asks DuckDB and DataFusion for
//! one trace in each and reads their own counters: with the filters they must read fewer row
//! groups or bytes, and return the same rows.

use std::path::Path;

use arrow_array::RecordBatch;
use otlp2parquet_proto::{ExportRequest, TracesRequest, testing};
use otlp2parquet_writer::{ParquetOptions, Table, convert_traces, encode_merged};
use prost::Message as _;

use crate::util::run_python;

/// Requests of 10 000 spans; 100 of them make the million.
const REQUESTS: u64 = 100;
const SPANS: usize = 10_000;
/// Each generated request spans five minutes; request `k` is moved `k` times this far, so the
/// rows of one request follow those of the one before (the in-order path of the batcher), all
/// within one hour.
const STEP_NANOS: u64 = 30_000_000_000;

/// The converted batches of the million spans, in time order, and one trace id in the middle.
fn spans() -> (Vec<RecordBatch>, String) {
    let mut batches = Vec::new();
    for k in 0..REQUESTS {
        let mut req = testing::traces_request(SPANS, 1, 1_000 + k);
        for r in &mut req.resource_spans {
            for s in &mut r.scope_spans {
                for span in &mut s.spans {
                    // Squeeze the request's five minutes into its own step.
                    let offset = (span.start_time_unix_nano - testing::BASE_TIME_UNIX_NANO) / 10;
                    let start = testing::BASE_TIME_UNIX_NANO + k * STEP_NANOS + offset;
                    span.end_time_unix_nano =
                        start + (span.end_time_unix_nano - span.start_time_unix_nano);
                    span.start_time_unix_nano = start;
                    for e in &mut span.events {
                        e.time_unix_nano = start;
                    }
                }
            }
        }
        let body = req.encode_to_vec();
        let decoded = TracesRequest::decode_protobuf(&body).unwrap();
        for p in convert_traces(&decoded, 1).unwrap() {
            batches.push(p.batch);
        }
    }
    let middle = &batches[batches.len() / 2];
    let trace_id =
        arrow_array::cast::AsArray::as_string::<i32>(middle.column_by_name("TraceId").unwrap())
            .value(middle.num_rows() / 2)
            .to_owned();
    (batches, trace_id)
}

#[test]
fn bloom_filters_let_duckdb_and_datafusion_skip_row_groups_of_a_million_spans() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bloom-lookup");
    let _ = std::fs::remove_dir_all(&dir);
    let (batches, trace_id) = spans();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert!(rows >= 1_000_000, "{rows} spans");
    let mut sizes = Vec::new();
    for (name, bloom_filters) in [("with", true), ("without", false)] {
        let opts = ParquetOptions {
            row_group_rows: 50_000,
            bloom_filters,
            ..ParquetOptions::default()
        };
        let file = encode_merged(Table::Traces, &batches, &opts).unwrap();
        let out = dir.join(name).join("traces");
        std::fs::create_dir_all(&out).unwrap();
        sizes.push((name, file.len()));
        std::fs::write(out.join("spans.parquet"), file).unwrap();
    }
    println!("file sizes: {sizes:?}");
    run_python(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines/bloom_lookup.py"),
        &[
            dir.join("with/traces").into_os_string(),
            dir.join("without/traces").into_os_string(),
            trace_id.into(),
        ],
        "",
    );
}
