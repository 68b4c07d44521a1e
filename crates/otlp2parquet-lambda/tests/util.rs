//! The harness: `cargo lambda watch` (cargo-lambda's Lambda emulator: Runtime API, Function URL
//! front door, Invoke API) on a free 127.0.0.1 port, and the `bootstrap` binary that `cargo
//! test` built, polling the emulator's Runtime API as the function instance.
//!
//! Watch runs with `--only-lambda-apis`, so it never compiles anything: left to start the
//! function itself it runs `cargo run`, which rebuilds whenever the feature set of the test
//! build differs (it does under `cargo test --workspace --all-features`) and waits on the
//! build-directory lock of the running `cargo test`. Both processes are stopped by PID when the
//! test ends, on success or panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use otlp2parquet_common::config::Config;
use otlp2parquet_common::platform::Platform;
use otlp2parquet_handlers::{Exchange, Head, StoreEach, respond};
use otlp2parquet_proto::pb;
use otlp2parquet_testkit::{Reply, S3Fs, block_on, check_key, free_port, http, repo_root};
use otlp2parquet_writer::MemoryStorage;
use prost::Message as _;

/// The function's name: the binary's, as `cargo lambda watch` would call it.
pub const FUNCTION: &str = "bootstrap";

/// A running emulator with the function attached.
pub struct Lambda {
    watch: Child,
    function: Child,
    /// Function processes started so far (the log of each earlier one is kept as
    /// `function.<n>.log`).
    starts: usize,
    /// The emulator's port (127.0.0.1).
    pub port: u16,
    /// The test's directory, holding `watch.log` and `function.log`.
    pub dir: PathBuf,
}

/// How a request through the emulator (an invocation, or a Function URL request) ended.
#[derive(Debug)]
pub enum Invoked {
    /// The emulator answered: 200 with the function's response event, 500 with the error it
    /// reported.
    Answered(Reply),
    /// The function process exited first. `cargo lambda watch` never answers a request whose
    /// function died (it waits for a response forever and does not hand the event to the next
    /// function process), so the harness stops waiting when the process is gone.
    Died(ExitStatus),
}

/// A request sent from a thread of its own (see [`Lambda::invoke_in_background`]).
#[derive(Debug)]
pub struct Pending(std::thread::JoinHandle<Reply>);

impl Lambda {
    /// Starts watch and the function with `env` (plus the Lambda runtime variables) and waits
    /// until `GET /health` answers through the Function URL front door.
    pub fn start(name: &str, env: &[(String, String)]) -> Lambda {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("lambda")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let cargo_lambda = repo_root().join(".venv/bin/cargo-lambda");
        assert!(
            cargo_lambda.is_file(),
            "{} is missing: `make deps` installs cargo-lambda into .venv",
            cargo_lambda.display()
        );
        let watch_log = std::fs::File::create(dir.join("watch.log")).unwrap();
        // From the repo root: watch reads the workspace's Cargo.toml. Its log goes to the test
        // directory under target/, never into the crate (a change there would make it reload).
        let watch = Command::new(&cargo_lambda)
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(repo_root())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(watch_log.try_clone().unwrap())
            .stderr(watch_log)
            .spawn()
            .unwrap();
        let mut lambda = Lambda {
            function: spawn_placeholder(),
            watch,
            starts: 0,
            port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = lambda.watch.try_wait() {
                panic!("cargo lambda watch exited ({status}):\n{}", lambda.logs());
            }
            assert!(
                Instant::now() < deadline,
                "cargo lambda watch did not listen on {port}:\n{}",
                lambda.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        lambda.attach(env);
        lambda
    }

    /// Starts the function with `env` and waits until `GET /health` answers.
    fn attach(&mut self, env: &[(String, String)]) {
        self.function = self.spawn_function(env);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut respawns = 0;
        loop {
            // From a thread: watch holds a request until some function takes it, so a function
            // that exits at start would leave a plain request waiting for good.
            let health = self.in_background(|port| front_door(port, "GET", "/health", &[], b""));
            let status = match self.wait(health) {
                Invoked::Answered(r) if r.status == 200 => break,
                Invoked::Answered(r) => r.status,
                Invoked::Died(status) => {
                    // Watch accepts connections a moment before its Runtime API serves them: a
                    // function that could not connect at all is started again, a few times.
                    if respawns < 5 && self.function_log().contains("client error (Connect)") {
                        respawns += 1;
                        std::thread::sleep(Duration::from_millis(500));
                        self.function = self.spawn_function(env);
                        continue;
                    }
                    panic!("the function exited ({status}):\n{}", self.logs());
                }
            };
            assert!(
                Instant::now() < deadline,
                "the function did not answer /health (last status {status}):\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the function process (SIGKILL, by PID) if it still runs; the emulator stays up.
    pub fn stop_function(&mut self) {
        let _ = self.function.kill();
        let _ = self.function.wait();
    }

    /// A new function process with `env` in place of the current one (stopped first, its log
    /// kept as `function.<n>.log`), attached to the same emulator: what a new execution
    /// environment with another configuration looks like.
    pub fn restart(&mut self, env: &[(String, String)]) {
        self.stop_function();
        let _ = std::fs::rename(
            self.dir.join("function.log"),
            self.dir.join(format!("function.{}.log", self.starts)),
        );
        self.attach(env);
    }

    /// The peak resident memory of the function process so far (`VmHWM` in
    /// `/proc/<pid>/status`), in KiB; `None` once it has exited.
    pub fn function_peak_rss_kib(&self) -> Option<u64> {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.function.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    fn spawn_function(&mut self, env: &[(String, String)]) -> Child {
        self.starts += 1;
        let log = std::fs::File::create(self.dir.join("function.log")).unwrap();
        Command::new(env!("CARGO_BIN_EXE_bootstrap"))
            // A hermetic environment, like Lambda's: only what the test and the runtime give.
            .env_clear()
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            // Watch serves each function's Runtime API under /.rt/<name>.
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt/{FUNCTION}", self.port),
            )
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    /// The function's log lines (JSON).
    pub fn function_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("function.log")).unwrap_or_default()
    }

    /// Both logs, for failure messages.
    pub fn logs(&self) -> String {
        let watch = std::fs::read_to_string(self.dir.join("watch.log")).unwrap_or_default();
        format!(
            "--- watch.log\n{watch}\n--- function.log\n{}",
            self.function_log()
        )
    }

    /// A request through the Function URL front door (`/lambda-url/bootstrap<path>`).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        front_door(self.port, method, path, headers, body)
    }

    /// `GET path` through the front door.
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    /// `POST path` with a content type (and optional encoding) through the front door.
    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        encoding: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let mut headers = vec![("content-type", content_type)];
        if let Some(e) = encoding {
            headers.push(("content-encoding", e));
        }
        self.request("POST", path, &headers, body)
    }

    /// A direct invocation through the emulator's Invoke API: `event` in, the function's response
    /// event out.
    pub fn invoke(&self, event: &serde_json::Value) -> serde_json::Value {
        let r = invoke_api(self.port, &event.to_string());
        assert_eq!(r.status, 200, "invoke: {}\n{}", r.text(), self.logs());
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("invoke answered non-JSON ({e}): {}", r.text()))
    }

    /// Sends `event` to the Invoke API from a thread of its own; [`Lambda::wait`] collects the
    /// outcome. The thread ends with the answer, or when the emulator is stopped.
    pub fn invoke_in_background(&self, event: &serde_json::Value) -> Pending {
        let event = event.to_string();
        self.in_background(move |port| invoke_api(port, &event))
    }

    /// `send(port)` on a thread of its own, collected by [`Lambda::wait`].
    fn in_background(&self, send: impl FnOnce(u16) -> Reply + Send + 'static) -> Pending {
        let port = self.port;
        Pending(std::thread::spawn(move || send(port)))
    }

    /// How `pending` ended: the emulator's answer, or the exit of the function process (see
    /// [`Invoked::Died`]). Panics after two minutes without either.
    pub fn wait(&mut self, pending: Pending) -> Invoked {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if pending.0.is_finished() {
                return Invoked::Answered(pending.0.join().unwrap());
            }
            if let Ok(Some(status)) = self.function.try_wait() {
                // An answer already on its way still counts.
                std::thread::sleep(Duration::from_millis(200));
                if pending.0.is_finished() {
                    return Invoked::Answered(pending.0.join().unwrap());
                }
                return Invoked::Died(status);
            }
            assert!(
                Instant::now() < deadline,
                "no answer to an invocation after 2 minutes:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// [`Lambda::invoke_in_background`] and [`Lambda::wait`]: an invocation that may end the
    /// function process.
    pub fn try_invoke(&mut self, event: &serde_json::Value) -> Invoked {
        let pending = self.invoke_in_background(event);
        self.wait(pending)
    }

    /// The request a Function URL sends for a binary body (base64, `isBase64Encoded: true`),
    /// invoked directly; its response event as a [`Reply`] (body base64-decoded when flagged).
    ///
    /// For compressed bodies with a text content type (`application/json` + gzip): the watch
    /// front door forwards text types as text and answers 500 itself when the bytes are not
    /// UTF-8, so those go through this door instead.
    pub fn invoke_url(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let headers: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).into()))
            .collect();
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "test"},
                "routeKey": "$default", "stage": "$default", "requestId": "test",
                "timeEpoch": 0, "domainName": "localhost", "accountId": "123456789012",
                "apiId": "url"
            },
            "body": b64.encode(body), "isBase64Encoded": true
        });
        let out = self.invoke(&event);
        let text = out["body"].as_str().unwrap_or("");
        let body = if out["isBase64Encoded"] == true {
            b64.decode(text).unwrap()
        } else {
            text.as_bytes().to_vec()
        };
        let headers = out["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Reply {
            status: u16::try_from(out["statusCode"].as_u64().unwrap()).unwrap(),
            headers,
            body,
        }
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        for child in [&mut self.function, &mut self.watch] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A request through the Function URL front door of the emulator on `port`.
fn front_door(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    http(
        port,
        method,
        &format!("/lambda-url/{FUNCTION}{path}"),
        headers,
        body,
    )
}

/// `event` through the emulator's Invoke API.
fn invoke_api(port: u16, event: &str) -> Reply {
    http(
        port,
        "POST",
        &format!("/2015-03-31/functions/{FUNCTION}/invocations"),
        &[("content-type", "application/json")],
        event.as_bytes(),
    )
}

/// A child that has already exited, so that a `Lambda` can exist (and be dropped) before the
/// function is spawned.
fn spawn_placeholder() -> Child {
    let mut child = Command::new("true").spawn().unwrap();
    let _ = child.wait();
    child
}

/// A request fixture from testdata/otlp.
pub fn fixture(rel: &str) -> Vec<u8> {
    otlp2parquet_testkit::fixture(rel)
}

/// The records of a fixture per table (`logs`, `traces`, `metrics/<kind>`), counted from the
/// request itself: protobuf with the prost types, OTLP/JSON (and JSONL) by walking the JSON.
pub fn records(rel: &str) -> BTreeMap<String, i64> {
    let bytes = fixture(rel);
    let mut out = BTreeMap::new();
    if rel.ends_with(".pb") {
        count_protobuf(rel, &bytes, &mut out);
    } else if rel.ends_with(".jsonl") {
        let text = String::from_utf8(bytes).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            count_json(&serde_json::from_str(line).unwrap(), &mut out);
        }
    } else {
        count_json(&serde_json::from_slice(&bytes).unwrap(), &mut out);
    }
    out
}

fn add(out: &mut BTreeMap<String, i64>, table: &str, n: usize) {
    if n > 0 {
        *out.entry(table.to_owned()).or_default() += n as i64;
    }
}

fn count_protobuf(rel: &str, bytes: &[u8], out: &mut BTreeMap<String, i64>) {
    if rel.starts_with("log") {
        let req = pb::ExportLogsServiceRequest::decode(bytes).unwrap();
        for r in &req.resource_logs {
            for s in &r.scope_logs {
                add(out, "logs", s.log_records.len());
            }
        }
    } else if rel.starts_with("trace") {
        let req = pb::ExportTraceServiceRequest::decode(bytes).unwrap();
        for r in &req.resource_spans {
            for s in &r.scope_spans {
                add(out, "traces", s.spans.len());
            }
        }
    } else {
        use pb::metric::Data;
        let req = pb::ExportMetricsServiceRequest::decode(bytes).unwrap();
        for r in &req.resource_metrics {
            for s in &r.scope_metrics {
                for m in &s.metrics {
                    match &m.data {
                        Some(Data::Gauge(d)) => add(out, "metrics/gauge", d.data_points.len()),
                        Some(Data::Sum(d)) => add(out, "metrics/sum", d.data_points.len()),
                        Some(Data::Histogram(d)) => {
                            add(out, "metrics/histogram", d.data_points.len())
                        }
                        Some(Data::ExponentialHistogram(d)) => {
                            add(out, "metrics/exponential_histogram", d.data_points.len())
                        }
                        Some(Data::Summary(d)) => add(out, "metrics/summary", d.data_points.len()),
                        None => {}
                    }
                }
            }
        }
    }
}

fn count_json(v: &serde_json::Value, out: &mut BTreeMap<String, i64>) {
    let len = |v: &serde_json::Value, camel: &str, snake: &str| {
        v.get(camel)
            .or_else(|| v.get(snake))
            .and_then(|a| a.as_array())
            .map_or(0, Vec::len)
    };
    let items = |v: &serde_json::Value, camel: &str, snake: &str| -> Vec<serde_json::Value> {
        v.get(camel)
            .or_else(|| v.get(snake))
            .and_then(|a| a.as_array())
            .cloned()
            .unwrap_or_default()
    };
    for r in items(v, "resourceLogs", "resource_logs") {
        for s in items(&r, "scopeLogs", "scope_logs") {
            add(out, "logs", len(&s, "logRecords", "log_records"));
        }
    }
    for r in items(v, "resourceSpans", "resource_spans") {
        for s in items(&r, "scopeSpans", "scope_spans") {
            add(out, "traces", len(&s, "spans", "spans"));
        }
    }
    for r in items(v, "resourceMetrics", "resource_metrics") {
        for s in items(&r, "scopeMetrics", "scope_metrics") {
            for m in items(&s, "metrics", "metrics") {
                for (camel, snake, table) in [
                    ("gauge", "gauge", "metrics/gauge"),
                    ("sum", "sum", "metrics/sum"),
                    ("histogram", "histogram", "metrics/histogram"),
                    (
                        "exponentialHistogram",
                        "exponential_histogram",
                        "metrics/exponential_histogram",
                    ),
                    ("summary", "summary", "metrics/summary"),
                ] {
                    if let Some(d) = m.get(camel).or_else(|| m.get(snake)) {
                        add(out, table, len(d, "dataPoints", "data_points"));
                    }
                }
            }
        }
    }
}

/// Adds `more` into `total`, table by table.
pub fn merge(total: &mut BTreeMap<String, i64>, more: &BTreeMap<String, i64>) {
    for (k, v) in more {
        *total.entry(k.clone()).or_default() += v;
    }
}

/// The rows of a Parquet file as text, one line per row, for comparing contents.
pub fn parquet_text(bytes: Vec<u8>) -> String {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .unwrap()
        .build()
        .unwrap();
    let mut out = String::new();
    for batch in reader {
        out.push_str(&format!("{:?}\n", batch.unwrap()));
    }
    out
}

/// `key` without its random part: `{dir}/{micros}` (what two writes of the same records share).
pub fn key_stem(key: &str) -> String {
    key.rsplit_once('-')
        .map_or(key, |(stem, _)| stem)
        .to_owned()
}

/// The bucket every rig's S3 server holds.
pub const BUCKET: &str = "otlp";
/// The OTLP protobuf content type.
pub const PROTOBUF: &str = "application/x-protobuf";
/// The OTLP/JSON content type.
pub const JSON: &str = "application/json";

/// Every protobuf request fixture of testdata/otlp.
pub const PROTOBUF_FIXTURES: [&str; 9] = [
    "logs.pb",
    "traces.pb",
    "trace.pb",
    "metrics_gauge.pb",
    "metrics_sum.pb",
    "metrics_histogram.pb",
    "metrics_exponential_histogram.pb",
    "metrics_summary.pb",
    "metrics_mixed.pb",
];

/// Every OTLP/JSON request fixture of testdata/otlp.
pub const JSON_FIXTURES: [&str; 8] = [
    "log.json",
    "trace.json",
    "metrics_gauge.json",
    "metrics_sum.json",
    "metrics_histogram.json",
    "metrics_exponential_histogram.json",
    "metrics_summary.json",
    "metrics_mixed.json",
];

/// One test's S3 server and function (the function is stopped first).
pub struct Rig {
    /// The emulator and the function.
    pub lambda: Lambda,
    /// The S3 server.
    pub s3: S3Fs,
    /// The function's `storage.prefix`.
    pub prefix: String,
}

/// A rig: an S3 server (`{name}-s3`) and the function, configured for it under `prefix`, with
/// `extra` variables.
pub fn rig(name: &str, prefix: &str, extra: &[(&str, &str)]) -> Rig {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("lambda")
        .join(format!("{name}-s3"));
    let s3 = S3Fs::start(&dir, BUCKET);
    let lambda = Lambda::start(name, &function_env(&s3, prefix, extra));
    Rig {
        lambda,
        s3,
        prefix: prefix.to_owned(),
    }
}

/// The variables that point the function at `s3` under `prefix`, and `extra`.
fn function_env(s3: &S3Fs, prefix: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = s3.s3_env(prefix);
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

/// A request as sent: path, content type, content encoding, body.
#[derive(Clone)]
pub struct Sent {
    /// `/v1/logs`, `/v1/traces` or `/v1/metrics`.
    pub path: &'static str,
    /// The content type.
    pub content_type: &'static str,
    /// The content encoding, if any.
    pub encoding: Option<&'static str>,
    /// The body as sent (compressed when `encoding` says so).
    pub body: Vec<u8>,
}

/// The export path of a fixture, from its name.
pub fn signal_path(fixture: &str) -> &'static str {
    let name = fixture.rsplit('/').next().unwrap_or(fixture);
    if name.starts_with("log") || name.starts_with("malformed") {
        "/v1/logs"
    } else if name.starts_with("trace") {
        "/v1/traces"
    } else {
        "/v1/metrics"
    }
}

impl Rig {
    /// A new function process in place of the current one, configured for the same S3 server
    /// under `prefix` with `extra` variables (see [`Lambda::restart`]).
    pub fn restart(&mut self, prefix: &str, extra: &[(&str, &str)]) {
        self.lambda.restart(&function_env(&self.s3, prefix, extra));
        prefix.clone_into(&mut self.prefix);
    }

    /// Through the Function URL front door; text types with a binary (compressed) body as the
    /// base64 event a Function URL sends, invoked directly (see `Lambda::invoke_url`).
    pub fn send(&self, s: &Sent) -> Reply {
        if s.content_type != PROTOBUF && std::str::from_utf8(&s.body).is_err() {
            let mut headers = vec![("content-type", s.content_type)];
            if let Some(e) = s.encoding {
                headers.push(("content-encoding", e));
            }
            return self.lambda.invoke_url("POST", s.path, &headers, &s.body);
        }
        self.lambda
            .post(s.path, s.content_type, s.encoding, &s.body)
    }

    /// Rows per table in the bucket, every key checked against docs/keys.md#layout.
    pub fn rows_per_table(&self) -> BTreeMap<String, i64> {
        rows_per_table(&self.s3.objects(), &self.prefix)
    }

    /// Every Parquet object as (key without its random part, rows as text).
    pub fn contents(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .s3
            .read_all()
            .into_iter()
            .filter(|(k, _)| k.ends_with(".parquet"))
            .map(|(k, v)| (key_stem(&k), parquet_text(v)))
            .collect();
        out.sort();
        out
    }
}

/// Rows per table of Parquet objects given as (key, rows), every key checked against
/// docs/keys.md#layout under `prefix`.
pub fn rows_per_table(objects: &[(String, i64)], prefix: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for (key, rows) in objects {
        let parts = check_key(key, prefix);
        *out.entry(parts.table).or_default() += rows;
    }
    out
}

/// The names of the invalid request fixtures (testdata/otlp/invalid), sorted.
pub fn invalid_fixtures() -> Vec<String> {
    let dir = repo_root().join("testdata/otlp/invalid");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    names
}

/// The files the shared pipeline itself writes for the same requests, in process, as (key,
/// file): the Lambda must store exactly their rows.
pub fn pipeline_files(prefix: &str, sent: &[Sent]) -> Vec<(String, Vec<u8>)> {
    let mut config = Config::defaults(Platform::Lambda);
    config.storage.prefix = prefix.to_owned();
    let store = MemoryStorage::new();
    for (i, s) in sent.iter().enumerate() {
        let exchange = Exchange {
            head: Head {
                method: "POST",
                path: s.path,
                content_type: Some(s.content_type),
                content_encoding: s.encoding,
                ..Head::default()
            },
            body: &s.body,
            received_at_ns: 1_800_000_000_000_000_000,
        };
        let sink = StoreEach {
            storage: &store,
            config: &config,
            token_seed: i as u128 + 1,
        };
        let answer = block_on(respond(&exchange, &config, &sink));
        assert_eq!(answer.status(), 200, "in-process {}", s.path);
    }
    store.objects().into_iter().collect()
}

/// Checks a 200 answer to an export: the OTLP response body in the request's encoding, no
/// partial success.
pub fn assert_export_ok(reply: &Reply, s: &Sent, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.text());
    if s.content_type == PROTOBUF {
        assert_eq!(reply.header("content-type"), Some(PROTOBUF), "{what}");
        let partial = match s.path {
            "/v1/logs" => pb::ExportLogsServiceResponse::decode(reply.body.as_slice())
                .unwrap()
                .partial_success
                .is_some(),
            "/v1/traces" => pb::ExportTraceServiceResponse::decode(reply.body.as_slice())
                .unwrap()
                .partial_success
                .is_some(),
            _ => pb::ExportMetricsServiceResponse::decode(reply.body.as_slice())
                .unwrap()
                .partial_success
                .is_some(),
        };
        assert!(!partial, "{what}: unexpected partial success");
    } else {
        assert_eq!(reply.header("content-type"), Some(JSON), "{what}");
        assert_eq!(reply.text(), "{}", "{what}");
    }
}

/// The rows of a Parquet file as text, one string per row (every column by name, nested
/// values included), for comparing rows regardless of the file they are in.
pub fn parquet_row_lines(bytes: Vec<u8>) -> Vec<String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| row.unwrap().to_string())
        .collect()
}
