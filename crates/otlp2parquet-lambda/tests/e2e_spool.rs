//! Spool mode and the compactor (issue 15), end to end: the `bootstrap` binary under `cargo
//! lambda watch` with `OTLP2PARQUET_LAMBDA_MODE=spool` stores each accepted request as one object
//! under `{prefix}_spool/` before it answers; a scheduled event through the Invoke API runs the
//! compactor, which merges the spool into one time-ordered file per (table, service, hour) and
//! deletes what it consumed. Crashes (the binary's `OTLP2PARQUET_FAULT_*` injection, built with
//! the `e2e` feature), S3 outages and a second compactor (in process, as `otlp2parquet compact`
//! runs it) never lose or duplicate a row.
//!
//! When the function process dies during an invocation, `cargo lambda watch` never answers that
//! invocation (see [`Invoked::Died`]): the harness watches the process instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use otlp2parquet_batch::compact::{self, Mode, Observer, Outcome, Settings, Step};
use otlp2parquet_batch::spool::decode_object;
use otlp2parquet_common::config::{Config, Sources};
use otlp2parquet_common::platform::Platform;
use otlp2parquet_handlers::{KeyTokens, parquet_options};
use otlp2parquet_lambda::app::now_ms;
use otlp2parquet_proto::pb;
use otlp2parquet_testkit::{
    TempDir, check_key, gzip, parquet_rows, python, repo_root, utc_hour, zstd,
};
use otlp2parquet_writer::{ObjectStore as _, OpendalStorage};
use prost::Message as _;
use serde_json::Value;

use crate::util::{
    Invoked, JSON, JSON_FIXTURES, PROTOBUF, PROTOBUF_FIXTURES, Rig, Sent, assert_export_ok,
    fixture, invalid_fixtures, merge, parquet_row_lines, pipeline_files, records, rig,
    rows_per_table, signal_path,
};

const SPOOL: (&str, &str) = ("OTLP2PARQUET_LAMBDA_MODE", "spool");
const CRASH_AT: &str = "OTLP2PARQUET_FAULT_CRASH_AT";
const PAUSE_MS: &str = "OTLP2PARQUET_FAULT_PAUSE_MS";
const LEASE_SECS: &str = "OTLP2PARQUET_COMPACT_LEASE_SECS";

/// The EventBridge schedule's event, as the Invoke API hands it to the function.
fn scheduled_event() -> Value {
    serde_json::json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event", "source": "aws.events", "account": "1",
        "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {}
    })
}

/// A fixture as sent: content type from its extension, compressed with `encoding`.
fn request(name: &str, encoding: Option<&'static str>) -> Sent {
    let content_type = match name.rsplit('.').next() {
        Some("pb") => PROTOBUF,
        Some("jsonl") => "application/x-ndjson",
        _ => JSON,
    };
    let raw = fixture(name);
    let body = match encoding {
        Some("gzip") => gzip(&raw),
        Some("zstd") => zstd(&raw),
        _ => raw,
    };
    Sent {
        path: signal_path(name),
        content_type,
        encoding,
        body,
    }
}

/// Every fixture as protobuf and JSON, and JSONL, gzip and zstd bodies.
fn every_request() -> Vec<(&'static str, Sent)> {
    let mut out: Vec<(&'static str, Sent)> = PROTOBUF_FIXTURES
        .iter()
        .chain(JSON_FIXTURES.iter())
        .map(|&name| (name, request(name, None)))
        .collect();
    out.extend([
        ("traces.pb", request("traces.pb", Some("gzip"))),
        (
            "metrics_histogram.json",
            request("metrics_histogram.json", Some("gzip")),
        ),
        ("logs.jsonl", request("logs.jsonl", None)),
        (
            "metrics_sum.jsonl",
            request("metrics_sum.jsonl", Some("zstd")),
        ),
        ("log.json", request("log.json", Some("zstd"))),
    ]);
    out
}

/// Several signals and services over a few requests: a run with several inputs and outputs.
fn small_batch() -> Vec<(&'static str, Sent)> {
    [
        "logs.pb",
        "traces.pb",
        "metrics_gauge.pb",
        "log.json",
        "trace.json",
        "metrics_sum.json",
    ]
    .into_iter()
    .map(|name| (name, request(name, None)))
    .collect()
}

/// The spool's hour label (`YYYY-MM-DDTHH`, UTC) of the current time.
fn hour_label_now() -> String {
    let (y, m, d, h) = utc_hour(now_ms() * 1_000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}")
}

/// The rig's bucket under its prefix, through the S3 API (OpenDAL, as the function uses it);
/// also a second compactor, in this process, as `otlp2parquet compact` runs it.
struct Store {
    storage: OpendalStorage,
    settings: Settings,
    prefix: String,
}

impl Store {
    fn new(rig: &Rig) -> Store {
        let env = rig.s3.s3_env(&rig.prefix);
        let sources = Sources {
            env: env.clone(),
            ..Sources::default()
        };
        let config = Config::load(Platform::Lambda, &sources).unwrap();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        Store {
            storage: OpendalStorage::from_config_with_env(&config.storage, &lookup).unwrap(),
            settings: Settings::from_config(&config, parquet_options(&config)),
            prefix: rig.prefix.clone(),
        }
    }

    fn block_on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// The keys under the prefix, sorted.
    fn keys(&self) -> Vec<String> {
        let listed = self
            .block_on(self.storage.list(&self.prefix, usize::MAX))
            .unwrap();
        let mut keys: Vec<String> = listed
            .into_iter()
            .map(|l| l.key)
            .filter(|k| !k.ends_with('/'))
            .collect();
        keys.sort();
        keys
    }

    /// Every object under the prefix.
    fn read(&self) -> Bucket {
        let objects = self
            .keys()
            .into_iter()
            .map(|key| {
                let bytes = self.block_on(self.storage.get(&key)).unwrap();
                (key, bytes.unwrap_or_default())
            })
            .collect();
        Bucket {
            prefix: self.prefix.clone(),
            objects,
        }
    }

    /// One compaction run with the owner `e2e-manual`.
    fn compact(&self, observer: &dyn Observer) -> compact::Report {
        let tokens = KeyTokens::default();
        let token = || tokens.next(now_ms() * 1_000_000);
        let env = compact::Env {
            now_ms: &now_ms,
            token: &token,
            owner: "e2e-manual",
            observer,
        };
        self.block_on(compact::run(
            &self.storage,
            &self.settings,
            Mode::Spool,
            &env,
        ))
        .unwrap()
    }
}

/// What a rig's bucket holds under its prefix.
struct Bucket {
    prefix: String,
    objects: Vec<(String, Vec<u8>)>,
}

impl Bucket {
    fn read(rig: &Rig) -> Bucket {
        Store::new(rig).read()
    }

    /// Keys under `{prefix}{dir}`.
    fn keys_under(&self, dir: &str) -> BTreeSet<String> {
        let dir = format!("{}{dir}", self.prefix);
        self.objects
            .iter()
            .filter(|(k, _)| k.starts_with(&dir))
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn spool(&self) -> BTreeSet<String> {
        self.keys_under("_spool/")
    }

    fn compactor(&self) -> BTreeSet<String> {
        self.keys_under("_compactor/")
    }

    /// The Parquet objects (key, bytes).
    fn parquet(&self) -> Vec<(String, Vec<u8>)> {
        self.objects
            .iter()
            .filter(|(k, _)| k.ends_with(".parquet"))
            .cloned()
            .collect()
    }

    /// Rows per table of the Parquet objects.
    fn rows_per_table(&self) -> BTreeMap<String, i64> {
        let rows: Vec<(String, i64)> = self
            .parquet()
            .into_iter()
            .map(|(k, v)| {
                let n = parquet_rows(v, &k);
                (k, n)
            })
            .collect();
        rows_per_table(&rows, &self.prefix)
    }

    fn parquet_keys(&self) -> BTreeSet<String> {
        self.parquet().into_iter().map(|(k, _)| k).collect()
    }

    fn get(&self, rel: &str) -> Option<&[u8]> {
        let key = format!("{}{rel}", self.prefix);
        self.objects
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// The output keys the stored intent fixes (its `output` lines end with the key).
    fn intent_outputs(&self) -> BTreeSet<String> {
        let intent = self
            .get("_compactor/intent")
            .unwrap_or_else(|| panic!("no intent under {}_compactor/", self.prefix));
        String::from_utf8_lossy(intent)
            .lines()
            .filter(|l| l.starts_with("output\t"))
            .map(|l| l.rsplit('\t').next().unwrap().to_owned())
            .collect()
    }
}

/// Rows per partition directory (`{prefix}{table}/{service}/year=…/hour=HH`), each as text,
/// sorted: equal maps hold the same rows in the same partitions, whatever files they are in.
fn rows_by_partition(files: &[(String, Vec<u8>)]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, bytes) in files {
        let dir = key.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        out.entry(dir)
            .or_default()
            .extend(parquet_row_lines(bytes.clone()));
    }
    for rows in out.values_mut() {
        rows.sort();
    }
    out
}

/// The files `keys` of `bucket`.
fn files(bucket: &Bucket, keys: &BTreeSet<String>) -> Vec<(String, Vec<u8>)> {
    bucket
        .parquet()
        .into_iter()
        .filter(|(k, _)| keys.contains(k))
        .collect()
}

/// Every request of `sent` is stored exactly once in `got`: the same rows (every column) in the
/// same partitions as the shared pipeline writes for them in process, one file per partition.
fn assert_exactly_once(what: &str, prefix: &str, sent: &[(&str, Sent)], got: &[(String, Vec<u8>)]) {
    let requests: Vec<Sent> = sent.iter().map(|(_, s)| s.clone()).collect();
    let want = rows_by_partition(&pipeline_files(prefix, &requests));
    let have = rows_by_partition(got);
    assert_eq!(
        have.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: partitions"
    );
    for (dir, rows) in &want {
        let ours = &have[dir];
        assert_eq!(
            ours.len(),
            rows.len(),
            "{what}: {dir}: {} rows stored, {} sent",
            ours.len(),
            rows.len()
        );
        assert_eq!(ours, rows, "{what}: {dir}: rows differ");
    }
    let mut per_dir: BTreeMap<String, usize> = BTreeMap::new();
    for (key, _) in got {
        *per_dir.entry(check_key(key, prefix).dir).or_default() += 1;
    }
    assert!(
        per_dir.values().all(|&n| n == 1),
        "{what}: more than one file in a partition: {per_dir:?}"
    );
}

/// The records of `sent`, per table.
fn records_of(sent: &[(&str, Sent)]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for (name, _) in sent {
        merge(&mut out, &records(name));
    }
    out
}

/// Sends `sent`, each answered 200.
fn spool_all(rig: &Rig, sent: &[(&str, Sent)]) {
    for (name, s) in sent {
        let reply = rig.send(s);
        assert_export_ok(&reply, s, name);
    }
}

/// Runs the compactor through a scheduled event; its reply.
fn compact(rig: &mut Rig) -> Value {
    let invoked = rig.lambda.try_invoke(&scheduled_event());
    summary(rig, invoked)
}

/// The compactor's answer in `invoked`: 200 with its JSON summary.
fn summary(rig: &Rig, invoked: Invoked) -> Value {
    match invoked {
        Invoked::Answered(r) => {
            assert_eq!(
                r.status,
                200,
                "compactor: {}\n{}",
                r.text(),
                rig.lambda.logs()
            );
            let reply: Value = serde_json::from_slice(&r.body)
                .unwrap_or_else(|e| panic!("compactor answered non-JSON ({e}): {}", r.text()));
            assert!(
                reply["ms"].as_f64().is_some_and(|ms| ms >= 0.0),
                "no run time: {reply}"
            );
            reply
        }
        Invoked::Died(status) => panic!(
            "the function died ({status}) running the compactor:\n{}",
            rig.lambda.logs()
        ),
    }
}

/// A compactor invocation that failed without killing the function (S3 unreachable).
fn assert_failed(rig: &Rig, invoked: Invoked, what: &str) {
    match invoked {
        Invoked::Answered(r) => assert_ne!(r.status, 200, "{what}: {}", r.text()),
        Invoked::Died(status) => panic!(
            "{what}: the function died ({status}):\n{}",
            rig.lambda.logs()
        ),
    }
}

/// A completed run's reply: `done`, `inputs` spool objects consumed, `recovered` as given.
fn assert_done(reply: &Value, inputs: usize, recovered: bool, what: &str) {
    assert_eq!(reply["outcome"], "done", "{what}: {reply}");
    assert_eq!(as_u64(reply, "inputs"), inputs as u64, "{what}: {reply}");
    assert_eq!(reply["recovered"], recovered, "{what}: {reply}");
}

/// After a completed run: the spool and the compactor's objects gone, and the files that are
/// new since `before` holding every row of `sent` exactly once (see [`assert_exactly_once`]).
/// The bucket and those files.
fn assert_consumed(
    rig: &Rig,
    sent: &[(&str, Sent)],
    before: &BTreeSet<String>,
    what: &str,
) -> (Bucket, Vec<(String, Vec<u8>)>) {
    let after = Bucket::read(rig);
    assert_clean(&after, what);
    let new: BTreeSet<String> = after.parquet_keys().difference(before).cloned().collect();
    let got = files(&after, &new);
    assert_exactly_once(what, &rig.prefix, sent, &got);
    (after, got)
}

/// Runs the compactor until it is no longer `busy` (another run's lease has expired), within
/// `limit`; the first reply that is not.
fn compact_when_free(rig: &mut Rig, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let reply = compact(rig);
        if reply["outcome"] != "busy" {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "still busy after {limit:?}: {reply}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// After a completed run: nothing in the spool, no intent, the lease released.
fn assert_clean(bucket: &Bucket, what: &str) {
    assert!(
        bucket.spool().is_empty(),
        "{what}: spool left: {:?}",
        bucket.spool()
    );
    assert!(
        bucket.compactor().is_empty(),
        "{what}: lease or intent left: {:?}",
        bucket.compactor()
    );
}

fn as_u64(reply: &Value, field: &str) -> u64 {
    reply[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} missing: {reply}"))
}

/// Every fixture and encoding (protobuf, JSON, JSONL; gzip, zstd) in spool mode: each 200 only
/// once its one spool object is stored (a new object under `_spool/` right after each answer,
/// holding exactly the request's records, and no Parquet); bad input is a 400 that stores
/// nothing. The scheduled compactor then writes one file per (table, service, hour) holding
/// exactly the acknowledged rows: the same as the shared pipeline writes per request, and as
/// the reference implementation converts them (merged.py: every value, time order, ClickHouse
/// and DuckDB); the spool is empty and the lease released afterwards.
#[test]
fn every_signal_and_encoding_is_spooled_when_answered_and_merged_per_partition() {
    let mut rig = rig("spool-signals", "otel/", &[SPOOL]);
    for name in invalid_fixtures() {
        let body = fixture(&format!("invalid/{name}"));
        let reply = rig.lambda.post(signal_path(&name), JSON, None, &body);
        assert_eq!(reply.status, 400, "{name}: {}", reply.text());
    }
    let reply = rig
        .lambda
        .post("/v1/traces", PROTOBUF, None, b"\x0a\xff\xff\xff\xff\x0f");
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(
        Bucket::read(&rig).objects.is_empty(),
        "a rejected request left objects"
    );

    let sent = every_request();
    let mut spooled = BTreeSet::new();
    for (name, s) in &sent {
        let hour_before = hour_label_now();
        let reply = rig.send(s);
        assert_export_ok(&reply, s, name);
        let hour_after = hour_label_now();
        // Acknowledged means spooled: the object is there as soon as the answer is.
        let bucket = Bucket::read(&rig);
        assert!(
            bucket.parquet().is_empty(),
            "{name}: Parquet written at ingest"
        );
        let new: Vec<String> = bucket.spool().difference(&spooled).cloned().collect();
        assert_eq!(new.len(), 1, "{name}: new spool objects {new:?}");
        let key = &new[0];
        let rest = key.strip_prefix("otel/_spool/").unwrap();
        let parts: Vec<&str> = rest.split('/').collect();
        assert_eq!(parts.len(), 3, "{key}");
        assert_eq!(format!("/v1/{}", parts[0]), s.path, "{key}: signal");
        assert!(
            parts[1] == hour_before || parts[1] == hour_after,
            "{key}: not the hour it was received ({hour_before})"
        );
        assert!(
            parts[2].len() == 32
                && parts[2]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{key}: token"
        );
        let object = decode_object(bucket.get(&format!("_spool/{rest}")).unwrap())
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        let mut rows = BTreeMap::new();
        for append in &object.appends {
            for part in &append.parts {
                *rows.entry(append.table.key_path().to_owned()).or_default() +=
                    i64::from(part.rows);
            }
        }
        assert_eq!(rows, records(name), "{name}: rows in {key}");
        spooled.insert(key.clone());
    }
    let expected = records_of(&sent);
    let total: i64 = expected.values().sum();

    let reply = compact(&mut rig);
    println!("compacted {} requests: {reply}", sent.len());
    assert_done(&reply, sent.len(), false, "the run");
    assert_eq!(as_u64(&reply, "rows"), total as u64, "{reply}");
    assert_eq!(as_u64(&reply, "quarantined"), 0, "{reply}");
    assert_eq!(reply["more"], false, "{reply}");
    let (bucket, outputs) = assert_consumed(&rig, &sent, &BTreeSet::new(), "the run");
    assert_eq!(as_u64(&reply, "outputs"), outputs.len() as u64, "{reply}");
    assert_eq!(rig.rows_per_table(), expected);
    check_with_reference(&sent, &outputs, "otel/");

    // Nothing left: a second run does nothing.
    let again = compact(&mut rig);
    assert_done(&again, 0, false, "a second run");
    assert_eq!(Bucket::read(&rig).parquet_keys(), bucket.parquet_keys());
}

/// merged.py `check` (the Worker's spool tests' check, crates/otlp2parquet-cloudflare): the
/// reference implementation converts every request; per partition our file holds exactly the
/// union of its rows, in time order, and loads into ClickHouse (chdb) and DuckDB.
fn check_with_reference(sent: &[(&str, Sent)], outputs: &[(String, Vec<u8>)], prefix: &str) {
    let dir = TempDir::under(
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("lambda"),
        "spool-reference",
    );
    let requests = dir.0.join("requests");
    std::fs::create_dir_all(&requests).unwrap();
    for (i, (name, s)) in sent.iter().enumerate() {
        let signal = s.path.trim_start_matches("/v1/");
        let ext = name.rsplit('.').next().unwrap();
        std::fs::write(
            requests.join(format!("{i:03}-{signal}.{ext}")),
            fixture(name),
        )
        .unwrap();
    }
    let out = dir.0.join("out");
    for (key, bytes) in outputs {
        let path = out.join(key.strip_prefix(prefix).unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let script = repo_root().join("crates/otlp2parquet-cloudflare/tests/e2e/merged.py");
    let result = Command::new(python())
        .arg(script)
        .arg("check")
        .arg(&requests)
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success() && stdout.contains("match the reference"),
        "merged.py check:\n{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    println!("reference: {}", stdout.trim());
}

/// The compactor killed (`OTLP2PARQUET_FAULT_CRASH_AT`: the process aborts) after storing its
/// intent, after its first output, after all outputs and after its first input delete. Each
/// time the store holds what that step leaves, the crashed run's lease still blocks a new
/// function (`busy`, nothing touched) until it expires, and the next run finishes the
/// interrupted one (`recovered`): every spooled row stored exactly once, under the output keys
/// the intent fixed, the spool empty.
#[test]
fn a_compactor_killed_at_any_step_is_finished_by_the_next_run_exactly_once() {
    let lease = (LEASE_SECS, "4");
    let mut rig = rig("spool-crash", "crash/", &[SPOOL, lease]);
    let sent = small_batch();
    let total: i64 = records_of(&sent).values().sum();
    for point in ["intent", "output", "outputs", "delete"] {
        let before = Bucket::read(&rig).parquet_keys();
        spool_all(&rig, &sent);
        let spooled = Bucket::read(&rig).spool();
        assert_eq!(spooled.len(), sent.len(), "{point}");

        rig.restart("crash/", &[SPOOL, lease, (CRASH_AT, point)]);
        match rig.lambda.try_invoke(&scheduled_event()) {
            Invoked::Died(status) => assert!(!status.success(), "{point}: exited {status}"),
            Invoked::Answered(r) => panic!(
                "{point}: the compactor answered ({}) instead of crashing: {}\n{}",
                r.status,
                r.text(),
                rig.lambda.logs()
            ),
        }
        let crashed = Bucket::read(&rig);
        let crashed_disk = disk(&rig);
        let planned = crashed.intent_outputs();
        assert!(planned.len() > 1, "{point}: outputs {planned:?}");
        let written: BTreeSet<String> = crashed
            .parquet_keys()
            .difference(&before)
            .cloned()
            .collect();
        assert!(
            written.is_subset(&planned),
            "{point}: {written:?} not in the intent"
        );
        let (outputs, inputs) = match point {
            "intent" => (0, sent.len()),
            "output" => (1, sent.len()),
            "outputs" => (planned.len(), sent.len()),
            // The deletes go as one `DeleteObjects` request per 1 000 inputs, so after the
            // first one none of these inputs is left (a crash between two deletes is covered by
            // the batch crate's unit tests).
            _ => (planned.len(), 0),
        };
        assert_eq!(written.len(), outputs, "{point}: outputs stored");
        assert_eq!(crashed.spool().len(), inputs, "{point}: inputs left");
        assert!(crashed.spool().is_subset(&spooled), "{point}");
        let lease_text =
            String::from_utf8_lossy(crashed.get("_compactor/lease").unwrap_or_else(|| {
                panic!(
                    "{point}: the crashed run's lease is gone: {:?}",
                    crashed.compactor()
                )
            }))
            .into_owned();

        // A new execution environment: the crashed run's lease holds it off until it expires.
        rig.restart("crash/", &[SPOOL, lease]);
        let reply = compact(&mut rig);
        assert_eq!(
            reply["outcome"],
            "busy",
            "{point}: the crashed run's lease ({lease_text:?}, now {}) was not respected: {reply}",
            now_ms()
        );
        assert_eq!(disk(&rig), crashed_disk, "{point}: busy touched the store");
        let reply = compact_when_free(&mut rig, Duration::from_secs(15));
        assert_done(&reply, sent.len(), true, point);
        let (_, got) = assert_consumed(&rig, &sent, &before, point);
        let new: BTreeSet<String> = got.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(new, planned, "{point}: outputs not under the intent's keys");
        let rows: i64 = got.iter().map(|(k, v)| parquet_rows(v.clone(), k)).sum();
        assert_eq!(rows, total, "{point}: rows stored");
    }
}

/// S3 down at ingest: a retryable 503 (`Retry-After`, UNAVAILABLE) and nothing spooled; the
/// same process spools again once S3 is back. S3 down when the compactor starts: the invocation
/// fails, the spool is untouched, the next run compacts it. S3 going down in the middle of a
/// run (after its intent): the run fails, and the next one (after the lease the failed run
/// could not release) finishes it. Every row exactly once.
#[test]
fn s3_down_at_ingest_is_a_503_and_during_compaction_loses_nothing() {
    let lease = (LEASE_SECS, "2");
    let mut rig = rig("spool-s3-down", "", &[SPOOL, lease]);
    rig.s3.kill();
    let r = rig
        .lambda
        .post("/v1/traces", PROTOBUF, None, &fixture("traces.pb"));
    assert_eq!(r.status, 503, "{}", r.text());
    let retry = r.header("retry-after").unwrap_or_default();
    assert!(
        retry.parse::<u32>().is_ok_and(|s| s > 0),
        "Retry-After {retry:?}"
    );
    let status = pb::rpc::Status::decode(r.body.as_slice()).unwrap();
    assert_eq!(status.code, 14, "{status:?}");
    rig.s3.spawn();
    assert!(
        Bucket::read(&rig).objects.is_empty(),
        "a refused request left objects"
    );
    let traces = [("traces.pb", request("traces.pb", None))];
    spool_all(&rig, &traces);
    assert_eq!(Bucket::read(&rig).spool().len(), 1);

    // Down before the run starts.
    let sent: Vec<(&str, Sent)> = traces.into_iter().chain(small_batch()).collect();
    spool_all(&rig, &sent[1..]);
    let spooled = disk(&rig);
    rig.s3.kill();
    let invoked = rig.lambda.try_invoke(&scheduled_event());
    assert_failed(&rig, invoked, "S3 down");
    rig.s3.spawn();
    assert_eq!(disk(&rig), spooled, "a failed run changed the store");
    let reply = compact(&mut rig);
    assert_done(&reply, sent.len(), false, "after S3 came back");
    let (after, _) = assert_consumed(&rig, &sent, &BTreeSet::new(), "after S3 came back");

    // Down in the middle of a run: the intent is stored, the outputs are not.
    let before = after.parquet_keys();
    let sent = small_batch();
    spool_all(&rig, &sent);
    rig.restart("", &[SPOOL, lease, (PAUSE_MS, "1500")]);
    let pending = rig.lambda.invoke_in_background(&scheduled_event());
    wait_for_object(&rig, "_compactor/intent");
    rig.s3.kill();
    let invoked = rig.lambda.wait(pending);
    assert_failed(&rig, invoked, "S3 down mid-run");
    rig.s3.spawn();
    let cut = Bucket::read(&rig);
    assert_eq!(
        cut.spool().len(),
        sent.len(),
        "inputs deleted by a failed run"
    );
    assert!(
        cut.get("_compactor/intent").is_some(),
        "{:?}",
        cut.compactor()
    );
    rig.restart("", &[SPOOL, lease]);
    let reply = compact_when_free(&mut rig, Duration::from_secs(15));
    assert_done(&reply, sent.len(), true, "after the run S3 cut short");
    assert_consumed(&rig, &sent, &before, "after the run S3 cut short");
}

/// Every file s3s-fs keeps (objects and its metadata beside them), read from its directory:
/// what "touches nothing" compares. Read from disk, not through the S3 API: OpenDAL's HTTP
/// client is process-wide, and while a compactor of this process is held inside its runtime
/// (see [`Hold`]), a request that picks one of that runtime's pooled connections would wait
/// for the request timeout.
fn disk(rig: &Rig) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.insert(path, bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(rig.s3.object_path("").parent().unwrap(), &mut out);
    out
}

/// Polls s3s-fs's directory until the object `key` (under the rig's prefix) exists.
fn wait_for_object(rig: &Rig, key: &str) {
    let path = rig.s3.object_path(&format!("{}{key}", rig.prefix));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{key} never appeared:\n{}",
            rig.lambda.logs()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Holds a run at its stored intent until told to go on.
struct Hold {
    reached: mpsc::Sender<()>,
    go: std::sync::Mutex<mpsc::Receiver<()>>,
}

impl Observer for Hold {
    fn step(&self, step: Step<'_>) {
        if let Step::IntentStored { .. } = step {
            self.reached.send(()).unwrap();
            self.go.lock().unwrap().recv().unwrap();
        }
    }
}

/// Two compactors at once, both ways round. The function pausing with the lease held
/// (`OTLP2PARQUET_FAULT_PAUSE_MS`, 10 s, so that a loaded machine still compacts here within it): a compactor in this process is `Busy` (naming the function
/// as the owner) and touches nothing; the function's run completes. A compactor in this process
/// held at its intent: the function answers `busy` and touches nothing; the held run completes.
#[test]
fn two_compactors_at_once_one_runs_the_other_is_busy_and_touches_nothing() {
    let mut rig = rig("spool-two", "", &[SPOOL]);
    let manual = Store::new(&rig);
    let sent = small_batch();
    spool_all(&rig, &sent);
    rig.restart("", &[SPOOL, (PAUSE_MS, "10000")]);
    let pending = rig.lambda.invoke_in_background(&scheduled_event());
    wait_for_object(&rig, "_compactor/intent");
    let held = disk(&rig);
    let report = manual.compact(&compact::Quiet);
    match &report.outcome {
        Outcome::Busy { owner, expires_ms } => {
            assert!(!owner.is_empty() && owner != "e2e-manual", "{report:?}");
            assert!(*expires_ms > now_ms(), "{report:?}");
        }
        Outcome::Done => panic!("ran beside the function: {report:?}"),
    }
    assert!(
        report.inputs == 0 && report.outputs.is_empty(),
        "{report:?}"
    );
    assert_eq!(disk(&rig), held, "the busy compactor touched the store");
    let invoked = rig.lambda.wait(pending);
    let reply = summary(&rig, invoked);
    assert_done(&reply, sent.len(), false, "the function's run");
    let (after, _) = assert_consumed(&rig, &sent, &BTreeSet::new(), "the function's run");

    // The other way round.
    let before = after.parquet_keys();
    rig.restart("", &[SPOOL]);
    spool_all(&rig, &sent);
    let (reached_tx, reached) = mpsc::channel();
    let (go, go_rx) = mpsc::channel();
    let hold = Hold {
        reached: reached_tx,
        go: std::sync::Mutex::new(go_rx),
    };
    let report = std::thread::scope(|scope| {
        // Moved in: should an assertion below fail, dropping it ends the held run.
        let go = go;
        let held_run = scope.spawn(|| manual.compact(&hold));
        reached.recv_timeout(Duration::from_secs(30)).unwrap();
        let held = disk(&rig);
        let reply = compact(&mut rig);
        assert_eq!(reply["outcome"], "busy", "{reply}");
        assert_eq!(as_u64(&reply, "inputs"), 0, "{reply}");
        assert_eq!(disk(&rig), held, "the busy function touched the store");
        go.send(()).unwrap();
        held_run.join().unwrap()
    });
    assert_eq!(report.outcome, Outcome::Done, "{report:?}");
    assert_eq!(report.inputs, sent.len(), "{report:?}");
    assert_consumed(&rig, &sent, &before, "the manual run");
}

/// Requests of the object-count report.
const REPORT_REQUESTS: usize = 1_000;

/// The figures for the issue: the same `REPORT_REQUESTS` small requests (logs, traces and
/// metrics in turn) in direct mode and in spool mode, one function each, against one S3 server.
/// Direct writes one object per partition per request; spool writes one object per request and
/// the compactor replaces them with one file per partition, so far fewer objects stay
/// (asserted) holding every acknowledged row (asserted). Prints the object counts, the
/// compactor's run time and the peak memory of the process that ran it.
#[test]
fn report_objects_direct_against_spool() {
    let names = ["log.json", "trace.json", "metrics_gauge.json"];
    let sent: Vec<Sent> = names.iter().map(|n| request(n, None)).collect();
    let mut expected = BTreeMap::new();
    for i in 0..REPORT_REQUESTS {
        merge(&mut expected, &records(names[i % names.len()]));
    }
    let mut rig = rig("spool-report", "direct/", &[]);
    let send_all = |rig: &Rig| {
        let started = Instant::now();
        for i in 0..REPORT_REQUESTS {
            let r = rig.send(&sent[i % sent.len()]);
            assert_eq!(r.status, 200, "request {i}: {}", r.text());
        }
        started.elapsed()
    };
    let direct_took = send_all(&rig);
    let direct = Store::new(&rig).keys();
    assert!(direct.iter().all(|k| k.ends_with(".parquet")), "{direct:?}");

    rig.restart("spool/", &[SPOOL]);
    let spool_took = send_all(&rig);
    let spooled = Store::new(&rig).keys();
    assert_eq!(spooled.len(), REPORT_REQUESTS);
    assert!(
        spooled.iter().all(|k| k.starts_with("spool/_spool/")),
        "Parquet at ingest"
    );
    // A fresh process for the run, so that its peak memory is the compactor's.
    rig.restart("spool/", &[SPOOL]);
    let idle_kib = rig.lambda.function_peak_rss_kib().unwrap();
    let reply = compact(&mut rig);
    let peak_kib = rig.lambda.function_peak_rss_kib().unwrap();
    assert_eq!(reply["outcome"], "done", "{reply}");
    assert_eq!(reply["more"], false, "{reply}");
    assert_eq!(as_u64(&reply, "inputs"), REPORT_REQUESTS as u64, "{reply}");
    let compacted = Bucket::read(&rig);
    assert_clean(&compacted, "after the report's run");
    assert_eq!(
        compacted.rows_per_table(),
        expected,
        "rows after compaction"
    );
    let (direct_objects, outputs) = (direct.len(), compacted.parquet().len());
    assert_eq!(as_u64(&reply, "outputs"), outputs as u64, "{reply}");
    println!(
        "report: {REPORT_REQUESTS} requests ({}), {} rows\n  \
         direct: {direct_objects} Parquet objects written and kept ({direct_took:.1?} to send)\n  \
         spool: {REPORT_REQUESTS} spool objects + {outputs} compacted files written, {outputs} \
         kept ({spool_took:.1?} to send)\n  \
         compactor: {} inputs -> {} outputs, {} rows, {} run(s) in {} ms; peak RSS {peak_kib} KiB \
         ({idle_kib} KiB before the run)",
        names.join(", "),
        expected.values().sum::<i64>(),
        reply["inputs"],
        reply["outputs"],
        reply["rows"],
        reply["runs"],
        reply["ms"],
    );
    assert!(
        outputs < direct_objects,
        "{outputs} compacted files, {direct_objects} direct objects"
    );
}
