//! OTLP → Arrow conversion (helper-owned, in progress).
use otlp2parquet_proto::{LogsRequest, MetricsRequest, TracesRequest};

use crate::{Partition, WriterError};

/// Converts a logs request into one partition per (safe service, hour).
pub fn convert_logs(
    _req: &LogsRequest<'_>,
    _received_at_ns: i64,
) -> Result<Vec<Partition>, WriterError> {
    Ok(Vec::new())
}

/// Converts a traces request into one partition per (safe service, hour).
pub fn convert_traces(
    _req: &TracesRequest<'_>,
    _received_at_ns: i64,
) -> Result<Vec<Partition>, WriterError> {
    Ok(Vec::new())
}

/// Converts a metrics request into one partition per (metric table, safe service, hour).
pub fn convert_metrics(
    _req: &MetricsRequest<'_>,
    _received_at_ns: i64,
) -> Result<Vec<Partition>, WriterError> {
    Ok(Vec::new())
}
