//! `ExportMetricsServiceRequest`.

use serde::de::MapAccess;

use super::object::{
    Field, Keys, Message, fields, invalid, list, message, optional, scalar, scalars,
};
use super::path::Path;
use super::scalar::{Enum, F64, Flag, I32, I64, Id, Opt, Temporality, Text, U32, U64};
use crate::model::{
    Buckets, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, MetricData, MetricsRequest, NumberDataPoint, NumberValue,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, ValueAtQuantile,
};

fields! {
    enum RequestField {
        ResourceMetrics = "resourceMetrics" | "resource_metrics",
    }
}

impl<'de> Message<'de> for MetricsRequest<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = MetricsRequest::default();
        let mut keys = Keys::<RequestField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                RequestField::ResourceMetrics => out.resource_metrics = list(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum ResourceMetricsField {
        Resource = "resource",
        ScopeMetrics = "scopeMetrics" | "scope_metrics",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl<'de> Message<'de> for ResourceMetrics<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use ResourceMetricsField as F;
        let mut out = ResourceMetrics::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                F::Resource => out.resource = message(&mut map, &path)?,
                F::ScopeMetrics => out.scope_metrics = list(&mut map, &path)?,
                F::SchemaUrl => out.schema_url = scalar::<Text, _>(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum ScopeMetricsField {
        Scope = "scope",
        Metrics = "metrics",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl<'de> Message<'de> for ScopeMetrics<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use ScopeMetricsField as F;
        let mut out = ScopeMetrics::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                F::Scope => out.scope = message(&mut map, &path)?,
                F::Metrics => out.metrics = list(&mut map, &path)?,
                F::SchemaUrl => out.schema_url = scalar::<Text, _>(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

// The five data fields come first so that their index is their slot in `Metric::read`.
fields! {
    enum MetricField {
        Gauge = "gauge",
        Sum = "sum",
        Histogram = "histogram",
        ExponentialHistogram = "exponentialHistogram" | "exponential_histogram",
        Summary = "summary",
        Name = "name",
        Description = "description",
        Unit = "unit",
        Metadata = "metadata",
    }
}

impl<'de> Message<'de> for Metric<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use MetricField as F;
        let mut out = Metric::default();
        // One slot per member of the `data` oneof, `None` while unset or null; more than one
        // set once the object is read is an error (as in the reference).
        let mut slots: [MetricData<'de>; 5] = Default::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            let data = match field {
                F::Name => {
                    out.name = scalar::<Text, _>(map, &path)?;
                    continue;
                }
                F::Description => {
                    out.description = scalar::<Text, _>(map, &path)?;
                    continue;
                }
                F::Unit => {
                    out.unit = scalar::<Text, _>(map, &path)?;
                    continue;
                }
                F::Metadata => {
                    out.metadata = list(map, &path)?;
                    continue;
                }
                F::Gauge => optional(map, &path)?.map(MetricData::Gauge),
                F::Sum => optional(map, &path)?.map(MetricData::Sum),
                F::Histogram => optional(map, &path)?.map(MetricData::Histogram),
                F::ExponentialHistogram => {
                    optional(map, &path)?.map(MetricData::ExponentialHistogram)
                }
                F::Summary => optional(map, &path)?.map(MetricData::Summary),
            };
            if let Some(slot) = slots.get_mut(field.index() as usize) {
                *slot = data.unwrap_or_default();
            }
        }
        let mut set = slots
            .into_iter()
            .zip([
                F::Gauge,
                F::Sum,
                F::Histogram,
                F::ExponentialHistogram,
                F::Summary,
            ])
            .filter(|(data, _)| !matches!(data, MetricData::None));
        if let Some((data, first)) = set.next() {
            if let Some((_, second)) = set.next() {
                return Err(invalid(
                    path,
                    format_args!(
                        "more than one data field: {}, {}",
                        first.name(),
                        second.name()
                    ),
                ));
            }
            out.data = data;
        }
        Ok(out)
    }
}

fields! {
    enum GaugeField {
        DataPoints = "dataPoints" | "data_points",
    }
}

impl<'de> Message<'de> for Gauge<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = Gauge::default();
        let mut keys = Keys::<GaugeField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                GaugeField::DataPoints => out.data_points = list(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum SumField {
        DataPoints = "dataPoints" | "data_points",
        AggregationTemporality = "aggregationTemporality" | "aggregation_temporality",
        IsMonotonic = "isMonotonic" | "is_monotonic",
    }
}

impl<'de> Message<'de> for Sum<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use SumField as F;
        let mut out = Sum::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::DataPoints => out.data_points = list(map, &path)?,
                F::AggregationTemporality => {
                    out.aggregation_temporality = scalar::<Enum<Temporality>, _>(map, &path)?;
                }
                F::IsMonotonic => out.is_monotonic = scalar::<Flag, _>(map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum HistogramField {
        DataPoints = "dataPoints" | "data_points",
        AggregationTemporality = "aggregationTemporality" | "aggregation_temporality",
    }
}

impl<'de> Message<'de> for Histogram<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use HistogramField as F;
        let mut out = Histogram::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::DataPoints => out.data_points = list(map, &path)?,
                F::AggregationTemporality => {
                    out.aggregation_temporality = scalar::<Enum<Temporality>, _>(map, &path)?;
                }
            }
        }
        Ok(out)
    }
}

impl<'de> Message<'de> for ExponentialHistogram<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use HistogramField as F;
        let mut out = ExponentialHistogram::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::DataPoints => out.data_points = list(map, &path)?,
                F::AggregationTemporality => {
                    out.aggregation_temporality = scalar::<Enum<Temporality>, _>(map, &path)?;
                }
            }
        }
        Ok(out)
    }
}

impl<'de> Message<'de> for Summary<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = Summary::default();
        let mut keys = Keys::<GaugeField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                GaugeField::DataPoints => out.data_points = list(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

/// The `value` oneof of number points and exemplars: both members set is an error.
fn number_value<E: serde::de::Error>(
    path: &Path<'_>,
    as_int: Option<i64>,
    as_double: Option<f64>,
) -> Result<NumberValue, E> {
    match (as_int, as_double) {
        (Some(_), Some(_)) => Err(invalid(path, "both asInt and asDouble")),
        (Some(i), None) => Ok(NumberValue::Int(i)),
        (None, Some(d)) => Ok(NumberValue::Double(d)),
        (None, None) => Ok(NumberValue::None),
    }
}

fields! {
    enum NumberPointField {
        Attributes = "attributes",
        StartTimeUnixNano = "startTimeUnixNano" | "start_time_unix_nano",
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        AsDouble = "asDouble" | "as_double",
        AsInt = "asInt" | "as_int",
        Exemplars = "exemplars",
        Flags = "flags",
    }
}

impl<'de> Message<'de> for NumberDataPoint<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use NumberPointField as F;
        let mut out = NumberDataPoint::default();
        let (mut as_int, mut as_double) = (None, None);
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::Attributes => out.attributes = list(map, &path)?,
                F::StartTimeUnixNano => out.start_time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::TimeUnixNano => out.time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::AsDouble => as_double = scalar::<Opt<F64>, _>(map, &path)?,
                F::AsInt => as_int = scalar::<Opt<I64>, _>(map, &path)?,
                F::Exemplars => out.exemplars = list(map, &path)?,
                F::Flags => out.flags = scalar::<U32, _>(map, &path)?,
            }
        }
        out.value = number_value(path, as_int, as_double)?;
        Ok(out)
    }
}

fields! {
    enum ExemplarField {
        FilteredAttributes = "filteredAttributes" | "filtered_attributes",
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        AsDouble = "asDouble" | "as_double",
        AsInt = "asInt" | "as_int",
        SpanId = "spanId" | "span_id",
        TraceId = "traceId" | "trace_id",
    }
}

impl<'de> Message<'de> for Exemplar<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use ExemplarField as F;
        let mut out = Exemplar::default();
        let (mut as_int, mut as_double) = (None, None);
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::FilteredAttributes => out.filtered_attributes = list(map, &path)?,
                F::TimeUnixNano => out.time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::AsDouble => as_double = scalar::<Opt<F64>, _>(map, &path)?,
                F::AsInt => as_int = scalar::<Opt<I64>, _>(map, &path)?,
                F::SpanId => out.span_id = scalar::<Id<8>, _>(map, &path)?,
                F::TraceId => out.trace_id = scalar::<Id<16>, _>(map, &path)?,
            }
        }
        out.value = number_value(path, as_int, as_double)?;
        Ok(out)
    }
}

fields! {
    enum HistogramPointField {
        Attributes = "attributes",
        StartTimeUnixNano = "startTimeUnixNano" | "start_time_unix_nano",
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        Count = "count",
        Sum = "sum",
        BucketCounts = "bucketCounts" | "bucket_counts",
        ExplicitBounds = "explicitBounds" | "explicit_bounds",
        Exemplars = "exemplars",
        Flags = "flags",
        Min = "min",
        Max = "max",
    }
}

impl<'de> Message<'de> for HistogramDataPoint<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use HistogramPointField as F;
        let mut out = HistogramDataPoint::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::Attributes => out.attributes = list(map, &path)?,
                F::StartTimeUnixNano => out.start_time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::TimeUnixNano => out.time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::Count => out.count = scalar::<U64, _>(map, &path)?,
                F::Sum => out.sum = scalar::<Opt<F64>, _>(map, &path)?,
                F::BucketCounts => out.bucket_counts = scalars::<U64, _>(map, &path)?,
                F::ExplicitBounds => out.explicit_bounds = scalars::<F64, _>(map, &path)?,
                F::Exemplars => out.exemplars = list(map, &path)?,
                F::Flags => out.flags = scalar::<U32, _>(map, &path)?,
                F::Min => out.min = scalar::<Opt<F64>, _>(map, &path)?,
                F::Max => out.max = scalar::<Opt<F64>, _>(map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum ExpPointField {
        Attributes = "attributes",
        StartTimeUnixNano = "startTimeUnixNano" | "start_time_unix_nano",
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        Count = "count",
        Sum = "sum",
        Scale = "scale",
        ZeroCount = "zeroCount" | "zero_count",
        Positive = "positive",
        Negative = "negative",
        Flags = "flags",
        Exemplars = "exemplars",
        Min = "min",
        Max = "max",
        ZeroThreshold = "zeroThreshold" | "zero_threshold",
    }
}

impl<'de> Message<'de> for ExponentialHistogramDataPoint<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use ExpPointField as F;
        let mut out = ExponentialHistogramDataPoint::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::Attributes => out.attributes = list(map, &path)?,
                F::StartTimeUnixNano => out.start_time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::TimeUnixNano => out.time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::Count => out.count = scalar::<U64, _>(map, &path)?,
                F::Sum => out.sum = scalar::<Opt<F64>, _>(map, &path)?,
                F::Scale => out.scale = scalar::<I32, _>(map, &path)?,
                F::ZeroCount => out.zero_count = scalar::<U64, _>(map, &path)?,
                F::Positive => out.positive = message(map, &path)?,
                F::Negative => out.negative = message(map, &path)?,
                F::Flags => out.flags = scalar::<U32, _>(map, &path)?,
                F::Exemplars => out.exemplars = list(map, &path)?,
                F::Min => out.min = scalar::<Opt<F64>, _>(map, &path)?,
                F::Max => out.max = scalar::<Opt<F64>, _>(map, &path)?,
                F::ZeroThreshold => out.zero_threshold = scalar::<F64, _>(map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum BucketsField {
        Offset = "offset",
        BucketCounts = "bucketCounts" | "bucket_counts",
    }
}

impl<'de> Message<'de> for Buckets {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = Buckets::default();
        let mut keys = Keys::<BucketsField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                BucketsField::Offset => out.offset = scalar::<I32, _>(&mut map, &path)?,
                BucketsField::BucketCounts => {
                    out.bucket_counts = scalars::<U64, _>(&mut map, &path)?;
                }
            }
        }
        Ok(out)
    }
}

fields! {
    enum SummaryPointField {
        Attributes = "attributes",
        StartTimeUnixNano = "startTimeUnixNano" | "start_time_unix_nano",
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        Count = "count",
        Sum = "sum",
        QuantileValues = "quantileValues" | "quantile_values",
        Flags = "flags",
    }
}

impl<'de> Message<'de> for SummaryDataPoint<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use SummaryPointField as F;
        let mut out = SummaryDataPoint::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::Attributes => out.attributes = list(map, &path)?,
                F::StartTimeUnixNano => out.start_time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::TimeUnixNano => out.time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::Count => out.count = scalar::<U64, _>(map, &path)?,
                F::Sum => out.sum = scalar::<F64, _>(map, &path)?,
                F::QuantileValues => out.quantile_values = list(map, &path)?,
                F::Flags => out.flags = scalar::<U32, _>(map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum QuantileField {
        Quantile = "quantile",
        Value = "value",
    }
}

impl<'de> Message<'de> for ValueAtQuantile {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = ValueAtQuantile::default();
        let mut keys = Keys::<QuantileField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                QuantileField::Quantile => out.quantile = scalar::<F64, _>(&mut map, &path)?,
                QuantileField::Value => out.value = scalar::<F64, _>(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}
