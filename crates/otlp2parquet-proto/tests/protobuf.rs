//! Protobuf decoding (`ExportRequest::decode_protobuf`): fixtures, a differential test against
//! prost, protobuf edge cases (unknown fields, packed/unpacked, repeated scalars, merges) and
//! hostile input (truncation, bit flips, random bytes, nesting bombs, bad ids).

// clippy.toml exempts `#[test]` functions, not the helpers of a test binary; a failed helper
// assertion is a test failure, which is what a panic here means.
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code"
)]

#[path = "protobuf/convert.rs"]
mod convert;
#[path = "protobuf/strategies.rs"]
mod strategies;

use std::path::PathBuf;

use otlp2parquet_proto::{
    AnyValue, ExportRequest, LogsRequest, MetricData, MetricsRequest, NumberValue, TracesRequest,
    pb,
};
use proptest::prelude::*;
use prost::Message;

// ---------------------------------------------------------------------------------------------
// A minimal protobuf encoder, to write messages prost would never produce.
// ---------------------------------------------------------------------------------------------

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(field: u32, wire: u8, out: &mut Vec<u8>) {
    varint((u64::from(field) << 3) | u64::from(wire), out);
}

fn f_varint(field: u32, v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    key(field, 0, &mut out);
    varint(v, &mut out);
    out
}

fn f_fixed64(field: u32, v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    key(field, 1, &mut out);
    out.extend_from_slice(&v.to_le_bytes());
    out
}

fn f_fixed32(field: u32, v: u32) -> Vec<u8> {
    let mut out = Vec::new();
    key(field, 5, &mut out);
    out.extend_from_slice(&v.to_le_bytes());
    out
}

fn f_len(field: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    key(field, 2, &mut out);
    varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

/// Wraps an encoded `LogRecord` into a one-record `ExportLogsServiceRequest`.
fn logs_with_record(record: &[u8]) -> Vec<u8> {
    let scope_logs = f_len(2, record);
    let resource_logs = f_len(2, &scope_logs);
    f_len(1, &resource_logs)
}

/// Wraps an encoded `Span` into a one-span `ExportTraceServiceRequest`.
fn traces_with_span(span: &[u8]) -> Vec<u8> {
    f_len(1, &f_len(2, &f_len(2, span)))
}

/// Wraps an encoded `Metric` into a one-metric `ExportMetricsServiceRequest`.
fn metrics_with_metric(metric: &[u8]) -> Vec<u8> {
    f_len(1, &f_len(2, &f_len(2, metric)))
}

fn only_record<'a>(req: &'a LogsRequest<'a>) -> &'a otlp2parquet_proto::LogRecord<'a> {
    &req.resource_logs[0].scope_logs[0].log_records[0]
}

fn decode_all(body: &[u8]) -> [bool; 3] {
    [
        LogsRequest::decode_protobuf(body).is_ok(),
        TracesRequest::decode_protobuf(body).is_ok(),
        MetricsRequest::decode_protobuf(body).is_ok(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/otlp")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// Expected values below were read with the official opentelemetry-proto Python bindings.

#[test]
fn fixture_logs_decodes() {
    let body = fixture("logs.pb");
    let req = LogsRequest::decode_protobuf(&body).unwrap();
    assert_eq!(req.record_count(), 81);
    assert_eq!(req.resource_logs.len(), 81);
    let resource = &req.resource_logs[0].resource;
    assert_eq!(resource.attributes[0].key, "service.name");
    assert_eq!(
        resource.attributes[0].value,
        AnyValue::String("product-catalog".into())
    );
    let r = only_record(&req);
    assert_eq!(r.time_unix_nano, 1_760_741_572_254_301_000);
    assert_eq!(r.severity_number, 9);
    assert_eq!(r.severity_text, "INFO");
    assert_eq!(r.body, AnyValue::String("Product Found".into()));
    assert_eq!(hex(&r.trace_id), "a71f3d1a6d2d3cadb3669cbd50e165e4");
    assert_eq!(hex(&r.span_id), "34249d8b829f4116");
    let keys: Vec<&str> = r.attributes.iter().map(|a| a.key.as_ref()).collect();
    assert_eq!(keys, ["app.product.name", "app.product.id"]);
    assert_same_as_prost_logs(&body);
}

#[test]
fn fixture_traces_decode() {
    let body = fixture("trace.pb");
    let req = TracesRequest::decode_protobuf(&body).unwrap();
    assert_eq!(req.record_count(), 2);
    let s = &req.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(s.name, "router frontend egress");
    assert_eq!(s.kind, 3);
    assert_eq!(hex(&s.trace_id), "9d79b1a37f31801cd11a6706fb40d6bd");
    assert_eq!(hex(&s.span_id), "de562439e9c1b823");
    assert_eq!(hex(&s.parent_span_id), "57526846903bb13e");
    assert_eq!(s.start_time_unix_nano, 1_760_738_064_624_462_000);
    assert_eq!(s.end_time_unix_nano, 1_760_738_064_628_483_000);
    assert_same_as_prost_traces(&body);

    let body = fixture("traces.pb");
    let req = TracesRequest::decode_protobuf(&body).unwrap();
    assert_eq!(req.record_count(), 19);
    assert_eq!(req.resource_spans.len(), 19);
    let spans: Vec<_> = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    assert_eq!(spans.iter().map(|s| s.events.len()).sum::<usize>(), 6);
    let with_event = spans.iter().find(|s| !s.events.is_empty()).unwrap();
    assert_eq!(with_event.name, "analytics-service.process");
    assert_eq!(hex(&with_event.span_id), "8bd536cf4b778ade");
    assert_eq!(with_event.events[0].name, "processing");
    assert_eq!(
        with_event.events[0].time_unix_nano,
        1_760_738_065_711_680_000
    );
    assert_same_as_prost_traces(&body);
}

#[test]
fn fixture_metrics_decode() {
    for (name, points) in [
        ("metrics_gauge.pb", 3),
        ("metrics_sum.pb", 4),
        ("metrics_histogram.pb", 3),
        ("metrics_exponential_histogram.pb", 2),
        ("metrics_summary.pb", 2),
        ("metrics_mixed.pb", 3),
    ] {
        let body = fixture(name);
        let req = MetricsRequest::decode_protobuf(&body).unwrap();
        assert_eq!(req.record_count(), points, "{name}");
        assert_same_as_prost_metrics(&body);
    }

    let first = |name: &str| {
        let body = fixture(name);
        let req = MetricsRequest::decode_protobuf(&body).unwrap();
        let m = &req.resource_metrics[0].scope_metrics[0].metrics[0];
        (
            m.name.to_string(),
            m.unit.to_string(),
            format!("{:?}", m.data),
        )
    };
    let body = fixture("metrics_gauge.pb");
    let req = MetricsRequest::decode_protobuf(&body).unwrap();
    let m = &req.resource_metrics[0].scope_metrics[0].metrics[0];
    assert_eq!((m.name.as_ref(), m.unit.as_ref()), ("cpu.usage", "percent"));
    let MetricData::Gauge(g) = &m.data else {
        panic!("{:?}", m.data)
    };
    assert_eq!(
        g.data_points[0].value,
        NumberValue::Double(67.957_009_884_341_29)
    );
    assert_eq!(g.data_points[0].time_unix_nano, 1_705_327_800_000_000_000);

    let body = fixture("metrics_sum.pb");
    let req = MetricsRequest::decode_protobuf(&body).unwrap();
    let MetricData::Sum(s) = &req.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!()
    };
    assert_eq!((s.aggregation_temporality, s.is_monotonic), (2, true));
    assert_eq!(s.data_points[0].value, NumberValue::Int(15234));

    let body = fixture("metrics_histogram.pb");
    let req = MetricsRequest::decode_protobuf(&body).unwrap();
    let MetricData::Histogram(h) = &req.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!()
    };
    let p = &h.data_points[0];
    assert_eq!(
        (p.count, p.sum, p.min, p.max),
        (1543, Some(45120.5), Some(2.3), Some(421.8))
    );
    assert_eq!(p.bucket_counts, [23, 342, 687, 398, 78, 15]);
    assert_eq!(p.explicit_bounds, [10.0, 25.0, 50.0, 100.0, 250.0]);

    let body = fixture("metrics_exponential_histogram.pb");
    let req = MetricsRequest::decode_protobuf(&body).unwrap();
    let MetricData::ExponentialHistogram(h) =
        &req.resource_metrics[0].scope_metrics[0].metrics[0].data
    else {
        panic!()
    };
    let p = &h.data_points[0];
    assert_eq!((p.count, p.scale, p.zero_count), (2543, 3, 5));
    assert_eq!(p.positive.offset, 2);
    assert_eq!(p.positive.bucket_counts, [234, 567, 892, 645, 178, 22]);
    assert!(p.negative.bucket_counts.is_empty());

    let (name, unit, data) = first("metrics_summary.pb");
    assert_eq!((name.as_str(), unit.as_str()), ("request.size", "bytes"));
    assert!(data.contains("quantile: 0.99, value: 45123.0"), "{data}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Differential: wire vs prost
// ---------------------------------------------------------------------------------------------

// Compared through `Debug` so that NaN values (which are not `==` to themselves) compare equal
// when their bits survived.
fn assert_same_as_prost_logs(body: &[u8]) {
    let ours = LogsRequest::decode_protobuf(body).unwrap();
    let theirs = pb::ExportLogsServiceRequest::decode(body).unwrap();
    assert_eq!(format!("{ours:?}"), format!("{:?}", convert::logs(&theirs)));
}

fn assert_same_as_prost_traces(body: &[u8]) {
    let ours = TracesRequest::decode_protobuf(body).unwrap();
    let theirs = pb::ExportTraceServiceRequest::decode(body).unwrap();
    assert_eq!(
        format!("{ours:?}"),
        format!("{:?}", convert::traces(&theirs))
    );
}

fn assert_same_as_prost_metrics(body: &[u8]) {
    let ours = MetricsRequest::decode_protobuf(body).unwrap();
    let theirs = pb::ExportMetricsServiceRequest::decode(body).unwrap();
    assert_eq!(
        format!("{ours:?}"),
        format!("{:?}", convert::metrics(&theirs))
    );
}

/// prost, as proto3 requires, does not encode a singular double that equals 0.0 — `-0.0`
/// included — so a generated `-0.0` arrives as `0.0`. Only for comparisons with the generated
/// request; the comparison with prost's decode of the same bytes stays exact.
fn zero(debug: String) -> String {
    debug.replace("-0.0", "0.0")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn logs_decode_like_prost(req in strategies::logs_request()) {
        let body = req.encode_to_vec();
        assert_same_as_prost_logs(&body);
        // And the content is the generated request itself, not merely whatever prost made of it.
        let ours = LogsRequest::decode_protobuf(&body).unwrap();
        prop_assert_eq!(zero(format!("{ours:?}")), zero(format!("{:?}", convert::logs(&req))));
    }

    #[test]
    fn traces_decode_like_prost(req in strategies::traces_request()) {
        let body = req.encode_to_vec();
        assert_same_as_prost_traces(&body);
        let ours = TracesRequest::decode_protobuf(&body).unwrap();
        prop_assert_eq!(zero(format!("{ours:?}")), zero(format!("{:?}", convert::traces(&req))));
    }

    #[test]
    fn metrics_decode_like_prost(req in strategies::metrics_request()) {
        let body = req.encode_to_vec();
        assert_same_as_prost_metrics(&body);
        let ours = MetricsRequest::decode_protobuf(&body).unwrap();
        prop_assert_eq!(zero(format!("{ours:?}")), zero(format!("{:?}", convert::metrics(&req))));
    }

    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        // Whatever the outcome, both decoders agree on accepting: prost is lenient where we are
        // strict (ids, wire types), never the other way round.
        let ours = decode_all(&body);
        if ours[0] {
            prop_assert!(pb::ExportLogsServiceRequest::decode(&body[..]).is_ok());
        }
        if ours[1] {
            prop_assert!(pb::ExportTraceServiceRequest::decode(&body[..]).is_ok());
        }
        if ours[2] {
            prop_assert!(pb::ExportMetricsServiceRequest::decode(&body[..]).is_ok());
        }
    }

    #[test]
    fn truncations_of_valid_requests_error(req in strategies::metrics_request()) {
        let body = req.encode_to_vec();
        // A single top-level field: every cut inside it must be an error.
        let body = match req.resource_metrics.first() {
            Some(first) => pb::ExportMetricsServiceRequest {
                resource_metrics: vec![first.clone()],
            }
            .encode_to_vec(),
            None => body,
        };
        for cut in 1..body.len() {
            prop_assert!(MetricsRequest::decode_protobuf(&body[..cut]).is_err(), "cut {cut}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------

#[test]
fn every_truncation_and_bit_flip_of_fixtures_is_handled() {
    for name in [
        "trace.pb",
        "metrics_histogram.pb",
        "metrics_exponential_histogram.pb",
    ] {
        let body = fixture(name);
        for cut in 0..body.len() {
            let _ = decode_all(&body[..cut]);
        }
        let mut flipped = body.clone();
        for bit in 0..body.len() * 8 {
            flipped[bit / 8] ^= 1 << (bit % 8);
            let _ = decode_all(&flipped);
            flipped[bit / 8] ^= 1 << (bit % 8);
        }
        assert_eq!(flipped, body);
    }
    // Cutting a single-resource request anywhere inside its one top-level field is an error.
    let body = fixture("trace.pb");
    let req = pb::ExportTraceServiceRequest::decode(&body[..]).unwrap();
    assert_eq!(req.resource_spans.len(), 1);
    for cut in 1..body.len() {
        assert!(
            TracesRequest::decode_protobuf(&body[..cut]).is_err(),
            "cut at {cut}"
        );
    }
}

/// An `AnyValue` made of `depth` nested single-element arrays around an int.
fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut value = f_varint(3, 7);
    for _ in 0..depth {
        let array = f_len(1, &value);
        value = f_len(5, &array);
    }
    value
}

#[test]
fn nesting_bomb_is_an_error_not_a_stack_overflow() {
    let body = logs_with_record(&f_len(5, &nested_arrays(10_000)));
    let err = LogsRequest::decode_protobuf(&body).unwrap_err();
    assert!(
        err.message().contains("nested deeper than 64"),
        "{}",
        err.message()
    );
    assert!(
        err.message()
            .starts_with("resource_logs.scope_logs.log_records.body"),
        "{}",
        err.message()
    );
    assert!(err.message().len() < 200, "{}", err.message());

    // The same bomb as an attribute value and inside a kvlist.
    let kv = [f_len(1, b"k"), f_len(2, &nested_arrays(100))].concat();
    let body = logs_with_record(&f_len(6, &kv));
    assert!(LogsRequest::decode_protobuf(&body).is_err());
}

#[test]
fn nesting_up_to_the_limit_decodes() {
    let body = logs_with_record(&f_len(5, &nested_arrays(64)));
    let req = LogsRequest::decode_protobuf(&body).unwrap();
    let mut value = &only_record(&req).body;
    let mut depth = 0;
    while let AnyValue::Array(items) = value {
        value = &items[0];
        depth += 1;
    }
    assert_eq!((depth, value), (64, &AnyValue::Int(7)));
    // (prost's own recursion limit of 100 messages stops it short of 64 nested values.)
    assert_same_as_prost_logs(&logs_with_record(&f_len(5, &nested_arrays(40))));
    assert!(
        LogsRequest::decode_protobuf(&logs_with_record(&f_len(5, &nested_arrays(65)))).is_err()
    );
}

#[test]
fn wrong_length_ids_are_errors_naming_the_field() {
    let body = traces_with_span(&f_len(1, &[1, 2, 3, 4, 5]));
    let err = TracesRequest::decode_protobuf(&body).unwrap_err();
    assert_eq!(
        err.message(),
        "resource_spans.scope_spans.spans.trace_id: expected 16 bytes, got 5"
    );
    let body = traces_with_span(&f_len(4, &[0; 16]));
    let err = TracesRequest::decode_protobuf(&body).unwrap_err();
    assert_eq!(
        err.message(),
        "resource_spans.scope_spans.spans.parent_span_id: expected 8 bytes, got 16"
    );
    let link = f_len(2, &[9; 7]);
    let err = TracesRequest::decode_protobuf(&traces_with_span(&f_len(13, &link))).unwrap_err();
    assert_eq!(
        err.message(),
        "resource_spans.scope_spans.spans.links.span_id: expected 8 bytes, got 7"
    );
    let err = LogsRequest::decode_protobuf(&logs_with_record(&f_len(9, &[1; 15]))).unwrap_err();
    assert_eq!(
        err.message(),
        "resource_logs.scope_logs.log_records.trace_id: expected 16 bytes, got 15"
    );
    // Empty ids are "absent", all zeros.
    let body = traces_with_span(&[f_len(1, &[]), f_len(2, &[])].concat());
    let req = TracesRequest::decode_protobuf(&body).unwrap();
    let span = &req.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!((span.trace_id, span.span_id), ([0; 16], [0; 8]));
}

#[test]
fn wrong_wire_type_for_a_known_field_is_an_error() {
    let err = LogsRequest::decode_protobuf(&logs_with_record(&f_varint(1, 5))).unwrap_err();
    assert_eq!(
        err.message(),
        "resource_logs.scope_logs.log_records.time_unix_nano: wrong wire type: expected fixed64, got varint"
    );
    let err = LogsRequest::decode_protobuf(&f_varint(1, 3)).unwrap_err();
    assert!(
        err.message().starts_with("resource_logs: wrong wire type"),
        "{}",
        err.message()
    );
    let err = TracesRequest::decode_protobuf(&traces_with_span(&f_varint(16, 1))).unwrap_err();
    assert!(err.message().contains("spans.flags"), "{}", err.message());
}

#[test]
fn invalid_utf8_is_an_error() {
    let err =
        LogsRequest::decode_protobuf(&logs_with_record(&f_len(3, &[b'o', 0xff]))).unwrap_err();
    assert_eq!(
        err.message(),
        "resource_logs.scope_logs.log_records.severity_text: invalid UTF-8 at byte 1"
    );
    let kv = [f_len(1, &[0xc3]), f_len(2, &f_varint(3, 1))].concat();
    let err = LogsRequest::decode_protobuf(&logs_with_record(&f_len(6, &kv))).unwrap_err();
    assert!(
        err.message()
            .ends_with("attributes.key: invalid UTF-8 at byte 0"),
        "{}",
        err.message()
    );
}

#[test]
fn attribute_fast_path_keeps_varint_semantics() {
    // `12 80 0a …` reads as a value of length 0x0a << 7, not 0x80: the body is truncated even
    // though the bytes look like a short string attribute at a glance.
    let mut kv = vec![0x0a, 1, b'k', 0x12, 0x80, 0x0a, 126];
    kv.extend([b'v'; 126]);
    let body = logs_with_record(&f_len(6, &kv));
    assert!(LogsRequest::decode_protobuf(&body).is_err());
    assert!(pb::ExportLogsServiceRequest::decode(&body[..]).is_err());
    // Non-ASCII strings and a second value field take the general path, with the same result.
    for value in ["é", "v", ""] {
        let any = f_len(1, value.as_bytes());
        let kv = [f_len(1, "clé".as_bytes()), f_len(2, &any)].concat();
        assert_same_as_prost_logs(&logs_with_record(&f_len(6, &kv)));
        let kv = [f_len(1, b"k"), f_len(2, &any), f_len(2, &f_varint(3, 1))].concat();
        let body = logs_with_record(&f_len(6, &kv));
        assert_eq!(
            only_record(&LogsRequest::decode_protobuf(&body).unwrap()).attributes[0].value,
            AnyValue::Int(1)
        );
        assert_same_as_prost_logs(&body);
    }
    let kv = [f_len(1, b"k"), f_len(2, &f_len(1, &[b'a', 0xff]))].concat();
    let err = LogsRequest::decode_protobuf(&logs_with_record(&f_len(6, &kv))).unwrap_err();
    assert!(
        err.message()
            .ends_with("attributes.value.string_value: invalid UTF-8 at byte 1"),
        "{}",
        err.message()
    );
}

#[test]
fn scalar_attribute_fast_path_matches_prost() {
    let bodies = [
        f_varint(3, 200),
        f_varint(3, 0),
        f_varint(3, u64::MAX), // -1, a ten-byte varint
        f_varint(3, 1 << 63),  // i64::MIN
        f_fixed64(4, 1.5f64.to_bits()),
        f_fixed64(4, (-0.0f64).to_bits()),
        f_fixed64(4, f64::INFINITY.to_bits()),
        f_varint(2, 1),
        f_varint(2, 0),
        f_varint(2, 2),                            // any non-zero varint is true
        f_varint(2, 300),                          // a two-byte bool takes the general path
        [f_varint(3, 7), f_varint(3, 8)].concat(), // two fields: general path, last wins
        [f_varint(2, 1), f_varint(3, 8)].concat(),
    ];
    for any in &bodies {
        for key in ["http.response.status_code", "", "clé"] {
            let kv = [f_len(1, key.as_bytes()), f_len(2, any)].concat();
            assert_same_as_prost_logs(&logs_with_record(&f_len(6, &kv)));
        }
    }
    let kv = [f_len(1, b"k"), f_len(2, &f_varint(3, 200))].concat();
    let body = logs_with_record(&f_len(6, &kv));
    assert_eq!(
        only_record(&LogsRequest::decode_protobuf(&body).unwrap()).attributes[0].value,
        AnyValue::Int(200)
    );
    // An invalid key is reported by the general path, with its field path.
    let kv = [f_len(1, &[b'a', 0xff]), f_len(2, &f_varint(3, 1))].concat();
    let err = LogsRequest::decode_protobuf(&logs_with_record(&f_len(6, &kv))).unwrap_err();
    assert!(
        err.message()
            .ends_with("attributes.key: invalid UTF-8 at byte 1"),
        "{}",
        err.message()
    );
    // A truncated double is an error, not a fast-path value.
    let kv = [f_len(1, b"k"), vec![0x12, 5, 0x21, 0, 0, 0, 0]].concat();
    assert!(LogsRequest::decode_protobuf(&logs_with_record(&f_len(6, &kv))).is_err());
}

#[test]
fn groups_and_invalid_wire_types_are_errors() {
    // Field 99 as a start-group (wire type 3) and as wire type 7.
    for wire in [3u8, 4, 6, 7] {
        let mut record = Vec::new();
        key(99, wire, &mut record);
        assert!(
            LogsRequest::decode_protobuf(&logs_with_record(&record)).is_err(),
            "{wire}"
        );
    }
}

#[test]
fn truncated_fixed_width_and_lengths_are_errors() {
    let mut record = f_fixed64(1, 5);
    record.truncate(5);
    assert!(LogsRequest::decode_protobuf(&logs_with_record(&record)).is_err());
    let mut body = f_len(1, &[0; 10]);
    body.truncate(6);
    let err = LogsRequest::decode_protobuf(&body).unwrap_err();
    assert!(err.message().contains("truncated"), "{}", err.message());
    // A length that does not fit in memory, let alone in the body.
    let mut body = Vec::new();
    key(1, 2, &mut body);
    varint(u64::MAX, &mut body);
    assert!(LogsRequest::decode_protobuf(&body).is_err());
}

// ---------------------------------------------------------------------------------------------
// Protobuf semantics
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    let unknown = [
        f_varint(100, 1 << 40),
        f_fixed64(101, 7),
        f_len(102, b"future field"),
        f_fixed32(103, 9),
        f_len(104, &[]),
    ]
    .concat();
    let record = [unknown.clone(), f_len(3, b"WARN"), unknown.clone()].concat();
    let scope_logs = [unknown.clone(), f_len(2, &record)].concat();
    let resource_logs = [f_len(2, &scope_logs), unknown.clone()].concat();
    let body = [unknown.clone(), f_len(1, &resource_logs), unknown].concat();
    let req = LogsRequest::decode_protobuf(&body).unwrap();
    assert_eq!(only_record(&req).severity_text, "WARN");
    assert_same_as_prost_logs(&body);
}

#[test]
fn last_value_wins_for_scalars_and_oneofs() {
    let record = [
        f_fixed64(1, 10),
        f_len(3, b"INFO"),
        f_len(5, &f_len(1, b"first body")),
        f_fixed64(1, 20),
        f_len(3, b"ERROR"),
        f_len(9, &[1; 16]),
        f_len(9, &[2; 16]),
        // The body arrives twice: the oneof member of the second one replaces the first.
        f_len(5, &f_varint(3, 42)),
    ]
    .concat();
    let body = logs_with_record(&record);
    let req = LogsRequest::decode_protobuf(&body).unwrap();
    let r = only_record(&req);
    assert_eq!(r.time_unix_nano, 20);
    assert_eq!(r.severity_text, "ERROR");
    assert_eq!(r.trace_id, [2; 16]);
    assert_eq!(r.body, AnyValue::Int(42));
    assert_same_as_prost_logs(&body);

    let point = [f_fixed64(4, 1.5f64.to_bits()), f_fixed64(6, (-3i64) as u64)].concat();
    let gauge = f_len(1, &point);
    let body = metrics_with_metric(&f_len(5, &gauge));
    let req = MetricsRequest::decode_protobuf(&body).unwrap();
    let MetricData::Gauge(g) = &req.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!()
    };
    assert_eq!(g.data_points[0].value, NumberValue::Int(-3));
    assert_same_as_prost_metrics(&body);
}

#[test]
fn repeated_messages_append_and_singular_messages_merge() {
    // `resource` twice: attributes of both occurrences are kept (protobuf merge).
    let attr = |k: &[u8]| f_len(1, &[f_len(1, k), f_len(2, &f_varint(2, 1))].concat());
    let resource_logs = [
        f_len(1, &attr(b"a")),
        f_len(2, &f_len(2, &f_len(3, b"x"))),
        f_len(1, &[attr(b"b"), f_varint(2, 4)].concat()),
        f_len(2, &f_len(2, &f_len(3, b"y"))),
    ]
    .concat();
    let body = f_len(1, &resource_logs);
    let req = LogsRequest::decode_protobuf(&body).unwrap();
    let r = &req.resource_logs[0];
    let keys: Vec<&str> = r
        .resource
        .attributes
        .iter()
        .map(|a| a.key.as_ref())
        .collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(r.resource.dropped_attributes_count, 4);
    assert_eq!(r.scope_logs.len(), 2);
    assert_eq!(req.record_count(), 2);
    assert_same_as_prost_logs(&body);

    // A metric's `gauge` arriving twice merges its points; a `sum` after it replaces it.
    let point = |t: u64| f_len(1, &f_fixed64(3, t));
    let metric = [f_len(5, &point(1)), f_len(5, &point(2))].concat();
    let body = metrics_with_metric(&metric);
    assert_eq!(
        MetricsRequest::decode_protobuf(&body)
            .unwrap()
            .record_count(),
        2
    );
    assert_same_as_prost_metrics(&body);
    let metric = [metric, f_len(7, &point(3))].concat();
    let body = metrics_with_metric(&metric);
    let req = MetricsRequest::decode_protobuf(&body).unwrap();
    assert!(matches!(
        &req.resource_metrics[0].scope_metrics[0].metrics[0].data,
        MetricData::Sum(s) if s.data_points.len() == 1
    ));
    assert_same_as_prost_metrics(&body);
}

#[test]
fn packed_and_unpacked_repeated_scalars_are_accepted() {
    let packed_counts: Vec<u8> = [3u64, 4].iter().flat_map(|c| c.to_le_bytes()).collect();
    let point = [
        f_len(6, &packed_counts),
        f_fixed64(6, 5),
        f_fixed64(7, 1.5f64.to_bits()),
        f_len(7, &2.5f64.to_le_bytes()),
    ]
    .concat();
    let body = metrics_with_metric(&f_len(9, &f_len(1, &point)));
    let req = MetricsRequest::decode_protobuf(&body).unwrap();
    let MetricData::Histogram(h) = &req.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!()
    };
    assert_eq!(h.data_points[0].bucket_counts, [3, 4, 5]);
    assert_eq!(h.data_points[0].explicit_bounds, [1.5, 2.5]);
    assert_same_as_prost_metrics(&body);

    let mut packed = Vec::new();
    varint(300, &mut packed);
    varint(1, &mut packed);
    let buckets = [f_varint(2, 7), f_len(2, &packed), f_varint(1, 5)].concat(); // offset -3 zigzag
    let point = f_len(8, &buckets);
    let body = metrics_with_metric(&f_len(10, &f_len(1, &point)));
    let req = MetricsRequest::decode_protobuf(&body).unwrap();
    let MetricData::ExponentialHistogram(h) =
        &req.resource_metrics[0].scope_metrics[0].metrics[0].data
    else {
        panic!()
    };
    assert_eq!(h.data_points[0].positive.bucket_counts, [7, 300, 1]);
    assert_eq!(h.data_points[0].positive.offset, -3);
    assert_same_as_prost_metrics(&body);

    // A packed fixed64 run whose length is not a multiple of 8 is an error.
    let body = metrics_with_metric(&f_len(9, &f_len(1, &f_len(6, &[0; 9]))));
    let err = MetricsRequest::decode_protobuf(&body).unwrap_err();
    assert!(
        err.message()
            .ends_with("data_points.bucket_counts: packed field of 9 bytes is not a multiple of 8"),
        "{}",
        err.message()
    );
}

#[test]
fn empty_body_is_an_empty_request() {
    assert_eq!(
        LogsRequest::decode_protobuf(&[]).unwrap(),
        LogsRequest::default()
    );
    assert_eq!(
        TracesRequest::decode_protobuf(&[]).unwrap().record_count(),
        0
    );
    assert_eq!(
        MetricsRequest::decode_protobuf(&[]).unwrap().record_count(),
        0
    );
}

#[test]
fn strings_and_bytes_are_borrowed_from_the_body() {
    let body = fixture("logs.pb");
    let req = LogsRequest::decode_protobuf(&body).unwrap();
    let range = body.as_ptr_range();
    let r = only_record(&req);
    for s in [&r.severity_text, &r.attributes[0].key] {
        assert!(matches!(s, std::borrow::Cow::Borrowed(_)));
        assert!(range.contains(&s.as_ptr()));
    }
}

#[cfg(feature = "testing")]
#[test]
fn generated_requests_decode_like_prost() {
    use otlp2parquet_proto::testing;
    let logs = testing::logs_request(300, 4, 9).encode_to_vec();
    assert_eq!(
        LogsRequest::decode_protobuf(&logs).unwrap().record_count(),
        300
    );
    assert_same_as_prost_logs(&logs);
    let traces = testing::traces_request(300, 4, 9).encode_to_vec();
    assert_eq!(
        TracesRequest::decode_protobuf(&traces)
            .unwrap()
            .record_count(),
        300
    );
    assert_same_as_prost_traces(&traces);
    let metrics = testing::metrics_request(300, 4, 9).encode_to_vec();
    assert_eq!(
        MetricsRequest::decode_protobuf(&metrics)
            .unwrap()
            .record_count(),
        300
    );
    assert_same_as_prost_metrics(&metrics);
}
