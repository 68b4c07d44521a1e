//! Real OpenTelemetry SDKs as clients: the Python SDK (OTLP/HTTP protobuf, plain and gzip) and
//! the JS SDK on Node (OTLP/JSON with chunked bodies) send traces, logs and every metric
//! instrument; `sdk/check_sdk.py` then reads the Parquet back (pyarrow and DuckDB) and compares it
//! with what each sender reported sending.
//!
//! The senders and the checker live in `tests/sdk/`; `make deps` installs the Python SDK into the
//! repo's `.venv` and the npm packages into `tests/sdk/node/node_modules`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::util::{Server, python, run_python};

/// Batches are flushed by age only after an hour: what the files hold was written by the
/// shutdown flush (or per request, by a server that does not batch).
const LONG_BATCH_AGE: (&str, &str) = ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "3600");

pub(crate) fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk")
}

pub(crate) fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("run-{nanos}")
}

/// Runs a sender to completion, fails the test (with the server log) when it fails, and saves
/// the report it printed as `<service>.json` in the test directory.
pub(crate) fn send(server: &Server, cmd: Command, service: &str) -> PathBuf {
    send_env(server, cmd, service, &[])
}

/// [`send`] with extra environment variables for the sender (e.g. the SDK's certificates).
pub(crate) fn send_env(
    server: &Server,
    mut cmd: Command,
    service: &str,
    env: &[(&str, &str)],
) -> PathBuf {
    // Only PATH of the caller's environment: no OTEL_* variable may reconfigure the SDK.
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied());
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{service}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{service}: sender failed ({}):\n{}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        server.log_tail()
    );
    let report = server.dir.join(format!("{service}.json"));
    std::fs::write(&report, &out.stdout).unwrap();
    report
}

fn check(server: &Server, reports: &[PathBuf]) {
    check_dir(server, &server.data_dir(), reports);
}

/// [`check`] against the files under `data` (e.g. an S3 server's bucket directory).
pub(crate) fn check_dir(server: &Server, data: &Path, reports: &[PathBuf]) {
    let mut args = vec![data.as_os_str().to_owned()];
    args.extend(reports.iter().map(|r| r.as_os_str().to_owned()));
    let stdout = run_python(&sdk_dir().join("check_sdk.py"), &args, &server.log_tail());
    assert!(stdout.contains("sdk files match"), "{stdout}");
}

#[test]
fn python_sdk_protobuf_plain_and_gzip_is_stored_as_sent() {
    let mut server = Server::start_with("sdk-python", &[LONG_BATCH_AGE]);
    let run = run_id();
    let mut reports = Vec::new();
    for (service, compression) in [("py-sdk-proto", "none"), ("py-sdk-proto-gzip", "gzip")] {
        let mut cmd = Command::new(python());
        cmd.arg(sdk_dir().join("python/send.py")).args([
            &server.endpoint(),
            service,
            compression,
            &run,
        ]);
        reports.push(send(&server, cmd, service));
    }
    server.stop();
    check(&server, &reports);
}

#[test]
fn node_sdk_json_chunked_plain_and_gzip_is_stored_as_sent() {
    let node_dir = sdk_dir().join("node");
    assert!(
        node_dir
            .join("node_modules/@opentelemetry/sdk-logs")
            .is_dir(),
        "{}/node_modules missing: run `make deps` (npm ci)",
        node_dir.display()
    );
    let mut server = Server::start_with("sdk-node", &[LONG_BATCH_AGE]);
    let run = run_id();
    let mut reports = Vec::new();
    for (service, compression) in [("node-sdk-json", "none"), ("node-sdk-json-gzip", "gzip")] {
        let mut cmd = Command::new("node");
        cmd.arg(node_dir.join("send.mjs"))
            .args([&server.endpoint(), service, compression, &run])
            .current_dir(&node_dir);
        reports.push(send(&server, cmd, service));
    }
    server.stop();
    check(&server, &reports);
}
