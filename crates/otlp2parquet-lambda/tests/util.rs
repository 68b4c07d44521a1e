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
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use otlp2parquet_proto::pb;
use otlp2parquet_testkit::{Reply, free_port, http, repo_root};
use prost::Message as _;

/// The function's name: the binary's, as `cargo lambda watch` would call it.
pub const FUNCTION: &str = "bootstrap";

/// A running emulator with the function attached.
pub struct Lambda {
    watch: Child,
    function: Child,
    /// The emulator's port (127.0.0.1).
    pub port: u16,
    /// The test's directory, holding `watch.log` and `function.log`.
    pub dir: PathBuf,
}

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
        lambda.function = lambda.spawn_function(env);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut respawns = 0;
        loop {
            let r = lambda.get("/health");
            if r.status == 200 {
                break;
            }
            if let Ok(Some(status)) = lambda.function.try_wait() {
                // Watch accepts connections a moment before its Runtime API serves them: a
                // function that could not connect at all is started again, a few times.
                if respawns < 5 && lambda.function_log().contains("client error (Connect)") {
                    respawns += 1;
                    std::thread::sleep(Duration::from_millis(500));
                    lambda.function = lambda.spawn_function(env);
                    continue;
                }
                panic!("the function exited ({status}):\n{}", lambda.logs());
            }
            assert!(
                Instant::now() < deadline,
                "the function did not answer /health (last status {}):\n{}",
                r.status,
                lambda.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        lambda
    }

    fn spawn_function(&self, env: &[(String, String)]) -> Child {
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
        http(
            self.port,
            method,
            &format!("/lambda-url/{FUNCTION}{path}"),
            headers,
            body,
        )
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
        let r = http(
            self.port,
            "POST",
            &format!("/2015-03-31/functions/{FUNCTION}/invocations"),
            &[("content-type", "application/json")],
            event.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "invoke: {}\n{}", r.text(), self.logs());
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("invoke answered non-JSON ({e}): {}", r.text()))
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
