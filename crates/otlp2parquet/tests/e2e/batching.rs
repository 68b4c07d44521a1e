//! The server's batcher seen from outside (ADR 0006, docs/keys.md#how-many-files): many
//! requests become few files, and files are written at the row limit, at the age limit with no
//! further traffic, and at SIGTERM; rows go to the hour of their own time stamp;
//! `batch.enabled = false` writes before answering; `/metrics` counts what was sent.
//!
//! The helpers here (files on disk while the server runs, rows per file, `/metrics` values) are
//! shared with `bad_input`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use otlp2parquet_proto::testing::{logs_request, metrics_request, traces_request};
use prost::Message;

use crate::bad_input::{Reply, assert_rpc_status, send};
use crate::util::Server;

const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");
const JSON: (&str, &str) = ("Content-Type", "application/json");

/// The `.parquet` files under `dir`, sorted; safe while the server runs: OpenDAL's temp files
/// live under `.tmp/` and do not end in `.parquet`.
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != ".tmp") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// Row count of a Parquet file, from its footer.
pub fn rows_in(path: &Path) -> i64 {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = std::fs::File::open(path).unwrap();
    let reader = SerializedFileReader::new(file)
        .unwrap_or_else(|e| panic!("{} is not Parquet: {e}", path.display()));
    reader.metadata().file_metadata().num_rows()
}

/// (path relative to the data dir, rows) of every Parquet file whose relative path starts with
/// `prefix`.
pub fn files_under(server: &Server, prefix: &str) -> Vec<(String, i64)> {
    let root = server.data_dir();
    parquet_files(&root)
        .into_iter()
        .filter_map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            rel.starts_with(prefix).then(|| (rel, rows_in(&p)))
        })
        .collect()
}

/// Total rows in the Parquet files under `prefix`.
pub fn rows_under(server: &Server, prefix: &str) -> i64 {
    files_under(server, prefix).iter().map(|f| f.1).sum()
}

/// The value of the `/metrics` sample whose name and labels are exactly `series`
/// (e.g. `otlp2parquet_records_total{signal="logs"}`); `None` when it is not exposed.
pub fn metric(server: &Server, series: &str) -> Option<f64> {
    let (status, body) = server.request("GET", "/metrics", &[], b"");
    assert_eq!(status, 200, "GET /metrics");
    let text = String::from_utf8(body).unwrap();
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().unwrap())
    })
}

/// Waits up to `timeout` for `cond`; false when it never held.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Posts `body` and asserts the 200.
pub fn post_ok(server: &Server, path: &str, header: (&str, &str), body: &[u8]) {
    let (status, resp) = server.request("POST", path, &[header], body);
    assert_eq!(
        status,
        200,
        "POST {path}: {}\n{}",
        String::from_utf8_lossy(&resp),
        server.log_tail()
    );
}

/// Files of a flush-free server, grouped by their directory, i.e. by (table, service, hour).
fn by_partition(files: &[(String, i64)]) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (rel, rows) in files {
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        out.entry(dir).or_default().push(*rows);
    }
    out
}

#[test]
fn many_small_requests_become_one_file_per_service_and_hour() {
    // A long age limit: this test is about merging, not about the timer.
    let mut server = Server::start_with(
        "batching-many-small",
        &[("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "600")],
    );
    for seed in 0..200 {
        post_ok(
            &server,
            "/v1/logs",
            PROTOBUF,
            &logs_request(50, 1, seed).encode_to_vec(),
        );
    }
    assert!(
        parquet_files(&server.data_dir()).is_empty(),
        "10 000 rows are under every limit: nothing is written before shutdown"
    );
    server.stop();
    let files = files_under(&server, "");
    assert_eq!(
        files.len(),
        1,
        "200 requests of one (table, service, hour) make one file: {files:?}"
    );
    assert!(files[0].0.starts_with("logs/checkout/"), "{files:?}");
    assert_eq!(files[0].1, 200 * 50);
}

#[test]
fn the_row_limit_writes_files_while_the_server_runs() {
    let mut server = Server::start_with(
        "batching-row-limit",
        &[
            ("OTLP2PARQUET_BATCH_MAX_ROWS", "1000"),
            ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "600"),
        ],
    );
    const PER_REQUEST: i64 = 250;
    for seed in 0..20 {
        post_ok(
            &server,
            "/v1/logs",
            PROTOBUF,
            &logs_request(PER_REQUEST as usize, 1, seed).encode_to_vec(),
        );
    }
    // 5 000 rows in requests of 250 reach 1 000 rows five times: every row is written without a
    // stop, by the row limit alone.
    let written = wait_for(Duration::from_secs(20), || {
        rows_under(&server, "logs/") == 5_000
    });
    let files = files_under(&server, "logs/");
    assert!(
        written,
        "the row limit did not write all 5 000 rows while running: {files:?}\n{}",
        server.log_tail()
    );
    assert_eq!(
        metric(&server, "otlp2parquet_buffered_rows"),
        Some(0.0),
        "nothing left in memory"
    );
    server.stop();
    let files = files_under(&server, "");
    assert_eq!(files.len(), 5, "{files:?}");
    for (rel, rows) in &files {
        assert!(
            (1_000..1_000 + PER_REQUEST).contains(rows),
            "{rel}: {rows} rows; a flush happens at the first request reaching 1 000"
        );
    }
    assert_eq!(files.iter().map(|f| f.1).sum::<i64>(), 5_000);
}

#[test]
fn a_quiet_buffer_is_written_by_age_without_more_traffic() {
    let mut server =
        Server::start_with("batching-age", &[("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "1")]);
    let sent = Instant::now();
    post_ok(
        &server,
        "/v1/traces",
        PROTOBUF,
        &traces_request(120, 2, 7).encode_to_vec(),
    );
    let appeared = wait_for(Duration::from_secs(4), || {
        rows_under(&server, "traces/") == 120
    });
    let waited = sent.elapsed();
    assert!(
        appeared,
        "no age flush within 4 s of a 1 s age limit: {:?}\n{}",
        files_under(&server, ""),
        server.log_tail()
    );
    assert!(
        waited >= Duration::from_millis(900),
        "written after {waited:?}, before the age limit"
    );
    let files = files_under(&server, "traces/");
    assert_eq!(files.len(), 2, "two services, two files: {files:?}");
    // The gauges follow the write (the counter is bumped just after the file lands).
    assert!(
        wait_for(Duration::from_secs(2), || {
            metric(&server, "otlp2parquet_flushes_total") == Some(2.0)
        }),
        "flushes_total: {:?}",
        metric(&server, "otlp2parquet_flushes_total")
    );
    assert_eq!(metric(&server, "otlp2parquet_buffered_rows"), Some(0.0));
    assert_eq!(metric(&server, "otlp2parquet_buffered_bytes"), Some(0.0));
    assert_eq!(
        metric(&server, "otlp2parquet_rows_written_total"),
        Some(120.0)
    );
    server.stop();
    assert_eq!(files_under(&server, ""), files, "stop wrote nothing more");
}

#[test]
fn sigterm_writes_every_buffered_row_of_every_signal() {
    // Default limits, with a long age so that only SIGTERM can write.
    let mut server = Server::start_with(
        "batching-sigterm",
        &[("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "600")],
    );
    let (logs, spans, points) = (700, 450, 300);
    post_ok(
        &server,
        "/v1/logs",
        PROTOBUF,
        &logs_request(logs, 3, 1).encode_to_vec(),
    );
    post_ok(
        &server,
        "/v1/traces",
        PROTOBUF,
        &traces_request(spans, 2, 2).encode_to_vec(),
    );
    post_ok(
        &server,
        "/v1/metrics",
        PROTOBUF,
        &metrics_request(points, 1, 3).encode_to_vec(),
    );
    assert_eq!(
        metric(&server, "otlp2parquet_buffered_rows"),
        Some((logs + spans + points) as f64)
    );
    assert!(
        parquet_files(&server.data_dir()).is_empty(),
        "below every limit nothing is written before SIGTERM"
    );
    server.stop();
    assert_eq!(rows_under(&server, "logs/"), logs as i64);
    assert_eq!(rows_under(&server, "traces/"), spans as i64);
    assert_eq!(rows_under(&server, "metrics/"), points as i64);
    let files = files_under(&server, "");
    let partitions = by_partition(&files);
    assert!(
        partitions.values().all(|f| f.len() == 1),
        "one file per (table, service, hour): {partitions:?}"
    );
    // 3 log services + 2 trace services + the five metric kinds of one service.
    assert_eq!(partitions.len(), 3 + 2 + 5, "{partitions:?}");
}

/// A JSON logs request for service `svc` with one record per time stamp.
fn json_logs(svc: &str, times_ns: &[u64]) -> Vec<u8> {
    let records: Vec<String> = times_ns
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(r#"{{"timeUnixNano":"{t}","severityNumber":9,"body":{{"stringValue":"record {i}"}}}}"#)
        })
        .collect();
    format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{svc}"}}}}]}},"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    )
    .into_bytes()
}

#[test]
fn rows_of_two_hours_go_to_two_partitions() {
    let mut server = Server::start("batching-two-hours");
    // 2025-01-15T10:59:00Z and 11:00:30Z: a minute apart, in two hours.
    let ten = 1_736_938_740_000_000_000_u64;
    let eleven = 1_736_938_830_000_000_000_u64;
    let times = [ten, eleven, ten + 1_000, eleven + 1_000, ten + 2_000];
    post_ok(&server, "/v1/logs", JSON, &json_logs("two-hours", &times));
    server.stop();
    let files = files_under(&server, "logs/two-hours/");
    let hours: BTreeMap<String, i64> = files
        .iter()
        .map(|(rel, rows)| {
            let hour = rel.split("/hour=").nth(1).unwrap()[..2].to_owned();
            (hour, *rows)
        })
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(
        hours,
        BTreeMap::from([("10".to_owned(), 3), ("11".to_owned(), 2)]),
        "{files:?}"
    );
    for (rel, _) in &files {
        assert!(rel.contains("year=2025/month=01/day=15/"), "{rel}");
    }
}

#[test]
fn with_batching_off_the_file_exists_when_the_200_arrives() {
    let mut server = Server::start_with("batching-off", &[("OTLP2PARQUET_BATCH_ENABLED", "false")]);
    for (i, seed) in [11_u64, 12, 13].into_iter().enumerate() {
        post_ok(
            &server,
            "/v1/logs",
            PROTOBUF,
            &logs_request(40, 1, seed).encode_to_vec(),
        );
        // No polling: the 200 means "written".
        let files = files_under(&server, "logs/");
        assert_eq!(files.len(), i + 1, "a file per request: {files:?}");
        assert_eq!(files.iter().map(|f| f.1).sum::<i64>(), 40 * (i as i64 + 1));
    }
    assert_eq!(metric(&server, "otlp2parquet_buffered_rows"), Some(0.0));
    server.stop();
    assert_eq!(files_under(&server, "").len(), 3);
}

#[test]
fn metrics_count_requests_and_records_sent() {
    let mut server = Server::start_with(
        "batching-metrics",
        &[("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "600")],
    );
    for seed in 0..7 {
        post_ok(
            &server,
            "/v1/logs",
            PROTOBUF,
            &logs_request(30 + seed as usize, 2, seed).encode_to_vec(),
        );
    }
    for seed in 0..3 {
        post_ok(
            &server,
            "/v1/metrics",
            PROTOBUF,
            &metrics_request(25, 1, seed).encode_to_vec(),
        );
    }
    let (status, _) = server.request("POST", "/v1/logs", &[JSON], b"{\"resourceLogs\":7}");
    assert_eq!(status, 400);
    let logs: usize = (0..7).map(|s| 30 + s).sum();
    let expect = [
        (
            r#"otlp2parquet_requests_total{signal="logs",code="200"}"#,
            7.0,
        ),
        (
            r#"otlp2parquet_requests_total{signal="logs",code="400"}"#,
            1.0,
        ),
        (
            r#"otlp2parquet_requests_total{signal="metrics",code="200"}"#,
            3.0,
        ),
        (r#"otlp2parquet_records_total{signal="logs"}"#, logs as f64),
        (r#"otlp2parquet_records_total{signal="metrics"}"#, 75.0),
        (r#"otlp2parquet_records_total{signal="traces"}"#, 0.0),
        (
            r#"otlp2parquet_rejected_requests_total{signal="logs"}"#,
            1.0,
        ),
        ("otlp2parquet_buffered_rows", (logs + 75) as f64),
        ("otlp2parquet_flushes_total", 0.0),
    ];
    for (series, value) in expect {
        assert_eq!(metric(&server, series), Some(value), "{series}");
    }
    assert_eq!(
        metric(
            &server,
            r#"otlp2parquet_requests_total{signal="traces",code="200"}"#
        ),
        None,
        "no traces were sent"
    );
    server.stop();
    assert_eq!(rows_under(&server, "logs/"), logs as i64);
    assert_eq!(rows_under(&server, "metrics/"), 75);
}

#[test]
fn past_the_memory_bound_requests_get_503_with_retry_after_and_nothing_is_lost() {
    // A 1 MB bound and 16 concurrent senders of ~1.7 MB (Arrow) requests: most arrive while the
    // bound is exceeded and flushes are still encoding. (Flushes free memory as they finish, so
    // which requests are refused depends on timing; that some are, and what they get, does not.)
    let mut server = Server::start_with(
        "batching-memory-bound",
        &[
            ("OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES", "1000000"),
            ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "600"),
        ],
    );
    let outcomes: Vec<(u16, Option<Reply>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16u64)
            .map(|t| {
                let server = &server;
                scope.spawn(move || {
                    (0..6u64)
                        .map(|i| {
                            let body = logs_request(2_000, 1, t * 100 + i).encode_to_vec();
                            let reply = send(server, "POST", "/v1/logs", &[PROTOBUF], &body);
                            match reply.status {
                                200 => (200, None),
                                s => (s, Some(reply)),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let accepted = outcomes.iter().filter(|(s, _)| *s == 200).count() as i64 * 2_000;
    let refused: Vec<&Reply> = outcomes.iter().filter_map(|(_, r)| r.as_ref()).collect();
    assert!(
        !refused.is_empty(),
        "96 concurrent 1.7 MB requests never hit a 1 MB bound"
    );
    assert!(accepted > 0, "an empty server always takes a request");
    for reply in &refused {
        assert_rpc_status(reply, 503, false, "past batch.max_buffered_bytes");
        let retry: u32 = reply
            .header("retry-after")
            .expect("503 without Retry-After")
            .parse()
            .unwrap();
        assert!(retry > 0);
    }
    let n = refused.len() as f64;
    assert_eq!(
        metric(&server, "otlp2parquet_overload_rejections_total"),
        Some(n)
    );
    assert_eq!(
        metric(
            &server,
            r#"otlp2parquet_requests_total{signal="logs",code="503"}"#
        ),
        Some(n)
    );
    // Once the flushes have written, there is room again.
    let later = send(
        &server,
        "POST",
        "/v1/logs",
        &[PROTOBUF],
        &logs_request(500, 1, 999).encode_to_vec(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut later = later;
    while later.status == 503 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        later = send(
            &server,
            "POST",
            "/v1/logs",
            &[PROTOBUF],
            &logs_request(500, 1, 999).encode_to_vec(),
        );
    }
    assert_eq!(later.status, 200, "{}", later.text());
    server.stop();
    assert_eq!(
        rows_under(&server, "logs/"),
        accepted + 500,
        "every row answered 200 is stored, nothing else"
    );
}
