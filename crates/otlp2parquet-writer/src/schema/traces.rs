//! The `traces` table (docs/schema.md#traces): one row per `Span`.
//!
//! | column | type | OTLP source |
//! |---|---|---|
//! | `Timestamp` | Timestamp(ns, UTC) | `start_time_unix_nano`, else the received-at time |
//! | `TraceId` | Utf8 | `trace_id`, lowercase hex |
//! | `SpanId` | Utf8 | `span_id`, lowercase hex |
//! | `ParentSpanId` | Utf8 | `parent_span_id`, lowercase hex |
//! | `TraceState` | Utf8 | `trace_state` |
//! | `SpanName` | Utf8 | `name` |
//! | `SpanKind` | Utf8 | `kind` as its name (`SPAN_KIND_SERVER`); unknown → `SPAN_KIND_UNSPECIFIED` |
//! | `ServiceName` | Utf8 | resource attribute `service.name` |
//! | `ResourceAttributes` | Map | `Resource.attributes` |
//! | `ScopeName` | Utf8 | `InstrumentationScope.name` |
//! | `ScopeVersion` | Utf8 | `InstrumentationScope.version` |
//! | `SpanAttributes` | Map | `attributes` |
//! | `Duration` | UInt64 | `end_time_unix_nano - start_time_unix_nano` in ns, 0 if negative |
//! | `StatusCode` | Utf8 | `status.code` as its name (`STATUS_CODE_ERROR`); unknown → `STATUS_CODE_UNSET` |
//! | `StatusMessage` | Utf8 | `status.message` |
//! | `Events.Timestamp` | `List<Timestamp(ns, UTC)>` | `events[].time_unix_nano` |
//! | `Events.Name` | `List<Utf8>` | `events[].name` |
//! | `Events.Attributes` | `List<Map>` | `events[].attributes` |
//! | `Links.TraceId` | `List<Utf8>` | `links[].trace_id`, lowercase hex |
//! | `Links.SpanId` | `List<Utf8>` | `links[].span_id`, lowercase hex |
//! | `Links.TraceState` | `List<Utf8>` | `links[].trace_state` |
//! | `Links.Attributes` | `List<Map>` | `links[].attributes` |

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, SchemaRef};

use super::common::{
    RESOURCE_ATTRIBUTES, SCOPE_NAME, SCOPE_VERSION, SERVICE_NAME, attribute_map, column, list_of,
    table_schema, timestamp_ns,
};
use crate::Table;

/// `Timestamp`.
pub const TIMESTAMP: &str = "Timestamp";
/// `TraceId`.
pub const TRACE_ID: &str = "TraceId";
/// `SpanId`.
pub const SPAN_ID: &str = "SpanId";
/// `ParentSpanId`.
pub const PARENT_SPAN_ID: &str = "ParentSpanId";
/// `TraceState`.
pub const TRACE_STATE: &str = "TraceState";
/// `SpanName`.
pub const SPAN_NAME: &str = "SpanName";
/// `SpanKind`.
pub const SPAN_KIND: &str = "SpanKind";
/// `SpanAttributes`.
pub const SPAN_ATTRIBUTES: &str = "SpanAttributes";
/// `Duration`.
pub const DURATION: &str = "Duration";
/// `StatusCode`.
pub const STATUS_CODE: &str = "StatusCode";
/// `StatusMessage`.
pub const STATUS_MESSAGE: &str = "StatusMessage";
/// `Events.Timestamp`.
pub const EVENTS_TIMESTAMP: &str = "Events.Timestamp";
/// `Events.Name`.
pub const EVENTS_NAME: &str = "Events.Name";
/// `Events.Attributes`.
pub const EVENTS_ATTRIBUTES: &str = "Events.Attributes";
/// `Links.TraceId`.
pub const LINKS_TRACE_ID: &str = "Links.TraceId";
/// `Links.SpanId`.
pub const LINKS_SPAN_ID: &str = "Links.SpanId";
/// `Links.TraceState`.
pub const LINKS_TRACE_STATE: &str = "Links.TraceState";
/// `Links.Attributes`.
pub const LINKS_ATTRIBUTES: &str = "Links.Attributes";

/// `SpanKind` / `StatusCode` names by enum number, defined once in the proto crate.
pub use otlp2parquet_proto::{SPAN_KIND_NAMES, STATUS_CODE_NAMES};

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    table_schema(
        Table::Traces,
        vec![
            column(TIMESTAMP, timestamp_ns()),
            column(TRACE_ID, DataType::Utf8),
            column(SPAN_ID, DataType::Utf8),
            column(PARENT_SPAN_ID, DataType::Utf8),
            column(TRACE_STATE, DataType::Utf8),
            column(SPAN_NAME, DataType::Utf8),
            column(SPAN_KIND, DataType::Utf8),
            column(SERVICE_NAME, DataType::Utf8),
            column(RESOURCE_ATTRIBUTES, attribute_map()),
            column(SCOPE_NAME, DataType::Utf8),
            column(SCOPE_VERSION, DataType::Utf8),
            column(SPAN_ATTRIBUTES, attribute_map()),
            column(DURATION, DataType::UInt64),
            column(STATUS_CODE, DataType::Utf8),
            column(STATUS_MESSAGE, DataType::Utf8),
            column(EVENTS_TIMESTAMP, list_of(timestamp_ns())),
            column(EVENTS_NAME, list_of(DataType::Utf8)),
            column(EVENTS_ATTRIBUTES, list_of(attribute_map())),
            column(LINKS_TRACE_ID, list_of(DataType::Utf8)),
            column(LINKS_SPAN_ID, list_of(DataType::Utf8)),
            column(LINKS_TRACE_STATE, list_of(DataType::Utf8)),
            column(LINKS_ATTRIBUTES, list_of(attribute_map())),
        ],
    )
});

/// The cached `traces` schema.
pub fn schema() -> SchemaRef {
    Arc::clone(&SCHEMA)
}
