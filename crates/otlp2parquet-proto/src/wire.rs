//! Zero-copy protobuf decoding of OTLP export requests into the borrowed [`crate::model`] types.
//!
//! A hand-written reader instead of prost's generated `decode`: prost would allocate a `String`
//! per key and value and a `Vec<u8>` per id, which the converters then only read. Here strings
//! are UTF-8-checked slices of the body, ids are copied into fixed arrays, and the only
//! allocations are the `Vec`s of repeated fields.
//!
//! Protobuf semantics kept: unknown fields are skipped (any wire type but the deprecated
//! groups, which are rejected — OTLP never uses them); packed and unpacked repeated scalars are
//! both accepted; the last occurrence of a singular scalar or oneof member wins; repeated
//! message fields append and singular message fields merge. Stricter than prost where it
//! protects the converters: a known field with the wrong wire type, ids that are neither empty
//! nor 16/8 bytes, and `AnyValue` nesting beyond [`common::MAX_DEPTH`] are errors. Every error
//! names the field path (`resource_spans.scope_spans.spans.trace_id: expected 16 bytes, got 5`).

mod common;
mod error;
mod logs;
mod metrics;
mod reader;
mod trace;

use crate::{DecodeError, LogsRequest, MetricsRequest, TracesRequest};

/// Decodes an `ExportLogsServiceRequest`.
pub(crate) fn decode_logs(buf: &[u8]) -> Result<LogsRequest<'_>, DecodeError> {
    Ok(logs::request(buf)?)
}

/// Decodes an `ExportTraceServiceRequest`.
pub(crate) fn decode_traces(buf: &[u8]) -> Result<TracesRequest<'_>, DecodeError> {
    Ok(trace::request(buf)?)
}

/// Decodes an `ExportMetricsServiceRequest`.
pub(crate) fn decode_metrics(buf: &[u8]) -> Result<MetricsRequest<'_>, DecodeError> {
    Ok(metrics::request(buf)?)
}
