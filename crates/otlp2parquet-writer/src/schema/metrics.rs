//! The five metric tables (docs/schema.md#metrics): one row per data point, one table per
//! metric kind.
//!
//! Every table starts with the same leading columns:
//!
//! | column | type | OTLP source |
//! |---|---|---|
//! | `ResourceAttributes` | Map | `Resource.attributes` |
//! | `ResourceSchemaUrl` | Utf8 | `ResourceMetrics.schema_url` |
//! | `ScopeName` | Utf8 | `InstrumentationScope.name` |
//! | `ScopeVersion` | Utf8 | `InstrumentationScope.version` |
//! | `ScopeAttributes` | Map | `InstrumentationScope.attributes` |
//! | `ScopeDroppedAttrCount` | UInt32 | `InstrumentationScope.dropped_attributes_count` |
//! | `ScopeSchemaUrl` | Utf8 | `ScopeMetrics.schema_url` |
//! | `ServiceName` | Utf8 | resource attribute `service.name` |
//! | `MetricName` | Utf8 | `Metric.name` |
//! | `MetricDescription` | Utf8 | `Metric.description` |
//! | `MetricUnit` | Utf8 | `Metric.unit` |
//! | `Attributes` | Map | data point `attributes` |
//! | `StartTimeUnix` | Timestamp(ns, UTC) | `start_time_unix_nano` |
//! | `TimeUnix` | Timestamp(ns, UTC) | `time_unix_nano`, else the received-at time |
//!
//! Exemplar columns (gauge, sum, histogram, exponential histogram), parallel lists:
//!
//! | column | type | OTLP source |
//! |---|---|---|
//! | `Exemplars.FilteredAttributes` | `List<Map>` | `exemplars[].filtered_attributes` |
//! | `Exemplars.TimeUnix` | `List<Timestamp(ns, UTC)>` | `exemplars[].time_unix_nano` |
//! | `Exemplars.Value` | `List<Float64>` | `exemplars[].as_double` / `as_int` |
//! | `Exemplars.SpanId` | `List<Utf8>` | `exemplars[].span_id`, lowercase hex |
//! | `Exemplars.TraceId` | `List<Utf8>` | `exemplars[].trace_id`, lowercase hex |
//!
//! Then, per table:
//!
//! | table | columns after the leading ones |
//! |---|---|
//! | `gauge` | `Value` Float64 (`as_double`, or `as_int` converted), `Flags` UInt32, exemplars |
//! | `sum` | `Value`, `Flags`, exemplars, `AggregationTemporality` Int32, `IsMonotonic` Boolean |
//! | `histogram` | `Count` UInt64, `Sum` Float64, `BucketCounts` `List<UInt64>`, `ExplicitBounds` `List<Float64>`, exemplars, `Flags`, `Min` Float64, `Max` Float64, `AggregationTemporality` |
//! | `exponential_histogram` | `Count`, `Sum`, `Scale` Int32, `ZeroCount` UInt64, `PositiveOffset` Int32, `PositiveBucketCounts` `List<UInt64>`, `NegativeOffset` Int32, `NegativeBucketCounts` `List<UInt64>`, exemplars, `Flags`, `Min`, `Max`, `AggregationTemporality` |
//! | `summary` | `Count`, `Sum`, `ValueAtQuantiles.Quantile` `List<Float64>`, `ValueAtQuantiles.Value` `List<Float64>`, `Flags` |
//!
//! An absent optional `sum`/`min`/`max` is stored as `0`.

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, SchemaRef};
use otlp2parquet_common::MetricKind;

use super::common::{
    RESOURCE_ATTRIBUTES, RESOURCE_SCHEMA_URL, SCOPE_ATTRIBUTES, SCOPE_DROPPED_ATTR_COUNT,
    SCOPE_NAME, SCOPE_SCHEMA_URL, SCOPE_VERSION, SERVICE_NAME, attribute_map, column, list_of,
    table_schema, timestamp_ns,
};
use crate::Table;

/// `MetricName`.
pub const METRIC_NAME: &str = "MetricName";
/// `MetricDescription`.
pub const METRIC_DESCRIPTION: &str = "MetricDescription";
/// `MetricUnit`.
pub const METRIC_UNIT: &str = "MetricUnit";
/// `Attributes` (data point attributes).
pub const ATTRIBUTES: &str = "Attributes";
/// `StartTimeUnix`.
pub const START_TIME_UNIX: &str = "StartTimeUnix";
/// `TimeUnix`.
pub const TIME_UNIX: &str = "TimeUnix";

/// `Exemplars.FilteredAttributes`.
pub const EXEMPLARS_FILTERED_ATTRIBUTES: &str = "Exemplars.FilteredAttributes";
/// `Exemplars.TimeUnix`.
pub const EXEMPLARS_TIME_UNIX: &str = "Exemplars.TimeUnix";
/// `Exemplars.Value`.
pub const EXEMPLARS_VALUE: &str = "Exemplars.Value";
/// `Exemplars.SpanId`.
pub const EXEMPLARS_SPAN_ID: &str = "Exemplars.SpanId";
/// `Exemplars.TraceId`.
pub const EXEMPLARS_TRACE_ID: &str = "Exemplars.TraceId";

/// `Value`.
pub const VALUE: &str = "Value";
/// `Flags`.
pub const FLAGS: &str = "Flags";
/// `AggregationTemporality`.
pub const AGGREGATION_TEMPORALITY: &str = "AggregationTemporality";
/// `IsMonotonic`.
pub const IS_MONOTONIC: &str = "IsMonotonic";
/// `Count`.
pub const COUNT: &str = "Count";
/// `Sum`.
pub const SUM: &str = "Sum";
/// `BucketCounts`.
pub const BUCKET_COUNTS: &str = "BucketCounts";
/// `ExplicitBounds`.
pub const EXPLICIT_BOUNDS: &str = "ExplicitBounds";
/// `Min`.
pub const MIN: &str = "Min";
/// `Max`.
pub const MAX: &str = "Max";
/// `Scale`.
pub const SCALE: &str = "Scale";
/// `ZeroCount`.
pub const ZERO_COUNT: &str = "ZeroCount";
/// `PositiveOffset`.
pub const POSITIVE_OFFSET: &str = "PositiveOffset";
/// `PositiveBucketCounts`.
pub const POSITIVE_BUCKET_COUNTS: &str = "PositiveBucketCounts";
/// `NegativeOffset`.
pub const NEGATIVE_OFFSET: &str = "NegativeOffset";
/// `NegativeBucketCounts`.
pub const NEGATIVE_BUCKET_COUNTS: &str = "NegativeBucketCounts";
/// `ValueAtQuantiles.Quantile`.
pub const VALUE_AT_QUANTILES_QUANTILE: &str = "ValueAtQuantiles.Quantile";
/// `ValueAtQuantiles.Value`.
pub const VALUE_AT_QUANTILES_VALUE: &str = "ValueAtQuantiles.Value";

/// The leading columns every metric table shares.
fn leading() -> Vec<Field> {
    vec![
        column(RESOURCE_ATTRIBUTES, attribute_map()),
        column(RESOURCE_SCHEMA_URL, DataType::Utf8),
        column(SCOPE_NAME, DataType::Utf8),
        column(SCOPE_VERSION, DataType::Utf8),
        column(SCOPE_ATTRIBUTES, attribute_map()),
        column(SCOPE_DROPPED_ATTR_COUNT, DataType::UInt32),
        column(SCOPE_SCHEMA_URL, DataType::Utf8),
        column(SERVICE_NAME, DataType::Utf8),
        column(METRIC_NAME, DataType::Utf8),
        column(METRIC_DESCRIPTION, DataType::Utf8),
        column(METRIC_UNIT, DataType::Utf8),
        column(ATTRIBUTES, attribute_map()),
        column(START_TIME_UNIX, timestamp_ns()),
        column(TIME_UNIX, timestamp_ns()),
    ]
}

/// The five exemplar columns.
fn exemplars() -> [Field; 5] {
    [
        column(EXEMPLARS_FILTERED_ATTRIBUTES, list_of(attribute_map())),
        column(EXEMPLARS_TIME_UNIX, list_of(timestamp_ns())),
        column(EXEMPLARS_VALUE, list_of(DataType::Float64)),
        column(EXEMPLARS_SPAN_ID, list_of(DataType::Utf8)),
        column(EXEMPLARS_TRACE_ID, list_of(DataType::Utf8)),
    ]
}

/// The histogram tables' trailing `Flags`, `Min`, `Max`, `AggregationTemporality`.
fn histogram_tail() -> [Field; 4] {
    [
        column(FLAGS, DataType::UInt32),
        column(MIN, DataType::Float64),
        column(MAX, DataType::Float64),
        column(AGGREGATION_TEMPORALITY, DataType::Int32),
    ]
}

fn fields(kind: MetricKind) -> Vec<Field> {
    let mut f = leading();
    match kind {
        MetricKind::Gauge => {
            f.extend([
                column(VALUE, DataType::Float64),
                column(FLAGS, DataType::UInt32),
            ]);
            f.extend(exemplars());
        }
        MetricKind::Sum => {
            f.extend([
                column(VALUE, DataType::Float64),
                column(FLAGS, DataType::UInt32),
            ]);
            f.extend(exemplars());
            f.extend([
                column(AGGREGATION_TEMPORALITY, DataType::Int32),
                column(IS_MONOTONIC, DataType::Boolean),
            ]);
        }
        MetricKind::Histogram => {
            f.extend([
                column(COUNT, DataType::UInt64),
                column(SUM, DataType::Float64),
                column(BUCKET_COUNTS, list_of(DataType::UInt64)),
                column(EXPLICIT_BOUNDS, list_of(DataType::Float64)),
            ]);
            f.extend(exemplars());
            f.extend(histogram_tail());
        }
        MetricKind::ExponentialHistogram => {
            f.extend([
                column(COUNT, DataType::UInt64),
                column(SUM, DataType::Float64),
                column(SCALE, DataType::Int32),
                column(ZERO_COUNT, DataType::UInt64),
                column(POSITIVE_OFFSET, DataType::Int32),
                column(POSITIVE_BUCKET_COUNTS, list_of(DataType::UInt64)),
                column(NEGATIVE_OFFSET, DataType::Int32),
                column(NEGATIVE_BUCKET_COUNTS, list_of(DataType::UInt64)),
            ]);
            f.extend(exemplars());
            f.extend(histogram_tail());
        }
        MetricKind::Summary => f.extend([
            column(COUNT, DataType::UInt64),
            column(SUM, DataType::Float64),
            column(VALUE_AT_QUANTILES_QUANTILE, list_of(DataType::Float64)),
            column(VALUE_AT_QUANTILES_VALUE, list_of(DataType::Float64)),
            column(FLAGS, DataType::UInt32),
        ]),
    }
    f
}

static SCHEMAS: LazyLock<[SchemaRef; 5]> =
    LazyLock::new(|| MetricKind::ALL.map(|kind| table_schema(Table::Metrics(kind), fields(kind))));

/// The cached schema of the metric table for `kind`.
pub fn schema(kind: MetricKind) -> SchemaRef {
    let [gauge, sum, histogram, exponential, summary] = &*SCHEMAS;
    Arc::clone(match kind {
        MetricKind::Gauge => gauge,
        MetricKind::Sum => sum,
        MetricKind::Histogram => histogram,
        MetricKind::ExponentialHistogram => exponential,
        MetricKind::Summary => summary,
    })
}
