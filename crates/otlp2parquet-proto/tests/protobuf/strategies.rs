//! proptest strategies producing prost requests of every signal, with every field kind set or
//! unset: unicode strings, attributes of every `AnyValue` kind including nested arrays and
//! kvlists, ids present or empty, all five metric kinds and the optional histogram fields.

use otlp2parquet_proto::pb;
use pb::any_value::Value;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

pub fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z][a-z0-9._]{0,15}",
        // Any printable unicode: multi-byte sequences exercise UTF-8 validation.
        "\\PC{0,12}",
    ]
}

fn double() -> impl Strategy<Value = f64> {
    // NaN included: comparisons go through `Debug`, where NaN equals NaN.
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(-0.0),
        Just(f64::INFINITY)
    ]
}

fn leaf_value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        string().prop_map(|s| Some(Value::StringValue(s))),
        any::<bool>().prop_map(|b| Some(Value::BoolValue(b))),
        any::<i64>().prop_map(|i| Some(Value::IntValue(i))),
        double().prop_map(|d| Some(Value::DoubleValue(d))),
        vec(any::<u8>(), 0..12).prop_map(|b| Some(Value::BytesValue(b))),
    ]
}

pub fn any_value() -> impl Strategy<Value = pb::AnyValue> {
    leaf_value()
        .prop_map(|value| pb::AnyValue { value })
        .prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(|values| pb::AnyValue {
                    value: Some(Value::ArrayValue(pb::ArrayValue { values })),
                }),
                vec((string(), option::of(inner)), 0..4).prop_map(|kvs| pb::AnyValue {
                    value: Some(Value::KvlistValue(pb::KeyValueList {
                        values: kvs
                            .into_iter()
                            .map(|(key, value)| pb::KeyValue { key, value })
                            .collect(),
                    })),
                }),
            ]
        })
}

pub fn attributes() -> impl Strategy<Value = Vec<pb::KeyValue>> {
    vec(
        (string(), option::of(any_value())).prop_map(|(key, value)| pb::KeyValue { key, value }),
        0..4,
    )
}

fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(Vec::new()), vec(any::<u8>(), len)]
}

fn resource() -> impl Strategy<Value = Option<pb::Resource>> {
    option::of(
        (attributes(), any::<u32>()).prop_map(|(attributes, dropped)| pb::Resource {
            attributes,
            dropped_attributes_count: dropped,
        }),
    )
}

fn scope() -> impl Strategy<Value = Option<pb::InstrumentationScope>> {
    option::of((string(), string(), attributes(), any::<u32>()).prop_map(
        |(name, version, attributes, dropped)| pb::InstrumentationScope {
            name,
            version,
            attributes,
            dropped_attributes_count: dropped,
        },
    ))
}

// Enumerations are open: any i32, not only the named values, must survive.
fn enum_value() -> impl Strategy<Value = i32> {
    prop_oneof![0..6i32, any::<i32>()]
}

fn log_record() -> impl Strategy<Value = pb::LogRecord> {
    (
        (any::<u64>(), any::<u64>(), enum_value(), string()),
        (
            option::of(any_value()),
            attributes(),
            any::<u32>(),
            any::<u32>(),
        ),
        (id(16), id(8), string()),
    )
        .prop_map(
            |(
                (time, observed, severity, severity_text),
                (body, attributes, dropped, flags),
                (trace_id, span_id, event_name),
            )| pb::LogRecord {
                time_unix_nano: time,
                observed_time_unix_nano: observed,
                severity_number: severity,
                severity_text,
                body,
                attributes,
                dropped_attributes_count: dropped,
                flags,
                trace_id,
                span_id,
                event_name,
            },
        )
}

pub fn logs_request() -> impl Strategy<Value = pb::ExportLogsServiceRequest> {
    let scope_logs = (scope(), vec(log_record(), 0..4), string()).prop_map(
        |(scope, log_records, schema_url)| pb::ScopeLogs {
            scope,
            log_records,
            schema_url,
        },
    );
    let resource_logs = (resource(), vec(scope_logs, 0..3), string()).prop_map(
        |(resource, scope_logs, schema_url)| pb::ResourceLogs {
            resource,
            scope_logs,
            schema_url,
        },
    );
    vec(resource_logs, 0..3)
        .prop_map(|resource_logs| pb::ExportLogsServiceRequest { resource_logs })
}

fn event() -> impl Strategy<Value = pb::span::Event> {
    (any::<u64>(), string(), attributes(), any::<u32>()).prop_map(
        |(time, name, attributes, dropped)| pb::span::Event {
            time_unix_nano: time,
            name,
            attributes,
            dropped_attributes_count: dropped,
        },
    )
}

fn link() -> impl Strategy<Value = pb::span::Link> {
    (
        id(16),
        id(8),
        string(),
        attributes(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(trace_id, span_id, trace_state, attributes, dropped, flags)| pb::span::Link {
                trace_id,
                span_id,
                trace_state,
                attributes,
                dropped_attributes_count: dropped,
                flags,
            },
        )
}

fn span() -> impl Strategy<Value = pb::Span> {
    (
        (id(16), id(8), string(), id(8), any::<u32>(), string()),
        (
            enum_value(),
            any::<u64>(),
            any::<u64>(),
            attributes(),
            any::<u32>(),
        ),
        (
            vec(event(), 0..3),
            any::<u32>(),
            vec(link(), 0..2),
            any::<u32>(),
        ),
        option::of((string(), enum_value())),
    )
        .prop_map(
            |(
                (trace_id, span_id, trace_state, parent_span_id, flags, name),
                (kind, start, end, attributes, dropped_attributes_count),
                (events, dropped_events_count, links, dropped_links_count),
                status,
            )| pb::Span {
                trace_id,
                span_id,
                trace_state,
                parent_span_id,
                flags,
                name,
                kind,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes,
                dropped_attributes_count,
                events,
                dropped_events_count,
                links,
                dropped_links_count,
                status: status.map(|(message, code)| pb::Status { message, code }),
            },
        )
}

pub fn traces_request() -> impl Strategy<Value = pb::ExportTraceServiceRequest> {
    let scope_spans =
        (scope(), vec(span(), 0..4), string()).prop_map(|(scope, spans, schema_url)| {
            pb::ScopeSpans {
                scope,
                spans,
                schema_url,
            }
        });
    let resource_spans = (resource(), vec(scope_spans, 0..3), string()).prop_map(
        |(resource, scope_spans, schema_url)| pb::ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        },
    );
    vec(resource_spans, 0..3)
        .prop_map(|resource_spans| pb::ExportTraceServiceRequest { resource_spans })
}

fn exemplars() -> impl Strategy<Value = Vec<pb::Exemplar>> {
    let value = option::of(prop_oneof![
        double().prop_map(pb::exemplar::Value::AsDouble),
        any::<i64>().prop_map(pb::exemplar::Value::AsInt),
    ]);
    vec(
        (attributes(), any::<u64>(), id(8), id(16), value).prop_map(
            |(filtered_attributes, time, span_id, trace_id, value)| pb::Exemplar {
                filtered_attributes,
                time_unix_nano: time,
                span_id,
                trace_id,
                value,
            },
        ),
        0..2,
    )
}

fn number_point() -> impl Strategy<Value = pb::NumberDataPoint> {
    let value = option::of(prop_oneof![
        double().prop_map(pb::number_data_point::Value::AsDouble),
        any::<i64>().prop_map(pb::number_data_point::Value::AsInt),
    ]);
    (
        attributes(),
        any::<u64>(),
        any::<u64>(),
        exemplars(),
        any::<u32>(),
        value,
    )
        .prop_map(
            |(attributes, start, time, exemplars, flags, value)| pb::NumberDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                exemplars,
                flags,
                value,
            },
        )
}

fn histogram_point() -> impl Strategy<Value = pb::HistogramDataPoint> {
    (
        (attributes(), any::<u64>(), any::<u64>(), any::<u64>()),
        (
            option::of(double()),
            vec(any::<u64>(), 0..6),
            vec(double(), 0..5),
        ),
        (
            exemplars(),
            any::<u32>(),
            option::of(double()),
            option::of(double()),
        ),
    )
        .prop_map(
            |(
                (attributes, start, time, count),
                (sum, bucket_counts, explicit_bounds),
                (exemplars, flags, min, max),
            )| pb::HistogramDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                sum,
                bucket_counts,
                explicit_bounds,
                exemplars,
                flags,
                min,
                max,
            },
        )
}

fn buckets() -> impl Strategy<Value = Option<pb::exponential_histogram_data_point::Buckets>> {
    option::of(
        (any::<i32>(), vec(any::<u64>(), 0..6)).prop_map(|(offset, bucket_counts)| {
            pb::exponential_histogram_data_point::Buckets {
                offset,
                bucket_counts,
            }
        }),
    )
}

fn exponential_point() -> impl Strategy<Value = pb::ExponentialHistogramDataPoint> {
    (
        (attributes(), any::<u64>(), any::<u64>(), any::<u64>()),
        (
            option::of(double()),
            any::<i32>(),
            any::<u64>(),
            buckets(),
            buckets(),
        ),
        (
            any::<u32>(),
            exemplars(),
            option::of(double()),
            option::of(double()),
            double(),
        ),
    )
        .prop_map(
            |(
                (attributes, start, time, count),
                (sum, scale, zero_count, positive, negative),
                (flags, exemplars, min, max, zero_threshold),
            )| pb::ExponentialHistogramDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                sum,
                scale,
                zero_count,
                positive,
                negative,
                flags,
                exemplars,
                min,
                max,
                zero_threshold,
            },
        )
}

fn summary_point() -> impl Strategy<Value = pb::SummaryDataPoint> {
    let quantile = (double(), double())
        .prop_map(|(quantile, value)| pb::summary_data_point::ValueAtQuantile { quantile, value });
    (
        attributes(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        double(),
        vec(quantile, 0..4),
        any::<u32>(),
    )
        .prop_map(
            |(attributes, start, time, count, sum, quantile_values, flags)| pb::SummaryDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                sum,
                quantile_values,
                flags,
            },
        )
}

fn metric_data() -> impl Strategy<Value = Option<pb::metric::Data>> {
    use pb::metric::Data;
    option::of(prop_oneof![
        vec(number_point(), 0..3).prop_map(|data_points| Data::Gauge(pb::Gauge { data_points })),
        (vec(number_point(), 0..3), enum_value(), any::<bool>()).prop_map(
            |(data_points, temporality, is_monotonic)| Data::Sum(pb::Sum {
                data_points,
                aggregation_temporality: temporality,
                is_monotonic,
            })
        ),
        (vec(histogram_point(), 0..3), enum_value()).prop_map(|(data_points, temporality)| {
            Data::Histogram(pb::Histogram {
                data_points,
                aggregation_temporality: temporality,
            })
        }),
        (vec(exponential_point(), 0..3), enum_value()).prop_map(|(data_points, temporality)| {
            Data::ExponentialHistogram(pb::ExponentialHistogram {
                data_points,
                aggregation_temporality: temporality,
            })
        }),
        vec(summary_point(), 0..3)
            .prop_map(|data_points| Data::Summary(pb::Summary { data_points })),
    ])
}

fn metric() -> impl Strategy<Value = pb::Metric> {
    (string(), string(), string(), attributes(), metric_data()).prop_map(
        |(name, description, unit, metadata, data)| pb::Metric {
            name,
            description,
            unit,
            metadata,
            data,
        },
    )
}

pub fn metrics_request() -> impl Strategy<Value = pb::ExportMetricsServiceRequest> {
    let scope_metrics =
        (scope(), vec(metric(), 0..5), string()).prop_map(|(scope, metrics, schema_url)| {
            pb::ScopeMetrics {
                scope,
                metrics,
                schema_url,
            }
        });
    let resource_metrics = (resource(), vec(scope_metrics, 0..3), string()).prop_map(
        |(resource, scope_metrics, schema_url)| pb::ResourceMetrics {
            resource,
            scope_metrics,
            schema_url,
        },
    );
    vec(resource_metrics, 0..3)
        .prop_map(|resource_metrics| pb::ExportMetricsServiceRequest { resource_metrics })
}
