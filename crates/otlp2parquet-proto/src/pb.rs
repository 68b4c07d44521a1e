//! Owned prost types of the OTLP v1 messages (and `google.rpc.Status`), written by hand.
//!
//! They mirror `opentelemetry/proto/{common,resource,logs,trace,metrics,collector}/v1/*.proto`
//! field for field (same tags, same wire types), so encoding one of them produces exactly the
//! bytes an OpenTelemetry SDK would send. The receive path never uses them to decode — that is
//! [`crate::ExportRequest::decode_protobuf`], which borrows instead of allocating — they exist to
//! encode responses and error bodies, and to build requests in tests and benchmarks.
//!
//! Writing the derives by hand keeps the build free of `protoc` and build scripts. Nested
//! messages, oneofs and enums live in snake_case modules named after their parent message, the
//! layout `prost-build` would generate (`span::Event`, `metric::Data`, `any_value::Value`).

// ------------------------------------------------------------------------------------------
// opentelemetry.proto.common.v1 / resource.v1
// ------------------------------------------------------------------------------------------

/// `AnyValue`: a value of one of several types, or none.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AnyValue {
    /// The `value` oneof; `None` is an empty value.
    #[prost(oneof = "any_value::Value", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub value: Option<any_value::Value>,
}

/// Nested types of [`AnyValue`].
pub mod any_value {
    /// The `AnyValue.value` oneof.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        /// `string_value = 1`.
        #[prost(string, tag = "1")]
        StringValue(String),
        /// `bool_value = 2`.
        #[prost(bool, tag = "2")]
        BoolValue(bool),
        /// `int_value = 3`.
        #[prost(int64, tag = "3")]
        IntValue(i64),
        /// `double_value = 4`.
        #[prost(double, tag = "4")]
        DoubleValue(f64),
        /// `array_value = 5`.
        #[prost(message, tag = "5")]
        ArrayValue(super::ArrayValue),
        /// `kvlist_value = 6`.
        #[prost(message, tag = "6")]
        KvlistValue(super::KeyValueList),
        /// `bytes_value = 7`.
        #[prost(bytes = "vec", tag = "7")]
        BytesValue(Vec<u8>),
    }
}

/// `ArrayValue`: a list of values.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ArrayValue {
    /// `values = 1`.
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<AnyValue>,
}

/// `KeyValueList`: a list of key/value pairs (a map that keeps order and duplicates).
#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyValueList {
    /// `values = 1`.
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<KeyValue>,
}

/// `KeyValue`: one attribute.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyValue {
    /// `key = 1`.
    #[prost(string, tag = "1")]
    pub key: String,
    /// `value = 2`.
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

/// `InstrumentationScope`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InstrumentationScope {
    /// `name = 1`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// `version = 2`.
    #[prost(string, tag = "2")]
    pub version: String,
    /// `attributes = 3`.
    #[prost(message, repeated, tag = "3")]
    pub attributes: Vec<KeyValue>,
    /// `dropped_attributes_count = 4`.
    #[prost(uint32, tag = "4")]
    pub dropped_attributes_count: u32,
}

/// `opentelemetry.proto.resource.v1.Resource`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Resource {
    /// `attributes = 1`.
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
    /// `dropped_attributes_count = 2`.
    #[prost(uint32, tag = "2")]
    pub dropped_attributes_count: u32,
}

// ------------------------------------------------------------------------------------------
// opentelemetry.proto.logs.v1
// ------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------
// opentelemetry.proto.trace.v1
// ------------------------------------------------------------------------------------------

/// `ResourceSpans`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceSpans {
    /// `resource = 1`.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// `scope_spans = 2`.
    #[prost(message, repeated, tag = "2")]
    pub scope_spans: Vec<ScopeSpans>,
    /// `schema_url = 3`.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `ScopeSpans`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeSpans {
    /// `scope = 1`.
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    /// `spans = 2`.
    #[prost(message, repeated, tag = "2")]
    pub spans: Vec<Span>,
    /// `schema_url = 3`.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `Span`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Span {
    /// `trace_id = 1` (16 bytes).
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    /// `span_id = 2` (8 bytes).
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    /// `trace_state = 3`.
    #[prost(string, tag = "3")]
    pub trace_state: String,
    /// `parent_span_id = 4` (8 bytes or empty).
    #[prost(bytes = "vec", tag = "4")]
    pub parent_span_id: Vec<u8>,
    /// `flags = 16` (fixed32).
    #[prost(fixed32, tag = "16")]
    pub flags: u32,
    /// `name = 5`.
    #[prost(string, tag = "5")]
    pub name: String,
    /// `kind = 6` ([`span::SpanKind`]).
    #[prost(enumeration = "span::SpanKind", tag = "6")]
    pub kind: i32,
    /// `start_time_unix_nano = 7` (fixed64).
    #[prost(fixed64, tag = "7")]
    pub start_time_unix_nano: u64,
    /// `end_time_unix_nano = 8` (fixed64).
    #[prost(fixed64, tag = "8")]
    pub end_time_unix_nano: u64,
    /// `attributes = 9`.
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    /// `dropped_attributes_count = 10`.
    #[prost(uint32, tag = "10")]
    pub dropped_attributes_count: u32,
    /// `events = 11`.
    #[prost(message, repeated, tag = "11")]
    pub events: Vec<span::Event>,
    /// `dropped_events_count = 12`.
    #[prost(uint32, tag = "12")]
    pub dropped_events_count: u32,
    /// `links = 13`.
    #[prost(message, repeated, tag = "13")]
    pub links: Vec<span::Link>,
    /// `dropped_links_count = 14`.
    #[prost(uint32, tag = "14")]
    pub dropped_links_count: u32,
    /// `status = 15`.
    #[prost(message, optional, tag = "15")]
    pub status: Option<Status>,
}

/// Nested types of [`Span`].
pub mod span {
    /// `Span.Event`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Event {
        /// `time_unix_nano = 1` (fixed64).
        #[prost(fixed64, tag = "1")]
        pub time_unix_nano: u64,
        /// `name = 2`.
        #[prost(string, tag = "2")]
        pub name: String,
        /// `attributes = 3`.
        #[prost(message, repeated, tag = "3")]
        pub attributes: Vec<super::KeyValue>,
        /// `dropped_attributes_count = 4`.
        #[prost(uint32, tag = "4")]
        pub dropped_attributes_count: u32,
    }

    /// `Span.Link`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Link {
        /// `trace_id = 1`.
        #[prost(bytes = "vec", tag = "1")]
        pub trace_id: Vec<u8>,
        /// `span_id = 2`.
        #[prost(bytes = "vec", tag = "2")]
        pub span_id: Vec<u8>,
        /// `trace_state = 3`.
        #[prost(string, tag = "3")]
        pub trace_state: String,
        /// `attributes = 4`.
        #[prost(message, repeated, tag = "4")]
        pub attributes: Vec<super::KeyValue>,
        /// `dropped_attributes_count = 5`.
        #[prost(uint32, tag = "5")]
        pub dropped_attributes_count: u32,
        /// `flags = 6` (fixed32).
        #[prost(fixed32, tag = "6")]
        pub flags: u32,
    }

    /// `Span.SpanKind`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    #[allow(missing_docs, reason = "variant names are the OTLP enum names")]
    pub enum SpanKind {
        Unspecified = 0,
        Internal = 1,
        Server = 2,
        Client = 3,
        Producer = 4,
        Consumer = 5,
    }
}

/// `Status` of a span (not `google.rpc.Status`, which is [`rpc::Status`]).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    /// `message = 2`.
    #[prost(string, tag = "2")]
    pub message: String,
    /// `code = 3` ([`status::StatusCode`]).
    #[prost(enumeration = "status::StatusCode", tag = "3")]
    pub code: i32,
}

/// Nested types of [`Status`].
pub mod status {
    /// `Status.StatusCode`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    #[allow(missing_docs, reason = "variant names are the OTLP enum names")]
    pub enum StatusCode {
        Unset = 0,
        Ok = 1,
        Error = 2,
    }
}

// ------------------------------------------------------------------------------------------
// opentelemetry.proto.metrics.v1
// ------------------------------------------------------------------------------------------

/// `ResourceMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceMetrics {
    /// `resource = 1`.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// `scope_metrics = 2`.
    #[prost(message, repeated, tag = "2")]
    pub scope_metrics: Vec<ScopeMetrics>,
    /// `schema_url = 3`.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `ScopeMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeMetrics {
    /// `scope = 1`.
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    /// `metrics = 2`.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    /// `schema_url = 3`.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `Metric`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    /// `name = 1`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// `description = 2`.
    #[prost(string, tag = "2")]
    pub description: String,
    /// `unit = 3`.
    #[prost(string, tag = "3")]
    pub unit: String,
    /// `metadata = 12`.
    #[prost(message, repeated, tag = "12")]
    pub metadata: Vec<KeyValue>,
    /// The `data` oneof.
    #[prost(oneof = "metric::Data", tags = "5, 7, 9, 10, 11")]
    pub data: Option<metric::Data>,
}

/// Nested types of [`Metric`].
pub mod metric {
    /// The `Metric.data` oneof.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Data {
        /// `gauge = 5`.
        #[prost(message, tag = "5")]
        Gauge(super::Gauge),
        /// `sum = 7`.
        #[prost(message, tag = "7")]
        Sum(super::Sum),
        /// `histogram = 9`.
        #[prost(message, tag = "9")]
        Histogram(super::Histogram),
        /// `exponential_histogram = 10`.
        #[prost(message, tag = "10")]
        ExponentialHistogram(super::ExponentialHistogram),
        /// `summary = 11`.
        #[prost(message, tag = "11")]
        Summary(super::Summary),
    }
}

/// `Gauge`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Gauge {
    /// `data_points = 1`.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
}

/// `Sum`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sum {
    /// `data_points = 1`.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
    /// `aggregation_temporality = 2` ([`AggregationTemporality`]).
    #[prost(enumeration = "AggregationTemporality", tag = "2")]
    pub aggregation_temporality: i32,
    /// `is_monotonic = 3`.
    #[prost(bool, tag = "3")]
    pub is_monotonic: bool,
}

/// `Histogram`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// `data_points = 1`.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<HistogramDataPoint>,
    /// `aggregation_temporality = 2` ([`AggregationTemporality`]).
    #[prost(enumeration = "AggregationTemporality", tag = "2")]
    pub aggregation_temporality: i32,
}

/// `ExponentialHistogram`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExponentialHistogram {
    /// `data_points = 1`.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<ExponentialHistogramDataPoint>,
    /// `aggregation_temporality = 2` ([`AggregationTemporality`]).
    #[prost(enumeration = "AggregationTemporality", tag = "2")]
    pub aggregation_temporality: i32,
}

/// `Summary`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// `data_points = 1`.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<SummaryDataPoint>,
}

/// `AggregationTemporality`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[allow(missing_docs, reason = "variant names are the OTLP enum names")]
pub enum AggregationTemporality {
    Unspecified = 0,
    Delta = 1,
    Cumulative = 2,
}

/// `NumberDataPoint`: a gauge or sum point.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NumberDataPoint {
    /// `attributes = 7`.
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    /// `start_time_unix_nano = 2` (fixed64).
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    /// `time_unix_nano = 3` (fixed64).
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// `exemplars = 5`.
    #[prost(message, repeated, tag = "5")]
    pub exemplars: Vec<Exemplar>,
    /// `flags = 8`.
    #[prost(uint32, tag = "8")]
    pub flags: u32,
    /// The `value` oneof.
    #[prost(oneof = "number_data_point::Value", tags = "4, 6")]
    pub value: Option<number_data_point::Value>,
}

/// Nested types of [`NumberDataPoint`].
pub mod number_data_point {
    /// The `NumberDataPoint.value` oneof.
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum Value {
        /// `as_double = 4`.
        #[prost(double, tag = "4")]
        AsDouble(f64),
        /// `as_int = 6` (sfixed64).
        #[prost(sfixed64, tag = "6")]
        AsInt(i64),
    }
}

/// `HistogramDataPoint`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HistogramDataPoint {
    /// `attributes = 9`.
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    /// `start_time_unix_nano = 2` (fixed64).
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    /// `time_unix_nano = 3` (fixed64).
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// `count = 4` (fixed64).
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    /// `sum = 5` (optional double).
    #[prost(double, optional, tag = "5")]
    pub sum: Option<f64>,
    /// `bucket_counts = 6` (packed fixed64).
    #[prost(fixed64, repeated, tag = "6")]
    pub bucket_counts: Vec<u64>,
    /// `explicit_bounds = 7` (packed double).
    #[prost(double, repeated, tag = "7")]
    pub explicit_bounds: Vec<f64>,
    /// `exemplars = 8`.
    #[prost(message, repeated, tag = "8")]
    pub exemplars: Vec<Exemplar>,
    /// `flags = 10`.
    #[prost(uint32, tag = "10")]
    pub flags: u32,
    /// `min = 11` (optional double).
    #[prost(double, optional, tag = "11")]
    pub min: Option<f64>,
    /// `max = 12` (optional double).
    #[prost(double, optional, tag = "12")]
    pub max: Option<f64>,
}

/// `ExponentialHistogramDataPoint`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExponentialHistogramDataPoint {
    /// `attributes = 1`.
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
    /// `start_time_unix_nano = 2` (fixed64).
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    /// `time_unix_nano = 3` (fixed64).
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// `count = 4` (fixed64).
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    /// `sum = 5` (optional double).
    #[prost(double, optional, tag = "5")]
    pub sum: Option<f64>,
    /// `scale = 6` (sint32).
    #[prost(sint32, tag = "6")]
    pub scale: i32,
    /// `zero_count = 7` (fixed64).
    #[prost(fixed64, tag = "7")]
    pub zero_count: u64,
    /// `positive = 8`.
    #[prost(message, optional, tag = "8")]
    pub positive: Option<exponential_histogram_data_point::Buckets>,
    /// `negative = 9`.
    #[prost(message, optional, tag = "9")]
    pub negative: Option<exponential_histogram_data_point::Buckets>,
    /// `flags = 10`.
    #[prost(uint32, tag = "10")]
    pub flags: u32,
    /// `exemplars = 11`.
    #[prost(message, repeated, tag = "11")]
    pub exemplars: Vec<Exemplar>,
    /// `min = 12` (optional double).
    #[prost(double, optional, tag = "12")]
    pub min: Option<f64>,
    /// `max = 13` (optional double).
    #[prost(double, optional, tag = "13")]
    pub max: Option<f64>,
    /// `zero_threshold = 14`.
    #[prost(double, tag = "14")]
    pub zero_threshold: f64,
}

/// Nested types of [`ExponentialHistogramDataPoint`].
pub mod exponential_histogram_data_point {
    /// `ExponentialHistogramDataPoint.Buckets`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Buckets {
        /// `offset = 1` (sint32).
        #[prost(sint32, tag = "1")]
        pub offset: i32,
        /// `bucket_counts = 2` (packed uint64).
        #[prost(uint64, repeated, tag = "2")]
        pub bucket_counts: Vec<u64>,
    }
}

/// `SummaryDataPoint`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryDataPoint {
    /// `attributes = 7`.
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    /// `start_time_unix_nano = 2` (fixed64).
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    /// `time_unix_nano = 3` (fixed64).
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// `count = 4` (fixed64).
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    /// `sum = 5`.
    #[prost(double, tag = "5")]
    pub sum: f64,
    /// `quantile_values = 6`.
    #[prost(message, repeated, tag = "6")]
    pub quantile_values: Vec<summary_data_point::ValueAtQuantile>,
    /// `flags = 8`.
    #[prost(uint32, tag = "8")]
    pub flags: u32,
}

/// Nested types of [`SummaryDataPoint`].
pub mod summary_data_point {
    /// `SummaryDataPoint.ValueAtQuantile`.
    #[derive(Clone, Copy, PartialEq, prost::Message)]
    pub struct ValueAtQuantile {
        /// `quantile = 1`.
        #[prost(double, tag = "1")]
        pub quantile: f64,
        /// `value = 2`.
        #[prost(double, tag = "2")]
        pub value: f64,
    }
}

/// `Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// `filtered_attributes = 7`.
    #[prost(message, repeated, tag = "7")]
    pub filtered_attributes: Vec<KeyValue>,
    /// `time_unix_nano = 2` (fixed64).
    #[prost(fixed64, tag = "2")]
    pub time_unix_nano: u64,
    /// `span_id = 4`.
    #[prost(bytes = "vec", tag = "4")]
    pub span_id: Vec<u8>,
    /// `trace_id = 5`.
    #[prost(bytes = "vec", tag = "5")]
    pub trace_id: Vec<u8>,
    /// The `value` oneof.
    #[prost(oneof = "exemplar::Value", tags = "3, 6")]
    pub value: Option<exemplar::Value>,
}

/// Nested types of [`Exemplar`].
pub mod exemplar {
    /// The `Exemplar.value` oneof.
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum Value {
        /// `as_double = 3`.
        #[prost(double, tag = "3")]
        AsDouble(f64),
        /// `as_int = 6` (sfixed64).
        #[prost(sfixed64, tag = "6")]
        AsInt(i64),
    }
}

// ------------------------------------------------------------------------------------------
// opentelemetry.proto.collector.{logs,trace,metrics}.v1
// ------------------------------------------------------------------------------------------

/// `ExportLogsServiceRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportLogsServiceRequest {
    /// `resource_logs = 1`.
    #[prost(message, repeated, tag = "1")]
    pub resource_logs: Vec<ResourceLogs>,
}

/// `ExportLogsServiceResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportLogsServiceResponse {
    /// `partial_success = 1`; absent means everything was accepted.
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportLogsPartialSuccess>,
}

/// `ExportLogsPartialSuccess`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportLogsPartialSuccess {
    /// `rejected_log_records = 1`.
    #[prost(int64, tag = "1")]
    pub rejected_log_records: i64,
    /// `error_message = 2`.
    #[prost(string, tag = "2")]
    pub error_message: String,
}

/// `ExportTraceServiceRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportTraceServiceRequest {
    /// `resource_spans = 1`.
    #[prost(message, repeated, tag = "1")]
    pub resource_spans: Vec<ResourceSpans>,
}

/// `ExportTraceServiceResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportTraceServiceResponse {
    /// `partial_success = 1`; absent means everything was accepted.
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportTracePartialSuccess>,
}

/// `ExportTracePartialSuccess`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportTracePartialSuccess {
    /// `rejected_spans = 1`.
    #[prost(int64, tag = "1")]
    pub rejected_spans: i64,
    /// `error_message = 2`.
    #[prost(string, tag = "2")]
    pub error_message: String,
}

/// `ExportMetricsServiceRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsServiceRequest {
    /// `resource_metrics = 1`.
    #[prost(message, repeated, tag = "1")]
    pub resource_metrics: Vec<ResourceMetrics>,
}

/// `ExportMetricsServiceResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsServiceResponse {
    /// `partial_success = 1`; absent means everything was accepted.
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportMetricsPartialSuccess>,
}

/// `ExportMetricsPartialSuccess`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsPartialSuccess {
    /// `rejected_data_points = 1`.
    #[prost(int64, tag = "1")]
    pub rejected_data_points: i64,
    /// `error_message = 2`.
    #[prost(string, tag = "2")]
    pub error_message: String,
}

// ------------------------------------------------------------------------------------------
// google.rpc
// ------------------------------------------------------------------------------------------

/// `google.rpc.Status` and the minimal `google.protobuf.Any` it needs: the body of OTLP/HTTP
/// error responses.
pub mod rpc {
    /// `google.rpc.Status`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Status {
        /// `code = 1` (a `google.rpc.Code`).
        #[prost(int32, tag = "1")]
        pub code: i32,
        /// `message = 2`: a developer-facing description of the error.
        #[prost(string, tag = "2")]
        pub message: String,
        /// `details = 3`.
        #[prost(message, repeated, tag = "3")]
        pub details: Vec<Any>,
    }

    /// `google.protobuf.Any`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Any {
        /// `type_url = 1`.
        #[prost(string, tag = "1")]
        pub type_url: String,
        /// `value = 2`: the encoded message.
        #[prost(bytes = "vec", tag = "2")]
        pub value: Vec<u8>,
    }

    /// `google.rpc.RetryInfo`: how long a client should wait before retrying (OTLP/gRPC makes
    /// `UNAVAILABLE` and `RESOURCE_EXHAUSTED` retryable with it).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RetryInfo {
        /// `retry_delay = 1`.
        #[prost(message, optional, tag = "1")]
        pub retry_delay: Option<Duration>,
    }

    /// `google.protobuf.Duration`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Duration {
        /// `seconds = 1`.
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        /// `nanos = 2`.
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }
}
