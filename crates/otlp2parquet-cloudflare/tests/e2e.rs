//! The built Worker in workerd (Miniflare), with a local R2 bucket: statuses, OTLP bodies, and
//! the objects it wrote, checked against the reference implementation and read by ClickHouse
//! and DuckDB (the handlers crate's check_files.py).

mod spool;

use std::process::Command;
use std::time::Duration;

use otlp2parquet_testkit::{check_key, fixture, gzip, parquet_rows, python, repo_root};

use crate::util::{
    Worker, WranglerDev, build, build_lock, content_type, crate_dir, fixture_names,
    otlp2parquet_cli, signal_path, temp_dir,
};

/// What an export answers with 200: an empty `Export*ServiceResponse` in the request's encoding.
fn assert_exported(name: &str, reply: &otlp2parquet_testkit::Reply) {
    assert_eq!(reply.status, 200, "{name}: {}", reply.text());
    if name.ends_with(".pb") {
        assert_eq!(reply.header("content-type"), Some("application/x-protobuf"));
        assert!(reply.body.is_empty(), "{name}: {:?}", reply.body);
    } else {
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.text(), "{}", "{name}");
    }
}

/// Runs a Python snippet with the venv's pyarrow; panics with its output on failure.
fn python_ok(script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Every fixture as protobuf, JSON and JSONL: 200 with the OTLP body, keys per docs/keys.md, and
/// files equal to the reference implementation's, loadable into ClickHouse and DuckDB. The
/// gzip-compressed requests store exactly the same rows.
#[test]
fn every_signal_and_encoding_is_written_to_r2_as_the_reference_says() {
    let mut worker = Worker::start(&[]);
    let out = temp_dir("fixtures");
    let gz = temp_dir("gzip");
    for name in fixture_names() {
        let body = fixture(&name);
        let headers = [("content-type", content_type(&name))];
        let reply = worker.send("POST", signal_path(&name), &headers, &body);
        assert_exported(&name, &reply);
        let keys = worker.take_objects(&out.0.join(&name));
        assert!(!keys.is_empty(), "{name}: nothing in R2");
        for key in &keys {
            check_key(key, "");
        }

        let zipped = gzip(&body);
        let headers = [
            ("content-type", content_type(&name)),
            ("content-encoding", "gzip"),
        ];
        let reply = worker.send("POST", signal_path(&name), &headers, &zipped);
        assert_exported(&name, &reply);
        let gz_keys = worker.take_objects(&gz.0.join(&name));
        let strip = |k: &String| k.rsplit_once('-').map(|(d, _)| d.to_owned()).unwrap();
        assert_eq!(
            keys.iter().map(strip).collect::<Vec<_>>(),
            gz_keys.iter().map(strip).collect::<Vec<_>>(),
            "{name}: gzip wrote other files"
        );
    }

    // The gzip run stored the same rows (every column, every value) as the plain one.
    let same = python_ok(
        r#"
import glob, os, sys, pyarrow.parquet as pq
a, b = sys.argv[1], sys.argv[2]
def tables(root):
    out = {}
    for p in glob.glob(os.path.join(root, "**", "*.parquet"), recursive=True):
        out[os.path.relpath(p, root).rsplit("-", 1)[0]] = pq.read_table(p).replace_schema_metadata(None)
    return out
ta, tb = tables(a), tables(b)
assert sorted(ta) == sorted(tb), (sorted(ta), sorted(tb))
for k in ta:
    assert ta[k].equals(tb[k]), k
print(f"{len(ta)} files, {sum(t.num_rows for t in ta.values())} rows identical")
"#,
        &[&out.0.to_string_lossy(), &gz.0.to_string_lossy()],
    );
    assert!(same.contains("rows identical"), "{same}");

    let check = repo_root().join("crates/otlp2parquet-handlers/tests/e2e/check_files.py");
    let result = Command::new(python())
        .arg(&check)
        .arg(&out.0)
        .arg("0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success() && stdout.contains("all fixtures match"),
        "check_files.py:\n{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Bearer and Basic credentials held as secrets: 401 with `WWW-Authenticate` without or with
/// wrong ones, 200 with either; /health stays open.
#[test]
fn auth_from_secrets() {
    let mut worker = Worker::start(&[
        ("OTLP2PARQUET_AUTH_BEARER_TOKEN", "s3cret-token"),
        ("OTLP2PARQUET_AUTH_BASIC_USERNAME", "user"),
        ("OTLP2PARQUET_AUTH_BASIC_PASSWORD", "pass"),
    ]);
    let body = fixture("logs.pb");
    let ct = ("content-type", "application/x-protobuf");
    for auth in [None, Some("Bearer wrong"), Some("Basic dXNlcjp3cm9uZw==")] {
        let mut headers = vec![ct];
        headers.extend(auth.map(|a| ("authorization", a)));
        let reply = worker.send("POST", "/v1/logs", &headers, &body);
        assert_eq!(reply.status, 401, "{auth:?}: {}", reply.text());
        assert!(reply.header("www-authenticate").is_some(), "{auth:?}");
    }
    let dir = temp_dir("auth");
    assert!(worker.take_objects(&dir.0.join("denied")).is_empty());
    // "dXNlcjpwYXNz" is base64("user:pass").
    for (n, auth) in ["Bearer s3cret-token", "Basic dXNlcjpwYXNz"]
        .iter()
        .enumerate()
    {
        let reply = worker.send("POST", "/v1/logs", &[ct, ("authorization", auth)], &body);
        assert_exported("logs.pb", &reply);
        let keys = worker.take_objects(&dir.0.join(n.to_string()));
        assert!(keys.iter().all(|k| k.starts_with("logs/")), "{keys:?}");
        assert!(!keys.is_empty());
    }
    assert_eq!(worker.send("GET", "/health", &[], b"").status, 200);
}

/// `parquet.timestamp_unit = "us"` reaches the Worker through its vars: every time column of the
/// files it writes is microseconds (nested ones included) and every column has a field id.
#[test]
fn timestamp_unit_us_from_vars_writes_microsecond_files() {
    let mut worker = Worker::start(&[("OTLP2PARQUET_PARQUET_TIMESTAMP_UNIT", "us")]);
    for name in ["logs.pb", "traces.pb", "metrics_mixed.pb"] {
        let reply = worker.send(
            "POST",
            signal_path(name),
            &[("content-type", content_type(name))],
            &fixture(name),
        );
        assert_exported(name, &reply);
    }
    let dir = temp_dir("micros");
    let keys = worker.take_objects(&dir.0);
    assert!(keys.len() >= 3, "{keys:?}");
    let out = python_ok(
        r#"
import glob, sys
import pyarrow as pa, pyarrow.parquet as pq
def times(t):
    if pa.types.is_timestamp(t): yield t
    elif pa.types.is_list(t): yield from times(t.value_type)
    elif pa.types.is_map(t): yield from times(t.key_type); yield from times(t.item_type)
n = 0
for f in glob.glob(sys.argv[1] + "/**/*.parquet", recursive=True):
    schema = pq.ParquetFile(f).schema_arrow
    for field in schema:
        assert field.metadata and b"PARQUET:field_id" in field.metadata, (f, field.name)
        for t in times(field.type):
            assert t.unit == "us" and t.tz == "UTC", (f, field.name, t)
            n += 1
assert n >= 6, n
print("microseconds in", n, "time columns")
"#,
        &[&dir.0.to_string_lossy()],
    );
    assert!(out.contains("microseconds in"), "{out}");
}

/// Malformed payloads (400 + `google.rpc.Status`), an oversized body (413, declared or after
/// decompression), wrong method and path, /health; none of them writes anything. A bad
/// configuration answers 500 naming the key instead of throwing.
#[test]
fn errors_are_otlp_answers_and_write_nothing() {
    let mut worker = Worker::start(&[
        ("OTLP2PARQUET_MAX_PAYLOAD_BYTES", "65536"),
        ("OTLP2PARQUET_STORAGE_PREFIX", "otel/"),
    ]);
    let dir = temp_dir("errors");
    let invalid = repo_root().join("testdata/otlp/invalid");
    let mut names: Vec<String> = std::fs::read_dir(&invalid)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    for name in &names {
        let body = std::fs::read(invalid.join(name)).unwrap();
        let reply = worker.send(
            "POST",
            signal_path(name),
            &[("content-type", "application/json")],
            &body,
        );
        assert_eq!(reply.status, 400, "{name}: {}", reply.text());
        let status: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(status["code"], 3, "{name}: {status}");
        assert!(!status["message"].as_str().unwrap().is_empty(), "{name}");
    }

    let big = vec![b' '; 70_000];
    let reply = worker.send(
        "POST",
        "/v1/logs",
        &[("content-type", "application/json")],
        &big,
    );
    assert_eq!(reply.status, 413, "{}", reply.text());
    let status: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("max_payload_bytes"),
        "{status}"
    );
    // A small gzip body that inflates past the limit stops at it.
    let bomb = gzip(&vec![b' '; 1_000_000]);
    assert!(bomb.len() < 65_536);
    let reply = worker.send(
        "POST",
        "/v1/traces",
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
        ],
        &bomb,
    );
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/x-protobuf"));

    let reply = worker.send("GET", "/v1/logs", &[], b"");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"));
    assert_eq!(worker.send("POST", "/v1/nope", &[], b"{}").status, 404);
    assert_eq!(worker.send("GET", "/ready", &[], b"").status, 404);
    let health = worker.send("GET", "/health", &[], b"");
    assert_eq!((health.status, health.text().as_str()), (200, "ok\n"));
    let reply = worker.send(
        "POST",
        "/v1/logs",
        &[("content-type", "text/plain")],
        b"hello",
    );
    assert_eq!(reply.status, 415, "{}", reply.text());
    assert!(worker.take_objects(&dir.0.join("none")).is_empty());

    // The prefix applies to what is written.
    let reply = worker.send(
        "POST",
        "/v1/logs",
        &[("content-type", "application/json")],
        &fixture("log.json"),
    );
    assert_exported("log.json", &reply);
    for key in worker.take_objects(&dir.0.join("prefixed")) {
        check_key(&key, "otel/");
    }
    drop(worker);

    let broken = Worker::start(&[("OTLP2PARQUET_MAX_PAYLOAD_BYTES", "lots")]);
    for path in ["/v1/logs", "/health"] {
        let reply = broken.send("POST", path, &[("content-type", "application/json")], b"{}");
        assert_eq!(reply.status, 500, "{path}: {}", reply.text());
        assert!(
            reply.text().contains("OTLP2PARQUET_MAX_PAYLOAD_BYTES"),
            "{}",
            reply.text()
        );
    }
}

/// `otlp2parquet create cloudflare --auth token` writes a wrangler.toml that `wrangler dev`
/// builds (its `[build]` runs worker-build in this crate) and serves: the bearer token from
/// `.dev.vars` is enforced, and an accepted export lands as Parquet in the local R2 bucket the
/// command was given.
#[test]
fn generated_wrangler_toml_builds_and_serves_the_worker() {
    // The Miniflare tests' build/ is finished before wrangler's worker-build rewrites it.
    build();
    let dir = temp_dir("wrangler");
    let config = dir.0.join("wrangler.toml");
    let bucket = "otlp-e2e-bucket";
    let out = Command::new(otlp2parquet_cli())
        .args([
            "create",
            "cloudflare",
            "--auth",
            "token",
            "--force",
            "--bucket",
            bucket,
        ])
        .arg("--output")
        .arg(&config)
        .arg("--crate-dir")
        .arg(crate_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "create cloudflare failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = std::fs::read_to_string(&config).unwrap();
    assert!(
        toml.contains(&format!("bucket_name = \"{bucket}\"")),
        "{toml}"
    );
    // wrangler dev reads local secrets from .dev.vars beside the config.
    let token = "e2e-wrangler-token";
    std::fs::write(
        dir.0.join(".dev.vars"),
        // The generated config batches through the spool; a short age makes its alarm write
        // the file within the test.
        format!("OTLP2PARQUET_AUTH_BEARER_TOKEN={token}\nOTLP2PARQUET_BATCH_MAX_AGE_SECS=2\n"),
    )
    .unwrap();

    let persist = dir.0.join("state");
    let dev = {
        let _rebuilding = build_lock();
        WranglerDev::start(&config, &persist, Duration::from_secs(600))
    };
    let body = fixture("logs.pb");
    let ct = ("content-type", "application/x-protobuf");
    let reply = dev.send("POST", "/v1/logs", &[ct], &body);
    assert_eq!(reply.status, 401, "{}", reply.text());
    let bearer = format!("Bearer {token}");
    let reply = dev.send("POST", "/v1/logs", &[ct, ("authorization", &bearer)], &body);
    assert_exported("logs.pb", &reply);

    // Local R2: keys in miniflare's sqlite index, bytes under the bucket's blobs/ directory;
    // the spool's alarm writes the file a few seconds after the request.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let objects: Vec<(String, String, u64)> = loop {
        let listing = python_ok(
            r#"
import glob, json, os, sqlite3, sys
persist, bucket = sys.argv[1], sys.argv[2]
rows = []
for db in glob.glob(os.path.join(persist, "v3/r2/miniflare-R2BucketObject/*.sqlite")):
    con = sqlite3.connect(db)
    # Miniflare keeps other tables (its metadata) in sqlite files beside the objects' one.
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = '_mf_objects'").fetchone():
        rows += con.execute("SELECT key, blob_id, size FROM _mf_objects").fetchall()
    con.close()
print(json.dumps([[k, os.path.join(persist, "v3/r2", bucket, "blobs", b), s] for k, b, s in rows]))
"#,
            &[&persist.to_string_lossy(), bucket],
        );
        let objects: Vec<(String, String, u64)> = serde_json::from_str(listing.trim()).unwrap();
        if !objects.is_empty() {
            break objects;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing in R2:\n{}",
            dev.log_tail()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let records = python_ok(
        r#"
import sys
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
req = ExportLogsServiceRequest()
req.ParseFromString(open(sys.argv[1], "rb").read())
print(sum(len(s.log_records) for r in req.resource_logs for s in r.scope_logs))
"#,
        &[&repo_root().join("testdata/otlp/logs.pb").to_string_lossy()],
    );
    let records: i64 = records.trim().parse().unwrap();
    let mut rows = 0;
    for (key, blob, size) in &objects {
        assert!(
            key.starts_with("logs/") && key.ends_with(".parquet"),
            "{key}"
        );
        check_key(key, "");
        let bytes = std::fs::read(blob).unwrap_or_else(|e| panic!("{key}: {blob}: {e}"));
        assert_eq!(bytes.len() as u64, *size, "{key}");
        rows += parquet_rows(bytes, key);
    }
    assert!(records > 0);
    assert_eq!(rows, records, "{objects:?}");
    assert_eq!(dev.send("GET", "/health", &[], b"").status, 200);
}
