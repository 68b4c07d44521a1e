//! `opentelemetry.proto.metrics.v1`: metrics, their five data kinds and data points.

use super::common::{InstrumentationScope, KeyValue, Resource};

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
