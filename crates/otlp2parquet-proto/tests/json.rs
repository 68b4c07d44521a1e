//! OTLP/JSON decoding (docs/protocol.md#content-types): the shared fixtures, every spelling the
//! mapping allows, the errors a sender gets back, and robustness against hostile bodies.
//!
//! Expected ids were computed independently from the fixtures' base64 with Python's `base64`
//! module (`base64.b64decode(s).hex()`).

// clippy.toml exempts `#[test]` functions, not the helpers of a test binary; a failed helper
// assertion is a test failure, which is what a panic here means.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code"
)]

use std::borrow::Cow;
use std::path::PathBuf;

use otlp2parquet_proto::{
    AnyValue, ExportRequest, LogsRequest, MetricData, MetricsRequest, NumberValue, TracesRequest,
};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/otlp")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn logs(json: &str) -> Result<LogsRequest<'_>, String> {
    LogsRequest::decode_json(json.as_bytes()).map_err(|e| e.message().to_owned())
}

fn traces(json: &str) -> Result<TracesRequest<'_>, String> {
    TracesRequest::decode_json(json.as_bytes()).map_err(|e| e.message().to_owned())
}

fn metrics(json: &str) -> Result<MetricsRequest<'_>, String> {
    MetricsRequest::decode_json(json.as_bytes()).map_err(|e| e.message().to_owned())
}

/// The error of a request that must not decode.
#[track_caller]
fn error<T: std::fmt::Debug>(result: Result<T, String>) -> String {
    match result {
        Ok(v) => panic!("decoded, but should not have: {v:?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_contains(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "{message:?} does not mention {part:?}"
        );
    }
}

/// Test documents live for the whole run: decoded requests borrow from them.
fn leak(doc: String) -> &'static str {
    Box::leak(doc.into_boxed_str())
}

/// A log request around one log record's JSON.
fn log_doc(record: &str) -> &'static str {
    leak(format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{record}]}}]}}]}}"#
    ))
}

/// A trace request around one span's JSON.
fn span_doc(span: &str) -> &'static str {
    leak(format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{span}]}}]}}]}}"#
    ))
}

/// A metrics request around one metric's JSON.
fn metric_doc(metric: &str) -> &'static str {
    leak(format!(
        r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{metric}]}}]}}]}}"#
    ))
}

/// The body of the only log record of `doc`.
fn only_body(json: &str) -> Result<AnyValue<'static>, String> {
    let request = logs(json)?;
    let record = &request.resource_logs[0].scope_logs[0].log_records[0];
    Ok(owned_value(&record.body))
}

fn owned_value(v: &AnyValue<'_>) -> AnyValue<'static> {
    match v {
        AnyValue::Empty => AnyValue::Empty,
        AnyValue::String(s) => AnyValue::String(Cow::Owned(s.to_string())),
        AnyValue::Bool(b) => AnyValue::Bool(*b),
        AnyValue::Int(i) => AnyValue::Int(*i),
        AnyValue::Double(d) => AnyValue::Double(*d),
        AnyValue::Bytes(b) => AnyValue::Bytes(Cow::Owned(b.to_vec())),
        AnyValue::Array(a) => AnyValue::Array(a.iter().map(owned_value).collect()),
        AnyValue::KvList(kv) => AnyValue::KvList(
            kv.iter()
                .map(|e| otlp2parquet_proto::KeyValue {
                    key: Cow::Owned(e.key.to_string()),
                    value: owned_value(&e.value),
                })
                .collect(),
        ),
    }
}

fn body(value: &str) -> &'static str {
    log_doc(&format!(r#"{{"body":{value}}}"#))
}

// ------------------------------------------------------------------------------------------
// Fixtures
// ------------------------------------------------------------------------------------------

#[test]
fn every_json_fixture_decodes_with_its_record_count() {
    let cases = [
        ("log.json", "logs", 1),
        ("trace.json", "traces", 2),
        ("metrics_gauge.json", "metrics", 3),
        ("metrics_sum.json", "metrics", 4),
        ("metrics_histogram.json", "metrics", 3),
        ("metrics_exponential_histogram.json", "metrics", 2),
        ("metrics_summary.json", "metrics", 2),
        ("metrics_mixed.json", "metrics", 3),
    ];
    for (name, signal, want) in cases {
        let body = fixture(name);
        let got = match signal {
            "logs" => LogsRequest::decode_json(&body).map(|r| r.record_count()),
            "traces" => TracesRequest::decode_json(&body).map(|r| r.record_count()),
            _ => MetricsRequest::decode_json(&body).map(|r| r.record_count()),
        };
        assert_eq!(got, Ok(want), "{name}");
    }
}

#[test]
fn every_jsonl_fixture_decodes_line_by_line() {
    let cases = [
        ("logs.jsonl", "logs", 81, 81),
        ("traces.jsonl", "traces", 19, 19),
        ("metrics_gauge.jsonl", "metrics", 1, 3),
        ("metrics_sum.jsonl", "metrics", 1, 4),
        ("metrics_histogram.jsonl", "metrics", 1, 3),
        ("metrics_exponential_histogram.jsonl", "metrics", 1, 2),
        ("metrics_summary.jsonl", "metrics", 1, 2),
        ("metrics_mixed.jsonl", "metrics", 1, 3),
    ];
    for (name, signal, want_lines, want_records) in cases {
        let body = fixture(name);
        let lines: Vec<&[u8]> = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .collect();
        assert_eq!(lines.len(), want_lines, "{name}");
        match signal {
            "logs" => {
                let all = LogsRequest::decode_jsonl(&body).unwrap();
                assert_eq!(all.record_count(), want_records, "{name}");
                let mut joined = LogsRequest::default();
                for line in &lines {
                    joined.append(LogsRequest::decode_json(line).unwrap());
                }
                assert_eq!(all, joined, "{name}");
            }
            "traces" => {
                let all = TracesRequest::decode_jsonl(&body).unwrap();
                assert_eq!(all.record_count(), want_records, "{name}");
                assert_eq!(all.resource_spans.len(), want_lines, "{name}");
            }
            _ => {
                let all = MetricsRequest::decode_jsonl(&body).unwrap();
                assert_eq!(all.record_count(), want_records, "{name}");
                let json = name.replace(".jsonl", ".json");
                let json_body = fixture(&json);
                let single = MetricsRequest::decode_json(&json_body).unwrap();
                assert_eq!(all, single, "{name} and {json} hold the same request");
            }
        }
    }
}

#[test]
fn trace_fixture_values() {
    let body = fixture("trace.json");
    let request = TracesRequest::decode_json(&body).unwrap();
    let scope_spans = &request.resource_spans[0].scope_spans[0];
    assert_eq!(scope_spans.scope.name, "envoy");
    let span = &scope_spans.spans[0];
    assert_eq!(hex(&span.trace_id), "9d79b1a37f31801cd11a6706fb40d6bd");
    assert_eq!(hex(&span.span_id), "de562439e9c1b823");
    assert_eq!(hex(&span.parent_span_id), "57526846903bb13e");
    assert_eq!(span.name, "router frontend egress");
    assert_eq!(span.kind, 3, "SPAN_KIND_CLIENT");
    assert_eq!(span.start_time_unix_nano, 1_760_738_064_624_462_000);
    assert_eq!(span.end_time_unix_nano, 1_760_738_064_628_483_000);
    assert_eq!(span.attributes.len(), 8);
    assert_eq!(span.attributes[0].key, "http.protocol");
    assert_eq!(
        span.attributes[0].value,
        AnyValue::String("HTTP/1.1".into())
    );
    assert_eq!(span.status.code, 0);
    assert_eq!(scope_spans.spans[1].name, "ingress");
    assert_eq!(scope_spans.spans[1].attributes.len(), 16);
}

#[test]
fn traces_jsonl_values() {
    let body = fixture("traces.jsonl");
    let request = TracesRequest::decode_jsonl(&body).unwrap();
    let span = &request.resource_spans[18].scope_spans[0].spans[0];
    assert_eq!(hex(&span.trace_id), "2811353e9fd1dcc820c114799d1fb8ce");
    assert_eq!(hex(&span.span_id), "f21435685fb4be30");
    assert_eq!(span.name, "api-gateway.execute");
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events[0].name, "validation");
    assert_eq!(span.events[0].time_unix_nano, 1_760_738_082_845_680_000);
}

#[test]
fn log_fixture_values() {
    let body = fixture("log.json");
    let request = LogsRequest::decode_json(&body).unwrap();
    let resource_logs = &request.resource_logs[0];
    let service = resource_logs
        .resource
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
        .unwrap();
    assert_eq!(service.value, AnyValue::String("frontend-proxy".into()));
    let record = &resource_logs.scope_logs[0].log_records[0];
    assert_eq!(record.time_unix_nano, 1_760_741_572_254_301_000);
    assert_eq!(record.severity_number, 9, "SEVERITY_NUMBER_INFO");
    assert_eq!(record.severity_text, "INFO");
    assert_eq!(record.flags, 1);
    assert_eq!(hex(&record.trace_id), "9d79b1a37f31801cd11a6706fb40d6bd");
    assert_eq!(hex(&record.span_id), "57526846903bb13e");
    let AnyValue::String(text) = &record.body else {
        panic!("body is {:?}", record.body)
    };
    assert!(
        text.starts_with("[2025-10-17T22:52:52.254Z] \"GET /api/products/"),
        "{text}"
    );
    // The body has escaped quotes, so it had to be unescaped into an owned string.
    assert!(matches!(text, Cow::Owned(_)));
    assert!(matches!(service.key, Cow::Borrowed(_)));

    let lines = fixture("logs.jsonl");
    let request = LogsRequest::decode_jsonl(&lines).unwrap();
    let first = &request.resource_logs[0];
    assert_eq!(first.scope_logs[0].scope.name, "product-catalog");
    let record = &first.scope_logs[0].log_records[0];
    assert_eq!(record.body, AnyValue::String("Product Found".into()));
    assert_eq!(hex(&record.trace_id), "a71f3d1a6d2d3cadb3669cbd50e165e4");
    assert_eq!(hex(&record.span_id), "34249d8b829f4116");
}

#[test]
fn metric_fixture_values() {
    let body = fixture("metrics_gauge.json");
    let request = MetricsRequest::decode_json(&body).unwrap();
    let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(metrics[0].name, "cpu.usage");
    let MetricData::Gauge(gauge) = &metrics[0].data else {
        panic!("{:?}", metrics[0].data)
    };
    assert_eq!(
        gauge.data_points[0].value,
        NumberValue::Double(67.957_009_884_341_29)
    );
    assert_eq!(
        gauge.data_points[0].time_unix_nano,
        1_705_327_800_000_000_000
    );
    let MetricData::Gauge(gauge) = &metrics[1].data else {
        panic!("{:?}", metrics[1].data)
    };
    assert_eq!(gauge.data_points[0].value, NumberValue::Int(8_589_934_592));

    let body = fixture("metrics_sum.json");
    let request = MetricsRequest::decode_json(&body).unwrap();
    let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
    let MetricData::Sum(sum) = &metric.data else {
        panic!("{:?}", metric.data)
    };
    assert_eq!(metric.name, "http.requests.total");
    assert_eq!(sum.aggregation_temporality, 2, "CUMULATIVE");
    assert!(sum.is_monotonic);
    assert_eq!(sum.data_points[0].value, NumberValue::Int(15234));

    let body = fixture("metrics_histogram.json");
    let request = MetricsRequest::decode_json(&body).unwrap();
    let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
    let MetricData::Histogram(h) = &metric.data else {
        panic!("{:?}", metric.data)
    };
    let p = &h.data_points[0];
    assert_eq!(h.aggregation_temporality, 2);
    assert_eq!(p.count, 1543);
    assert_eq!(p.sum, Some(45120.5));
    assert_eq!(p.bucket_counts, [23, 342, 687, 398, 78, 15]);
    assert_eq!(p.explicit_bounds, [10.0, 25.0, 50.0, 100.0, 250.0]);
    assert_eq!((p.min, p.max), (Some(2.3), Some(421.8)));

    let body = fixture("metrics_exponential_histogram.json");
    let request = MetricsRequest::decode_json(&body).unwrap();
    let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
    let MetricData::ExponentialHistogram(h) = &metric.data else {
        panic!("{:?}", metric.data)
    };
    let p = &h.data_points[0];
    assert_eq!(
        (p.count, p.sum, p.scale, p.zero_count),
        (2543, Some(125_634.5), 3, 5)
    );
    assert_eq!(p.positive.offset, 2);
    assert_eq!(p.positive.bucket_counts, [234, 567, 892, 645, 178, 22]);
    assert_eq!(p.negative, otlp2parquet_proto::Buckets::default());
    assert_eq!((p.min, p.max), (Some(12.3), Some(1234.5)));
    assert_eq!(p.attributes[0].key, "payment.method");

    let body = fixture("metrics_summary.json");
    let request = MetricsRequest::decode_json(&body).unwrap();
    let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
    let MetricData::Summary(s) = &metric.data else {
        panic!("{:?}", metric.data)
    };
    let p = &s.data_points[0];
    assert_eq!((p.count, p.sum), (8534, 45_892_134.0));
    assert_eq!(p.quantile_values.len(), 6);
    assert_eq!(
        (p.quantile_values[0].quantile, p.quantile_values[0].value),
        (0.0, 128.0)
    );
    assert_eq!(
        (p.quantile_values[5].quantile, p.quantile_values[5].value),
        (1.0, 98234.0)
    );
}

#[test]
fn invalid_fixtures_are_errors_that_name_the_problem() {
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "log_invalid_severity.json",
            "logs",
            &[
                "logRecords[0].severityNumber",
                "INVALID_SEVERITY_VALUE",
                "SeverityNumber",
            ],
        ),
        ("malformed.json", "logs", &["invalid JSON", "line 21"]),
        (
            "metrics_invalid_temporality.json",
            "metrics",
            &["sum.aggregationTemporality", "INVALID_TEMPORALITY_VALUE"],
        ),
        (
            "trace_invalid_base64.json",
            "traces",
            &["spans[0].traceId", "!!!INVALID_BASE64!!!", "32 hex chars"],
        ),
        (
            "trace_invalid_kind.json",
            "traces",
            &["spans[0].kind", "SPAN_KIND_INVALID_TYPE"],
        ),
        (
            "trace_mixed_encoding.json",
            "traces",
            &[
                "resourceSpans[0].scopeSpans[0].spans[0].traceId: \"zzz\" is neither 32 hex chars \
                 nor base64 of 16 bytes (line 21 column",
            ],
        ),
    ];
    for (name, signal, parts) in cases {
        let body = fixture(&format!("invalid/{name}"));
        let err = match signal {
            "logs" => LogsRequest::decode_json(&body).map(|_| ()),
            "traces" => TracesRequest::decode_json(&body).map(|_| ()),
            _ => MetricsRequest::decode_json(&body).map(|_| ()),
        }
        .expect_err(name);
        assert_contains(err.message(), parts);
    }
}

// ------------------------------------------------------------------------------------------
// Spellings the mapping allows
// ------------------------------------------------------------------------------------------

#[test]
fn hex_base64_and_url_safe_ids_decode_alike() {
    // 0xfb 0xef 0xff … has base64 digits that differ between the alphabets (+/ vs -_).
    let want_trace = "fbefff3d1a6d2d3cadb3669cbd50e165";
    let want_span = "fbefff8b829f4116";
    let trace_spellings = [
        want_trace.to_owned(),
        want_trace.to_uppercase(),
        "++//PRptLTyts2acvVDhZQ==".to_owned(),
        "++//PRptLTyts2acvVDhZQ".to_owned(),
        "--__PRptLTyts2acvVDhZQ==".to_owned(),
        "--__PRptLTyts2acvVDhZQ".to_owned(),
    ];
    let span_spellings = [
        "fbefff8b829f4116",
        "FBEFFF8B829F4116",
        "++//i4KfQRY=",
        "--__i4KfQRY",
    ];
    for t in &trace_spellings {
        for s in span_spellings {
            let doc = span_doc(&format!(
                r#"{{"traceId":"{t}","spanId":"{s}","parentSpanId":"{s}",
                   "links":[{{"traceId":"{t}","spanId":"{s}"}}]}}"#
            ));
            let request = traces(doc).unwrap();
            let span = &request.resource_spans[0].scope_spans[0].spans[0];
            assert_eq!(hex(&span.trace_id), want_trace, "{t}");
            assert_eq!(hex(&span.span_id), want_span, "{s}");
            assert_eq!(hex(&span.parent_span_id), want_span, "{s}");
            assert_eq!(hex(&span.links[0].trace_id), want_trace, "{t}");
            assert_eq!(hex(&span.links[0].span_id), want_span, "{s}");

            let doc = log_doc(&format!(r#"{{"traceId":"{t}","spanId":"{s}"}}"#));
            let request = logs(doc).unwrap();
            let record = &request.resource_logs[0].scope_logs[0].log_records[0];
            assert_eq!(
                (hex(&record.trace_id), hex(&record.span_id)),
                (want_trace.into(), want_span.into())
            );

            let doc = metric_doc(&format!(
                r#"{{"gauge":{{"dataPoints":[{{"exemplars":[{{"traceId":"{t}","spanId":"{s}"}}]}}]}}}}"#
            ));
            let request = metrics(doc).unwrap();
            let MetricData::Gauge(g) =
                &request.resource_metrics[0].scope_metrics[0].metrics[0].data
            else {
                panic!()
            };
            let exemplar = &g.data_points[0].exemplars[0];
            assert_eq!(
                (hex(&exemplar.trace_id), hex(&exemplar.span_id)),
                (want_trace.into(), want_span.into())
            );
        }
    }
}

#[test]
fn empty_and_all_zero_ids_are_absent() {
    for t in [
        "",
        "00000000000000000000000000000000",
        "AAAAAAAAAAAAAAAAAAAAAA==",
        "AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let doc = span_doc(&format!(
            r#"{{"traceId":"{t}","spanId":"AAAAAAAAAAA","parentSpanId":null}}"#
        ));
        let request = traces(doc).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(
            (span.trace_id, span.span_id, span.parent_span_id),
            ([0; 16], [0; 8], [0; 8]),
            "{t}"
        );
    }
}

#[test]
fn ids_of_the_wrong_length_or_alphabet_are_errors() {
    let cases = [
        ("traceId", "9d79b1a37f31801cd11a6706fb40d6", "32 hex chars"), // 30 hex chars
        (
            "traceId",
            "9d79b1a37f31801cd11a6706fb40d6bd00",
            "32 hex chars",
        ), // 34
        ("traceId", "nXmxo38xgBzRGmcG+0DW", "base64 of 16 bytes"),     // 15 bytes
        ("traceId", "nXmxo38xgBzRGmcG+0DWvQ===", "base64 of 16 bytes"), // 3 pads
        ("spanId", "de562439e9c1b8", "16 hex chars"),
        ("spanId", "3lYkOenBuCM=AA", "base64 of 8 bytes"),
        ("spanId", "3lYkOenBuC M=", "base64 of 8 bytes"),
        ("spanId", "xyz", "\"xyz\""),
        ("parentSpanId", "zzzzzzzzzzzzzzzz", "parentSpanId"), // hex length, not hex, base64 of 12
    ];
    for (field, value, part) in cases {
        let doc = span_doc(&format!(r#"{{"{field}":"{value}"}}"#));
        let err = error(traces(doc));
        assert_contains(&err, &[&format!("spans[0].{field}: "), part]);
    }
    let err = error(traces(span_doc(r#"{"traceId":16}"#)));
    assert_contains(
        &err,
        &[
            "spans[0].traceId",
            "expected a hex or base64 id string, got 16",
        ],
    );
}

/// Rewrites every object key of `value` from lowerCamelCase to snake_case.
fn snake_keys(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut snake = String::new();
                    for c in k.chars() {
                        if c.is_ascii_uppercase() {
                            snake.push('_');
                            snake.push(c.to_ascii_lowercase());
                        } else {
                            snake.push(c);
                        }
                    }
                    (snake, snake_keys(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(snake_keys).collect()),
        other => other,
    }
}

fn snake_case_of(json: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(json).unwrap();
    serde_json::to_string(&snake_keys(value)).unwrap()
}

/// Every field of every message, in lowerCamelCase.
const RICH_LOGS: &str = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"k","value":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"},{"bytesValue":"aGk="},{"doubleValue":1.5},{"boolValue":true}]}}}]}}}],"droppedAttributesCount":1},"schemaUrl":"r","scopeLogs":[{"scope":{"name":"n","version":"v","attributes":[],"droppedAttributesCount":2},"schemaUrl":"s","logRecords":[{"timeUnixNano":"1","observedTimeUnixNano":"2","severityNumber":"SEVERITY_NUMBER_WARN","severityText":"W","body":{"stringValue":"b"},"attributes":[{"key":"x","value":{"stringValue":"y"}}],"droppedAttributesCount":3,"flags":1,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","eventName":"e"}]}]}]}"#;
const RICH_TRACES: &str = r#"{"resourceSpans":[{"resource":{},"schemaUrl":"r","scopeSpans":[{"scope":{"name":"n"},"schemaUrl":"s","spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","traceState":"t","parentSpanId":"eee19b7ec3c1b175","flags":256,"name":"n","kind":"SPAN_KIND_SERVER","startTimeUnixNano":"10","endTimeUnixNano":"20","attributes":[],"droppedAttributesCount":1,"events":[{"timeUnixNano":"15","name":"ev","attributes":[{"key":"a","value":{"intValue":5}}],"droppedAttributesCount":2}],"droppedEventsCount":3,"links":[{"traceId":"5b8efff798038103d269b633813fc60d","spanId":"eee19b7ec3c1b176","traceState":"lt","attributes":[],"droppedAttributesCount":4,"flags":1}],"droppedLinksCount":5,"status":{"message":"m","code":"STATUS_CODE_ERROR"}}]}]}]}"#;
const RICH_METRICS: &str = r#"{"resourceMetrics":[{"resource":{},"schemaUrl":"r","scopeMetrics":[{"scope":{},"schemaUrl":"s","metrics":[
 {"name":"g","description":"d","unit":"u","metadata":[{"key":"m","value":{"stringValue":"v"}}],"gauge":{"dataPoints":[{"attributes":[],"startTimeUnixNano":"1","timeUnixNano":"2","asDouble":1.5,"flags":1,"exemplars":[{"filteredAttributes":[{"key":"f","value":{"intValue":"1"}}],"timeUnixNano":"3","asInt":"7","spanId":"eee19b7ec3c1b174","traceId":"5b8efff798038103d269b633813fc60c"}]}]}},
 {"name":"s","sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA","isMonotonic":true,"dataPoints":[{"asInt":"-4"}]}},
 {"name":"h","histogram":{"aggregationTemporality":2,"dataPoints":[{"count":"3","sum":6.5,"bucketCounts":["1","2"],"explicitBounds":[1.0],"min":0.5,"max":4,"flags":1}]}},
 {"name":"e","exponentialHistogram":{"aggregationTemporality":1,"dataPoints":[{"count":"3","sum":1,"scale":-2,"zeroCount":"1","zeroThreshold":0.001,"positive":{"offset":-1,"bucketCounts":["1","1"]},"negative":{"offset":3,"bucketCounts":["0"]},"min":-1,"max":2}]}},
 {"name":"q","summary":{"dataPoints":[{"count":"2","sum":3.5,"quantileValues":[{"quantile":0.5,"value":1.5}]}]}}
]}]}]}"#;

#[test]
fn snake_case_keys_decode_like_camel_case() {
    let snake = snake_case_of(RICH_LOGS.as_bytes());
    assert!(snake.contains("\"observed_time_unix_nano\""));
    assert_eq!(logs(&snake), logs(RICH_LOGS));
    let snake = snake_case_of(RICH_TRACES.as_bytes());
    assert!(snake.contains("\"dropped_links_count\""));
    assert_eq!(traces(&snake), traces(RICH_TRACES));
    let snake = snake_case_of(RICH_METRICS.as_bytes());
    assert!(snake.contains("\"exponential_histogram\""));
    assert_eq!(metrics(&snake), metrics(RICH_METRICS));
    for name in [
        "log.json",
        "trace.json",
        "metrics_mixed.json",
        "metrics_exponential_histogram.json",
    ] {
        let body = fixture(name);
        let snake = snake_case_of(&body);
        match name {
            "log.json" => assert_eq!(
                logs(&snake).unwrap(),
                LogsRequest::decode_json(&body).unwrap()
            ),
            "trace.json" => assert_eq!(
                traces(&snake).unwrap(),
                TracesRequest::decode_json(&body).unwrap()
            ),
            _ => assert_eq!(
                metrics(&snake).unwrap(),
                MetricsRequest::decode_json(&body).unwrap()
            ),
        }
    }
}

#[test]
fn rich_requests_decode_every_field() {
    let request = logs(RICH_LOGS).unwrap();
    let rl = &request.resource_logs[0];
    assert_eq!(
        (rl.resource.dropped_attributes_count, &*rl.schema_url),
        (1, "r")
    );
    let AnyValue::KvList(kv) = &rl.resource.attributes[0].value else {
        panic!()
    };
    assert_eq!(
        kv[0].value,
        AnyValue::Array(vec![
            AnyValue::Int(1),
            AnyValue::Bytes(Cow::Borrowed(b"hi")),
            AnyValue::Double(1.5),
            AnyValue::Bool(true)
        ])
    );
    let sl = &rl.scope_logs[0];
    assert_eq!(
        (
            &*sl.scope.name,
            &*sl.scope.version,
            sl.scope.dropped_attributes_count,
            &*sl.schema_url
        ),
        ("n", "v", 2, "s")
    );
    let r = &sl.log_records[0];
    assert_eq!(
        (
            r.time_unix_nano,
            r.observed_time_unix_nano,
            r.severity_number
        ),
        (1, 2, 13)
    );
    assert_eq!(
        (
            &*r.severity_text,
            r.dropped_attributes_count,
            r.flags,
            &*r.event_name
        ),
        ("W", 3, 1, "e")
    );
    assert_eq!(hex(&r.trace_id), "5b8efff798038103d269b633813fc60c");

    let request = traces(RICH_TRACES).unwrap();
    let s = &request.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(
        (
            &*s.trace_state,
            s.flags,
            s.kind,
            s.start_time_unix_nano,
            s.end_time_unix_nano
        ),
        ("t", 256, 2, 10, 20)
    );
    assert_eq!(
        (
            s.dropped_attributes_count,
            s.dropped_events_count,
            s.dropped_links_count
        ),
        (1, 3, 5)
    );
    assert_eq!(
        (
            s.events[0].time_unix_nano,
            &*s.events[0].name,
            s.events[0].dropped_attributes_count
        ),
        (15, "ev", 2)
    );
    assert_eq!(s.events[0].attributes[0].value, AnyValue::Int(5));
    let l = &s.links[0];
    assert_eq!(
        (
            hex(&l.span_id),
            &*l.trace_state,
            l.dropped_attributes_count,
            l.flags
        ),
        ("eee19b7ec3c1b176".into(), "lt", 4, 1)
    );
    assert_eq!((&*s.status.message, s.status.code), ("m", 2));

    let request = metrics(RICH_METRICS).unwrap();
    let m = &request.resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(
        (&*m[0].description, &*m[0].unit, m[0].metadata.len()),
        ("d", "u", 1)
    );
    let MetricData::Gauge(g) = &m[0].data else {
        panic!()
    };
    let p = &g.data_points[0];
    assert_eq!(
        (p.start_time_unix_nano, p.time_unix_nano, p.value, p.flags),
        (1, 2, NumberValue::Double(1.5), 1)
    );
    assert_eq!(
        (p.exemplars[0].time_unix_nano, p.exemplars[0].value),
        (3, NumberValue::Int(7))
    );
    assert_eq!(
        p.exemplars[0].filtered_attributes[0].value,
        AnyValue::Int(1)
    );
    let MetricData::Sum(s) = &m[1].data else {
        panic!()
    };
    assert_eq!(
        (
            s.aggregation_temporality,
            s.is_monotonic,
            s.data_points[0].value
        ),
        (1, true, NumberValue::Int(-4))
    );
    let MetricData::Histogram(h) = &m[2].data else {
        panic!()
    };
    assert_eq!(
        (h.data_points[0].max, h.data_points[0].flags),
        (Some(4.0), 1)
    );
    let MetricData::ExponentialHistogram(e) = &m[3].data else {
        panic!()
    };
    let p = &e.data_points[0];
    assert_eq!(
        (
            p.scale,
            p.zero_threshold,
            p.positive.offset,
            p.negative.offset
        ),
        (-2, 0.001, -1, 3)
    );
    assert_eq!((p.sum, p.min, p.max), (Some(1.0), Some(-1.0), Some(2.0)));
    let MetricData::Summary(q) = &m[4].data else {
        panic!()
    };
    assert_eq!(q.data_points[0].quantile_values[0].value, 1.5);
    assert_eq!(request.record_count(), 5);
}

#[test]
fn integers_as_numbers_or_strings_decode_alike() {
    let want = logs(log_doc(
        r#"{"timeUnixNano":"1500000000000000000","flags":"7","droppedAttributesCount":"3"}"#,
    ))
    .unwrap();
    for spelling in [
        r#"{"timeUnixNano":1500000000000000000,"flags":7,"droppedAttributesCount":3}"#,
        r#"{"timeUnixNano":1.5e18,"flags":7.0,"droppedAttributesCount":0.3e1}"#,
        r#"{"timeUnixNano":"0001500000000000000000","flags":"007","droppedAttributesCount":"3"}"#,
    ] {
        assert_eq!(logs(log_doc(spelling)).unwrap(), want, "{spelling}");
    }
    assert_eq!(
        want.resource_logs[0].scope_logs[0].log_records[0].time_unix_nano,
        1_500_000_000_000_000_000
    );

    let max = logs(log_doc(r#"{"timeUnixNano":"18446744073709551615"}"#)).unwrap();
    assert_eq!(
        max.resource_logs[0].scope_logs[0].log_records[0].time_unix_nano,
        u64::MAX
    );
    assert_eq!(
        only_body(body(r#"{"intValue":"-9223372036854775808"}"#)),
        Ok(AnyValue::Int(i64::MIN))
    );
    assert_eq!(
        only_body(body(r#"{"intValue":-42}"#)),
        Ok(AnyValue::Int(-42))
    );
    assert_eq!(
        only_body(body(r#"{"intValue":"-42"}"#)),
        Ok(AnyValue::Int(-42))
    );
}

#[test]
fn integers_out_of_range_or_not_integral_are_errors() {
    let cases = [
        (
            log_doc(r#"{"timeUnixNano":"18446744073709551616"}"#),
            "timeUnixNano: 18446744073709551616 out of range",
        ),
        (
            log_doc(r#"{"timeUnixNano":18446744073709551616}"#),
            "timeUnixNano",
        ),
        (
            log_doc(r#"{"timeUnixNano":-1}"#),
            "timeUnixNano: -1 out of range",
        ),
        (
            log_doc(r#"{"timeUnixNano":"1.5"}"#),
            "timeUnixNano: not an integer: \"1.5\"",
        ),
        (
            log_doc(r#"{"timeUnixNano":1.5}"#),
            "timeUnixNano: not an integer: 1.5",
        ),
        (log_doc(r#"{"timeUnixNano":" 1"}"#), "not an integer"),
        (log_doc(r#"{"timeUnixNano":"+1"}"#), "not an integer"),
        (log_doc(r#"{"timeUnixNano":"0x10"}"#), "not an integer"),
        (log_doc(r#"{"timeUnixNano":""}"#), "not an integer"),
        (
            log_doc(r#"{"timeUnixNano":true}"#),
            "timeUnixNano: expected an integer, got true",
        ),
        (
            log_doc(r#"{"flags":4294967296}"#),
            "flags: 4294967296 out of range",
        ),
        (log_doc(r#"{"flags":"-1"}"#), "flags: -1 out of range"),
        (
            body(r#"{"intValue":"9223372036854775808"}"#),
            "body.intValue: 9223372036854775808 out of range",
        ),
        (body(r#"{"intValue":1e19}"#), "out of range"),
        (
            metric_doc(r#"{"exponentialHistogram":{"dataPoints":[{"scale":2147483648}]}}"#),
            "dataPoints[0].scale: 2147483648 out of range",
        ),
    ];
    for (doc, part) in cases {
        let err = match doc.contains("resourceMetrics") {
            true => error(metrics(doc)),
            false => error(logs(doc)),
        };
        assert_contains(&err, &[part]);
    }
}

#[test]
fn enums_as_names_or_numbers_decode_alike() {
    for (name, number) in [
        ("SEVERITY_NUMBER_UNSPECIFIED", 0),
        ("SEVERITY_NUMBER_TRACE", 1),
        ("SEVERITY_NUMBER_INFO2", 10),
        ("SEVERITY_NUMBER_FATAL4", 24),
    ] {
        let by_name = logs(log_doc(&format!(r#"{{"severityNumber":"{name}"}}"#))).unwrap();
        let by_number = logs(log_doc(&format!(r#"{{"severityNumber":{number}}}"#))).unwrap();
        let by_string = logs(log_doc(&format!(r#"{{"severityNumber":"{number}"}}"#))).unwrap();
        assert_eq!(by_name, by_number, "{name}");
        assert_eq!(by_name, by_string, "{name}");
        assert_eq!(
            by_name.resource_logs[0].scope_logs[0].log_records[0].severity_number,
            number
        );
    }
    for (name, number) in [("SPAN_KIND_INTERNAL", 1), ("SPAN_KIND_CONSUMER", 5)] {
        let by_name = traces(span_doc(&format!(
            r#"{{"kind":"{name}","status":{{"code":"STATUS_CODE_OK"}}}}"#
        )))
        .unwrap();
        let by_number = traces(span_doc(&format!(
            r#"{{"kind":{number},"status":{{"code":1}}}}"#
        )))
        .unwrap();
        assert_eq!(by_name, by_number, "{name}");
        assert_eq!(
            by_name.resource_spans[0].scope_spans[0].spans[0].kind,
            number
        );
    }
    let by_name = metrics(metric_doc(
        r#"{"sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE"}}"#,
    ))
    .unwrap();
    let by_number = metrics(metric_doc(r#"{"sum":{"aggregationTemporality":2}}"#)).unwrap();
    assert_eq!(by_name, by_number);
    // Protobuf enums are open: a number outside the enum is kept as it is.
    let other = traces(span_doc(r#"{"kind":"42"}"#)).unwrap();
    assert_eq!(other.resource_spans[0].scope_spans[0].spans[0].kind, 42);
}

#[test]
fn unknown_enum_names_are_errors() {
    let err = error(logs(log_doc(
        r#"{"severityNumber":"SEVERITY_NUMBER_info"}"#,
    )));
    assert_contains(
        &err,
        &["severityNumber: unknown SeverityNumber name \"SEVERITY_NUMBER_info\""],
    );
    let err = error(traces(span_doc(r#"{"status":{"code":"OK"}}"#)));
    assert_contains(
        &err,
        &["spans[0].status.code: unknown StatusCode name \"OK\""],
    );
    let err = error(traces(span_doc(r#"{"kind":"2147483648"}"#)));
    assert_contains(&err, &["kind: 2147483648 out of range"]);
    let err = error(traces(span_doc(r#"{"kind":true}"#)));
    assert_contains(&err, &["kind: expected an enum name or number, got true"]);
}

#[test]
fn doubles_take_numbers_and_special_strings() {
    let point = |value: &str| {
        let doc = metric_doc(&format!(
            r#"{{"gauge":{{"dataPoints":[{{"asDouble":{value}}}]}}}}"#
        ));
        metrics(doc).map(|r| {
            let MetricData::Gauge(g) = &r.resource_metrics[0].scope_metrics[0].metrics[0].data
            else {
                panic!()
            };
            g.data_points[0].value
        })
    };
    assert_eq!(point("1.5"), Ok(NumberValue::Double(1.5)));
    assert_eq!(point("\"1.5\""), Ok(NumberValue::Double(1.5)));
    assert_eq!(point("\"-.5e1\""), Ok(NumberValue::Double(-5.0)));
    assert_eq!(point("3"), Ok(NumberValue::Double(3.0)));
    assert_eq!(
        point("\"Infinity\""),
        Ok(NumberValue::Double(f64::INFINITY))
    );
    assert_eq!(
        point("\"-Infinity\""),
        Ok(NumberValue::Double(f64::NEG_INFINITY))
    );
    assert!(matches!(point("\"NaN\""), Ok(NumberValue::Double(d)) if d.is_nan()));
    assert_eq!(point("0.1"), Ok(NumberValue::Double(0.1)));
    assert_eq!(point("null"), Ok(NumberValue::None));
    assert_contains(
        &point("\"nan\"").unwrap_err(),
        &["dataPoints[0].asDouble: not a number: \"nan\""],
    );
    assert_contains(&point("\"1,5\"").unwrap_err(), &["not a number: \"1,5\""]);
    assert_contains(
        &point("false").unwrap_err(),
        &["asDouble: expected a number, got false"],
    );
    assert_contains(&point("NaN").unwrap_err(), &["invalid JSON"]);
}

#[test]
fn null_members_decode_like_absent_ones() {
    let nulls = log_doc(
        r#"{"timeUnixNano":null,"observedTimeUnixNano":null,"severityNumber":null,"severityText":null,
            "body":null,"attributes":null,"droppedAttributesCount":null,"flags":null,"traceId":null,
            "spanId":null,"eventName":null}"#,
    );
    assert_eq!(logs(nulls), logs(log_doc("{}")));
    let nulls = r#"{"resourceLogs":[{"resource":null,"scopeLogs":null,"schemaUrl":null}]}"#;
    assert_eq!(logs(nulls), logs(r#"{"resourceLogs":[{}]}"#));
    assert_eq!(logs(r#"{"resourceLogs":null}"#), Ok(LogsRequest::default()));
    assert_eq!(
        logs(r#"{"resourceLogs":[null]}"#),
        logs(r#"{"resourceLogs":[{}]}"#)
    );
    let nulls = span_doc(
        r#"{"traceId":null,"spanId":null,"traceState":null,"parentSpanId":null,"flags":null,"name":null,
            "kind":null,"startTimeUnixNano":null,"endTimeUnixNano":null,"attributes":null,"events":null,
            "links":null,"status":null,"droppedEventsCount":null}"#,
    );
    assert_eq!(traces(nulls), traces(span_doc("{}")));
    let nulls = metric_doc(
        r#"{"name":null,"gauge":null,"sum":null,"histogram":{"dataPoints":[{"sum":null,"min":null,"max":null,
            "bucketCounts":[null,"2"],"explicitBounds":null}]},"summary":null,"metadata":null}"#,
    );
    let request = metrics(nulls).unwrap();
    let MetricData::Histogram(h) = &request.resource_metrics[0].scope_metrics[0].metrics[0].data
    else {
        panic!()
    };
    let p = &h.data_points[0];
    assert_eq!((p.sum, p.min, p.max), (None, None, None));
    assert_eq!(p.bucket_counts, [0, 2]);
    // A null AnyValue member is absent, so it does not count as a second value.
    assert_eq!(
        only_body(body(r#"{"stringValue":"s","intValue":null}"#)),
        Ok(AnyValue::String("s".into()))
    );
}

#[test]
fn histogram_sum_min_max_are_optional() {
    let doc =
        metric_doc(r#"{"histogram":{"dataPoints":[{"count":"1"},{"sum":0,"min":0,"max":0}]}}"#);
    let request = metrics(doc).unwrap();
    let MetricData::Histogram(h) = &request.resource_metrics[0].scope_metrics[0].metrics[0].data
    else {
        panic!()
    };
    assert_eq!(
        (
            h.data_points[0].sum,
            h.data_points[0].min,
            h.data_points[0].max
        ),
        (None, None, None)
    );
    assert_eq!(
        (
            h.data_points[1].sum,
            h.data_points[1].min,
            h.data_points[1].max
        ),
        (Some(0.0), Some(0.0), Some(0.0))
    );
    let doc = metric_doc(r#"{"exponentialHistogram":{"dataPoints":[{"count":"1"}]}}"#);
    let request = metrics(doc).unwrap();
    let MetricData::ExponentialHistogram(h) =
        &request.resource_metrics[0].scope_metrics[0].metrics[0].data
    else {
        panic!()
    };
    assert_eq!(
        (
            h.data_points[0].sum,
            h.data_points[0].min,
            h.data_points[0].max
        ),
        (None, None, None)
    );
}

// ------------------------------------------------------------------------------------------
// AnyValue and oneofs
// ------------------------------------------------------------------------------------------

#[test]
fn any_value_kinds() {
    let cases = [
        (r#"{"stringValue":"s"}"#, AnyValue::String("s".into())),
        (r#"{"stringValue":""}"#, AnyValue::String("".into())),
        (r#"{"boolValue":false}"#, AnyValue::Bool(false)),
        (r#"{"intValue":"12"}"#, AnyValue::Int(12)),
        (
            r#"{"doubleValue":"-Infinity"}"#,
            AnyValue::Double(f64::NEG_INFINITY),
        ),
        (
            r#"{"bytesValue":"AAEC/w=="}"#,
            AnyValue::Bytes(Cow::Borrowed(&[0, 1, 2, 255])),
        ),
        (
            r#"{"bytesValue":"AAEC_w"}"#,
            AnyValue::Bytes(Cow::Borrowed(&[0, 1, 2, 255])),
        ),
        (r#"{"bytesValue":""}"#, AnyValue::Bytes(Cow::Borrowed(&[]))),
        (r#"{"arrayValue":{}}"#, AnyValue::Array(vec![])),
        (
            r#"{"arrayValue":{"values":[null,{}]}}"#,
            AnyValue::Array(vec![AnyValue::Empty, AnyValue::Empty]),
        ),
        (
            r#"{"kvlistValue":{"values":[{"key":"a","value":{"kvlistValue":{"values":[{"key":"b"}]}}}]}}"#,
            AnyValue::KvList(vec![otlp2parquet_proto::KeyValue {
                key: "a".into(),
                value: AnyValue::KvList(vec![otlp2parquet_proto::KeyValue {
                    key: "b".into(),
                    value: AnyValue::Empty,
                }]),
            }]),
        ),
        ("{}", AnyValue::Empty),
        ("null", AnyValue::Empty),
        (r#"{"unknownValue":1}"#, AnyValue::Empty),
    ];
    for (json, want) in cases {
        assert_eq!(only_body(body(json)), Ok(want), "{json}");
    }
}

#[test]
fn any_value_errors() {
    let cases = [
        (
            r#"{"stringValue":"s","intValue":1}"#,
            "body: AnyValue with more than one value: stringValue, intValue",
        ),
        (
            r#"{"boolValue":false,"bytes_value":""}"#,
            "more than one value: boolValue, bytesValue",
        ),
        (
            r#"{"stringValue":5}"#,
            "body.stringValue: expected a string, got 5",
        ),
        (
            r#"{"boolValue":"true"}"#,
            "body.boolValue: expected true or false, got \"true\"",
        ),
        (
            r#"{"bytesValue":"a=b"}"#,
            "body.bytesValue: not base64: \"a=b\"",
        ),
        (r#"{"bytesValue":"abcde"}"#, "not base64"),
        (
            r#"{"arrayValue":[]}"#,
            "body.arrayValue: expected an object, got an array",
        ),
        (
            r#"{"arrayValue":{"values":[1]}}"#,
            "body.arrayValue.values[0]: expected an object, got 1",
        ),
        (
            r#"{"kvlistValue":{"values":[{"key":1}]}}"#,
            "kvlistValue.values[0].key: expected a string",
        ),
        ("\"text\"", "body: expected an object, got \"text\""),
    ];
    for (json, part) in cases {
        assert_contains(&error(only_body(body(json))), &[part]);
    }
}

#[test]
fn metric_data_and_number_value_are_oneofs() {
    let err = error(metrics(metric_doc(r#"{"name":"m","gauge":{},"sum":{}}"#)));
    assert_contains(&err, &["metrics[0]: more than one data field: gauge, sum"]);
    let err = error(metrics(metric_doc(
        r#"{"gauge":{"dataPoints":[{"asInt":"1","asDouble":1}]}}"#,
    )));
    assert_contains(&err, &["gauge.dataPoints[0]: both asInt and asDouble"]);
    let err = error(metrics(metric_doc(
        r#"{"sum":{"dataPoints":[{"exemplars":[{"as_int":1,"as_double":2}]}]}}"#,
    )));
    assert_contains(
        &err,
        &["dataPoints[0].exemplars[0]: both asInt and asDouble"],
    );

    // A null member does not count; a metric without data has no points.
    let request = metrics(metric_doc(r#"{"name":"m","gauge":null,"sum":{}}"#)).unwrap();
    assert!(matches!(
        request.resource_metrics[0].scope_metrics[0].metrics[0].data,
        MetricData::Sum(_)
    ));
    let request = metrics(metric_doc(r#"{"name":"m"}"#)).unwrap();
    assert_eq!(
        request.resource_metrics[0].scope_metrics[0].metrics[0].data,
        MetricData::None
    );
    assert_eq!(request.record_count(), 0);
}

// ------------------------------------------------------------------------------------------
// Structure, keys, borrowing
// ------------------------------------------------------------------------------------------

#[test]
fn wrong_json_types_are_errors_naming_the_path() {
    let cases = [
        (
            r#"{"resourceLogs":5}"#,
            "resourceLogs: expected an array, got 5 (line 1 column 17)",
        ),
        (
            r#"{"resourceLogs":{}}"#,
            "resourceLogs: expected an array, got an object",
        ),
        (
            r#"{"resourceLogs":["x"]}"#,
            "resourceLogs[0]: expected an object, got \"x\"",
        ),
        (
            r#"{"resourceLogs":[{"resource":"x"}]}"#,
            "resourceLogs[0].resource: expected an object",
        ),
        (
            r#"{"resourceLogs":[{"scopeLogs":[{"scope":[]}]}]}"#,
            "resourceLogs[0].scopeLogs[0].scope: expected an object, got an array",
        ),
        (
            r#"{"resourceLogs":[{"schemaUrl":1.5}]}"#,
            "resourceLogs[0].schemaUrl: expected a string, got 1.5",
        ),
        (
            log_doc(r#"{"attributes":{}}"#),
            "logRecords[0].attributes: expected an array",
        ),
        (
            log_doc(r#"{"attributes":[{"key":"k","value":"v"}]}"#),
            "attributes[0].value: expected an object, got \"v\"",
        ),
        (
            log_doc(r#"{"severityText":false}"#),
            "severityText: expected a string, got false",
        ),
        (
            log_doc(r#"{"timeUnixNano":{}}"#),
            "timeUnixNano: expected an integer, got an object",
        ),
        (
            log_doc(r#"{"timeUnixNano":[]}"#),
            "timeUnixNano: expected an integer, got an array",
        ),
    ];
    for (doc, part) in cases {
        assert_contains(&error(logs(doc)), &[part]);
    }
    let err = error(metrics(metric_doc(
        r#"{"histogram":{"dataPoints":[{"bucketCounts":["1",{}]}]}}"#,
    )));
    assert_contains(
        &err,
        &["dataPoints[0].bucketCounts[1]: expected an integer, got an object"],
    );
    let err = error(metrics(metric_doc(r#"{"sum":{"isMonotonic":"yes"}}"#)));
    assert_contains(
        &err,
        &["metrics[0].sum.isMonotonic: expected true or false, got \"yes\""],
    );
    let err = error(traces(span_doc(r#"{"events":[{"name":[]}]}"#)));
    assert_contains(
        &err,
        &["spans[0].events[0].name: expected a string, got an array"],
    );
}

#[test]
fn the_body_must_be_one_utf8_json_object() {
    assert_contains(&error(logs("")), &["invalid JSON", "EOF"]);
    assert_contains(
        &error(logs("[]")),
        &["request must be a JSON object, got an array"],
    );
    assert_contains(
        &error(logs("null")),
        &["request must be a JSON object, got null"],
    );
    assert_contains(
        &error(logs("\"x\"")),
        &["request must be a JSON object, got \"x\""],
    );
    assert_contains(
        &error(logs("{} {}")),
        &["invalid JSON", "trailing characters"],
    );
    assert_contains(
        &error(logs("{\"resourceLogs\":[],}")),
        &["invalid JSON", "trailing comma"],
    );
    assert_contains(&error(logs("\u{feff}{}")), &["invalid JSON"]);
    let err = LogsRequest::decode_json(b"{\"x\":\"\xff\"}").unwrap_err();
    assert_contains(err.message(), &["not UTF-8", "offset 6"]);
    assert_contains(
        &error(logs(r#"{"resourceLogs":[{"schemaUrl":"\ud800x"}]}"#)),
        &["invalid JSON", "escape"],
    );
    assert_eq!(logs(" {} \n"), Ok(LogsRequest::default()));
    assert_eq!(traces("{}"), Ok(TracesRequest::default()));
    assert_eq!(
        metrics("{\"resourceLogs\":5}"),
        Ok(MetricsRequest::default()),
        "unknown key"
    );
}

#[test]
fn unknown_keys_are_ignored_whatever_they_hold() {
    let doc = log_doc(
        r#"{"severityText":"x","future":{"deep":[1,{"a":null}]},"\ud800":1,"unknownField":"\u0041"}"#,
    );
    let request = logs(doc).unwrap();
    assert_eq!(
        request.resource_logs[0].scope_logs[0].log_records[0].severity_text,
        "x"
    );
    assert_eq!(
        logs(r#"{"resourceLogs":[],"resourceSpans":7}"#),
        Ok(LogsRequest::default())
    );
}

#[test]
fn duplicate_keys_last_wins_and_camel_case_beats_snake_case() {
    let record = |doc: &str| {
        logs(log_doc(doc)).map(|r| {
            r.resource_logs[0].scope_logs[0].log_records[0]
                .clone()
                .time_unix_nano
        })
    };
    assert_eq!(record(r#"{"timeUnixNano":"1","timeUnixNano":"2"}"#), Ok(2));
    assert_eq!(
        record(r#"{"time_unix_nano":"1","time_unix_nano":"2"}"#),
        Ok(2)
    );
    assert_eq!(
        record(r#"{"timeUnixNano":"1","time_unix_nano":"2"}"#),
        Ok(1)
    );
    assert_eq!(
        record(r#"{"time_unix_nano":"2","timeUnixNano":"1"}"#),
        Ok(1)
    );
    // A camelCase null still wins: the member is absent.
    assert_eq!(
        record(r#"{"time_unix_nano":"2","timeUnixNano":null}"#),
        Ok(0)
    );
    // A snake_case value after its camelCase twin is skipped unread.
    assert_eq!(
        record(r#"{"timeUnixNano":"1","time_unix_nano":{"junk":true}}"#),
        Ok(1)
    );
    // Oneofs count members after duplicates are resolved.
    assert_eq!(
        only_body(body(r#"{"stringValue":"a","intValue":5,"intValue":null}"#)),
        Ok(AnyValue::String("a".into()))
    );
    assert_eq!(
        only_body(body(r#"{"stringValue":"a","stringValue":"b"}"#)),
        Ok(AnyValue::String("b".into()))
    );
}

#[test]
fn strings_without_escapes_are_borrowed_from_the_body() {
    let doc = log_doc(
        r#"{"severityText":"plain","eventName":"tab\there","body":{"stringValue":"\u00e9t\u00e9"},"attributes":[{"key":"k\"q","value":{"stringValue":"v"}}]}"#,
    );
    let request = logs(doc).unwrap();
    let record = &request.resource_logs[0].scope_logs[0].log_records[0];
    assert!(matches!(record.severity_text, Cow::Borrowed("plain")));
    assert!(matches!(&record.event_name, Cow::Owned(s) if s == "tab\there"));
    assert_eq!(record.body, AnyValue::String("été".into()));
    assert!(matches!(&record.attributes[0].key, Cow::Owned(s) if s == "k\"q"));
    assert!(matches!(
        record.attributes[0].value,
        AnyValue::String(Cow::Borrowed("v"))
    ));
}

#[test]
fn jsonl_errors_name_the_line() {
    let body = format!("{}\n\n{}\n", log_doc("{}"), log_doc(r#"{"flags":"x"}"#));
    let err = LogsRequest::decode_jsonl(body.as_bytes()).unwrap_err();
    assert_contains(
        err.message(),
        &[
            "line 3: ",
            "logRecords[0].flags: not an integer: \"x\" (line 1 column",
        ],
    );
}

// ------------------------------------------------------------------------------------------
// Hostile input
// ------------------------------------------------------------------------------------------

/// Runs `f` on a thread with a deliberately small stack, so unbounded recursion would crash.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn deep_array_nesting_is_an_error_not_a_crash() {
    let depth = 100_000;
    let bomb = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // Inside arrayValue the first nested array is already the wrong type.
    let doc = body(&format!(r#"{{"arrayValue":{{"values":{bomb}}}}}"#));
    let err = on_small_stack(move || error(logs(doc)));
    assert_contains(
        &err,
        &["body.arrayValue.values[0]: expected an object, got an array"],
    );
    // A member the decoder ignores is skipped by serde_json without recursion: no limit to hit.
    let doc = log_doc(&format!(r#"{{"future":{bomb}}}"#));
    let request = on_small_stack(move || logs(doc));
    assert_eq!(request.map(|r| r.record_count()), Ok(1));
    let doc = leak(format!(
        r#"{{"resourceLogs":[],"x":{}1{}}}"#,
        r#"{"a":"#.repeat(depth),
        "}".repeat(depth)
    ));
    assert_eq!(
        on_small_stack(move || logs(doc)),
        Ok(LogsRequest::default())
    );
    // Unbalanced, it is still only a syntax error.
    let doc = leak(format!(r#"{{"x":{}"#, "[".repeat(depth)));
    let err = on_small_stack(move || error(logs(doc)));
    assert_contains(&err, &["invalid JSON"]);
}

#[test]
fn deep_any_value_nesting_is_an_error_not_a_crash() {
    let depth = 10_000;
    let open = r#"{"kvlistValue":{"values":[{"key":"k","value":"#;
    let doc = body(&format!(
        "{}{{}}{}",
        open.repeat(depth),
        "}]}}".repeat(depth)
    ));
    let err = on_small_stack(move || error(logs(doc)));
    assert_contains(&err, &["recursion limit exceeded"]);
    let doc = body(&format!(
        "{}{{}}{}",
        r#"{"arrayValue":{"values":["#.repeat(depth),
        "]}}".repeat(depth)
    ));
    let err = on_small_stack(move || error(logs(doc)));
    assert_contains(&err, &["recursion limit exceeded"]);
    // Legitimate nesting well inside the limit decodes.
    let depth = 20;
    let doc = body(&format!(
        "{}{{\"intValue\":1}}{}",
        r#"{"arrayValue":{"values":["#.repeat(depth),
        "]}}".repeat(depth)
    ));
    let mut value = only_body(doc).unwrap();
    for _ in 0..depth {
        let AnyValue::Array(mut items) = value else {
            panic!("{value:?}")
        };
        value = items.remove(0);
    }
    assert_eq!(value, AnyValue::Int(1));
}

#[test]
fn huge_values_give_short_messages() {
    let doc = log_doc(&format!(r#"{{"traceId":"{}"}}"#, "z".repeat(1 << 20)));
    let err = error(logs(doc));
    assert!(err.len() < 300, "{} bytes: {}", err.len(), &err[..300]);
    assert_contains(&err, &["traceId", "1048576 bytes"]);
}

fn decode_all(bytes: &[u8]) {
    let _ = LogsRequest::decode_json(bytes);
    let _ = TracesRequest::decode_json(bytes);
    let _ = MetricsRequest::decode_json(bytes);
    let _ = LogsRequest::decode_jsonl(bytes);
}

const MUTATED_FIXTURES: [&str; 8] = [
    "log.json",
    "trace.json",
    "metrics_gauge.json",
    "metrics_sum.json",
    "metrics_histogram.json",
    "metrics_exponential_histogram.json",
    "metrics_summary.json",
    "metrics_mixed.json",
];

/// Bytes that matter to JSON and to the decoder's own parsing.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(b"{}[]\",:0123456789-+.eE\\/=nNulltrfIA_ \n\xff\x00".to_vec()),
        any::<u8>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(interesting_byte(), 0..256)) {
        decode_all(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..MUTATED_FIXTURES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, interesting_byte()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = fixture(MUTATED_FIXTURES[which]);
        for (at, op, byte) in edits {
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        decode_all(&bytes);
    }
}
