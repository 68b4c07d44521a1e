//! Batching through the spool Durable Objects (docs/adr/0012-worker-spool.md), in workerd with
//! SQLite-backed Durable Object storage and R2 persisted to a temp directory: requests are
//! answered once spooled, the alarm writes one merged file per (table, service, hour), and
//! nothing is lost or written twice across restarts, crashes and R2 failures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use otlp2parquet_testkit::{gzip, parquet_rows, python, repo_root};

use crate::util::{Worker, temp_dir};

/// Writes `n` generated requests (merged.py) to `dir`; returns their paths and their records.
fn requests(dir: &Path, n: usize) -> (Vec<PathBuf>, i64) {
    generated(dir, "generate", n, records_in)
}

/// Runs merged.py's `mode` for `n` requests into `dir`; their paths and `records` summed.
fn generated(dir: &Path, mode: &str, n: usize, records: fn(&Path) -> i64) -> (Vec<PathBuf>, i64) {
    // Five minutes ago, so every record lies in a closed or the current hour, never ahead.
    let start_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
        - 300_000_000_000;
    let out = Command::new(python())
        .arg(script())
        .args([
            mode,
            &dir.to_string_lossy(),
            &n.to_string(),
            &start_ns.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "merged.py {mode}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let total = paths.iter().map(|p| records(p)).sum();
    (paths, total)
}

fn script() -> PathBuf {
    repo_root().join("crates/otlp2parquet-cloudflare/tests/e2e/merged.py")
}

/// Records in a generated request, as the generator builds them.
fn records_in(path: &Path) -> i64 {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let i: usize = name[..3].parse().unwrap();
    match i % 3 {
        0 => 5,
        1 => 4,
        // gauge, sum: 3 points; histogram, exponential histogram, summary: 2.
        _ => {
            if (i / 3) % 5 < 2 {
                3
            } else {
                2
            }
        }
    }
}

/// Sends request `path`, gzip-compressed when `gzip_it`; the reply's status.
fn send(worker: &Worker, path: &Path, gzip_it: bool) -> otlp2parquet_testkit::Reply {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let signal = name.split('-').nth(1).unwrap().split('.').next().unwrap();
    let ct = if name.ends_with(".pb") {
        "application/x-protobuf"
    } else {
        "application/json"
    };
    let body = std::fs::read(path).unwrap();
    let mut headers = vec![("content-type", ct)];
    let body = if gzip_it {
        headers.push(("content-encoding", "gzip"));
        gzip(&body)
    } else {
        body
    };
    worker.send("POST", &format!("/v1/{signal}"), &headers, &body)
}

/// Moves R2's objects into `out` until they hold `rows` rows (panics after `timeout`, or when
/// more rows than that appear); returns the keys.
fn collect(worker: &mut Worker, out: &Path, rows: i64, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut keys = Vec::new();
    let mut seen = 0;
    for round in 0.. {
        let dir = out.join(format!("round-{round}"));
        for key in worker.take_objects(&dir) {
            seen += parquet_rows(std::fs::read(dir.join(&key)).unwrap(), &key);
            keys.push(key);
        }
        assert!(
            seen <= rows,
            "{seen} rows in R2, {rows} acknowledged: {keys:?}"
        );
        if seen == rows {
            return keys;
        }
        assert!(
            Instant::now() < deadline,
            "{seen} of {rows} rows in R2 after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    unreachable!()
}

/// Gathers every round of `collect` into one tree and runs merged.py's check over it.
fn check_merged(requests: &Path, out: &Path) -> String {
    let flat = out.join("all");
    for round in std::fs::read_dir(out).unwrap() {
        let round = round.unwrap().path();
        if round == flat {
            continue;
        }
        copy_tree(&round, &round, &flat);
    }
    let result = Command::new(python())
        .arg(script())
        .args([
            "check",
            &requests.to_string_lossy(),
            &flat.to_string_lossy(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
    assert!(
        result.status.success() && stdout.contains("match the reference"),
        "merged.py check:\n{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    stdout
}

fn copy_tree(root: &Path, dir: &Path, to: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            copy_tree(root, &path, to);
        } else {
            let target = to.join(path.strip_prefix(root).unwrap());
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            assert!(!target.exists(), "{} written twice", target.display());
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Lines of the Worker's log that report a finished flush.
fn flushes(worker: &Worker) -> usize {
    worker
        .log()
        .iter()
        .filter(|l| l.contains("spool flushed"))
        .count()
}

/// 300 requests, every signal (all five metric types), three services, protobuf and JSON,
/// plain and gzip: each answered 200; after the alarms, one file per (table, service, hour) per
/// flush, rows equal to the acknowledged records and to the reference implementation's, loaded
/// by ClickHouse and DuckDB. The same requests written per request make many more files.
#[test]
fn spooled_requests_land_as_one_merged_file_per_partition() {
    let dir = temp_dir("spool-300");
    let (paths, records) = requests(&dir.0.join("requests"), 300);
    let state = dir.0.join("state");
    let mut worker = Worker::start_spooled(&[("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "4")], &state);
    let started = Instant::now();
    for (i, path) in paths.iter().enumerate() {
        let reply = send(&worker, path, (i / 6) % 2 == 1);
        assert_eq!(reply.status, 200, "{}: {}", path.display(), reply.text());
    }
    let sent = started.elapsed();
    let out = dir.0.join("out");
    let keys = collect(&mut worker, &out, records, Duration::from_secs(120));
    worker.ping();
    assert_eq!(
        keys.len(),
        flushes(&worker),
        "every flush writes one file: {keys:?}"
    );
    let summary = check_merged(&dir.0.join("requests"), &out);
    drop(worker);

    // The same requests without the spool: the files of each request before its answer.
    let mut direct = Worker::start(&[("OTLP2PARQUET_BATCH_ENABLED", "false")]);
    for (i, path) in paths.iter().enumerate() {
        assert_eq!(send(&direct, path, (i / 6) % 2 == 1).status, 200);
    }
    let direct_keys = direct.take_objects(&dir.0.join("direct"));
    eprintln!(
        "spool: {} requests ({sent:?}), {records} records acknowledged, {} files batched \
         against {} per request; {}",
        paths.len(),
        keys.len(),
        direct_keys.len(),
        summary.trim()
    );
    assert!(
        keys.len() * 5 < direct_keys.len(),
        "{} batched files, {} per request",
        keys.len(),
        direct_keys.len()
    );
}

/// workerd stopped after the acknowledgements and before the alarm, started again on the same
/// state: every acknowledged row lands once.
#[test]
fn rows_acknowledged_before_a_restart_land_once_after_it() {
    let dir = temp_dir("spool-restart");
    let (paths, records) = requests(&dir.0.join("requests"), 30);
    let state = dir.0.join("state");
    let bindings = [("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "6")];
    let mut worker = Worker::start_spooled(&bindings, &state);
    for path in &paths {
        assert_eq!(send(&worker, path, false).status, 200);
    }
    assert!(worker.take_objects(&dir.0.join("early")).is_empty());
    drop(worker);

    let mut worker = Worker::start_spooled(&bindings, &state);
    let out = dir.0.join("out");
    collect(&mut worker, &out, records, Duration::from_secs(90));
    check_merged(&dir.0.join("requests"), &out);
}

/// workerd killed (SIGKILL) while an alarm writes a file, then restarted: the flush is redone
/// under the key fixed before the write, so no row is stored twice.
#[test]
fn a_flush_cut_short_is_redone_without_duplicates() {
    let dir = temp_dir("spool-crash");
    let (paths, records) = requests(&dir.0.join("requests"), 30);
    let state = dir.0.join("state");
    let bindings = [("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "3")];
    let mut worker = Worker::start_spooled(&bindings, &state);
    for path in &paths {
        assert_eq!(send(&worker, path, false).status, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !worker.log().iter().any(|l| l.contains("spool: writing")) {
        assert!(Instant::now() < deadline, "no flush started");
        std::thread::sleep(Duration::from_millis(20));
        worker.ping();
    }
    worker.crash();

    let mut worker = Worker::start_spooled(&bindings, &state);
    let out = dir.0.join("out");
    collect(&mut worker, &out, records, Duration::from_secs(90));
    // Give a redo that would add a second copy of some file the time to do it.
    std::thread::sleep(Duration::from_secs(4));
    assert!(worker.take_objects(&out.join("late")).is_empty());
    check_merged(&dir.0.join("requests"), &out);
}

/// R2 failing (its persisted blob directory replaced by a file, so every write fails): requests
/// are still answered 200 while the spool has room, the failures are logged and retried, and
/// once R2 works again every row lands once.
#[test]
fn r2_failing_keeps_the_rows_until_it_works_again() {
    let dir = temp_dir("spool-r2");
    let (paths, records) = requests(&dir.0.join("requests"), 30);
    let state = dir.0.join("state");
    let mut worker = Worker::start_spooled(&[("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "2")], &state);
    // R2 keeps object bytes in <persist>/r2/<bucket>/blobs: a file in its place fails every
    // write.
    let blobs = state.join("r2/otlp-e2e/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    let parked = state.join("r2/otlp-e2e/blobs.parked");
    std::fs::rename(&blobs, &parked).unwrap();
    std::fs::write(&blobs, b"not a directory").unwrap();

    for path in &paths {
        assert_eq!(send(&worker, path, false).status, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while worker
        .log()
        .iter()
        .filter(|l| l.contains("spool flush failed"))
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "no failed flush was logged");
        std::thread::sleep(Duration::from_millis(250));
        worker.ping();
    }

    std::fs::remove_file(&blobs).unwrap();
    std::fs::rename(&parked, &blobs).unwrap();
    let out = dir.0.join("out");
    collect(&mut worker, &out, records, Duration::from_secs(120));
    check_merged(&dir.0.join("requests"), &out);
}

/// A flush whose file passes a multipart part (8 MiB: 16 000 records of barely compressible
/// 1 KiB bodies) is written as a multipart upload of equal parts, and holds every row.
#[test]
fn a_large_file_is_a_multipart_upload() {
    let dir = temp_dir("spool-large");
    let (paths, records) = generated(&dir.0.join("requests"), "generate-large", 16, |_| 1000);
    let state = dir.0.join("state");
    // The 16 000th row makes the flush due, whatever the time it took to send them.
    let mut worker = Worker::start_spooled(
        &[
            ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "600"),
            ("OTLP2PARQUET_BATCH_MAX_ROWS", "16000"),
        ],
        &state,
    );
    for path in &paths {
        let reply = send(&worker, path, true);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let out = dir.0.join("out");
    let keys = collect(&mut worker, &out, records, Duration::from_secs(120));
    worker.ping();
    let uploads: Vec<String> = worker
        .log()
        .into_iter()
        .filter(|l| l.contains("spool: multipart upload"))
        .collect();
    assert_eq!(uploads.len(), 1, "{uploads:?} for {keys:?}");
    // `collect` moved it into one of its round directories.
    let size = std::fs::read_dir(&out)
        .unwrap()
        .map(|round| round.unwrap().path().join(&keys[0]))
        .find(|p| p.exists())
        .map(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(size > 8 * 1024 * 1024, "{size} bytes");
    check_merged(&dir.0.join("requests"), &out);
}

/// With batching on, malformed bodies, missing credentials, oversized and unsupported requests
/// get the same answers as without, and nothing is spooled or written for them.
#[test]
fn refused_requests_are_not_spooled() {
    let dir = temp_dir("spool-errors");
    let state = dir.0.join("state");
    let mut worker = Worker::start_spooled(
        &[
            ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "1"),
            ("OTLP2PARQUET_MAX_PAYLOAD_BYTES", "65536"),
            ("OTLP2PARQUET_AUTH_BEARER_TOKEN", "t0ken"),
        ],
        &state,
    );
    let auth = ("authorization", "Bearer t0ken");
    let json = ("content-type", "application/json");
    let invalid = repo_root().join("testdata/otlp/invalid");
    for entry in std::fs::read_dir(&invalid).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read(&path).unwrap();
        let reply = worker.send(
            "POST",
            crate::util::signal_path(&name),
            &[json, auth],
            &body,
        );
        assert_eq!(reply.status, 400, "{name}: {}", reply.text());
    }
    let log = otlp2parquet_testkit::fixture("logs.pb");
    let pb = ("content-type", "application/x-protobuf");
    let reply = worker.send("POST", "/v1/logs", &[pb], &log);
    assert_eq!(reply.status, 401);
    assert!(reply.header("www-authenticate").is_some());
    let reply = worker.send("POST", "/v1/logs", &[json, auth], &vec![b' '; 70_000]);
    assert_eq!(reply.status, 413, "{}", reply.text());
    let bomb = gzip(&vec![b' '; 1_000_000]);
    let reply = worker.send(
        "POST",
        "/v1/traces",
        &[pb, auth, ("content-encoding", "gzip")],
        &bomb,
    );
    assert_eq!(reply.status, 413, "{}", reply.text());
    let reply = worker.send(
        "POST",
        "/v1/logs",
        &[("content-type", "text/plain"), auth],
        b"hi",
    );
    assert_eq!(reply.status, 415, "{}", reply.text());
    // Past several alarm periods: nothing was spooled, so nothing is written.
    std::thread::sleep(Duration::from_secs(4));
    assert!(worker.take_objects(&dir.0.join("none")).is_empty());
    worker.ping();
    assert_eq!(flushes(&worker), 0, "{:?}", worker.log());
    // And an accepted request after them is spooled and written.
    let reply = worker.send("POST", "/v1/logs", &[pb, auth], &log);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (rows, files) = fixture_rows_and_files();
    let keys = collect(
        &mut worker,
        &dir.0.join("one"),
        rows,
        Duration::from_secs(60),
    );
    // One file per service and hour, as the request alone makes.
    assert_eq!(keys.len(), files, "{keys:?}");
}

/// Rows and files that testdata/otlp/logs.pb makes, written per request by a Worker without
/// the spool.
fn fixture_rows_and_files() -> (i64, usize) {
    let mut direct = Worker::start(&[]);
    let reply = direct.send(
        "POST",
        "/v1/logs",
        &[("content-type", "application/x-protobuf")],
        &otlp2parquet_testkit::fixture("logs.pb"),
    );
    assert_eq!(reply.status, 200);
    let dir = temp_dir("spool-fixture-rows");
    let keys = direct.take_objects(&dir.0);
    let rows = keys
        .iter()
        .map(|k| parquet_rows(std::fs::read(dir.0.join(k)).unwrap(), k))
        .sum();
    (rows, keys.len())
}

/// A spool past `batch.max_buffered_bytes` answers 503 + `Retry-After` and stores nothing of
/// that request; what was acknowledged before still lands. With `batch.enabled = false` the
/// Worker writes each request's files before it answers, binding or not.
#[test]
fn a_full_spool_answers_503_and_batching_off_writes_each_request() {
    let dir = temp_dir("spool-full");
    let (paths, _) = requests(&dir.0.join("requests"), 30);
    let logs: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| p.to_string_lossy().contains("-logs."))
        .collect();
    let mut worker = Worker::start_spooled(
        &[
            ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "3"),
            ("OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES", "40000"),
        ],
        &dir.0.join("state"),
    );
    // The same requests again and again (each time new rows) until an object refuses one.
    let mut acknowledged = 0;
    let mut refused = None;
    for path in logs.iter().cycle().take(120) {
        let reply = send(&worker, path, false);
        match reply.status {
            200 => acknowledged += records_in(path),
            503 => {
                refused = Some(reply);
                break;
            }
            other => panic!("{}: {other} {}", path.display(), reply.text()),
        }
    }
    let refused = refused.expect("the spool of one service never filled");
    assert!(
        refused.header("retry-after").is_some(),
        "{:?}",
        refused.headers
    );
    assert!(refused.text().contains("full"), "{}", refused.text());
    assert!(acknowledged > 0);
    // Only the acknowledged rows are written (collect fails on any more).
    collect(
        &mut worker,
        &dir.0.join("out"),
        acknowledged,
        Duration::from_secs(60),
    );
    drop(worker);

    let mut direct = Worker::start_spooled(
        &[("OTLP2PARQUET_BATCH_ENABLED", "false")],
        &dir.0.join("state-direct"),
    );
    assert_eq!(send(&direct, logs[0], false).status, 200);
    // Written before the answer: in R2 at once.
    let keys = direct.take_objects(&dir.0.join("direct"));
    assert_eq!(keys.len(), 1, "{keys:?}");
}
