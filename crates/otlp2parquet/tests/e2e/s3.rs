//! The server writing to object storage (docs/configuration.md#storage, docs/keys.md; ADR 0005,
//! ADR 0006): the `s3` backend and the `r2` code path against a real local S3 server (s3s-fs,
//! installed by `make deps`), and what happens when that server dies: requests are still taken
//! until the memory bound, then refused with 503 + `Retry-After`; `/ready` says 503; once
//! storage is back every acknowledged row is written exactly once.
//!
//! Objects are listed and read back through the S3 API (an `OpendalStorage` of our own), never
//! from s3s-fs's directory, so the keys checked are the keys a bucket user sees.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use otlp2parquet_proto::testing::{
    BASE_TIME_UNIX_NANO, logs_request, metrics_request, traces_request,
};
use otlp2parquet_testkit::{METRIC_KINDS, S3Fs, gzip};
use prost::Message;

use crate::bad_input::{assert_rpc_status, send};
use crate::batching::{metric, post_ok, wait_for};
use crate::util::Server;

const BUCKET: &str = "telemetry";
const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");

/// s3s-fs over `<CARGO_TARGET_TMPDIR>/<name>-s3s`, holding the bucket [`BUCKET`].
fn start_s3(name: &str) -> S3Fs {
    S3Fs::start(
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-s3s")),
        BUCKET,
    )
}

/// Starts the server without `--output` (which would force the fs backend), with `env`.
fn start_server(name: &str, env: &[(String, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start_args(name, &["serve"], &env)
}

/// Checks `key` against docs/keys.md#layout under `prefix` (testkit) and that its time is one of
/// the records sent; returns (table, partition directory).
fn check_key(key: &str, prefix: &str) -> (String, String) {
    let parts = otlp2parquet_testkit::check_key(key, prefix);
    // Generated records lie in the five minutes from BASE_TIME_UNIX_NANO.
    let base = (BASE_TIME_UNIX_NANO / 1_000) as i64;
    assert!(
        (base..base + 300_000_000).contains(&parts.micros),
        "{key}: micros {} is not the time of a record sent",
        parts.micros
    );
    (parts.table, parts.dir)
}

/// Rows per table of `objects`, after checking every key (and one file per partition: the
/// server was stopped with every buffer below its limits, so each was written once, at SIGTERM).
fn rows_per_table(objects: &[(String, i64)], prefix: &str) -> BTreeMap<String, i64> {
    let mut tables: BTreeMap<String, i64> = BTreeMap::new();
    let mut partitions: BTreeMap<String, usize> = BTreeMap::new();
    for (key, rows) in objects {
        let (table, dir) = check_key(key, prefix);
        *tables.entry(table).or_default() += rows;
        *partitions.entry(dir).or_default() += 1;
    }
    assert!(
        partitions.values().all(|&n| n == 1),
        "one file per (table, service, hour): {partitions:?}"
    );
    tables
}

fn assert_ready(server: &Server, want: u16, what: &str) {
    let (status, body) = server.request("GET", "/ready", &[], b"");
    assert_eq!(
        status,
        want,
        "GET /ready {what}: {}",
        String::from_utf8_lossy(&body)
    );
}

#[test]
fn the_s3_backend_writes_every_signal_under_the_prefix() {
    let s3 = start_s3("s3-backend");
    let prefix = "tenant-a/otel/";
    let mut env = s3.s3_env(prefix);
    env.push((
        "OTLP2PARQUET_BATCH_MAX_AGE_SECS".to_owned(),
        "600".to_owned(),
    ));
    let mut server = start_server("s3-backend", &env);
    assert_ready(&server, 200, "with s3s-fs up");

    post_ok(
        &server,
        "/v1/logs",
        PROTOBUF,
        &logs_request(300, 3, 1).encode_to_vec(),
    );
    let gz = gzip(&logs_request(200, 2, 2).encode_to_vec());
    let (status, body) = server.request(
        "POST",
        "/v1/logs",
        &[PROTOBUF, ("Content-Encoding", "gzip")],
        &gz,
    );
    assert_eq!(status, 200, "gzip: {}", String::from_utf8_lossy(&body));
    post_ok(
        &server,
        "/v1/traces",
        PROTOBUF,
        &traces_request(150, 2, 3).encode_to_vec(),
    );
    post_ok(
        &server,
        "/v1/metrics",
        PROTOBUF,
        &metrics_request(100, 1, 4).encode_to_vec(),
    );
    assert!(
        s3.objects().is_empty(),
        "below every limit nothing is written before SIGTERM"
    );
    server.stop();

    let objects = s3.objects();
    let tables = rows_per_table(&objects, prefix);
    // 100 points in metrics of ten points, cycling through the five kinds: 20 points each.
    let mut want = BTreeMap::from([("logs".to_owned(), 500), ("traces".to_owned(), 150)]);
    for kind in METRIC_KINDS {
        want.insert(format!("metrics/{kind}"), 20);
    }
    assert_eq!(tables, want, "rows per table: {objects:#?}");
    // 3 log services, 2 trace services, five metric kinds of one service.
    assert_eq!(objects.len(), 3 + 2 + 5, "{objects:#?}");
    assert!(
        objects.iter().any(|(k, _)| k
            .starts_with("tenant-a/otel/logs/checkout/year=2025/month=01/day=15/hour=10/")),
        "{objects:#?}"
    );
}

#[test]
fn the_r2_backend_writes_through_its_s3_api() {
    let s3 = start_s3("r2-backend");
    let endpoint = s3.endpoint();
    let env: Vec<(String, String)> = [
        ("OTLP2PARQUET_STORAGE_BACKEND", "r2"),
        ("OTLP2PARQUET_R2_BUCKET", BUCKET),
        (
            "OTLP2PARQUET_R2_ACCOUNT_ID",
            "0123456789abcdef0123456789abcdef",
        ),
        ("OTLP2PARQUET_R2_ENDPOINT", &endpoint),
        ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "600"),
        ("AWS_ACCESS_KEY_ID", S3Fs::ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", S3Fs::SECRET_KEY),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let mut server = start_server("r2-backend", &env);
    assert_ready(&server, 200, "with s3s-fs up");
    post_ok(
        &server,
        "/v1/logs",
        PROTOBUF,
        &logs_request(120, 2, 5).encode_to_vec(),
    );
    post_ok(
        &server,
        "/v1/traces",
        PROTOBUF,
        &traces_request(60, 1, 6).encode_to_vec(),
    );
    post_ok(
        &server,
        "/v1/metrics",
        PROTOBUF,
        &metrics_request(50, 1, 7).encode_to_vec(),
    );
    server.stop();
    assert!(
        std::fs::read_to_string(server.dir.join("server.log"))
            .unwrap()
            .contains(&format!("r2://{BUCKET} (endpoint {endpoint})")),
        "the startup line names the r2 backend:\n{}",
        server.log_tail()
    );

    let objects = s3.objects();
    // No prefix: the tables are at the top of the bucket.
    let tables = rows_per_table(&objects, "");
    let mut want = BTreeMap::from([("logs".to_owned(), 120), ("traces".to_owned(), 60)]);
    for kind in METRIC_KINDS {
        want.insert(format!("metrics/{kind}"), 10);
    }
    assert_eq!(tables, want, "rows per table: {objects:#?}");
}

#[test]
fn a_storage_outage_fills_the_bound_then_every_acknowledged_row_is_written_once() {
    const PER_REQUEST: usize = 100;
    let mut s3 = start_s3("s3-outage");
    let mut env = s3.s3_env("otel/");
    for (k, v) in [
        ("OTLP2PARQUET_BATCH_MAX_ROWS", "200"),
        // An odd request out is written by age, so that the gauge can reach 0.
        ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "2"),
        ("OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES", "2000000"),
    ] {
        env.push((k.to_owned(), v.to_owned()));
    }
    let mut server = start_server("s3-outage", &env);
    let mut seed = 0;
    let mut next_body = || {
        seed += 1;
        logs_request(PER_REQUEST, 1, seed).encode_to_vec()
    };

    // Storage up: every two requests make a file.
    let mut acked = 0;
    for _ in 0..10 {
        post_ok(&server, "/v1/logs", PROTOBUF, &next_body());
        acked += PER_REQUEST;
    }
    assert!(
        wait_for(Duration::from_secs(10), || {
            metric(&server, "otlp2parquet_buffered_rows") == Some(0.0)
        }),
        "the row limit did not write the first 1 000 rows:\n{}",
        server.log_tail()
    );
    assert_eq!(s3.objects().iter().map(|o| o.1).sum::<i64>(), 1_000);

    // Storage down: requests are taken until the bound, then refused.
    s3.kill();
    let down = Instant::now();
    let mut acked_down = 0;
    let mut refused = 0;
    let mut first_refusal = None;
    while refused < 5 {
        assert!(
            down.elapsed() < Duration::from_secs(30),
            "no 503 after {acked_down} rows acknowledged with storage down:\n{}",
            server.log_tail()
        );
        let reply = send(&server, "POST", "/v1/logs", &[PROTOBUF], &next_body());
        match reply.status {
            200 => acked_down += PER_REQUEST,
            503 => {
                assert_rpc_status(&reply, 503, false, "past the memory bound");
                let retry: u64 = reply
                    .header("retry-after")
                    .unwrap_or_else(|| panic!("503 without Retry-After: {:?}", reply.headers))
                    .parse()
                    .unwrap();
                assert!(retry > 0, "Retry-After: {retry}");
                first_refusal.get_or_insert(down.elapsed());
                refused += 1;
            }
            other => panic!("POST with storage down: {other} {}", reply.text()),
        }
    }
    acked += acked_down;
    assert!(
        acked_down >= 2 * PER_REQUEST,
        "requests are taken for a while before the bound: only {acked_down} rows"
    );
    assert_eq!(
        metric(&server, "otlp2parquet_buffered_rows"),
        Some(acked_down as f64),
        "every row acknowledged while storage is down stays buffered"
    );
    assert!(
        wait_for(Duration::from_secs(10), || {
            metric(&server, "otlp2parquet_flush_failures_total").is_some_and(|n| n >= 2.0)
        }),
        "flush failures are counted:\n{}",
        server.log_tail()
    );
    assert!(
        metric(&server, "otlp2parquet_overload_rejections_total").is_some_and(|n| n >= 5.0),
        "overload rejections are counted"
    );
    assert_ready(&server, 503, "with s3s-fs down");
    // A longer outage, so that the writes are several backoff steps in when storage returns.
    while down.elapsed() < Duration::from_secs(12) {
        std::thread::sleep(Duration::from_millis(500));
        assert_ready(&server, 503, "while s3s-fs stays down");
    }
    assert_eq!(
        metric(&server, "otlp2parquet_buffered_rows"),
        Some(acked_down as f64),
        "nothing is dropped while storage stays down"
    );
    let failures_before = metric(&server, "otlp2parquet_flush_failures_total").unwrap();

    // Storage back, on the same port and directory: the retries drain the buffers.
    s3.spawn();
    let up = Instant::now();
    assert!(
        wait_for(Duration::from_secs(60), || {
            metric(&server, "otlp2parquet_buffered_rows") == Some(0.0)
        }),
        "buffered rows did not drain within 60 s of storage returning ({:?} left):\n{}",
        metric(&server, "otlp2parquet_buffered_rows"),
        server.log_tail()
    );
    let recovery = up.elapsed();
    assert_ready(&server, 200, "after s3s-fs is back");
    // There is room again.
    post_ok(&server, "/v1/logs", PROTOBUF, &next_body());
    acked += PER_REQUEST;
    eprintln!(
        "s3 outage: {acked_down} rows acknowledged while down, first 503 after {:?}, \
         {refused} refusals sent, {failures_before} flush failures in a {:?} outage, drained \
         {recovery:?} after restart",
        first_refusal.unwrap_or_default(),
        up - down
    );
    server.stop();

    let objects = s3.objects();
    for (key, _) in &objects {
        check_key(key, "otel/");
    }
    let stored: i64 = objects.iter().map(|o| o.1).sum();
    assert_eq!(
        stored, acked as i64,
        "rows stored == rows acknowledged with 200 (none lost, none twice): {objects:#?}"
    );
}

#[test]
fn the_python_sdk_through_the_s3_backend_is_stored_as_sent() {
    let s3 = start_s3("s3-sdk");
    let mut env = s3.s3_env("");
    env.push((
        "OTLP2PARQUET_BATCH_MAX_AGE_SECS".to_owned(),
        "3600".to_owned(),
    ));
    let mut server = start_server("s3-sdk", &env);
    let run = crate::sdk::run_id();
    let mut reports = Vec::new();
    for (service, compression) in [("py-sdk-s3", "none"), ("py-sdk-s3-gzip", "gzip")] {
        let mut cmd = std::process::Command::new(crate::util::python());
        cmd.arg(crate::sdk::sdk_dir().join("python/send.py")).args([
            &server.endpoint(),
            service,
            compression,
            &run,
        ]);
        reports.push(crate::sdk::send(&server, cmd, service));
    }
    server.stop();
    // Listed and read through the S3 API: every object is a Parquet file with rows.
    let objects = s3.objects();
    assert!(!objects.is_empty());
    assert!(objects.iter().all(|(_, rows)| *rows > 0), "{objects:?}");
    // s3s-fs keeps each object as a plain file under <root>/<bucket>/<key>: the same checker as
    // the local-disk SDK tests compares them, row by row, with what the SDK sent.
    crate::sdk::check_dir(&server, &s3.object_path(""), &reports);
}
