//! OTLP model → partitions: every column of every table, partitioning, ordering and the
//! time rules of docs/schema.md and docs/keys.md#time-rules, on hand-built requests.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers (outside #[test] fns) fail the test loudly by design"
)]

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, Int32Type, TimestampMillisecondType, TimestampNanosecondType, UInt8Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, RecordBatch};
use otlp2parquet_common::MetricKind;
use otlp2parquet_proto::*;
use otlp2parquet_writer::{
    Partition, Table, WriterError, convert_logs, convert_metrics, convert_traces, schema,
};

// ------------------------------------------------------------------------------------------
// helpers
// ------------------------------------------------------------------------------------------

/// 2023-11-14T22:13:20Z.
const T0: u64 = 1_700_000_000_000_000_000;
const HOUR: u64 = 3_600_000_000_000;
const RECEIVED: i64 = 1_700_000_123_456_789_012;

const TRACE: [u8; 16] = [
    0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c,
];
const TRACE_HEX: &str = "5b8efff798038103d269b633813fc60c";
const SPAN: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];
const SPAN_HEX: &str = "eee19b7ec3c1b174";
const PARENT: [u8; 8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
const PARENT_HEX: &str = "0011223344556677";

fn s(v: &'static str) -> Cow<'static, str> {
    Cow::Borrowed(v)
}

fn kv(key: &'static str, value: AnyValue<'static>) -> KeyValue<'static> {
    KeyValue { key: s(key), value }
}

fn kvs(key: &'static str, value: &'static str) -> KeyValue<'static> {
    kv(key, AnyValue::String(s(value)))
}

fn resource(service: &'static str) -> Resource<'static> {
    Resource {
        attributes: vec![kvs("service.name", service)],
        dropped_attributes_count: 0,
    }
}

/// Every AnyValue kind, with its stored string form (docs/schema.md#value-strings).
fn all_kinds() -> (Vec<KeyValue<'static>>, Vec<(&'static str, &'static str)>) {
    let attrs = vec![
        kvs("str", "plain"),
        kv("bool", AnyValue::Bool(true)),
        kv("int", AnyValue::Int(-42)),
        kv("double", AnyValue::Double(12.5)),
        kv("whole", AnyValue::Double(12.0)),
        kv("bytes", AnyValue::Bytes(Cow::Borrowed(&[1, 2, 3]))),
        kv(
            "array",
            AnyValue::Array(vec![
                AnyValue::Int(1),
                AnyValue::String(s("a")),
                AnyValue::Bool(false),
            ]),
        ),
        kv(
            "kvlist",
            AnyValue::KvList(vec![kv("b", AnyValue::Double(0.5)), kvs("a", "x")]),
        ),
        kv("empty", AnyValue::Empty),
    ];
    let expected = vec![
        ("array", r#"[1,"a",false]"#),
        ("bool", "true"),
        ("bytes", "AQID"),
        ("double", "12.5"),
        ("empty", ""),
        ("int", "-42"),
        ("kvlist", r#"{"a":"x","b":0.5}"#),
        ("str", "plain"),
        ("whole", "12"),
    ];
    (attrs, expected)
}

fn col<'b>(batch: &'b RecordBatch, name: &str) -> &'b dyn Array {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_ref()
}

fn strs(batch: &RecordBatch, name: &str) -> Vec<String> {
    col(batch, name)
        .as_string::<i32>()
        .iter()
        .map(|v| v.unwrap().to_owned())
        .collect()
}

fn prims<T: ArrowPrimitiveType>(batch: &RecordBatch, name: &str) -> Vec<T::Native> {
    col(batch, name).as_primitive::<T>().values().to_vec()
}

fn bools(batch: &RecordBatch, name: &str) -> Vec<bool> {
    col(batch, name)
        .as_boolean()
        .iter()
        .map(Option::unwrap)
        .collect()
}

type Map = Vec<(String, String)>;

fn map_rows(array: &dyn Array) -> Vec<Map> {
    let map = array.as_map();
    (0..map.len())
        .map(|i| {
            let entries = map.value(i);
            let k = entries.column(0).as_string::<i32>();
            let v = entries.column(1).as_string::<i32>();
            (0..k.len())
                .map(|j| (k.value(j).to_owned(), v.value(j).to_owned()))
                .collect()
        })
        .collect()
}

fn maps(batch: &RecordBatch, name: &str) -> Vec<Map> {
    map_rows(col(batch, name))
}

fn list_strs(batch: &RecordBatch, name: &str) -> Vec<Vec<String>> {
    let list = col(batch, name).as_list::<i32>();
    (0..list.len())
        .map(|i| {
            list.value(i)
                .as_string::<i32>()
                .iter()
                .map(|v| v.unwrap().to_owned())
                .collect()
        })
        .collect()
}

fn list_prims<T: ArrowPrimitiveType>(batch: &RecordBatch, name: &str) -> Vec<Vec<T::Native>> {
    let list = col(batch, name).as_list::<i32>();
    (0..list.len())
        .map(|i| list.value(i).as_primitive::<T>().values().to_vec())
        .collect()
}

fn list_maps(batch: &RecordBatch, name: &str) -> Vec<Vec<Map>> {
    let list = col(batch, name).as_list::<i32>();
    (0..list.len())
        .map(|i| map_rows(list.value(i).as_ref()))
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Map {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn only(parts: Vec<Partition>) -> Partition {
    assert_eq!(
        parts.len(),
        1,
        "expected one partition, got {}",
        parts.len()
    );
    parts.into_iter().next().unwrap()
}

fn logs_request(records: Vec<LogRecord<'static>>) -> LogsRequest<'static> {
    LogsRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("svc"),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn log_at(time: u64, body: &'static str) -> LogRecord<'static> {
    LogRecord {
        time_unix_nano: time,
        body: AnyValue::String(s(body)),
        ..Default::default()
    }
}

fn bodies(p: &Partition) -> Vec<String> {
    strs(&p.batch, "Body")
}

// ------------------------------------------------------------------------------------------
// logs
// ------------------------------------------------------------------------------------------

#[test]
fn logs_every_column() {
    let (attrs, expected_attrs) = all_kinds();
    let req = LogsRequest {
        resource_logs: vec![ResourceLogs {
            resource: Resource {
                attributes: vec![kvs("service.name", "checkout"), kvs("host.name", "h1")],
                dropped_attributes_count: 0,
            },
            schema_url: s("https://opentelemetry.io/schemas/1.21.0"),
            scope_logs: vec![ScopeLogs {
                scope: Scope {
                    name: s("io.opentelemetry.app"),
                    version: s("1.2.3"),
                    attributes: vec![kvs("scope.k", "v")],
                    dropped_attributes_count: 4,
                },
                schema_url: s("https://scope/schema"),
                log_records: vec![LogRecord {
                    time_unix_nano: T0 + 123_456_789,
                    observed_time_unix_nano: T0 + 999,
                    severity_number: 17,
                    severity_text: s("ERROR"),
                    body: AnyValue::String(s("payment failed")),
                    attributes: attrs,
                    dropped_attributes_count: 0,
                    flags: 0x0301,
                    trace_id: TRACE,
                    span_id: SPAN,
                    event_name: s("payment.failure"),
                }],
            }],
        }],
    };
    let p = only(convert_logs(&req, RECEIVED).unwrap());
    assert_eq!(p.table, Table::Logs);
    assert_eq!(p.service, "checkout");
    assert_eq!(p.min_time_ns, (T0 + 123_456_789) as i64);
    let b = &p.batch;
    assert_eq!(b.schema(), schema::schema(Table::Logs));
    assert_eq!(b.num_rows(), 1);
    assert_eq!(
        prims::<TimestampNanosecondType>(b, "Timestamp"),
        [(T0 + 123_456_789) as i64]
    );
    assert_eq!(
        prims::<TimestampMillisecondType>(b, "TimestampTime"),
        [(T0 / 1_000_000) as i64]
    );
    assert_eq!(strs(b, "TraceId"), [TRACE_HEX]);
    assert_eq!(strs(b, "SpanId"), [SPAN_HEX]);
    assert_eq!(prims::<UInt8Type>(b, "TraceFlags"), [1]);
    assert_eq!(strs(b, "SeverityText"), ["ERROR"]);
    assert_eq!(prims::<UInt8Type>(b, "SeverityNumber"), [17]);
    assert_eq!(strs(b, "ServiceName"), ["checkout"]);
    assert_eq!(strs(b, "Body"), ["payment failed"]);
    assert_eq!(
        strs(b, "ResourceSchemaUrl"),
        ["https://opentelemetry.io/schemas/1.21.0"]
    );
    assert_eq!(
        maps(b, "ResourceAttributes"),
        [pairs(&[("host.name", "h1"), ("service.name", "checkout")])]
    );
    assert_eq!(strs(b, "ScopeSchemaUrl"), ["https://scope/schema"]);
    assert_eq!(strs(b, "ScopeName"), ["io.opentelemetry.app"]);
    assert_eq!(strs(b, "ScopeVersion"), ["1.2.3"]);
    assert_eq!(maps(b, "ScopeAttributes"), [pairs(&[("scope.k", "v")])]);
    assert_eq!(maps(b, "LogAttributes"), [pairs(&expected_attrs)]);
    assert_eq!(strs(b, "EventName"), ["payment.failure"]);
}

#[test]
fn logs_absent_values_are_empty_and_zero() {
    let req = LogsRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: T0,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let p = only(convert_logs(&req, RECEIVED).unwrap());
    // No service.name: the column is "" and the key segment is made safe.
    assert_eq!(p.service, "unknown_service");
    let b = &p.batch;
    for name in [
        "TraceId",
        "SpanId",
        "SeverityText",
        "ServiceName",
        "Body",
        "EventName",
    ] {
        assert_eq!(strs(b, name), [""], "{name}");
    }
    assert_eq!(prims::<UInt8Type>(b, "TraceFlags"), [0]);
    assert_eq!(prims::<UInt8Type>(b, "SeverityNumber"), [0]);
    assert_eq!(maps(b, "ResourceAttributes"), [vec![]]);
    assert_eq!(maps(b, "LogAttributes"), [vec![]]);
}

#[test]
fn logs_non_string_bodies_are_stringified() {
    let mut a = log_at(T0, "");
    a.body = AnyValue::KvList(vec![kv("n", AnyValue::Int(1))]);
    let mut b = log_at(T0 + 1, "");
    b.body = AnyValue::Double(1e21);
    let mut c = log_at(T0 + 2, "");
    c.body = AnyValue::Bool(false);
    let p = only(convert_logs(&logs_request(vec![a, b, c]), RECEIVED).unwrap());
    assert_eq!(bodies(&p), [r#"{"n":1}"#, "1e21", "false"]);
}

#[test]
fn logs_observed_time_is_the_fallback() {
    let mut r = log_at(0, "observed");
    r.observed_time_unix_nano = T0 + 1_500_000_000;
    let p = only(convert_logs(&logs_request(vec![r]), RECEIVED).unwrap());
    assert_eq!(p.min_time_ns, (T0 + 1_500_000_000) as i64);
    assert_eq!(
        prims::<TimestampNanosecondType>(&p.batch, "Timestamp"),
        [p.min_time_ns]
    );
    assert_eq!(
        prims::<TimestampMillisecondType>(&p.batch, "TimestampTime"),
        [(T0 / 1_000_000 + 1_000) as i64]
    );
}

#[test]
fn logs_without_any_time_are_stamped_with_the_received_time() {
    let p = only(convert_logs(&logs_request(vec![log_at(0, "none")]), RECEIVED).unwrap());
    assert_eq!(p.min_time_ns, RECEIVED);
    assert_eq!(
        prims::<TimestampNanosecondType>(&p.batch, "Timestamp"),
        [RECEIVED]
    );
    assert_eq!(
        prims::<TimestampMillisecondType>(&p.batch, "TimestampTime"),
        [RECEIVED / 1_000_000_000 * 1_000]
    );
}

#[test]
fn logs_zero_time_rows_are_partitioned_by_the_received_hour() {
    // One row an hour before the received time, one without time: two partitions.
    let early = RECEIVED as u64 - HOUR;
    let req = logs_request(vec![log_at(early, "early"), log_at(0, "stamped")]);
    let parts = convert_logs(&req, RECEIVED).unwrap();
    assert_eq!(parts.len(), 2);
    let stamped = parts.iter().find(|p| bodies(p) == ["stamped"]).unwrap();
    assert_eq!(stamped.min_time_ns, RECEIVED);
    let early_p = parts.iter().find(|p| bodies(p) == ["early"]).unwrap();
    assert_eq!(early_p.min_time_ns, early as i64);
}

#[test]
fn logs_spanning_two_hours_make_two_partitions_each_sorted() {
    let req = logs_request(vec![
        log_at(T0 + HOUR + 5, "h2-late"),
        log_at(T0 + 30, "h1-late"),
        log_at(T0 + HOUR, "h2-early"),
        log_at(T0 + 10, "h1-early"),
    ]);
    let mut parts = convert_logs(&req, RECEIVED).unwrap();
    assert_eq!(parts.len(), 2);
    parts.sort_by_key(|p| p.min_time_ns);
    assert_eq!(bodies(&parts[0]), ["h1-early", "h1-late"]);
    assert_eq!(parts[0].min_time_ns, (T0 + 10) as i64);
    assert_eq!(bodies(&parts[1]), ["h2-early", "h2-late"]);
    assert_eq!(parts[1].min_time_ns, (T0 + HOUR) as i64);
    for p in &parts {
        let ts = prims::<TimestampNanosecondType>(&p.batch, "Timestamp");
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");
    }
}

#[test]
fn logs_equal_times_keep_input_order() {
    let req = logs_request(vec![
        log_at(T0 + 2, "c"),
        log_at(T0 + 1, "a"),
        log_at(T0 + 2, "d"),
        log_at(T0 + 1, "b"),
    ]);
    let p = only(convert_logs(&req, RECEIVED).unwrap());
    assert_eq!(bodies(&p), ["a", "b", "c", "d"]);
}

#[test]
fn logs_two_services_make_two_partitions_with_safe_names() {
    let scope = |body| ScopeLogs {
        log_records: vec![log_at(T0, body)],
        ..Default::default()
    };
    let req = LogsRequest {
        resource_logs: vec![
            ResourceLogs {
                resource: resource("billing api"),
                scope_logs: vec![scope("billing")],
                ..Default::default()
            },
            ResourceLogs {
                resource: resource("auth"),
                scope_logs: vec![scope("auth")],
                ..Default::default()
            },
            ResourceLogs {
                resource: resource("billing api"),
                scope_logs: vec![scope("billing-2")],
                ..Default::default()
            },
        ],
    };
    let parts = convert_logs(&req, RECEIVED).unwrap();
    let mut got: Vec<(String, Vec<String>, Vec<String>)> = parts
        .iter()
        .map(|p| (p.service.clone(), strs(&p.batch, "ServiceName"), bodies(p)))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("auth".into(), vec!["auth".into()], vec!["auth".into()]),
            (
                "billing_api".into(),
                vec!["billing api".into(), "billing api".into()],
                vec!["billing".into(), "billing-2".into()]
            ),
        ]
    );
}

#[test]
fn logs_service_name_last_duplicate_wins_and_is_stringified() {
    let req = LogsRequest {
        resource_logs: vec![ResourceLogs {
            resource: Resource {
                attributes: vec![
                    kvs("service.name", "first"),
                    kv("service.name", AnyValue::Int(7)),
                ],
                dropped_attributes_count: 0,
            },
            scope_logs: vec![ScopeLogs {
                log_records: vec![log_at(T0, "x")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let p = only(convert_logs(&req, RECEIVED).unwrap());
    assert_eq!(p.service, "7");
    assert_eq!(strs(&p.batch, "ServiceName"), ["7"]);
    assert_eq!(
        maps(&p.batch, "ResourceAttributes"),
        [pairs(&[("service.name", "7")])]
    );
}

#[test]
fn logs_duplicate_attribute_keys_last_wins_and_entries_are_sorted() {
    let mut r = log_at(T0, "x");
    r.attributes = vec![
        kvs("zeta", "1"),
        kvs("alpha", "first"),
        kvs("Beta", "upper"),
        kvs("alpha", "second"),
        kvs("zeta", "2"),
        kvs("mid", "m"),
    ];
    let mut sorted = log_at(T0 + 1, "y");
    sorted.attributes = vec![kvs("a", "1"), kvs("b", "2")];
    let p = only(convert_logs(&logs_request(vec![r, sorted]), RECEIVED).unwrap());
    assert_eq!(
        maps(&p.batch, "LogAttributes"),
        [
            pairs(&[
                ("Beta", "upper"),
                ("alpha", "second"),
                ("mid", "m"),
                ("zeta", "2")
            ]),
            pairs(&[("a", "1"), ("b", "2")]),
        ]
    );
}

#[test]
fn logs_severity_outside_u8_is_zero_and_flags_keep_the_low_byte() {
    let mut a = log_at(T0, "a");
    a.severity_number = 300;
    a.flags = 0xFFFF_FF7F;
    let mut b = log_at(T0 + 1, "b");
    b.severity_number = -1;
    let mut c = log_at(T0 + 2, "c");
    c.severity_number = 255;
    let p = only(convert_logs(&logs_request(vec![a, b, c]), RECEIVED).unwrap());
    assert_eq!(prims::<UInt8Type>(&p.batch, "SeverityNumber"), [0, 0, 255]);
    assert_eq!(prims::<UInt8Type>(&p.batch, "TraceFlags"), [0x7F, 0, 0]);
}

#[test]
fn logs_time_past_i64_is_an_invalid_record_naming_the_field() {
    let req = logs_request(vec![log_at(T0, "ok"), log_at(u64::MAX, "too late")]);
    match convert_logs(&req, RECEIVED) {
        Err(WriterError::InvalidRecord(msg)) => {
            assert!(msg.contains("log_records[1].time_unix_nano"), "{msg}");
        }
        other => panic!("expected InvalidRecord, got {other:?}"),
    }
    let mut r = log_at(0, "");
    r.observed_time_unix_nano = i64::MAX as u64 + 1;
    match convert_logs(&logs_request(vec![r]), RECEIVED) {
        Err(WriterError::InvalidRecord(msg)) => {
            assert!(msg.contains("observed_time_unix_nano"), "{msg}");
        }
        other => panic!("expected InvalidRecord, got {other:?}"),
    }
    // The largest representable time is fine.
    let p = only(convert_logs(&logs_request(vec![log_at(i64::MAX as u64, "")]), RECEIVED).unwrap());
    assert_eq!(p.min_time_ns, i64::MAX);
}

#[test]
fn empty_requests_make_no_partitions() {
    assert!(
        convert_logs(&LogsRequest::default(), RECEIVED)
            .unwrap()
            .is_empty()
    );
    assert!(
        convert_traces(&TracesRequest::default(), RECEIVED)
            .unwrap()
            .is_empty()
    );
    assert!(
        convert_metrics(&MetricsRequest::default(), RECEIVED)
            .unwrap()
            .is_empty()
    );
    // A resource and scope without records make no rows either.
    assert!(
        convert_logs(&logs_request(vec![]), RECEIVED)
            .unwrap()
            .is_empty()
    );
}

// ------------------------------------------------------------------------------------------
// traces
// ------------------------------------------------------------------------------------------

fn traces_request(spans: Vec<Span<'static>>) -> TracesRequest<'static> {
    TracesRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource("frontend"),
            scope_spans: vec![ScopeSpans {
                scope: Scope {
                    name: s("tracer"),
                    version: s("0.9"),
                    ..Default::default()
                },
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn traces_every_column() {
    let (attrs, expected_attrs) = all_kinds();
    let span = Span {
        trace_id: TRACE,
        span_id: SPAN,
        trace_state: s("congo=t61rcWkgMzE"),
        parent_span_id: PARENT,
        flags: 1,
        name: s("GET /cart"),
        kind: 2,
        start_time_unix_nano: T0 + 1_000,
        end_time_unix_nano: T0 + 251_000,
        attributes: attrs,
        events: vec![
            Event {
                time_unix_nano: T0 + 2_000,
                name: s("cache.miss"),
                attributes: vec![kvs("k", "v"), kv("n", AnyValue::Int(3))],
                dropped_attributes_count: 0,
            },
            Event {
                time_unix_nano: T0 + 3_000,
                name: s("retry"),
                ..Default::default()
            },
        ],
        links: vec![Link {
            trace_id: TRACE,
            span_id: PARENT,
            trace_state: s("a=b"),
            attributes: vec![kv("link.ok", AnyValue::Bool(true))],
            ..Default::default()
        }],
        status: Status {
            message: s("boom"),
            code: 2,
        },
        ..Default::default()
    };
    let p = only(convert_traces(&traces_request(vec![span]), RECEIVED).unwrap());
    assert_eq!(p.table, Table::Traces);
    assert_eq!(p.service, "frontend");
    let b = &p.batch;
    assert_eq!(b.schema(), schema::schema(Table::Traces));
    assert_eq!(
        prims::<TimestampNanosecondType>(b, "Timestamp"),
        [(T0 + 1_000) as i64]
    );
    assert_eq!(strs(b, "TraceId"), [TRACE_HEX]);
    assert_eq!(strs(b, "SpanId"), [SPAN_HEX]);
    assert_eq!(strs(b, "ParentSpanId"), [PARENT_HEX]);
    assert_eq!(strs(b, "TraceState"), ["congo=t61rcWkgMzE"]);
    assert_eq!(strs(b, "SpanName"), ["GET /cart"]);
    assert_eq!(strs(b, "SpanKind"), ["SPAN_KIND_SERVER"]);
    assert_eq!(strs(b, "ServiceName"), ["frontend"]);
    assert_eq!(
        maps(b, "ResourceAttributes"),
        [pairs(&[("service.name", "frontend")])]
    );
    assert_eq!(strs(b, "ScopeName"), ["tracer"]);
    assert_eq!(strs(b, "ScopeVersion"), ["0.9"]);
    assert_eq!(maps(b, "SpanAttributes"), [pairs(&expected_attrs)]);
    assert_eq!(prims::<UInt64Type>(b, "Duration"), [250_000]);
    assert_eq!(strs(b, "StatusCode"), ["STATUS_CODE_ERROR"]);
    assert_eq!(strs(b, "StatusMessage"), ["boom"]);
    assert_eq!(
        list_prims::<TimestampNanosecondType>(b, "Events.Timestamp"),
        [vec![(T0 + 2_000) as i64, (T0 + 3_000) as i64]]
    );
    assert_eq!(list_strs(b, "Events.Name"), [vec!["cache.miss", "retry"]]);
    assert_eq!(
        list_maps(b, "Events.Attributes"),
        [vec![pairs(&[("k", "v"), ("n", "3")]), vec![]]]
    );
    assert_eq!(list_strs(b, "Links.TraceId"), [vec![TRACE_HEX]]);
    assert_eq!(list_strs(b, "Links.SpanId"), [vec![PARENT_HEX]]);
    assert_eq!(list_strs(b, "Links.TraceState"), [vec!["a=b"]]);
    assert_eq!(
        list_maps(b, "Links.Attributes"),
        [vec![pairs(&[("link.ok", "true")])]]
    );
}

#[test]
fn traces_kinds_statuses_and_durations() {
    let span = |start: u64, end: u64, kind: i32, code: i32| Span {
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        kind,
        status: Status {
            code,
            ..Default::default()
        },
        ..Default::default()
    };
    let req = traces_request(vec![
        span(T0, T0 + 5, 0, 0),
        span(T0 + 1, T0 + 1, 1, 1),
        span(T0 + 2, T0, 3, 2),
        span(T0 + 3, T0 + 10, 4, 3),
        span(T0 + 4, T0 + 10, 5, -1),
        span(T0 + 5, T0 + 10, 6, 0),
        span(T0 + 6, T0 + 10, -3, 0),
    ]);
    let p = only(convert_traces(&req, RECEIVED).unwrap());
    let b = &p.batch;
    assert_eq!(
        strs(b, "SpanKind"),
        [
            "SPAN_KIND_UNSPECIFIED",
            "SPAN_KIND_INTERNAL",
            "SPAN_KIND_CLIENT",
            "SPAN_KIND_PRODUCER",
            "SPAN_KIND_CONSUMER",
            "SPAN_KIND_UNSPECIFIED",
            "SPAN_KIND_UNSPECIFIED",
        ]
    );
    assert_eq!(
        strs(b, "StatusCode"),
        [
            "STATUS_CODE_UNSET",
            "STATUS_CODE_OK",
            "STATUS_CODE_ERROR",
            "STATUS_CODE_UNSET",
            "STATUS_CODE_UNSET",
            "STATUS_CODE_UNSET",
            "STATUS_CODE_UNSET",
        ]
    );
    // End before start: 0, never a wrapped u64.
    assert_eq!(prims::<UInt64Type>(b, "Duration"), [5, 0, 0, 7, 6, 5, 4]);
    assert_eq!(list_strs(b, "Events.Name"), vec![Vec::<String>::new(); 7]);
    assert_eq!(list_maps(b, "Links.Attributes"), vec![Vec::<Map>::new(); 7]);
}

#[test]
fn traces_zero_start_is_stamped_but_duration_uses_the_sent_times() {
    let span = Span {
        start_time_unix_nano: 0,
        end_time_unix_nano: 1_000,
        ..Default::default()
    };
    let p = only(convert_traces(&traces_request(vec![span]), RECEIVED).unwrap());
    assert_eq!(p.min_time_ns, RECEIVED);
    assert_eq!(
        prims::<TimestampNanosecondType>(&p.batch, "Timestamp"),
        [RECEIVED]
    );
    assert_eq!(prims::<UInt64Type>(&p.batch, "Duration"), [1_000]);
}

#[test]
fn traces_spanning_two_hours_make_two_sorted_partitions() {
    let span = |start: u64, name: &'static str| Span {
        start_time_unix_nano: start,
        name: s(name),
        ..Default::default()
    };
    // The first and last nanosecond of one hour, and the first of the next.
    let h = T0 - T0 % HOUR;
    let req = traces_request(vec![
        span(h + HOUR, "b1"),
        span(h + 1, "a2"),
        span(h, "a1"),
        span(h + HOUR - 1, "a3"),
    ]);
    let mut parts = convert_traces(&req, RECEIVED).unwrap();
    parts.sort_by_key(|p| p.min_time_ns);
    let names: Vec<Vec<String>> = parts.iter().map(|p| strs(&p.batch, "SpanName")).collect();
    assert_eq!(names, [vec!["a1", "a2", "a3"], vec!["b1"]]);
}

#[test]
fn traces_event_time_past_i64_is_an_invalid_record() {
    let span = Span {
        start_time_unix_nano: T0,
        events: vec![Event {
            time_unix_nano: u64::MAX,
            ..Default::default()
        }],
        ..Default::default()
    };
    match convert_traces(&traces_request(vec![span]), RECEIVED) {
        Err(WriterError::InvalidRecord(msg)) => {
            assert!(msg.contains("spans[0].events[0].time_unix_nano"), "{msg}");
        }
        other => panic!("expected InvalidRecord, got {other:?}"),
    }
    let span = Span {
        start_time_unix_nano: u64::MAX,
        ..Default::default()
    };
    match convert_traces(&traces_request(vec![span]), RECEIVED) {
        Err(WriterError::InvalidRecord(msg)) => {
            assert!(msg.contains("start_time_unix_nano"), "{msg}");
        }
        other => panic!("expected InvalidRecord, got {other:?}"),
    }
}

// ------------------------------------------------------------------------------------------
// metrics
// ------------------------------------------------------------------------------------------

fn exemplar() -> Exemplar<'static> {
    Exemplar {
        filtered_attributes: vec![kvs("user", "u1")],
        time_unix_nano: T0 + 7,
        value: NumberValue::Int(9),
        span_id: SPAN,
        trace_id: TRACE,
    }
}

fn metric(name: &'static str, data: MetricData<'static>) -> Metric<'static> {
    Metric {
        name: s(name),
        description: s("desc"),
        unit: s("ms"),
        data,
        metadata: vec![],
    }
}

fn metrics_request(metrics: Vec<Metric<'static>>) -> MetricsRequest<'static> {
    MetricsRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Resource {
                attributes: vec![kvs("service.name", "worker"), kv("pid", AnyValue::Int(12))],
                dropped_attributes_count: 0,
            },
            schema_url: s("https://res"),
            scope_metrics: vec![ScopeMetrics {
                scope: Scope {
                    name: s("meter"),
                    version: s("2.0"),
                    attributes: vec![kv("lib", AnyValue::Bool(true))],
                    dropped_attributes_count: 3,
                },
                metrics,
                schema_url: s("https://scope"),
            }],
        }],
    }
}

fn number(time: u64, value: NumberValue) -> NumberDataPoint<'static> {
    NumberDataPoint {
        attributes: vec![kvs("host", "a")],
        start_time_unix_nano: T0 - 10,
        time_unix_nano: time,
        value,
        exemplars: vec![],
        flags: 1,
    }
}

fn by_table(parts: &[Partition], kind: MetricKind) -> &Partition {
    let mut it = parts.iter().filter(|p| p.table == Table::Metrics(kind));
    let p = it.next().unwrap_or_else(|| panic!("no {kind} partition"));
    assert!(it.next().is_none(), "more than one {kind} partition");
    p
}

fn assert_leading(b: &RecordBatch, rows: usize) {
    assert_eq!(
        maps(b, "ResourceAttributes"),
        vec![pairs(&[("pid", "12"), ("service.name", "worker")]); rows]
    );
    assert_eq!(strs(b, "ResourceSchemaUrl"), vec!["https://res"; rows]);
    assert_eq!(strs(b, "ScopeName"), vec!["meter"; rows]);
    assert_eq!(strs(b, "ScopeVersion"), vec!["2.0"; rows]);
    assert_eq!(
        maps(b, "ScopeAttributes"),
        vec![pairs(&[("lib", "true")]); rows]
    );
    assert_eq!(
        prims::<UInt32Type>(b, "ScopeDroppedAttrCount"),
        vec![3; rows]
    );
    assert_eq!(strs(b, "ScopeSchemaUrl"), vec!["https://scope"; rows]);
    assert_eq!(strs(b, "ServiceName"), vec!["worker"; rows]);
    assert_eq!(strs(b, "MetricDescription"), vec!["desc"; rows]);
    assert_eq!(strs(b, "MetricUnit"), vec!["ms"; rows]);
}

fn assert_one_exemplar(b: &RecordBatch) {
    assert_eq!(
        list_maps(b, "Exemplars.FilteredAttributes"),
        [vec![pairs(&[("user", "u1")])]]
    );
    assert_eq!(
        list_prims::<TimestampNanosecondType>(b, "Exemplars.TimeUnix"),
        [vec![(T0 + 7) as i64]]
    );
    assert_eq!(list_prims::<Float64Type>(b, "Exemplars.Value"), [vec![9.0]]);
    assert_eq!(list_strs(b, "Exemplars.SpanId"), [vec![SPAN_HEX]]);
    assert_eq!(list_strs(b, "Exemplars.TraceId"), [vec![TRACE_HEX]]);
}

#[test]
fn metrics_gauge_and_sum_every_column() {
    let mut with_exemplar = number(T0 + 1, NumberValue::Double(f64::NAN));
    with_exemplar.exemplars = vec![exemplar()];
    let gauge = metric(
        "temp",
        MetricData::Gauge(Gauge {
            data_points: vec![
                number(T0 + 3, NumberValue::Int(-4)),
                with_exemplar,
                number(T0 + 2, NumberValue::Double(f64::INFINITY)),
                number(T0 + 4, NumberValue::None),
            ],
        }),
    );
    let mut sum_point = number(T0 + 5, NumberValue::Double(2.5));
    sum_point.exemplars = vec![exemplar()];
    let sum = metric(
        "requests",
        MetricData::Sum(Sum {
            data_points: vec![sum_point],
            aggregation_temporality: 2,
            is_monotonic: true,
        }),
    );
    let parts = convert_metrics(&metrics_request(vec![gauge, sum]), RECEIVED).unwrap();
    assert_eq!(parts.len(), 2);

    let g = by_table(&parts, MetricKind::Gauge);
    assert_eq!(g.service, "worker");
    assert_eq!(g.min_time_ns, (T0 + 1) as i64);
    let b = &g.batch;
    assert_eq!(
        b.schema(),
        schema::schema(Table::Metrics(MetricKind::Gauge))
    );
    assert_leading(b, 4);
    assert_eq!(strs(b, "MetricName"), ["temp"; 4]);
    assert_eq!(maps(b, "Attributes"), vec![pairs(&[("host", "a")]); 4]);
    assert_eq!(
        prims::<TimestampNanosecondType>(b, "StartTimeUnix"),
        [(T0 - 10) as i64; 4]
    );
    assert_eq!(
        prims::<TimestampNanosecondType>(b, "TimeUnix"),
        [
            (T0 + 1) as i64,
            (T0 + 2) as i64,
            (T0 + 3) as i64,
            (T0 + 4) as i64
        ]
    );
    let values = prims::<Float64Type>(b, "Value");
    assert!(values[0].is_nan(), "{values:?}");
    assert_eq!(values[1..], [f64::INFINITY, -4.0, 0.0]);
    assert_eq!(prims::<UInt32Type>(b, "Flags"), [1; 4]);
    assert_eq!(
        list_strs(b, "Exemplars.SpanId"),
        [vec![SPAN_HEX], vec![], vec![], vec![]]
    );

    let s = by_table(&parts, MetricKind::Sum);
    let b = &s.batch;
    assert_eq!(b.schema(), schema::schema(Table::Metrics(MetricKind::Sum)));
    assert_leading(b, 1);
    assert_eq!(strs(b, "MetricName"), ["requests"]);
    assert_eq!(prims::<Float64Type>(b, "Value"), [2.5]);
    assert_one_exemplar(b);
    assert_eq!(prims::<Int32Type>(b, "AggregationTemporality"), [2]);
    assert_eq!(bools(b, "IsMonotonic"), [true]);
}

#[test]
fn metrics_histograms_and_summary_every_column() {
    let hist = metric(
        "latency",
        MetricData::Histogram(Histogram {
            data_points: vec![
                HistogramDataPoint {
                    attributes: vec![kvs("route", "/a")],
                    start_time_unix_nano: T0,
                    time_unix_nano: T0 + 100,
                    count: 6,
                    sum: Some(21.5),
                    bucket_counts: vec![1, 2, 3],
                    explicit_bounds: vec![1.0, f64::NEG_INFINITY],
                    exemplars: vec![exemplar()],
                    flags: 0,
                    min: Some(0.5),
                    max: Some(f64::NAN),
                },
                HistogramDataPoint {
                    time_unix_nano: T0 + 200,
                    ..Default::default()
                },
            ],
            aggregation_temporality: 1,
        }),
    );
    let exp = metric(
        "size",
        MetricData::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                time_unix_nano: T0 + 300,
                count: 10,
                sum: Some(99.0),
                scale: -2,
                zero_count: 4,
                positive: Buckets {
                    offset: -1,
                    bucket_counts: vec![3, 3],
                },
                negative: Buckets {
                    offset: 5,
                    bucket_counts: vec![],
                },
                flags: 1,
                exemplars: vec![exemplar()],
                min: None,
                max: Some(7.0),
                ..Default::default()
            }],
            aggregation_temporality: 2,
        }),
    );
    let summary = metric(
        "rpc",
        MetricData::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                time_unix_nano: T0 + 400,
                count: 3,
                sum: 1.25,
                quantile_values: vec![
                    ValueAtQuantile {
                        quantile: 0.5,
                        value: 0.25,
                    },
                    ValueAtQuantile {
                        quantile: 0.99,
                        value: f64::INFINITY,
                    },
                ],
                flags: 1,
                ..Default::default()
            }],
        }),
    );
    let no_data = metric("empty", MetricData::None);
    let parts = convert_metrics(
        &metrics_request(vec![hist, exp, summary, no_data]),
        RECEIVED,
    )
    .unwrap();
    assert_eq!(parts.len(), 3);

    let b = &by_table(&parts, MetricKind::Histogram).batch;
    assert_eq!(
        b.schema(),
        schema::schema(Table::Metrics(MetricKind::Histogram))
    );
    assert_leading(b, 2);
    assert_eq!(maps(b, "Attributes"), [pairs(&[("route", "/a")]), vec![]]);
    assert_eq!(
        prims::<TimestampNanosecondType>(b, "StartTimeUnix"),
        [T0 as i64, 0]
    );
    assert_eq!(prims::<UInt64Type>(b, "Count"), [6, 0]);
    assert_eq!(prims::<Float64Type>(b, "Sum"), [21.5, 0.0]);
    assert_eq!(
        list_prims::<UInt64Type>(b, "BucketCounts"),
        [vec![1, 2, 3], vec![]]
    );
    assert_eq!(
        list_prims::<Float64Type>(b, "ExplicitBounds"),
        [vec![1.0, f64::NEG_INFINITY], vec![]]
    );
    assert_eq!(list_strs(b, "Exemplars.TraceId"), [vec![TRACE_HEX], vec![]]);
    assert_eq!(prims::<Float64Type>(b, "Min"), [0.5, 0.0]);
    let max = prims::<Float64Type>(b, "Max");
    assert!(max[0].is_nan() && max[1] == 0.0, "{max:?}");
    assert_eq!(prims::<Int32Type>(b, "AggregationTemporality"), [1, 1]);

    let b = &by_table(&parts, MetricKind::ExponentialHistogram).batch;
    assert_eq!(
        b.schema(),
        schema::schema(Table::Metrics(MetricKind::ExponentialHistogram))
    );
    assert_leading(b, 1);
    assert_eq!(prims::<UInt64Type>(b, "Count"), [10]);
    assert_eq!(prims::<Float64Type>(b, "Sum"), [99.0]);
    assert_eq!(prims::<Int32Type>(b, "Scale"), [-2]);
    assert_eq!(prims::<UInt64Type>(b, "ZeroCount"), [4]);
    assert_eq!(prims::<Int32Type>(b, "PositiveOffset"), [-1]);
    assert_eq!(
        list_prims::<UInt64Type>(b, "PositiveBucketCounts"),
        [vec![3, 3]]
    );
    assert_eq!(prims::<Int32Type>(b, "NegativeOffset"), [5]);
    assert_eq!(
        list_prims::<UInt64Type>(b, "NegativeBucketCounts"),
        [Vec::<u64>::new()]
    );
    assert_one_exemplar(b);
    assert_eq!(prims::<UInt32Type>(b, "Flags"), [1]);
    assert_eq!(prims::<Float64Type>(b, "Min"), [0.0]);
    assert_eq!(prims::<Float64Type>(b, "Max"), [7.0]);
    assert_eq!(prims::<Int32Type>(b, "AggregationTemporality"), [2]);

    let b = &by_table(&parts, MetricKind::Summary).batch;
    assert_eq!(
        b.schema(),
        schema::schema(Table::Metrics(MetricKind::Summary))
    );
    assert_leading(b, 1);
    assert_eq!(strs(b, "MetricName"), ["rpc"]);
    assert_eq!(prims::<UInt64Type>(b, "Count"), [3]);
    assert_eq!(prims::<Float64Type>(b, "Sum"), [1.25]);
    assert_eq!(
        list_prims::<Float64Type>(b, "ValueAtQuantiles.Quantile"),
        [vec![0.5, 0.99]]
    );
    assert_eq!(
        list_prims::<Float64Type>(b, "ValueAtQuantiles.Value"),
        [vec![0.25, f64::INFINITY]]
    );
    assert_eq!(prims::<UInt32Type>(b, "Flags"), [1]);
}

#[test]
fn metrics_zero_time_is_stamped_and_start_time_kept() {
    let mut p = number(0, NumberValue::Int(1));
    p.start_time_unix_nano = 0;
    let gauge = metric(
        "g",
        MetricData::Gauge(Gauge {
            data_points: vec![p],
        }),
    );
    let part = only(convert_metrics(&metrics_request(vec![gauge]), RECEIVED).unwrap());
    assert_eq!(part.min_time_ns, RECEIVED);
    assert_eq!(
        prims::<TimestampNanosecondType>(&part.batch, "TimeUnix"),
        [RECEIVED]
    );
    assert_eq!(
        prims::<TimestampNanosecondType>(&part.batch, "StartTimeUnix"),
        [0]
    );
}

#[test]
fn metrics_points_of_two_hours_and_two_metrics_share_partitions_by_hour() {
    let g1 = metric(
        "a",
        MetricData::Gauge(Gauge {
            data_points: vec![
                number(T0 + HOUR, NumberValue::Int(1)),
                number(T0, NumberValue::Int(2)),
            ],
        }),
    );
    let g2 = metric(
        "b",
        MetricData::Gauge(Gauge {
            data_points: vec![number(T0 + 1, NumberValue::Int(3))],
        }),
    );
    let mut parts = convert_metrics(&metrics_request(vec![g1, g2]), RECEIVED).unwrap();
    assert_eq!(parts.len(), 2);
    parts.sort_by_key(|p| p.min_time_ns);
    assert_eq!(prims::<Float64Type>(&parts[0].batch, "Value"), [2.0, 3.0]);
    assert_eq!(strs(&parts[0].batch, "MetricName"), ["a", "b"]);
    assert_eq!(prims::<Float64Type>(&parts[1].batch, "Value"), [1.0]);
}

#[test]
fn metrics_times_past_i64_are_invalid_records() {
    let cases: Vec<(NumberDataPoint<'static>, &str)> = vec![
        (
            number(u64::MAX, NumberValue::None),
            "data_points[0].time_unix_nano",
        ),
        (
            NumberDataPoint {
                start_time_unix_nano: u64::MAX,
                ..number(T0, NumberValue::None)
            },
            "data_points[0].start_time_unix_nano",
        ),
        (
            NumberDataPoint {
                exemplars: vec![Exemplar {
                    time_unix_nano: u64::MAX,
                    ..exemplar()
                }],
                ..number(T0, NumberValue::None)
            },
            "data_points[0].exemplars[0].time_unix_nano",
        ),
    ];
    for (point, field) in cases {
        let sum = metric(
            "s",
            MetricData::Sum(Sum {
                data_points: vec![point],
                ..Default::default()
            }),
        );
        match convert_metrics(&metrics_request(vec![sum]), RECEIVED) {
            Err(WriterError::InvalidRecord(msg)) => {
                assert!(msg.contains(field), "{msg} should name {field}");
                assert!(msg.contains("metrics[0]"), "{msg}");
            }
            other => panic!("expected InvalidRecord for {field}, got {other:?}"),
        }
    }
}
