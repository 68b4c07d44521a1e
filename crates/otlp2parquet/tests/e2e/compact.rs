//! `otlp2parquet compact` as an operator runs it (docs/adr/0013-lambda-spool.md): `--sealed`
//! over the small files the real server wrote by age, on local disk and on S3 (s3s-fs), leaves
//! one time-ordered file per (table, service, hour) with every row, readable by DuckDB, and a
//! second run finds nothing to do; without `--sealed` the spool is drained into Parquet (an
//! unreadable object quarantined); a held lease is a clean exit that touches nothing; a failed
//! run exits 1 and a bad configuration 2.
//!
//! Files are read back through the S3 API on S3 and from the directory on disk; the binary runs
//! with a hermetic environment and its stdout is a pipe, so it prints the summary line alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use otlp2parquet_batch::spool::{encode_request, spool_key};
use otlp2parquet_common::Signal;
use otlp2parquet_proto::testing::{
    BASE_TIME_UNIX_NANO, logs_request, metrics_request, traces_request,
};
use otlp2parquet_proto::{ExportRequest, LogsRequest, MetricsRequest, TracesRequest};
use otlp2parquet_testkit::{S3Fs, free_port, parquet_rows};
use otlp2parquet_writer::{Partition, convert_logs, convert_metrics, convert_traces, object_key};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use prost::Message;

use crate::batching::{metric, post_ok, wait_for};
use crate::util::{Server, python, run_once};

const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");
/// Requests per signal, each written by age before the next is sent: this many files per
/// partition.
const ROUNDS: u64 = 4;
/// Every hour sent ended long ago; no grace either, so nothing waits on the clock.
const NO_GRACE: (&str, &str) = ("OTLP2PARQUET_COMPACT_GRACE_SECS", "0");
const BUCKET: &str = "telemetry";

/// Parquet files by key relative to the storage prefix.
type Files = BTreeMap<String, Vec<u8>>;

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Sends [`ROUNDS`] rounds of logs (2 services), traces (2 services) and metrics (1 service,
/// all five kinds), all in 2025-01-15T10, each round written by the 1 s age limit before the
/// next: every partition gets one small file per round.
fn send_rounds(server: &Server) {
    for round in 0..ROUNDS {
        let seed = round * 10;
        let logs = logs_request(60, 2, seed).encode_to_vec();
        post_ok(server, "/v1/logs", PROTOBUF, &logs);
        let traces = traces_request(40, 2, seed + 1).encode_to_vec();
        post_ok(server, "/v1/traces", PROTOBUF, &traces);
        let metrics = metrics_request(50, 1, seed + 2).encode_to_vec();
        post_ok(server, "/v1/metrics", PROTOBUF, &metrics);
        assert!(
            wait_for(Duration::from_secs(15), || {
                metric(server, "otlp2parquet_buffered_rows") == Some(0.0)
            }),
            "round {round} was not written by age:\n{}",
            server.log_tail()
        );
    }
}

/// Every file under `root` by its relative key: (the Parquet files, every key). OpenDAL's temp
/// files under `.tmp/` are not objects.
fn fs_objects(root: &Path) -> (Files, Vec<String>) {
    fn walk(root: &Path, dir: &Path, files: &mut Files, keys: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != ".tmp") {
                    walk(root, &p, files, keys);
                }
                continue;
            }
            let key = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if key.ends_with(".parquet") {
                files.insert(key.clone(), std::fs::read(&p).unwrap());
            }
            keys.push(key);
        }
    }
    let (mut files, mut keys) = (Files::new(), Vec::new());
    walk(root, root, &mut files, &mut keys);
    keys.sort();
    (files, keys)
}

/// Every object of the bucket under `prefix`, read through the S3 API, by its key without the
/// prefix: (the Parquet files, every key).
fn s3_objects(s3: &S3Fs, prefix: &str) -> (Files, Vec<String>) {
    let mut files = Files::new();
    let mut keys = Vec::new();
    for (key, bytes) in s3.read_all() {
        let key = key
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{key}: outside the prefix {prefix:?}"))
            .to_owned();
        if key.ends_with(".parquet") {
            files.insert(key.clone(), bytes);
        }
        keys.push(key);
    }
    (files, keys)
}

/// `logs`, `traces` or `metrics/<kind>`: the table of a relative key.
fn table_of(key: &str) -> String {
    let mut parts = key.split('/');
    match parts.next().unwrap() {
        "metrics" => format!("metrics/{}", parts.next().unwrap()),
        other => other.to_owned(),
    }
}

/// (files, rows) per partition directory, i.e. per (table, service, hour).
fn partitions(files: &Files) -> BTreeMap<String, (usize, i64)> {
    let mut out: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    for (key, bytes) in files {
        let dir = key.rsplit_once('/').unwrap().0.to_owned();
        let entry = out.entry(dir).or_default();
        entry.0 += 1;
        entry.1 += parquet_rows(bytes.clone(), key);
    }
    out
}

/// Asserts the rows of a file are in time order (`Timestamp`, `TimeUnix` for metrics) and
/// that it holds more than one input's worth of interleaved times, i.e. was merged, not
/// appended.
fn assert_time_ordered(key: &str, bytes: &[u8]) {
    let column = if key.starts_with("metrics/") {
        "TimeUnix"
    } else {
        "Timestamp"
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes.to_vec()))
        .unwrap()
        .build()
        .unwrap();
    let mut last = i64::MIN;
    let mut rows = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let times = batch
            .column_by_name(column)
            .unwrap_or_else(|| panic!("{key}: no {column} column"))
            .as_primitive::<TimestampNanosecondType>();
        for (i, &t) in times.values().iter().enumerate() {
            assert!(
                t >= last,
                "{key}: row {} ({column} {t}) is earlier than the row before it ({last})",
                rows + i
            );
            last = t;
        }
        rows += batch.num_rows();
    }
    assert!(rows > 0, "{key}: no rows");
}

/// (rows, distinct files) per table as DuckDB reads `root/<table>/**/*.parquet` with hive
/// partitioning.
fn duckdb_tables(root: &Path, tables: &[String]) -> BTreeMap<String, (i64, i64)> {
    const SCRIPT: &str = r#"
import json, os, sys
import duckdb
root, tables = sys.argv[1], sys.argv[2:]
con = duckdb.connect()
out = {}
for table in tables:
    pattern = os.path.join(root, table, "**", "*.parquet")
    out[table] = con.execute(
        f"SELECT count(*), count(DISTINCT filename) FROM read_parquet('{pattern}', "
        "hive_partitioning=true, filename=true)").fetchone()
print(json.dumps(out))
"#;
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(SCRIPT)
        .arg(root)
        .args(tables)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "DuckDB over {}: {}",
        root.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Asserts a clean exit and returns stdout.
fn assert_ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn summary(runs: usize, inputs: usize, bytes: usize, outputs: usize, rows: i64) -> String {
    format!(
        "compacted: runs={runs} inputs={inputs} ({bytes} bytes) outputs={outputs} rows={rows} \
         quarantined=0 recovered=false\n"
    )
}

/// The whole `--sealed` check over one backend: `read` lists the store, `compact` runs
/// `otlp2parquet compact --sealed` on it, DuckDB reads `duckdb_root`.
fn check_sealed_compaction(
    read: &dyn Fn() -> (Files, Vec<String>),
    compact: &dyn Fn() -> Output,
    duckdb_root: &Path,
) {
    let (before, _) = read();
    let parts_before = partitions(&before);
    // logs and traces of two services each, five metric kinds of one.
    assert_eq!(parts_before.len(), 2 + 2 + 5, "{parts_before:#?}");
    for (dir, (files, _)) in &parts_before {
        assert_eq!(
            *files, ROUNDS as usize,
            "{dir}: one file per round, written by age"
        );
    }
    let input_bytes: usize = before.values().map(Vec::len).sum();
    let rows: i64 = parts_before.values().map(|p| p.1).sum();

    let stdout = assert_ok(&compact(), "compact --sealed");
    assert_eq!(
        stdout,
        summary(1, before.len(), input_bytes, parts_before.len(), rows),
        "on a pipe the summary line alone"
    );

    let (after, keys) = read();
    let parts_after = partitions(&after);
    let want: BTreeMap<String, (usize, i64)> = parts_before
        .iter()
        .map(|(dir, (_, rows))| (dir.clone(), (1, *rows)))
        .collect();
    assert_eq!(
        parts_after, want,
        "one file per (table, service, hour), every row kept"
    );
    assert!(
        before.keys().all(|k| !after.contains_key(k)),
        "the small files are gone: {:#?}",
        after.keys()
    );
    for (key, bytes) in &after {
        assert_time_ordered(key, bytes);
    }
    assert!(
        keys.iter().all(|k| !k.starts_with("_compactor/")),
        "the lease and the intent are removed: {keys:#?}"
    );

    let mut tables: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (dir, (files, rows)) in &parts_after {
        let t = tables.entry(table_of(dir)).or_default();
        t.0 += rows;
        t.1 += *files as i64;
    }
    let names: Vec<String> = tables.keys().cloned().collect();
    assert_eq!(
        duckdb_tables(duckdb_root, &names),
        tables,
        "DuckDB reads the compacted files (rows, files per table)"
    );

    // Nothing is left to merge: the second run changes nothing.
    let stdout = assert_ok(&compact(), "second compact --sealed");
    assert_eq!(stdout, summary(1, 0, 0, 0, 0));
    let (again, _) = read();
    assert_eq!(
        again.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "a second run leaves the files as they are"
    );
}

#[test]
fn compact_sealed_merges_the_small_files_on_disk() {
    let mut server = Server::start_with(
        "compact-sealed-fs",
        &[("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "1")],
    );
    send_rounds(&server);
    server.stop();
    let data = server.data_dir();
    let data_arg = data.to_string_lossy().into_owned();
    check_sealed_compaction(
        &|| fs_objects(&data),
        &|| {
            run_once(
                &server.dir,
                &["compact", "--sealed", "--output", &data_arg],
                &[NO_GRACE],
            )
        },
        &data,
    );
}

#[test]
fn compact_sealed_merges_the_small_files_on_s3() {
    let name = "compact-sealed-s3";
    let s3 = S3Fs::start(&tmp(&format!("{name}-s3s")), BUCKET);
    let prefix = "otel/";
    let mut env = s3.s3_env(prefix);
    env.push(("OTLP2PARQUET_BATCH_MAX_AGE_SECS".to_owned(), "1".to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut server = Server::start_args(name, &["serve"], &env);
    send_rounds(&server);
    server.stop();
    let mut compact_env = env.clone();
    compact_env.push(NO_GRACE);
    check_sealed_compaction(
        &|| s3_objects(&s3, prefix),
        &|| run_once(&server.dir, &["compact", "--sealed"], &compact_env),
        // s3s-fs keeps each object as a plain file under <root>/<bucket>/<key>.
        &s3.object_path(prefix),
    );
}

/// The partitions of one generated request of `signal`.
fn converted(signal: Signal, seed: u64, received_at_ns: i64) -> Vec<Partition> {
    match signal {
        Signal::Logs => {
            let body = logs_request(50, 2, seed).encode_to_vec();
            convert_logs(
                &LogsRequest::decode_protobuf(&body).unwrap(),
                received_at_ns,
            )
            .unwrap()
        }
        Signal::Traces => {
            let body = traces_request(30, 2, seed).encode_to_vec();
            convert_traces(
                &TracesRequest::decode_protobuf(&body).unwrap(),
                received_at_ns,
            )
            .unwrap()
        }
        Signal::Metrics => {
            let body = metrics_request(50, 1, seed).encode_to_vec();
            convert_metrics(
                &MetricsRequest::decode_protobuf(&body).unwrap(),
                received_at_ns,
            )
            .unwrap()
        }
    }
}

#[test]
fn compact_drains_the_spool_into_one_file_per_partition() {
    let dir = tmp("compact-spool");
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let data_arg = data.to_string_lossy().into_owned();
    let write = |key: &str, bytes: &[u8]| {
        let path = data.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };

    // Three requests per signal, as the Lambda in spool mode leaves them, and one object that
    // is not a spool object at all.
    let mut want: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    let mut spool_bytes = 0;
    let mut objects = 0;
    for (i, signal) in [Signal::Logs, Signal::Traces, Signal::Metrics]
        .into_iter()
        .cycle()
        .take(9)
        .enumerate()
    {
        let received = BASE_TIME_UNIX_NANO as i64 + 400_000_000_000 + i as i64;
        let partitions = converted(signal, i as u64, received);
        for p in &partitions {
            let key = object_key("", p.table, &p.service, p.min_time_ns, 0);
            let dir = key.rsplit_once('/').unwrap().0.to_owned();
            let entry = want.entry(dir).or_default();
            entry.0 = 1;
            entry.1 += p.num_rows() as i64;
        }
        let object = encode_request(&partitions, received).unwrap();
        write(&spool_key("", signal, received, i as u128 + 1), &object);
        spool_bytes += object.len();
        objects += 1;
    }
    let garbage_key = spool_key("", Signal::Logs, BASE_TIME_UNIX_NANO as i64, 0xbad);
    write(&garbage_key, b"not a spool object");
    assert_eq!(want.len(), 2 + 2 + 5, "{want:#?}");

    // Another compactor holds the lease: a clean exit, nothing touched.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let expires = i64::try_from(now_ms).unwrap() + 600_000;
    write(
        "_compactor/lease",
        &otlp2parquet_batch::compact::lease_text("lambda:elsewhere", expires),
    );
    let stdout = assert_ok(
        &run_once(&dir, &["compact", "--output", &data_arg], &[]),
        "compact with the lease held",
    );
    assert!(
        stdout.starts_with("another compactor holds the lease (owner lambda:elsewhere, until "),
        "{stdout}"
    );
    assert!(stdout.ends_with(&summary(0, 0, 0, 0, 0)), "{stdout}");
    let (files, keys) = fs_objects(&data);
    assert!(files.is_empty(), "nothing written: {keys:#?}");
    assert_eq!(
        keys.iter().filter(|k| k.starts_with("_spool/")).count(),
        objects + 1
    );

    std::fs::remove_file(data.join("_compactor/lease")).unwrap();
    let out = run_once(&dir, &["compact", "--output", &data_arg], &[]);
    let stdout = assert_ok(&out, "compact");
    let rows: i64 = want.values().map(|p| p.1).sum();
    assert_eq!(
        stdout,
        summary(1, objects, spool_bytes, want.len(), rows)
            .replace("quarantined=0", "quarantined=1")
    );
    let (files, keys) = fs_objects(&data);
    assert!(
        keys.iter().all(|k| !k.starts_with("_spool/")),
        "the spool is drained: {keys:#?}"
    );
    assert_eq!(
        partitions(&files),
        want,
        "one file per partition, every row"
    );
    for (key, bytes) in &files {
        assert_time_ordered(key, bytes);
    }
    let quarantined: Vec<&String> = keys
        .iter()
        .filter(|k| k.starts_with("_compactor/quarantine/"))
        .collect();
    assert_eq!(
        quarantined.len(),
        1,
        "the unreadable object is kept aside: {keys:#?}"
    );
    assert_eq!(
        std::fs::read(data.join(quarantined[0])).unwrap(),
        b"not a spool object"
    );
    assert!(
        !keys
            .iter()
            .any(|k| k == "_compactor/lease" || k == "_compactor/intent"),
        "{keys:#?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("quarantined"),
        "the quarantine is logged: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_failed_run_exits_1_and_a_bad_configuration_2() {
    let dir = tmp("compact-failures");
    let _ = std::fs::remove_dir_all(&dir);
    let last_stderr_line = |out: &Output| {
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned()
    };

    let out = run_once(
        &dir,
        &["compact"],
        &[("OTLP2PARQUET_STORAGE_BACKEND", "s3")],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("otlp2parquet compact: ") && stderr.contains("storage.s3.bucket"),
        "{stderr}"
    );

    // Nothing listens on the endpoint: the lease cannot be taken.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let out = run_once(
        &dir,
        &["compact", "--sealed"],
        &[
            ("OTLP2PARQUET_STORAGE_BACKEND", "s3"),
            ("OTLP2PARQUET_S3_BUCKET", BUCKET),
            ("OTLP2PARQUET_S3_REGION", S3Fs::REGION),
            ("OTLP2PARQUET_S3_ENDPOINT", &endpoint),
            ("AWS_ACCESS_KEY_ID", S3Fs::ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", S3Fs::SECRET_KEY),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = last_stderr_line(&out);
    assert!(
        line.starts_with("otlp2parquet compact: ") && line.contains("_compactor/lease"),
        "{line}"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[test]
fn compact_help_explains_both_modes_and_the_grace_period() {
    let out = run_once(&tmp("compact-help"), &["compact", "--help"], &[]);
    let help = assert_ok(&out, "compact --help");
    for needle in [
        "--sealed",
        "spool",
        "same configuration as `serve`",
        "compact.grace_secs",
        "default 600",
        "--config",
        "--output",
        "--log-level",
    ] {
        assert!(help.contains(needle), "{needle:?} missing from:\n{help}");
    }
}
