//! The server writing to object storage (SPEC §2, §5.1, §6; ADR 0005, ADR 0006): the `s3` backend
//! and the `r2` code path against a real local S3 server (s3s-fs, installed by `make deps`), and
//! what happens when that server dies: requests are still taken until the memory bound, then
//! refused with 503 + `Retry-After`; `/ready` says 503; once storage is back every acknowledged
//! row is written exactly once.
//!
//! Objects are listed and read back through the S3 API (an `OpendalStorage` of our own), never
//! from s3s-fs's directory, so the keys checked are the keys a bucket user sees.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use otlp2parquet_common::config::{Backend, Config};
use otlp2parquet_common::platform::Platform;
use otlp2parquet_proto::testing::{
    BASE_TIME_UNIX_NANO, logs_request, metrics_request, traces_request,
};
use otlp2parquet_writer::OpendalStorage;
use prost::Message;

use crate::bad_input::{assert_rpc_status, send};
use crate::batching::{metric, post_ok, wait_for};
use crate::util::Server;

const ACCESS_KEY: &str = "AKIDOTLP2PARQUETSRV";
const SECRET_KEY: &str = "SECRETOTLP2PARQUETSRV";
const BUCKET: &str = "telemetry";
const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");
const METRIC_KINDS: [&str; 5] = [
    "gauge",
    "sum",
    "histogram",
    "exponential_histogram",
    "summary",
];

/// A running `s3s-fs` on a fixed 127.0.0.1 port over `<CARGO_TARGET_TMPDIR>/<name>-s3s`; it can be
/// killed and restarted on the same port and directory. Killed and reaped on drop.
struct S3Fs {
    child: Option<Child>,
    port: u16,
    root: PathBuf,
}

impl S3Fs {
    /// Starts s3s-fs over a fresh directory holding the bucket [`BUCKET`].
    fn start(name: &str) -> S3Fs {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-s3s"));
        let _ = std::fs::remove_dir_all(&root);
        // s3s-fs serves every directory under its root as a bucket.
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s3 = S3Fs {
            child: None,
            port,
            root,
        };
        s3.spawn();
        s3
    }

    /// Runs s3s-fs on `self.port` and waits until it accepts connections.
    fn spawn(&mut self) {
        assert!(self.child.is_none(), "s3s-fs is already running");
        let mut child = Command::new(s3s_fs_binary())
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start s3s-fs ({e}): it must be on PATH or in ~/.cargo/bin; \
                     `make deps` installs it"
                )
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("s3s-fs exited before listening on {}: {status}", self.port);
            }
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    /// SIGKILL by PID, and reap.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment that points the server's `s3` backend here, with `prefix`.
    fn s3_env(&self, prefix: &str) -> Vec<(String, String)> {
        [
            ("OTLP2PARQUET_STORAGE_BACKEND", "s3"),
            ("OTLP2PARQUET_S3_BUCKET", BUCKET),
            ("OTLP2PARQUET_S3_REGION", "us-east-1"),
            ("OTLP2PARQUET_S3_ENDPOINT", &self.endpoint()),
            ("OTLP2PARQUET_STORAGE_PREFIX", prefix),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    /// Every `.parquet` object of the bucket, listed and read through the S3 API:
    /// (key, rows from the Parquet footer), sorted by key.
    fn objects(&self) -> Vec<(String, i64)> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let mut storage = Config::defaults(Platform::Server).storage;
        storage.backend = Backend::S3;
        storage.s3.bucket = Some(BUCKET.to_owned());
        storage.s3.endpoint = Some(self.endpoint());
        let env = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some(ACCESS_KEY.to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some(SECRET_KEY.to_owned()),
            _ => None,
        };
        let store = OpendalStorage::from_config_with_env(&storage, &env).unwrap();
        let op = store.operator();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let entries = op.list_with("/").recursive(true).await.unwrap();
            let mut out = Vec::new();
            for entry in entries {
                let key = entry.path().to_owned();
                if !key.ends_with(".parquet") {
                    continue;
                }
                let body = op.read(&key).await.unwrap().to_bytes();
                let reader = SerializedFileReader::new(body)
                    .unwrap_or_else(|e| panic!("{key} is not Parquet: {e}"));
                out.push((key, reader.metadata().file_metadata().num_rows()));
            }
            out.sort();
            out
        })
    }
}

impl Drop for S3Fs {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `s3s-fs` from PATH, else from cargo's bin directory (where `make deps` installs it).
fn s3s_fs_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("s3s-fs").is_file()));
    if on_path {
        return PathBuf::from("s3s-fs");
    }
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
        .join("bin/s3s-fs")
}

/// Starts the server without `--output` (which would force the fs backend), with `env`.
fn start_server(name: &str, env: &[(String, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start_args(name, &["serve"], &env)
}

/// (year, month, day, hour) in UTC of `micros` since the epoch (Hinnant's civil-from-days).
fn utc_hour(micros: i64) -> (i64, i64, i64, i64) {
    let secs = micros.div_euclid(1_000_000);
    let (days, hour) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) / 3_600);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, hour)
}

/// Checks `key` against SPEC §5.1 under `prefix` and returns (table, partition directory), the
/// table being `logs`, `traces` or `metrics/<kind>`.
fn check_key(key: &str, prefix: &str) -> (String, String) {
    let rest = key
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{key}: not under the prefix {prefix:?}"));
    let parts: Vec<&str> = rest.split('/').collect();
    let (table, tail) = match parts[0] {
        "logs" | "traces" => (parts[0].to_owned(), &parts[1..]),
        "metrics" => {
            assert!(
                parts.len() > 1 && METRIC_KINDS.contains(&parts[1]),
                "{key}: unknown metric kind"
            );
            (format!("metrics/{}", parts[1]), &parts[2..])
        }
        other => panic!("{key}: unknown table {other:?}"),
    };
    assert_eq!(
        tail.len(),
        6,
        "{key}: expected service/year=/month=/day=/hour=/file"
    );
    let service = tail[0];
    assert!(
        !service.is_empty()
            && service
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
        "{key}: unsafe service segment"
    );
    let (micros, uuid) = tail[5]
        .strip_suffix(".parquet")
        .and_then(|f| f.split_once('-'))
        .unwrap_or_else(|| panic!("{key}: file name is not {{micros}}-{{uuid}}.parquet"));
    let micros: i64 = micros
        .parse()
        .unwrap_or_else(|e| panic!("{key}: micros {micros:?}: {e}"));
    assert!(
        uuid.len() == 32
            && uuid
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{key}: the uuid is not 32 lowercase hex"
    );
    // Generated records lie in the five minutes from BASE_TIME_UNIX_NANO.
    let base = (BASE_TIME_UNIX_NANO / 1_000) as i64;
    assert!(
        (base..base + 300_000_000).contains(&micros),
        "{key}: micros {micros} is not the time of a record sent"
    );
    let (y, m, d, h) = utc_hour(micros);
    assert_eq!(
        tail[1..5].join("/"),
        format!("year={y:04}/month={m:02}/day={d:02}/hour={h:02}"),
        "{key}: the hour path does not match the file's earliest time"
    );
    let dir = key.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
    (table, dir)
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

fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(body).unwrap();
    enc.finish().unwrap()
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
    let s3 = S3Fs::start("s3-backend");
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
    let s3 = S3Fs::start("r2-backend");
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
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
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
    let mut s3 = S3Fs::start("s3-outage");
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
    let s3 = S3Fs::start("s3-sdk");
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
    crate::sdk::check_dir(&server, &s3.root.join(BUCKET), &reports);
}
