//! `ExportMetricsServiceRequest` and `opentelemetry.proto.metrics.v1`.

use super::common::{merge_resource, merge_scope, push_attribute};
use super::error::Error;
use super::reader::{Value, count_len_field, for_each_field, push_with, take_exact};
use crate::model::{
    Buckets, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, KeyValue, Metric, MetricData, MetricsRequest, NumberDataPoint, NumberValue,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, ValueAtQuantile,
};

/// Scratch space for a data point's attributes.
type Attrs<'a> = Vec<KeyValue<'a>>;

pub(super) fn request(buf: &[u8]) -> Result<MetricsRequest<'_>, Error> {
    let mut out = MetricsRequest::default();
    out.resource_metrics.reserve(count_len_field(buf, 1));
    for_each_field(buf, |field, v| {
        if field == 1 {
            let buf = v.bytes("resource_metrics")?;
            push_with(&mut out.resource_metrics, |r| resource_metrics(r, buf))
                .map_err(|e| e.at("resource_metrics"))?;
        }
        Ok(())
    })?;
    Ok(out)
}

fn resource_metrics<'a>(out: &mut ResourceMetrics<'a>, buf: &'a [u8]) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        match field {
            1 => merge_resource(&mut out.resource, v)?,
            2 => {
                let buf = v.bytes("scope_metrics")?;
                push_with(&mut out.scope_metrics, |s| scope_metrics(s, buf))
                    .map_err(|e| e.at("scope_metrics"))?;
            }
            3 => out.schema_url = v.str("schema_url")?,
            _ => {}
        }
        Ok(())
    })
}

fn scope_metrics<'a>(out: &mut ScopeMetrics<'a>, buf: &'a [u8]) -> Result<(), Error> {
    out.metrics.reserve(count_len_field(buf, 2));
    // Point attributes are collected here, reused from point to point, and then moved into a
    // `Vec` of exactly their number.
    let mut attrs = Vec::new();
    for_each_field(buf, |field, v| {
        match field {
            1 => merge_scope(&mut out.scope, v)?,
            2 => {
                let buf = v.bytes("metrics")?;
                push_with(&mut out.metrics, |m| metric(m, buf, &mut attrs))
                    .map_err(|e| e.at("metrics"))?;
            }
            3 => out.schema_url = v.str("schema_url")?,
            _ => {}
        }
        Ok(())
    })
}

/// Replaces `data` with `make()` unless it already holds that kind (checked by `is_kind`),
/// the protobuf rule for a oneof member that arrives twice: same member merges, another
/// member replaces.
macro_rules! oneof_member {
    ($data:expr, $variant:ident) => {{
        if !matches!($data, MetricData::$variant(_)) {
            *$data = MetricData::$variant(Default::default());
        }
        match $data {
            MetricData::$variant(inner) => Some(inner),
            _ => None,
        }
    }};
}

fn metric<'a>(
    out: &mut Metric<'a>,
    buf: &'a [u8],
    attrs: &mut Vec<KeyValue<'a>>,
) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        match field {
            1 => out.name = v.str("name")?,
            2 => out.description = v.str("description")?,
            3 => out.unit = v.str("unit")?,
            5 => {
                let buf = v.bytes("gauge")?;
                if let Some(g) = oneof_member!(&mut out.data, Gauge) {
                    gauge(g, buf, attrs).map_err(|e| e.at("gauge"))?;
                }
            }
            7 => {
                let buf = v.bytes("sum")?;
                if let Some(s) = oneof_member!(&mut out.data, Sum) {
                    sum(s, buf, attrs).map_err(|e| e.at("sum"))?;
                }
            }
            9 => {
                let buf = v.bytes("histogram")?;
                if let Some(h) = oneof_member!(&mut out.data, Histogram) {
                    histogram(h, buf, attrs).map_err(|e| e.at("histogram"))?;
                }
            }
            10 => {
                let buf = v.bytes("exponential_histogram")?;
                if let Some(h) = oneof_member!(&mut out.data, ExponentialHistogram) {
                    exponential_histogram(h, buf, attrs)
                        .map_err(|e| e.at("exponential_histogram"))?;
                }
            }
            11 => {
                let buf = v.bytes("summary")?;
                if let Some(s) = oneof_member!(&mut out.data, Summary) {
                    summary(s, buf, attrs).map_err(|e| e.at("summary"))?;
                }
            }
            12 => push_attribute(&mut out.metadata, v, "metadata")?,
            _ => {}
        }
        Ok(())
    })
}

fn gauge<'a>(out: &mut Gauge<'a>, buf: &'a [u8], attrs: &mut Attrs<'a>) -> Result<(), Error> {
    out.data_points.reserve(count_len_field(buf, 1));
    for_each_field(buf, |field, v| {
        if field == 1 {
            push_number_point(&mut out.data_points, v, attrs)?;
        }
        Ok(())
    })
}

fn sum<'a>(out: &mut Sum<'a>, buf: &'a [u8], attrs: &mut Attrs<'a>) -> Result<(), Error> {
    out.data_points.reserve(count_len_field(buf, 1));
    for_each_field(buf, |field, v| {
        match field {
            1 => push_number_point(&mut out.data_points, v, attrs)?,
            2 => out.aggregation_temporality = v.int32("aggregation_temporality")?,
            3 => out.is_monotonic = v.bool("is_monotonic")?,
            _ => {}
        }
        Ok(())
    })
}

fn histogram<'a>(
    out: &mut Histogram<'a>,
    buf: &'a [u8],
    attrs: &mut Attrs<'a>,
) -> Result<(), Error> {
    out.data_points.reserve(count_len_field(buf, 1));
    for_each_field(buf, |field, v| {
        match field {
            1 => {
                let buf = v.bytes("data_points")?;
                push_with(&mut out.data_points, |p| histogram_point(p, buf, attrs))
                    .map_err(|e| e.at("data_points"))?;
            }
            2 => out.aggregation_temporality = v.int32("aggregation_temporality")?,
            _ => {}
        }
        Ok(())
    })
}

fn exponential_histogram<'a>(
    out: &mut ExponentialHistogram<'a>,
    buf: &'a [u8],
    attrs: &mut Attrs<'a>,
) -> Result<(), Error> {
    out.data_points.reserve(count_len_field(buf, 1));
    for_each_field(buf, |field, v| {
        match field {
            1 => {
                let buf = v.bytes("data_points")?;
                push_with(&mut out.data_points, |p| exponential_point(p, buf, attrs))
                    .map_err(|e| e.at("data_points"))?;
            }
            2 => out.aggregation_temporality = v.int32("aggregation_temporality")?,
            _ => {}
        }
        Ok(())
    })
}

fn summary<'a>(out: &mut Summary<'a>, buf: &'a [u8], attrs: &mut Attrs<'a>) -> Result<(), Error> {
    out.data_points.reserve(count_len_field(buf, 1));
    for_each_field(buf, |field, v| {
        if field == 1 {
            let buf = v.bytes("data_points")?;
            push_with(&mut out.data_points, |p| summary_point(p, buf, attrs))
                .map_err(|e| e.at("data_points"))?;
        }
        Ok(())
    })
}

fn push_number_point<'a>(
    out: &mut Vec<NumberDataPoint<'a>>,
    v: Value<'a>,
    attrs: &mut Attrs<'a>,
) -> Result<(), Error> {
    let buf = v.bytes("data_points")?;
    push_with(out, |p| number_point(p, buf, attrs)).map_err(|e| e.at("data_points"))
}

fn number_point<'a>(
    out: &mut NumberDataPoint<'a>,
    buf: &'a [u8],
    attrs: &mut Attrs<'a>,
) -> Result<(), Error> {
    attrs.clear();
    for_each_field(buf, |field, v| {
        match field {
            2 => out.start_time_unix_nano = v.fixed64("start_time_unix_nano")?,
            3 => out.time_unix_nano = v.fixed64("time_unix_nano")?,
            4 => out.value = NumberValue::Double(v.double("as_double")?),
            5 => push_exemplar(&mut out.exemplars, v)?,
            6 => out.value = NumberValue::Int(v.sfixed64("as_int")?),
            7 => push_attribute(attrs, v, "attributes")?,
            8 => out.flags = v.uint32("flags")?,
            _ => {}
        }
        Ok(())
    })?;
    out.attributes = take_exact(attrs);
    Ok(())
}

fn histogram_point<'a>(
    out: &mut HistogramDataPoint<'a>,
    buf: &'a [u8],
    attrs: &mut Attrs<'a>,
) -> Result<(), Error> {
    attrs.clear();
    for_each_field(buf, |field, v| {
        match field {
            2 => out.start_time_unix_nano = v.fixed64("start_time_unix_nano")?,
            3 => out.time_unix_nano = v.fixed64("time_unix_nano")?,
            4 => out.count = v.fixed64("count")?,
            5 => out.sum = Some(v.double("sum")?),
            6 => v.push_fixed64s(&mut out.bucket_counts, "bucket_counts")?,
            7 => v.push_doubles(&mut out.explicit_bounds, "explicit_bounds")?,
            8 => push_exemplar(&mut out.exemplars, v)?,
            9 => push_attribute(attrs, v, "attributes")?,
            10 => out.flags = v.uint32("flags")?,
            11 => out.min = Some(v.double("min")?),
            12 => out.max = Some(v.double("max")?),
            _ => {}
        }
        Ok(())
    })?;
    out.attributes = take_exact(attrs);
    Ok(())
}

fn exponential_point<'a>(
    out: &mut ExponentialHistogramDataPoint<'a>,
    buf: &'a [u8],
    attrs: &mut Attrs<'a>,
) -> Result<(), Error> {
    attrs.clear();
    for_each_field(buf, |field, v| {
        match field {
            1 => push_attribute(attrs, v, "attributes")?,
            2 => out.start_time_unix_nano = v.fixed64("start_time_unix_nano")?,
            3 => out.time_unix_nano = v.fixed64("time_unix_nano")?,
            4 => out.count = v.fixed64("count")?,
            5 => out.sum = Some(v.double("sum")?),
            6 => out.scale = v.sint32("scale")?,
            7 => out.zero_count = v.fixed64("zero_count")?,
            8 => merge_buckets(&mut out.positive, v, "positive")?,
            9 => merge_buckets(&mut out.negative, v, "negative")?,
            10 => out.flags = v.uint32("flags")?,
            11 => push_exemplar(&mut out.exemplars, v)?,
            12 => out.min = Some(v.double("min")?),
            13 => out.max = Some(v.double("max")?),
            14 => out.zero_threshold = v.double("zero_threshold")?,
            _ => {}
        }
        Ok(())
    })?;
    out.attributes = take_exact(attrs);
    Ok(())
}

fn merge_buckets(out: &mut Buckets, v: Value<'_>, name: &'static str) -> Result<(), Error> {
    for_each_field(v.bytes(name)?, |field, v| {
        match field {
            1 => out.offset = v.sint32("offset")?,
            2 => v.push_varints(&mut out.bucket_counts, "bucket_counts")?,
            _ => {}
        }
        Ok(())
    })
    .map_err(|e| e.at(name))
}

fn summary_point<'a>(
    out: &mut SummaryDataPoint<'a>,
    buf: &'a [u8],
    attrs: &mut Attrs<'a>,
) -> Result<(), Error> {
    attrs.clear();
    for_each_field(buf, |field, v| {
        match field {
            2 => out.start_time_unix_nano = v.fixed64("start_time_unix_nano")?,
            3 => out.time_unix_nano = v.fixed64("time_unix_nano")?,
            4 => out.count = v.fixed64("count")?,
            5 => out.sum = v.double("sum")?,
            6 => {
                let buf = v.bytes("quantile_values")?;
                push_with(&mut out.quantile_values, |q| value_at_quantile(q, buf))
                    .map_err(|e| e.at("quantile_values"))?;
            }
            7 => push_attribute(attrs, v, "attributes")?,
            8 => out.flags = v.uint32("flags")?,
            _ => {}
        }
        Ok(())
    })?;
    out.attributes = take_exact(attrs);
    Ok(())
}

fn value_at_quantile(out: &mut ValueAtQuantile, buf: &[u8]) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        match field {
            1 => out.quantile = v.double("quantile")?,
            2 => out.value = v.double("value")?,
            _ => {}
        }
        Ok(())
    })
}

fn push_exemplar<'a>(out: &mut Vec<Exemplar<'a>>, v: Value<'a>) -> Result<(), Error> {
    let buf = v.bytes("exemplars")?;
    push_with(out, |x| exemplar(x, buf)).map_err(|e| e.at("exemplars"))
}

fn exemplar<'a>(out: &mut Exemplar<'a>, buf: &'a [u8]) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        match field {
            2 => out.time_unix_nano = v.fixed64("time_unix_nano")?,
            3 => out.value = NumberValue::Double(v.double("as_double")?),
            4 => out.span_id = v.span_id("span_id")?,
            5 => out.trace_id = v.trace_id("trace_id")?,
            6 => out.value = NumberValue::Int(v.sfixed64("as_int")?),
            7 => push_attribute(&mut out.filtered_attributes, v, "filtered_attributes")?,
            _ => {}
        }
        Ok(())
    })
}
