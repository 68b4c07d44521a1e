//! The `logs` table (docs/schema.md#logs): one row per `LogRecord`.
//!
//! | column | type | OTLP source |
//! |---|---|---|
//! | `Timestamp` | Timestamp(ns, UTC) | `time_unix_nano`, else `observed_time_unix_nano`, else the received-at time |
//! | `TimestampTime` | Timestamp(ms, UTC) | `Timestamp` truncated to whole seconds |
//! | `TraceId` | Utf8 | `trace_id`, lowercase hex, `""` when absent |
//! | `SpanId` | Utf8 | `span_id`, lowercase hex, `""` when absent |
//! | `TraceFlags` | UInt8 | `flags & 0xFF` |
//! | `SeverityText` | Utf8 | `severity_text` |
//! | `SeverityNumber` | UInt8 | `severity_number` (outside 0..=255 → 0) |
//! | `ServiceName` | Utf8 | resource attribute `service.name` |
//! | `Body` | Utf8 | `body`, stringified (a string body is stored raw) |
//! | `ResourceSchemaUrl` | Utf8 | `ResourceLogs.schema_url` |
//! | `ResourceAttributes` | Map | `Resource.attributes` |
//! | `ScopeSchemaUrl` | Utf8 | `ScopeLogs.schema_url` |
//! | `ScopeName` | Utf8 | `InstrumentationScope.name` |
//! | `ScopeVersion` | Utf8 | `InstrumentationScope.version` |
//! | `ScopeAttributes` | Map | `InstrumentationScope.attributes` |
//! | `LogAttributes` | Map | `attributes` |
//! | `EventName` | Utf8 | `event_name` |

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, SchemaRef};

use super::common::{
    RESOURCE_ATTRIBUTES, RESOURCE_SCHEMA_URL, SCOPE_ATTRIBUTES, SCOPE_NAME, SCOPE_SCHEMA_URL,
    SCOPE_VERSION, SERVICE_NAME, attribute_map, column, table_schema, timestamp_ms, timestamp_ns,
};
use crate::Table;

/// `Timestamp`.
pub const TIMESTAMP: &str = "Timestamp";
/// `TimestampTime`.
pub const TIMESTAMP_TIME: &str = "TimestampTime";
/// `TraceId`.
pub const TRACE_ID: &str = "TraceId";
/// `SpanId`.
pub const SPAN_ID: &str = "SpanId";
/// `TraceFlags`.
pub const TRACE_FLAGS: &str = "TraceFlags";
/// `SeverityText`.
pub const SEVERITY_TEXT: &str = "SeverityText";
/// `SeverityNumber`.
pub const SEVERITY_NUMBER: &str = "SeverityNumber";
/// `Body`.
pub const BODY: &str = "Body";
/// `LogAttributes`.
pub const LOG_ATTRIBUTES: &str = "LogAttributes";
/// `EventName`.
pub const EVENT_NAME: &str = "EventName";

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    table_schema(
        Table::Logs,
        vec![
            column(TIMESTAMP, timestamp_ns()),
            column(TIMESTAMP_TIME, timestamp_ms()),
            column(TRACE_ID, DataType::Utf8),
            column(SPAN_ID, DataType::Utf8),
            column(TRACE_FLAGS, DataType::UInt8),
            column(SEVERITY_TEXT, DataType::Utf8),
            column(SEVERITY_NUMBER, DataType::UInt8),
            column(SERVICE_NAME, DataType::Utf8),
            column(BODY, DataType::Utf8),
            column(RESOURCE_SCHEMA_URL, DataType::Utf8),
            column(RESOURCE_ATTRIBUTES, attribute_map()),
            column(SCOPE_SCHEMA_URL, DataType::Utf8),
            column(SCOPE_NAME, DataType::Utf8),
            column(SCOPE_VERSION, DataType::Utf8),
            column(SCOPE_ATTRIBUTES, attribute_map()),
            column(LOG_ATTRIBUTES, attribute_map()),
            column(EVENT_NAME, DataType::Utf8),
        ],
    )
});

/// The cached `logs` schema.
pub fn schema() -> SchemaRef {
    Arc::clone(&SCHEMA)
}
