//! OTLP/JSON decoding of OTLP export requests (helper-owned, in progress).
use crate::{DecodeError, LogsRequest, MetricsRequest, TracesRequest};

pub(crate) fn decode_logs(_buf: &[u8]) -> Result<LogsRequest<'_>, DecodeError> {
    Err(DecodeError::new("JSON decoding not implemented yet"))
}
pub(crate) fn decode_traces(_buf: &[u8]) -> Result<TracesRequest<'_>, DecodeError> {
    Err(DecodeError::new("JSON decoding not implemented yet"))
}
pub(crate) fn decode_metrics(_buf: &[u8]) -> Result<MetricsRequest<'_>, DecodeError> {
    Err(DecodeError::new("JSON decoding not implemented yet"))
}
