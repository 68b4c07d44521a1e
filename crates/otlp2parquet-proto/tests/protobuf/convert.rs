//! Test-only conversion of prost's owned messages into the borrowed model, so that what prost
//! decodes can be compared with what `wire` decodes. It follows the model's documented
//! defaults: an absent message is its default, an empty id is all zeros.

use std::borrow::Cow;

use otlp2parquet_proto::{model as m, pb};

fn s(v: &str) -> Cow<'_, str> {
    Cow::Borrowed(v)
}

fn id<const N: usize>(v: &[u8]) -> [u8; N] {
    if v.is_empty() {
        [0; N]
    } else {
        v.try_into().expect("test ids have the right length")
    }
}

pub fn any_value(v: Option<&pb::AnyValue>) -> m::AnyValue<'_> {
    use pb::any_value::Value;
    match v.and_then(|v| v.value.as_ref()) {
        None => m::AnyValue::Empty,
        Some(Value::StringValue(x)) => m::AnyValue::String(s(x)),
        Some(Value::BoolValue(x)) => m::AnyValue::Bool(*x),
        Some(Value::IntValue(x)) => m::AnyValue::Int(*x),
        Some(Value::DoubleValue(x)) => m::AnyValue::Double(*x),
        Some(Value::BytesValue(x)) => m::AnyValue::Bytes(Cow::Borrowed(x)),
        Some(Value::ArrayValue(a)) => {
            m::AnyValue::Array(a.values.iter().map(|v| any_value(Some(v))).collect())
        }
        Some(Value::KvlistValue(l)) => m::AnyValue::KvList(attributes(&l.values)),
    }
}

pub fn attributes(v: &[pb::KeyValue]) -> Vec<m::KeyValue<'_>> {
    v.iter()
        .map(|kv| m::KeyValue {
            key: s(&kv.key),
            value: any_value(kv.value.as_ref()),
        })
        .collect()
}

fn resource(r: Option<&pb::Resource>) -> m::Resource<'_> {
    r.map(|r| m::Resource {
        attributes: attributes(&r.attributes),
        dropped_attributes_count: r.dropped_attributes_count,
    })
    .unwrap_or_default()
}

fn scope(r: Option<&pb::InstrumentationScope>) -> m::Scope<'_> {
    r.map(|r| m::Scope {
        name: s(&r.name),
        version: s(&r.version),
        attributes: attributes(&r.attributes),
        dropped_attributes_count: r.dropped_attributes_count,
    })
    .unwrap_or_default()
}

pub fn logs(r: &pb::ExportLogsServiceRequest) -> m::LogsRequest<'_> {
    m::LogsRequest {
        resource_logs: r
            .resource_logs
            .iter()
            .map(|rl| m::ResourceLogs {
                resource: resource(rl.resource.as_ref()),
                schema_url: s(&rl.schema_url),
                scope_logs: rl
                    .scope_logs
                    .iter()
                    .map(|sl| m::ScopeLogs {
                        scope: scope(sl.scope.as_ref()),
                        schema_url: s(&sl.schema_url),
                        log_records: sl.log_records.iter().map(log_record).collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn log_record(r: &pb::LogRecord) -> m::LogRecord<'_> {
    m::LogRecord {
        time_unix_nano: r.time_unix_nano,
        observed_time_unix_nano: r.observed_time_unix_nano,
        severity_number: r.severity_number,
        severity_text: s(&r.severity_text),
        body: any_value(r.body.as_ref()),
        attributes: attributes(&r.attributes),
        dropped_attributes_count: r.dropped_attributes_count,
        flags: r.flags,
        trace_id: id(&r.trace_id),
        span_id: id(&r.span_id),
        event_name: s(&r.event_name),
    }
}

pub fn traces(r: &pb::ExportTraceServiceRequest) -> m::TracesRequest<'_> {
    m::TracesRequest {
        resource_spans: r
            .resource_spans
            .iter()
            .map(|rs| m::ResourceSpans {
                resource: resource(rs.resource.as_ref()),
                schema_url: s(&rs.schema_url),
                scope_spans: rs
                    .scope_spans
                    .iter()
                    .map(|ss| m::ScopeSpans {
                        scope: scope(ss.scope.as_ref()),
                        schema_url: s(&ss.schema_url),
                        spans: ss.spans.iter().map(span).collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn span(r: &pb::Span) -> m::Span<'_> {
    m::Span {
        trace_id: id(&r.trace_id),
        span_id: id(&r.span_id),
        trace_state: s(&r.trace_state),
        parent_span_id: id(&r.parent_span_id),
        flags: r.flags,
        name: s(&r.name),
        kind: r.kind,
        start_time_unix_nano: r.start_time_unix_nano,
        end_time_unix_nano: r.end_time_unix_nano,
        attributes: attributes(&r.attributes),
        dropped_attributes_count: r.dropped_attributes_count,
        events: r
            .events
            .iter()
            .map(|e| m::Event {
                time_unix_nano: e.time_unix_nano,
                name: s(&e.name),
                attributes: attributes(&e.attributes),
                dropped_attributes_count: e.dropped_attributes_count,
            })
            .collect(),
        dropped_events_count: r.dropped_events_count,
        links: r
            .links
            .iter()
            .map(|l| m::Link {
                trace_id: id(&l.trace_id),
                span_id: id(&l.span_id),
                trace_state: s(&l.trace_state),
                attributes: attributes(&l.attributes),
                dropped_attributes_count: l.dropped_attributes_count,
                flags: l.flags,
            })
            .collect(),
        dropped_links_count: r.dropped_links_count,
        status: r
            .status
            .as_ref()
            .map(|st| m::Status {
                message: s(&st.message),
                code: st.code,
            })
            .unwrap_or_default(),
    }
}

pub fn metrics(r: &pb::ExportMetricsServiceRequest) -> m::MetricsRequest<'_> {
    m::MetricsRequest {
        resource_metrics: r
            .resource_metrics
            .iter()
            .map(|rm| m::ResourceMetrics {
                resource: resource(rm.resource.as_ref()),
                schema_url: s(&rm.schema_url),
                scope_metrics: rm
                    .scope_metrics
                    .iter()
                    .map(|sm| m::ScopeMetrics {
                        scope: scope(sm.scope.as_ref()),
                        schema_url: s(&sm.schema_url),
                        metrics: sm.metrics.iter().map(metric).collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn metric(r: &pb::Metric) -> m::Metric<'_> {
    use pb::metric::Data;
    let data = match &r.data {
        None => m::MetricData::None,
        Some(Data::Gauge(g)) => m::MetricData::Gauge(m::Gauge {
            data_points: g.data_points.iter().map(number_point).collect(),
        }),
        Some(Data::Sum(x)) => m::MetricData::Sum(m::Sum {
            data_points: x.data_points.iter().map(number_point).collect(),
            aggregation_temporality: x.aggregation_temporality,
            is_monotonic: x.is_monotonic,
        }),
        Some(Data::Histogram(h)) => m::MetricData::Histogram(m::Histogram {
            aggregation_temporality: h.aggregation_temporality,
            data_points: h
                .data_points
                .iter()
                .map(|p| m::HistogramDataPoint {
                    attributes: attributes(&p.attributes),
                    start_time_unix_nano: p.start_time_unix_nano,
                    time_unix_nano: p.time_unix_nano,
                    count: p.count,
                    sum: p.sum,
                    bucket_counts: p.bucket_counts.clone(),
                    explicit_bounds: p.explicit_bounds.clone(),
                    exemplars: p.exemplars.iter().map(exemplar).collect(),
                    flags: p.flags,
                    min: p.min,
                    max: p.max,
                })
                .collect(),
        }),
        Some(Data::ExponentialHistogram(h)) => {
            m::MetricData::ExponentialHistogram(m::ExponentialHistogram {
                aggregation_temporality: h.aggregation_temporality,
                data_points: h
                    .data_points
                    .iter()
                    .map(|p| m::ExponentialHistogramDataPoint {
                        attributes: attributes(&p.attributes),
                        start_time_unix_nano: p.start_time_unix_nano,
                        time_unix_nano: p.time_unix_nano,
                        count: p.count,
                        sum: p.sum,
                        scale: p.scale,
                        zero_count: p.zero_count,
                        positive: buckets(p.positive.as_ref()),
                        negative: buckets(p.negative.as_ref()),
                        flags: p.flags,
                        exemplars: p.exemplars.iter().map(exemplar).collect(),
                        min: p.min,
                        max: p.max,
                        zero_threshold: p.zero_threshold,
                    })
                    .collect(),
            })
        }
        Some(Data::Summary(x)) => m::MetricData::Summary(m::Summary {
            data_points: x
                .data_points
                .iter()
                .map(|p| m::SummaryDataPoint {
                    attributes: attributes(&p.attributes),
                    start_time_unix_nano: p.start_time_unix_nano,
                    time_unix_nano: p.time_unix_nano,
                    count: p.count,
                    sum: p.sum,
                    quantile_values: p
                        .quantile_values
                        .iter()
                        .map(|q| m::ValueAtQuantile {
                            quantile: q.quantile,
                            value: q.value,
                        })
                        .collect(),
                    flags: p.flags,
                })
                .collect(),
        }),
    };
    m::Metric {
        name: s(&r.name),
        description: s(&r.description),
        unit: s(&r.unit),
        data,
        metadata: attributes(&r.metadata),
    }
}

fn buckets(b: Option<&pb::exponential_histogram_data_point::Buckets>) -> m::Buckets {
    b.map(|b| m::Buckets {
        offset: b.offset,
        bucket_counts: b.bucket_counts.clone(),
    })
    .unwrap_or_default()
}

fn number_value_n(v: Option<&pb::number_data_point::Value>) -> m::NumberValue {
    match v {
        None => m::NumberValue::None,
        Some(pb::number_data_point::Value::AsDouble(d)) => m::NumberValue::Double(*d),
        Some(pb::number_data_point::Value::AsInt(i)) => m::NumberValue::Int(*i),
    }
}

fn number_point(p: &pb::NumberDataPoint) -> m::NumberDataPoint<'_> {
    m::NumberDataPoint {
        attributes: attributes(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        value: number_value_n(p.value.as_ref()),
        exemplars: p.exemplars.iter().map(exemplar).collect(),
        flags: p.flags,
    }
}

fn exemplar(e: &pb::Exemplar) -> m::Exemplar<'_> {
    m::Exemplar {
        filtered_attributes: attributes(&e.filtered_attributes),
        time_unix_nano: e.time_unix_nano,
        value: match e.value {
            None => m::NumberValue::None,
            Some(pb::exemplar::Value::AsDouble(d)) => m::NumberValue::Double(d),
            Some(pb::exemplar::Value::AsInt(i)) => m::NumberValue::Int(i),
        },
        span_id: id(&e.span_id),
        trace_id: id(&e.trace_id),
    }
}
