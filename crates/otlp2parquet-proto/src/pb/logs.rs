//! `opentelemetry.proto.logs.v1`: resource and scope log groups, log records, severities.

use super::common::{AnyValue, InstrumentationScope, KeyValue, Resource};

/// `ResourceLogs`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceLogs {
    /// `resource = 1`.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// `scope_logs = 2`.
    #[prost(message, repeated, tag = "2")]
    pub scope_logs: Vec<ScopeLogs>,
    /// `schema_url = 3`.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `ScopeLogs`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeLogs {
    /// `scope = 1`.
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    /// `log_records = 2`.
    #[prost(message, repeated, tag = "2")]
    pub log_records: Vec<LogRecord>,
    /// `schema_url = 3`.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `LogRecord`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LogRecord {
    /// `time_unix_nano = 1` (fixed64).
    #[prost(fixed64, tag = "1")]
    pub time_unix_nano: u64,
    /// `observed_time_unix_nano = 11` (fixed64).
    #[prost(fixed64, tag = "11")]
    pub observed_time_unix_nano: u64,
    /// `severity_number = 2` ([`SeverityNumber`]).
    #[prost(enumeration = "SeverityNumber", tag = "2")]
    pub severity_number: i32,
    /// `severity_text = 3`.
    #[prost(string, tag = "3")]
    pub severity_text: String,
    /// `body = 5`.
    #[prost(message, optional, tag = "5")]
    pub body: Option<AnyValue>,
    /// `attributes = 6`.
    #[prost(message, repeated, tag = "6")]
    pub attributes: Vec<KeyValue>,
    /// `dropped_attributes_count = 7`.
    #[prost(uint32, tag = "7")]
    pub dropped_attributes_count: u32,
    /// `flags = 8` (fixed32).
    #[prost(fixed32, tag = "8")]
    pub flags: u32,
    /// `trace_id = 9` (16 bytes or empty).
    #[prost(bytes = "vec", tag = "9")]
    pub trace_id: Vec<u8>,
    /// `span_id = 10` (8 bytes or empty).
    #[prost(bytes = "vec", tag = "10")]
    pub span_id: Vec<u8>,
    /// `event_name = 12`.
    #[prost(string, tag = "12")]
    pub event_name: String,
}

/// `SeverityNumber`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[allow(missing_docs, reason = "variant names are the OTLP enum names")]
pub enum SeverityNumber {
    Unspecified = 0,
    Trace = 1,
    Trace2 = 2,
    Trace3 = 3,
    Trace4 = 4,
    Debug = 5,
    Debug2 = 6,
    Debug3 = 7,
    Debug4 = 8,
    Info = 9,
    Info2 = 10,
    Info3 = 11,
    Info4 = 12,
    Warn = 13,
    Warn2 = 14,
    Warn3 = 15,
    Warn4 = 16,
    Error = 17,
    Error2 = 18,
    Error3 = 19,
    Error4 = 20,
    Fatal = 21,
    Fatal2 = 22,
    Fatal3 = 23,
    Fatal4 = 24,
}
