//! End to end through real components: the Lambda emulator of `cargo lambda watch` (Function URL
//! front door and Invoke API) running the `bootstrap` binary against a local S3 server
//! (s3s-fs), with the objects read back through the S3 API.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use otlp2parquet_proto::pb;
use otlp2parquet_testkit::{gzip, zstd};
use prost::Message as _;

use crate::util::{
    JSON, JSON_FIXTURES, PROTOBUF, PROTOBUF_FIXTURES, Sent, assert_export_ok, fixture,
    invalid_fixtures, key_stem, merge, parquet_text, pipeline_files, records, rig, signal_path,
};

/// What the shared pipeline itself writes for the same requests, in process, as (key without
/// its random part, rows as text): the Lambda must store exactly these rows.
fn pipeline_contents(prefix: &str, sent: &[Sent]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pipeline_files(prefix, sent)
        .into_iter()
        .map(|(k, v)| (key_stem(&k), parquet_text(v)))
        .collect();
    out.sort();
    out
}

#[test]
fn every_signal_as_protobuf_and_json_is_in_s3_when_answered() {
    let rig = rig("signals", "otel/", &[]);
    let mut expected = BTreeMap::new();
    let mut sent = Vec::new();
    for name in PROTOBUF_FIXTURES.iter().chain(JSON_FIXTURES.iter()) {
        let s = Sent {
            path: signal_path(name),
            content_type: if name.ends_with(".pb") {
                PROTOBUF
            } else {
                JSON
            },
            encoding: None,
            body: fixture(name),
        };
        let before: i64 = rig.rows_per_table().values().sum();
        let reply = rig.send(&s);
        assert_export_ok(&reply, &s, name);
        let want = records(name);
        // Acknowledged means written: the rows are there as soon as the answer is.
        let after: i64 = rig.rows_per_table().values().sum();
        assert_eq!(after - before, want.values().sum::<i64>(), "{name}");
        merge(&mut expected, &want);
        sent.push(s);
    }
    assert_eq!(rig.rows_per_table(), expected);
    assert_eq!(rig.contents(), pipeline_contents("otel/", &sent));

    // One JSON line per request, the first with the cold start time.
    let log = rig.lambda.function_log();
    let requests: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "request")
        .collect();
    assert_eq!(requests.len(), sent.len() + 1, "{log}");
    assert_eq!(
        requests
            .iter()
            .filter(|v| v.get("cold_start_ms").is_some())
            .count(),
        1,
        "{log}"
    );
    assert!(requests[0]["cold_start_ms"].as_f64().unwrap() > 0.0);
    let traces = requests.iter().find(|v| v["path"] == "/v1/traces").unwrap();
    assert_eq!(traces["status"], 200);
    assert_eq!(traces["signal"], "traces");
    assert!(traces["records"].as_u64().unwrap() > 0);
    assert!(traces["ms"].as_f64().is_some());
}

#[test]
fn compressed_and_jsonl_bodies_are_stored() {
    let rig = rig("encodings", "", &[]);
    let sent = [
        Sent {
            path: "/v1/traces",
            content_type: PROTOBUF,
            encoding: Some("gzip"),
            body: gzip(&fixture("traces.pb")),
        },
        Sent {
            path: "/v1/metrics",
            content_type: JSON,
            encoding: Some("gzip"),
            body: gzip(&fixture("metrics_histogram.json")),
        },
        Sent {
            path: "/v1/logs",
            content_type: "application/x-ndjson",
            encoding: None,
            body: fixture("logs.jsonl"),
        },
        Sent {
            path: "/v1/metrics",
            content_type: "application/jsonl",
            encoding: Some("zstd"),
            body: zstd(&fixture("metrics_sum.jsonl")),
        },
    ];
    let mut expected = BTreeMap::new();
    for (s, name) in sent.iter().zip([
        "traces.pb",
        "metrics_histogram.json",
        "logs.jsonl",
        "metrics_sum.jsonl",
    ]) {
        let reply = rig.send(s);
        assert_eq!(reply.status, 200, "{name}: {}", reply.text());
        merge(&mut expected, &records(name));
    }
    assert_eq!(rig.rows_per_table(), expected);
    assert_eq!(rig.contents(), pipeline_contents("", &sent));
}

#[test]
fn invalid_payloads_are_400_with_an_otlp_status_and_nothing_is_written() {
    let rig = rig("invalid", "", &[]);
    for name in &invalid_fixtures() {
        let body = fixture(&format!("invalid/{name}"));
        let reply = rig.lambda.post(signal_path(name), JSON, None, &body);
        assert_eq!(reply.status, 400, "{name}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some(JSON), "{name}");
        let status: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(status["code"], 3, "{name}: {status}");
        assert!(
            !status["message"].as_str().unwrap().is_empty(),
            "{name}: {status}"
        );
    }
    // Protobuf errors come back as a protobuf google.rpc.Status (base64 through the emulator).
    let reply = rig
        .lambda
        .post("/v1/traces", PROTOBUF, None, b"\x0a\xff\xff\xff\xff\x0f");
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(PROTOBUF));
    let status = pb::rpc::Status::decode(reply.body.as_slice()).unwrap();
    assert_eq!(status.code, 3);
    assert!(!status.message.is_empty());
    assert!(rig.s3.objects().is_empty());
}

#[test]
fn limits_methods_and_paths_follow_the_contract() {
    let rig = rig("limits", "", &[]);
    let l = &rig.lambda;
    // The Lambda default limit is 6 MiB, after decompression too.
    let limit = 6 * 1024 * 1024;
    let mut big = b"{\"resourceLogs\":[],\"pad\":\"".to_vec();
    big.resize(limit + 1, b'a');
    let r = l.post("/v1/logs", JSON, None, &big);
    assert_eq!(r.status, 413, "{}", r.text());
    let status: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(status["code"], 8);
    let bomb = gzip(&vec![b' '; limit + 1024]);
    assert!(bomb.len() < 64 * 1024);
    let r = l.invoke_url(
        "POST",
        "/v1/logs",
        &[("content-type", JSON), ("content-encoding", "gzip")],
        &bomb,
    );
    assert_eq!(r.status, 413, "{}", r.text());

    let r = l.get("/v1/logs");
    assert_eq!(r.status, 405, "{}", r.text());
    assert_eq!(r.header("allow"), Some("POST"));
    let r = l.post("/v1/nope", JSON, None, b"{}");
    assert_eq!(r.status, 404, "{}", r.text());
    let r = l.get("/ready");
    assert_eq!(r.status, 404, "{}", r.text());
    let r = l.post("/v1/logs", "text/csv", None, b"a,b");
    assert_eq!(r.status, 415, "{}", r.text());
    let r = l.post("/v1/logs", JSON, Some("br"), b"{}");
    assert_eq!(r.status, 415, "{}", r.text());
    let r = l.get("/health");
    assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    assert!(rig.s3.objects().is_empty());
}

#[test]
fn bearer_token_is_required_when_configured() {
    let rig = rig(
        "auth",
        "",
        &[("OTLP2PARQUET_AUTH_BEARER_TOKEN", "s3cret-token-0123456789")],
    );
    let body = fixture("log.json");
    let r = rig.lambda.post("/v1/logs", JSON, None, &body);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("www-authenticate").is_some());
    let r = rig.lambda.request(
        "POST",
        "/v1/logs",
        &[
            ("content-type", JSON),
            ("authorization", "Bearer s3cret-token-0123456789"),
        ],
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(rig.rows_per_table(), records("log.json"));
    // Health stays open.
    assert_eq!(rig.lambda.get("/health").status, 200);
}

fn event(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

#[test]
fn api_gateway_rest_http_and_alb_events_through_the_invoke_api() {
    let rig = rig("events", "", &[]);
    // API Gateway REST (v1), stage `prod` behind a custom domain's `otlp` base path: routed on
    // the resource, base64 protobuf body.
    let v1 = event("apigw-rest-v1-traces-protobuf.json");
    assert_eq!(v1["path"], "/otlp/v1/traces");
    let out = rig.lambda.invoke(&v1);
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(out["isBase64Encoded"], true, "{out}");
    assert_eq!(
        out["multiValueHeaders"]["content-type"][0], PROTOBUF,
        "{out}"
    );
    let body = base64::engine::general_purpose::STANDARD
        .decode(out["body"].as_str().unwrap_or(""))
        .unwrap();
    let response = pb::ExportTraceServiceResponse::decode(body.as_slice()).unwrap();
    assert!(response.partial_success.is_none());
    assert_eq!(rig.rows_per_table(), records("trace.pb"));

    // ALB, text JSON body.
    let alb = event("alb-logs-json.json");
    let out = rig.lambda.invoke(&alb);
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(out["isBase64Encoded"], false, "{out}");
    assert_eq!(out["body"], "{}", "{out}");
    assert_eq!(out["statusDescription"], "200 OK", "{out}");
    assert_eq!(out["headers"]["content-type"], JSON, "{out}");
    let mut expected = records("trace.pb");
    merge(&mut expected, &records("log.json"));
    assert_eq!(rig.rows_per_table(), expected);

    // API Gateway HTTP API (v2) on a named stage: `rawPath` starts with `/prod`.
    let v2 = event("apigw-http-v2-stage-metrics-json.json");
    assert_eq!(v2["rawPath"], "/prod/v1/metrics");
    let out = rig.lambda.invoke(&v2);
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(out["isBase64Encoded"], false, "{out}");
    assert_eq!(out["body"], "{}", "{out}");
    merge(&mut expected, &records("metrics_gauge.json"));
    assert_eq!(rig.rows_per_table(), expected);

    // The same ALB event on a wrong method and path.
    let mut wrong = alb.clone();
    wrong["httpMethod"] = "GET".into();
    let out = rig.lambda.invoke(&wrong);
    assert_eq!(out["statusCode"], 405, "{out}");
    assert_eq!(out["headers"]["allow"], "POST", "{out}");
    let mut wrong = alb;
    wrong["path"] = "/v2/logs".into();
    let out = rig.lambda.invoke(&wrong);
    assert_eq!(out["statusCode"], 404, "{out}");
    assert_eq!(rig.rows_per_table(), expected);
}

#[test]
fn storage_unreachable_is_a_retryable_503_and_nothing_is_written() {
    let mut rig = rig("storage-down", "", &[]);
    rig.s3.kill();
    let began = Instant::now();
    let r = rig
        .lambda
        .post("/v1/traces", PROTOBUF, None, &fixture("traces.pb"));
    let took = began.elapsed();
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("5"));
    let status = pb::rpc::Status::decode(r.body.as_slice()).unwrap();
    assert_eq!(status.code, 14, "{status:?}");
    // OpenDAL retries a refused connection 3 times with 0.2-2 s backoff before giving up.
    assert!(took < Duration::from_secs(30), "took {took:?}");
    println!("storage down: 503 after {took:?}");
    rig.s3.spawn();
    assert!(rig.s3.objects().is_empty(), "a refused write left objects");
    // The same process recovers as soon as S3 is back: clients retry and get their data in.
    let r = rig
        .lambda
        .post("/v1/traces", PROTOBUF, None, &fixture("traces.pb"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(rig.rows_per_table(), records("traces.pb"));
}

#[test]
fn timestamp_unit_us_writes_every_time_column_in_microseconds() {
    use parquet::basic::{LogicalType, TimeUnit};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let rig = rig(
        "micros",
        "",
        &[("OTLP2PARQUET_PARQUET_TIMESTAMP_UNIT", "us")],
    );
    let mut expected = BTreeMap::new();
    for name in ["logs.pb", "traces.pb", "metrics_mixed.pb"] {
        let s = Sent {
            path: signal_path(name),
            content_type: PROTOBUF,
            encoding: None,
            body: fixture(name),
        };
        let reply = rig.send(&s);
        assert_export_ok(&reply, &s, name);
        merge(&mut expected, &records(name));
    }
    assert_eq!(rig.rows_per_table(), expected);
    let objects = rig.s3.read_all();
    let mut times = 0;
    for (key, bytes) in objects.into_iter().filter(|(k, _)| k.ends_with(".parquet")) {
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        let descr = reader.metadata().file_metadata().schema_descr_ptr();
        for column in descr.columns() {
            assert!(
                column.self_type().get_basic_info().has_id(),
                "{key}: {} has no field id",
                column.path()
            );
            if let Some(LogicalType::Timestamp(t)) = column.logical_type_ref() {
                assert!(
                    matches!(t.unit, TimeUnit::MICROS),
                    "{key}: {} is {:?}",
                    column.path(),
                    t.unit
                );
                times += 1;
            }
        }
    }
    assert!(times >= 6, "{times} time columns checked");
}
