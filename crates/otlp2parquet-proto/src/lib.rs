//! OTLP message types and decoding for otlp2parquet.
//!
//! Requests decode into the borrowed types of [`model`], from protobuf ([`ExportRequest::decode_protobuf`]),
//! OTLP/JSON ([`ExportRequest::decode_json`]) or JSON Lines ([`ExportRequest::decode_jsonl`]). Decoding
//! borrows strings from the request body instead of allocating, which is why every decoded
//! request carries the body's lifetime.
//!
//! [`pb`] holds owned prost types of the same messages, used to *encode*: OTLP responses,
//! `google.rpc.Status` error bodies, and requests built by tests and benchmarks.

#![deny(missing_docs)]

mod error;
mod json;
pub mod model;
pub mod pb;
#[cfg(feature = "testing")]
pub mod testing;
mod wire;

pub use error::DecodeError;
pub use model::*;

/// One OTLP export request type: logs, traces or metrics.
pub trait ExportRequest<'a>: Sized + Default {
    /// Decodes a protobuf `Export*ServiceRequest`.
    fn decode_protobuf(buf: &'a [u8]) -> Result<Self, DecodeError>;
    /// Decodes one OTLP/JSON `Export*ServiceRequest` object.
    fn decode_json(buf: &'a [u8]) -> Result<Self, DecodeError>;
    /// Appends the resource groups of `other` (used to join JSON Lines into one request).
    fn append(&mut self, other: Self);
    /// Number of records the request holds: log records, spans or metric data points.
    fn record_count(&self) -> usize;

    /// Decodes JSON Lines: one OTLP/JSON request per non-empty line, joined into one request.
    /// An error names the (1-based) line it occurred on.
    fn decode_jsonl(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let mut out = Self::default();
        for (index, line) in buf.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let one = Self::decode_json(line).map_err(|e| e.at_line(index + 1))?;
            out.append(one);
        }
        Ok(out)
    }
}

impl<'a> ExportRequest<'a> for LogsRequest<'a> {
    fn decode_protobuf(buf: &'a [u8]) -> Result<Self, DecodeError> {
        wire::decode_logs(buf)
    }
    fn decode_json(buf: &'a [u8]) -> Result<Self, DecodeError> {
        json::decode_logs(buf)
    }
    fn append(&mut self, other: Self) {
        self.resource_logs.extend(other.resource_logs);
    }
    fn record_count(&self) -> usize {
        self.resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum()
    }
}

impl<'a> ExportRequest<'a> for TracesRequest<'a> {
    fn decode_protobuf(buf: &'a [u8]) -> Result<Self, DecodeError> {
        wire::decode_traces(buf)
    }
    fn decode_json(buf: &'a [u8]) -> Result<Self, DecodeError> {
        json::decode_traces(buf)
    }
    fn append(&mut self, other: Self) {
        self.resource_spans.extend(other.resource_spans);
    }
    fn record_count(&self) -> usize {
        self.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    }
}

impl<'a> ExportRequest<'a> for MetricsRequest<'a> {
    fn decode_protobuf(buf: &'a [u8]) -> Result<Self, DecodeError> {
        wire::decode_metrics(buf)
    }
    fn decode_json(buf: &'a [u8]) -> Result<Self, DecodeError> {
        json::decode_metrics(buf)
    }
    fn append(&mut self, other: Self) {
        self.resource_metrics.extend(other.resource_metrics);
    }
    fn record_count(&self) -> usize {
        self.resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| m.data.data_point_count())
            .sum()
    }
}

impl MetricData<'_> {
    /// Number of data points of this metric.
    pub fn data_point_count(&self) -> usize {
        match self {
            MetricData::None => 0,
            MetricData::Gauge(g) => g.data_points.len(),
            MetricData::Sum(s) => s.data_points.len(),
            MetricData::Histogram(h) => h.data_points.len(),
            MetricData::ExponentialHistogram(h) => h.data_points.len(),
            MetricData::Summary(s) => s.data_points.len(),
        }
    }
}
