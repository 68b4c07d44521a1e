//! The pipeline as adapters see it: statuses, response bodies, what is stored.

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine as _;
use otlp2parquet_handlers::{Response, Signal};
use otlp2parquet_proto::pb;
use otlp2parquet_writer::StorageErrorKind;
use proptest::prelude::*;
use prost::Message as _;

use crate::util::*;

fn status_message(resp: &Response) -> String {
    if resp.header("content-type") == Some("application/x-protobuf") {
        pb::rpc::Status::decode(resp.body.as_slice())
            .unwrap()
            .message
    } else {
        let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        v["message"].as_str().unwrap().to_owned()
    }
}

#[test]
fn invalid_fixtures_are_400_naming_the_problem() {
    let cases = [
        (
            "log_invalid_severity.json",
            Signal::Logs,
            "INVALID_SEVERITY_VALUE",
        ),
        ("malformed.json", Signal::Logs, "JSON"),
        (
            "metrics_invalid_temporality.json",
            Signal::Metrics,
            "INVALID_TEMPORALITY_VALUE",
        ),
        (
            "trace_invalid_base64.json",
            Signal::Traces,
            "!!!INVALID_BASE64!!!",
        ),
        (
            "trace_invalid_kind.json",
            Signal::Traces,
            "SPAN_KIND_INVALID_TYPE",
        ),
        ("trace_mixed_encoding.json", Signal::Traces, "zzz"),
    ];
    let dir = repo_root().join("testdata/otlp/invalid");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        cases.len(),
        "an invalid fixture is untested"
    );
    for (name, signal, needle) in cases {
        let body = fixture(&format!("otlp/invalid/{name}"));
        let (resp, storage) = run(signal, Some("application/json"), None, &body);
        assert_eq!(resp.status, 400, "{name}");
        let msg = status_message(&resp);
        assert!(
            msg.contains(needle),
            "{name}: message {msg:?} does not name {needle:?}"
        );
        assert!(storage.objects().is_empty(), "{name}: something was stored");
        assert!(resp.header("retry-after").is_none());
    }
}

/// Every object a request stores, by key (the store is deterministic: same seed, same time).
fn stored(signal: Signal, ct: &str, enc: Option<&str>, body: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let (resp, storage) = run(signal, Some(ct), enc, body);
    assert_eq!(
        resp.status,
        200,
        "{ct} {enc:?}: {}",
        String::from_utf8_lossy(&resp.body)
    );
    storage.objects()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The JSON fixture with every base64 trace/span id rewritten as hex.
fn with_hex_ids(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if matches!(k.as_str(), "traceId" | "spanId" | "parentSpanId") {
                    if let Some(s) = x.as_str() {
                        let raw = base64::engine::general_purpose::STANDARD.decode(s).unwrap();
                        *x = raw
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<String>()
                            .into();
                    }
                } else {
                    with_hex_ids(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(with_hex_ids),
        _ => {}
    }
}

#[test]
fn same_records_in_every_encoding_store_identical_files() {
    for name in fixture_names().iter().filter(|n| n.ends_with(".json")) {
        let signal = signal_of(name);
        let json = fixture(&format!("otlp/{name}"));
        let want = stored(signal, "application/json", None, &json);
        assert!(!want.is_empty(), "{name}");
        let pb = fixture(&format!("equiv/{}.pb", name.trim_end_matches(".json")));
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let line = serde_json::to_vec(&value).unwrap();
        let mut hex = value.clone();
        with_hex_ids(&mut hex);
        let hex = serde_json::to_vec(&hex).unwrap();
        let zst = zstd::stream::encode_all(pb.as_slice(), 3).unwrap();
        let variants: [(&str, &str, Option<&str>, Vec<u8>); 6] = [
            ("protobuf", "application/x-protobuf", None, pb.clone()),
            (
                "jsonl",
                "application/x-ndjson",
                None,
                [b"\n".as_slice(), &line, b"\n\n"].concat(),
            ),
            ("gzip json", "application/json", Some("gzip"), gzip(&json)),
            ("zstd protobuf", "application/x-protobuf", Some("zstd"), zst),
            ("hex ids", "application/json", None, hex),
            ("sniffed json", "", None, json.clone()),
        ];
        for (what, ct, enc, body) in variants {
            assert_eq!(stored(signal, ct, enc, &body), want, "{name} as {what}");
        }
    }
}

#[test]
fn jsonl_lines_join_into_one_request() {
    let body = fixture("otlp/logs.jsonl");
    let lines = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert!(lines > 10);
    let (resp, storage) = run(Signal::Logs, Some("application/x-ndjson"), None, &body);
    assert_eq!(resp.status, 200);
    // One file per (service, hour), not one per line.
    assert!(
        storage.objects().len() < lines,
        "{} files",
        storage.objects().len()
    );
}

#[test]
fn responses_are_encoded_like_the_request() {
    let (resp, _) = run(
        Signal::Traces,
        Some("application/json"),
        None,
        &fixture("otlp/trace.json"),
    );
    assert_eq!((resp.status, resp.body.as_slice()), (200, b"{}".as_slice()));
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let (resp, _) = run(
        Signal::Traces,
        Some("application/x-protobuf"),
        None,
        &fixture("otlp/trace.pb"),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/x-protobuf"));
    let decoded = pb::ExportTraceServiceResponse::decode(resp.body.as_slice()).unwrap();
    assert!(decoded.partial_success.is_none());
}

#[test]
fn unsupported_type_and_encoding_are_415() {
    let (resp, _) = run(Signal::Logs, Some("text/plain"), None, b"hello");
    assert_eq!(resp.status, 415);
    assert!(status_message(&resp).contains("text/plain"));
    let (resp, _) = run(Signal::Logs, Some("application/json"), Some("br"), b"{}");
    assert_eq!(resp.status, 415);
}

#[test]
fn oversized_body_is_413() {
    let body = vec![b' '; 8 * 1024 * 1024 + 1];
    let (resp, _) = run(Signal::Logs, Some("application/json"), None, &body);
    assert_eq!(resp.status, 413);
}

#[test]
fn storage_failure_is_503_with_retry_after() {
    for kind in [StorageErrorKind::Temporary, StorageErrorKind::Permanent] {
        let storage = otlp2parquet_writer::MemoryStorage::new();
        storage.fail_with(Some(kind));
        let body = fixture("otlp/logs.pb");
        let req = otlp2parquet_handlers::Request {
            signal: Signal::Logs,
            content_type: Some("application/x-protobuf"),
            content_encoding: None,
            body: &body,
            received_at_ns: RECEIVED_AT_NS,
        };
        let resp = block_on(otlp2parquet_handlers::handle(&req, &config(), 1, &storage));
        assert_eq!(resp.status, 503);
        assert!(resp.header("retry-after").is_some());
        assert!(storage.objects().is_empty());
    }
}

#[test]
fn empty_requests_store_nothing_and_succeed() {
    for (signal, body) in [
        (Signal::Logs, b"{}".as_slice()),
        (Signal::Traces, b"{\"resourceSpans\":[]}".as_slice()),
        (Signal::Metrics, b"".as_slice()),
    ] {
        let (resp, storage) = run(signal, Some("application/json"), None, body);
        if body.is_empty() {
            // An empty JSON body is not a JSON object.
            assert_eq!(resp.status, 400);
        } else {
            assert_eq!(resp.status, 200);
        }
        assert!(storage.objects().is_empty());
    }
    let (resp, storage) = run(Signal::Metrics, Some("application/x-protobuf"), None, b"");
    assert_eq!(
        resp.status, 200,
        "an empty protobuf message is a valid empty request"
    );
    assert!(storage.objects().is_empty());
}

#[test]
fn a_request_spanning_two_hours_writes_two_files() {
    let body = br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
      "scopeLogs":[{"logRecords":[
        {"timeUnixNano":"1705330799999999999","body":{"stringValue":"a"}},
        {"timeUnixNano":"1705330800000000000","body":{"stringValue":"b"}}]}]}]}"#;
    let (resp, storage) = run(Signal::Logs, Some("application/json"), None, body);
    assert_eq!(resp.status, 200);
    let keys: Vec<String> = storage.objects().into_keys().collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys[0].starts_with("logs/svc/year=2024/month=01/day=15/hour=14/1705330799999999-"),
        "{keys:?}"
    );
    assert!(
        keys[1].starts_with("logs/svc/year=2024/month=01/day=15/hour=15/1705330800000000-"),
        "{keys:?}"
    );
}

fn valid_bodies() -> Vec<(Signal, &'static str, Vec<u8>)> {
    fixture_names()
        .iter()
        .map(|n| {
            (
                signal_of(n),
                content_type_of(n),
                fixture(&format!("otlp/{n}")),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bodies_never_panic_or_500(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        signal in prop_oneof![Just(Signal::Logs), Just(Signal::Traces), Just(Signal::Metrics)],
        ct in prop_oneof![Just("application/x-protobuf"), Just("application/json"), Just("application/x-ndjson"), Just("")],
        enc in prop_oneof![Just(None), Just(Some("gzip")), Just(Some("zstd")), Just(Some("deflate"))],
    ) {
        let (resp, _) = run(signal, Some(ct), enc, &bytes);
        prop_assert!(matches!(resp.status, 200 | 400), "status {}", resp.status);
    }

    #[test]
    fn truncated_and_flipped_fixtures_never_panic_or_500(
        index in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let bodies = valid_bodies();
        let (signal, ct, body) = &bodies[index.index(bodies.len())];
        let mut b = body.clone();
        let n = b.len();
        b[flip.index(n)] ^= 1 << bit;
        b.truncate(cut.index(n + 1));
        let (resp, _) = run(*signal, Some(ct), None, &b);
        prop_assert!(matches!(resp.status, 200 | 400), "status {}", resp.status);
    }
}
