//! The decoded form of OTLP export requests, shared by the protobuf and the OTLP/JSON decoders.
//!
//! These types borrow from the request buffer: a string that needs no unescaping (every
//! protobuf string, and JSON strings without escapes) is a `Cow::Borrowed` slice of the body,
//! so decoding a request allocates one `Vec` per repeated field and nothing per attribute.
//!
//! Field names and meanings follow `opentelemetry/proto/**/v1/*.proto`. Scalars that OTLP leaves
//! unset are their zero value (`0`, `""`, empty list). Enumerations are kept as the raw `i32`
//! that arrived (protobuf enums are open); turning them into names is the writer's job.
//! Trace and span ids are fixed-size arrays, all zeros meaning "no id".

use std::borrow::Cow;

/// A string borrowed from the request body where possible.
pub type Str<'a> = Cow<'a, str>;

/// A 16-byte trace id; all zeros means absent.
pub type TraceId = [u8; 16];

/// An 8-byte span id; all zeros means absent.
pub type SpanId = [u8; 8];

/// `Span.SpanKind` names by enum number, as the exporter stores them (docs/schema.md#traces).
pub const SPAN_KIND_NAMES: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

/// `Status.StatusCode` names by enum number (docs/schema.md#traces).
pub const STATUS_CODE_NAMES: [&str; 3] =
    ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

/// `opentelemetry.proto.common.v1.AnyValue`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AnyValue<'a> {
    /// No value set (an empty `AnyValue` message or JSON object).
    #[default]
    Empty,
    /// `string_value`.
    String(Str<'a>),
    /// `bool_value`.
    Bool(bool),
    /// `int_value`.
    Int(i64),
    /// `double_value`.
    Double(f64),
    /// `bytes_value`.
    Bytes(Cow<'a, [u8]>),
    /// `array_value.values`.
    Array(Vec<AnyValue<'a>>),
    /// `kvlist_value.values`.
    KvList(Vec<KeyValue<'a>>),
}

/// `opentelemetry.proto.common.v1.KeyValue`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyValue<'a> {
    /// Attribute key.
    pub key: Str<'a>,
    /// Attribute value.
    pub value: AnyValue<'a>,
}

/// `opentelemetry.proto.resource.v1.Resource`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource<'a> {
    /// Resource attributes (`service.name` among them).
    pub attributes: Vec<KeyValue<'a>>,
    /// `dropped_attributes_count`.
    pub dropped_attributes_count: u32,
}

/// `opentelemetry.proto.common.v1.InstrumentationScope`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope<'a> {
    /// Scope name.
    pub name: Str<'a>,
    /// Scope version.
    pub version: Str<'a>,
    /// Scope attributes.
    pub attributes: Vec<KeyValue<'a>>,
    /// `dropped_attributes_count`.
    pub dropped_attributes_count: u32,
}

// ------------------------------------------------------------------------------------------
// Logs
// ------------------------------------------------------------------------------------------

/// `ExportLogsServiceRequest`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogsRequest<'a> {
    /// `resource_logs`.
    pub resource_logs: Vec<ResourceLogs<'a>>,
}

/// `ResourceLogs`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceLogs<'a> {
    /// The resource that produced the logs.
    pub resource: Resource<'a>,
    /// Logs grouped by instrumentation scope.
    pub scope_logs: Vec<ScopeLogs<'a>>,
    /// Resource schema URL.
    pub schema_url: Str<'a>,
}

/// `ScopeLogs`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScopeLogs<'a> {
    /// The instrumentation scope.
    pub scope: Scope<'a>,
    /// The log records.
    pub log_records: Vec<LogRecord<'a>>,
    /// Scope schema URL.
    pub schema_url: Str<'a>,
}

/// `LogRecord`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogRecord<'a> {
    /// `time_unix_nano`.
    pub time_unix_nano: u64,
    /// `observed_time_unix_nano`.
    pub observed_time_unix_nano: u64,
    /// `severity_number` (raw enum value).
    pub severity_number: i32,
    /// `severity_text`.
    pub severity_text: Str<'a>,
    /// `body`.
    pub body: AnyValue<'a>,
    /// `attributes`.
    pub attributes: Vec<KeyValue<'a>>,
    /// `dropped_attributes_count`.
    pub dropped_attributes_count: u32,
    /// `flags` (W3C trace flags in the low byte).
    pub flags: u32,
    /// `trace_id`.
    pub trace_id: TraceId,
    /// `span_id`.
    pub span_id: SpanId,
    /// `event_name`.
    pub event_name: Str<'a>,
}

// ------------------------------------------------------------------------------------------
// Traces
// ------------------------------------------------------------------------------------------

/// `ExportTraceServiceRequest`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TracesRequest<'a> {
    /// `resource_spans`.
    pub resource_spans: Vec<ResourceSpans<'a>>,
}

/// `ResourceSpans`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceSpans<'a> {
    /// The resource that produced the spans.
    pub resource: Resource<'a>,
    /// Spans grouped by instrumentation scope.
    pub scope_spans: Vec<ScopeSpans<'a>>,
    /// Resource schema URL.
    pub schema_url: Str<'a>,
}

/// `ScopeSpans`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScopeSpans<'a> {
    /// The instrumentation scope.
    pub scope: Scope<'a>,
    /// The spans.
    pub spans: Vec<Span<'a>>,
    /// Scope schema URL.
    pub schema_url: Str<'a>,
}

/// `Span`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Span<'a> {
    /// `trace_id`.
    pub trace_id: TraceId,
    /// `span_id`.
    pub span_id: SpanId,
    /// `trace_state`.
    pub trace_state: Str<'a>,
    /// `parent_span_id`.
    pub parent_span_id: SpanId,
    /// `flags`.
    pub flags: u32,
    /// `name`.
    pub name: Str<'a>,
    /// `kind` (raw `SpanKind` value).
    pub kind: i32,
    /// `start_time_unix_nano`.
    pub start_time_unix_nano: u64,
    /// `end_time_unix_nano`.
    pub end_time_unix_nano: u64,
    /// `attributes`.
    pub attributes: Vec<KeyValue<'a>>,
    /// `dropped_attributes_count`.
    pub dropped_attributes_count: u32,
    /// `events`.
    pub events: Vec<Event<'a>>,
    /// `dropped_events_count`.
    pub dropped_events_count: u32,
    /// `links`.
    pub links: Vec<Link<'a>>,
    /// `dropped_links_count`.
    pub dropped_links_count: u32,
    /// `status`.
    pub status: Status<'a>,
}

/// `Span.Event`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event<'a> {
    /// `time_unix_nano`.
    pub time_unix_nano: u64,
    /// `name`.
    pub name: Str<'a>,
    /// `attributes`.
    pub attributes: Vec<KeyValue<'a>>,
    /// `dropped_attributes_count`.
    pub dropped_attributes_count: u32,
}

/// `Span.Link`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Link<'a> {
    /// `trace_id`.
    pub trace_id: TraceId,
    /// `span_id`.
    pub span_id: SpanId,
    /// `trace_state`.
    pub trace_state: Str<'a>,
    /// `attributes`.
    pub attributes: Vec<KeyValue<'a>>,
    /// `dropped_attributes_count`.
    pub dropped_attributes_count: u32,
    /// `flags`.
    pub flags: u32,
}

/// `Status`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status<'a> {
    /// `message`.
    pub message: Str<'a>,
    /// `code` (raw `StatusCode` value).
    pub code: i32,
}

// ------------------------------------------------------------------------------------------
// Metrics
// ------------------------------------------------------------------------------------------

/// `ExportMetricsServiceRequest`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsRequest<'a> {
    /// `resource_metrics`.
    pub resource_metrics: Vec<ResourceMetrics<'a>>,
}

/// `ResourceMetrics`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceMetrics<'a> {
    /// The resource that produced the metrics.
    pub resource: Resource<'a>,
    /// Metrics grouped by instrumentation scope.
    pub scope_metrics: Vec<ScopeMetrics<'a>>,
    /// Resource schema URL.
    pub schema_url: Str<'a>,
}

/// `ScopeMetrics`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScopeMetrics<'a> {
    /// The instrumentation scope.
    pub scope: Scope<'a>,
    /// The metrics.
    pub metrics: Vec<Metric<'a>>,
    /// Scope schema URL.
    pub schema_url: Str<'a>,
}

/// `Metric`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metric<'a> {
    /// `name`.
    pub name: Str<'a>,
    /// `description`.
    pub description: Str<'a>,
    /// `unit`.
    pub unit: Str<'a>,
    /// The `data` oneof.
    pub data: MetricData<'a>,
    /// `metadata`.
    pub metadata: Vec<KeyValue<'a>>,
}

/// The `Metric.data` oneof.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum MetricData<'a> {
    /// No data field set: the metric has no data points.
    #[default]
    None,
    /// `gauge`.
    Gauge(Gauge<'a>),
    /// `sum`.
    Sum(Sum<'a>),
    /// `histogram`.
    Histogram(Histogram<'a>),
    /// `exponential_histogram`.
    ExponentialHistogram(ExponentialHistogram<'a>),
    /// `summary`.
    Summary(Summary<'a>),
}

/// `Gauge`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Gauge<'a> {
    /// `data_points`.
    pub data_points: Vec<NumberDataPoint<'a>>,
}

/// `Sum`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sum<'a> {
    /// `data_points`.
    pub data_points: Vec<NumberDataPoint<'a>>,
    /// `aggregation_temporality` (raw enum value).
    pub aggregation_temporality: i32,
    /// `is_monotonic`.
    pub is_monotonic: bool,
}

/// `Histogram`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram<'a> {
    /// `data_points`.
    pub data_points: Vec<HistogramDataPoint<'a>>,
    /// `aggregation_temporality` (raw enum value).
    pub aggregation_temporality: i32,
}

/// `ExponentialHistogram`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExponentialHistogram<'a> {
    /// `data_points`.
    pub data_points: Vec<ExponentialHistogramDataPoint<'a>>,
    /// `aggregation_temporality` (raw enum value).
    pub aggregation_temporality: i32,
}

/// `Summary`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary<'a> {
    /// `data_points`.
    pub data_points: Vec<SummaryDataPoint<'a>>,
}

/// The `value` oneof of number data points and exemplars.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum NumberValue {
    /// Neither `as_double` nor `as_int` set.
    #[default]
    None,
    /// `as_double`.
    Double(f64),
    /// `as_int`.
    Int(i64),
}

impl NumberValue {
    /// The value as a double, the way the metric tables store it (`Value` Float64, int points
    /// converted, absent = 0; docs/schema.md#gauge).
    pub fn as_f64(self) -> f64 {
        match self {
            NumberValue::None => 0.0,
            NumberValue::Double(d) => d,
            // Precision loss above 2^53 is the documented behaviour of the exporter's Float64 column.
            #[allow(clippy::cast_precision_loss)]
            NumberValue::Int(i) => i as f64,
        }
    }
}

/// `NumberDataPoint`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumberDataPoint<'a> {
    /// `attributes`.
    pub attributes: Vec<KeyValue<'a>>,
    /// `start_time_unix_nano`.
    pub start_time_unix_nano: u64,
    /// `time_unix_nano`.
    pub time_unix_nano: u64,
    /// The `value` oneof.
    pub value: NumberValue,
    /// `exemplars`.
    pub exemplars: Vec<Exemplar<'a>>,
    /// `flags`.
    pub flags: u32,
}

/// `Exemplar`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exemplar<'a> {
    /// `filtered_attributes`.
    pub filtered_attributes: Vec<KeyValue<'a>>,
    /// `time_unix_nano`.
    pub time_unix_nano: u64,
    /// The `value` oneof.
    pub value: NumberValue,
    /// `span_id`.
    pub span_id: SpanId,
    /// `trace_id`.
    pub trace_id: TraceId,
}

/// `HistogramDataPoint`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistogramDataPoint<'a> {
    /// `attributes`.
    pub attributes: Vec<KeyValue<'a>>,
    /// `start_time_unix_nano`.
    pub start_time_unix_nano: u64,
    /// `time_unix_nano`.
    pub time_unix_nano: u64,
    /// `count`.
    pub count: u64,
    /// `sum` (optional in OTLP).
    pub sum: Option<f64>,
    /// `bucket_counts`.
    pub bucket_counts: Vec<u64>,
    /// `explicit_bounds`.
    pub explicit_bounds: Vec<f64>,
    /// `exemplars`.
    pub exemplars: Vec<Exemplar<'a>>,
    /// `flags`.
    pub flags: u32,
    /// `min` (optional).
    pub min: Option<f64>,
    /// `max` (optional).
    pub max: Option<f64>,
}

/// `ExponentialHistogramDataPoint.Buckets`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Buckets {
    /// `offset`.
    pub offset: i32,
    /// `bucket_counts`.
    pub bucket_counts: Vec<u64>,
}

/// `ExponentialHistogramDataPoint`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExponentialHistogramDataPoint<'a> {
    /// `attributes`.
    pub attributes: Vec<KeyValue<'a>>,
    /// `start_time_unix_nano`.
    pub start_time_unix_nano: u64,
    /// `time_unix_nano`.
    pub time_unix_nano: u64,
    /// `count`.
    pub count: u64,
    /// `sum` (optional).
    pub sum: Option<f64>,
    /// `scale`.
    pub scale: i32,
    /// `zero_count`.
    pub zero_count: u64,
    /// `positive`.
    pub positive: Buckets,
    /// `negative`.
    pub negative: Buckets,
    /// `flags`.
    pub flags: u32,
    /// `exemplars`.
    pub exemplars: Vec<Exemplar<'a>>,
    /// `min` (optional).
    pub min: Option<f64>,
    /// `max` (optional).
    pub max: Option<f64>,
    /// `zero_threshold`.
    pub zero_threshold: f64,
}

/// `SummaryDataPoint.ValueAtQuantile`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ValueAtQuantile {
    /// `quantile`.
    pub quantile: f64,
    /// `value`.
    pub value: f64,
}

/// `SummaryDataPoint`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummaryDataPoint<'a> {
    /// `attributes`.
    pub attributes: Vec<KeyValue<'a>>,
    /// `start_time_unix_nano`.
    pub start_time_unix_nano: u64,
    /// `time_unix_nano`.
    pub time_unix_nano: u64,
    /// `count`.
    pub count: u64,
    /// `sum`.
    pub sum: f64,
    /// `quantile_values`.
    pub quantile_values: Vec<ValueAtQuantile>,
    /// `flags`.
    pub flags: u32,
}
