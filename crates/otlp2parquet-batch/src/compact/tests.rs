#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use otlp2parquet_proto::{ExportRequest, LogsRequest, MetricsRequest, TracesRequest};
use otlp2parquet_testkit::block_on;
use otlp2parquet_writer::{
    MemoryStorage, ObjectStore, Partition, Storage, convert_logs, convert_metrics, convert_traces,
    time_column,
};
use prost::Message;

use super::*;
use crate::spool::{encode_request, spool_key};

const NOW_MS: i64 = 1_900_000_000_000;

fn settings() -> Settings {
    Settings {
        prefix: "p/".to_owned(),
        run_bytes: u64::MAX,
        file_bytes: u64::MAX,
        file_rows: u64::MAX,
        lease_ms: 60_000,
        grace_ms: 600_000,
        parquet: ParquetOptions::default(),
        // One delete per request, so that a crash between two deletes can be tested.
        delete_batch: 1,
    }
}

struct Clock(Cell<i64>);

/// Output-key tokens, unique across every run of the test binary (as random ones are).
fn next_token() -> u128 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    u128::from(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// Panics (a crash, for the store) when the run reaches the step `at` names.
struct CrashAt(&'static str);

impl Observer for CrashAt {
    fn step(&self, step: Step<'_>) {
        let name = match step {
            Step::IntentStored { .. } => "intent",
            Step::OutputStored { index: 0, .. } => "output",
            Step::OutputStored { .. } => "later-output",
            Step::OutputsStored => "outputs",
            Step::InputDeleted { index: 0 } => "delete",
            Step::InputDeleted { .. } => "later-delete",
        };
        if name == self.0 {
            panic!("crash at {name}");
        }
    }
}

fn compact(
    store: &MemoryStorage,
    settings: &Settings,
    mode: Mode,
    now_ms: i64,
    owner: &str,
    observer: &dyn Observer,
) -> Result<Report, CompactError> {
    let clock = Clock(Cell::new(now_ms));
    let now = || clock.0.get();
    let token = next_token;
    let env = Env {
        now_ms: &now,
        token: &token,
        owner,
        observer,
    };
    block_on(run(store, settings, mode, &env))
}

fn logs(records: usize, services: usize, seed: u64) -> Vec<Partition> {
    let body = otlp2parquet_proto::testing::logs_request(records, services, seed).encode_to_vec();
    convert_logs(&LogsRequest::decode_protobuf(&body).unwrap(), 1).unwrap()
}

fn traces(spans: usize, seed: u64) -> Vec<Partition> {
    let body = otlp2parquet_proto::testing::traces_request(spans, 2, seed).encode_to_vec();
    convert_traces(&TracesRequest::decode_protobuf(&body).unwrap(), 1).unwrap()
}

fn metrics(points: usize, seed: u64) -> Vec<Partition> {
    let body = otlp2parquet_proto::testing::metrics_request(points, 1, seed).encode_to_vec();
    convert_metrics(&MetricsRequest::decode_protobuf(&body).unwrap(), 1).unwrap()
}

/// Spools `requests` as the Lambda does; returns the rows per table path.
fn spool(store: &MemoryStorage, requests: &[Vec<Partition>]) -> BTreeMap<String, usize> {
    let mut rows = BTreeMap::new();
    for (i, parts) in requests.iter().enumerate() {
        let signal = match parts[0].table {
            Table::Logs => otlp2parquet_common::Signal::Logs,
            Table::Traces => otlp2parquet_common::Signal::Traces,
            Table::Metrics(_) => otlp2parquet_common::Signal::Metrics,
        };
        let key = spool_key("p/", signal, 1_700_000_000_000_000_000, i as u128);
        let bytes = encode_request(parts, 1).unwrap();
        assert_eq!(
            block_on(store.put_new(&key, bytes)).unwrap(),
            PutNew::Created
        );
        for p in parts {
            *rows.entry(p.table.key_path().to_owned()).or_default() += p.num_rows();
        }
    }
    rows
}

fn keys_under(store: &MemoryStorage, prefix: &str) -> Vec<String> {
    store
        .objects()
        .into_keys()
        .filter(|k| k.starts_with(prefix))
        .collect()
}

/// Every Parquet file's table path, rows, and whether its rows are in time order.
fn files(store: &MemoryStorage) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (key, bytes) in store.objects() {
        if !key.ends_with(".parquet") {
            continue;
        }
        let table = Table::ALL
            .iter()
            .copied()
            .filter(|t| key.starts_with(&format!("p/{}/", t.key_path())))
            .max_by_key(|t| t.key_path().len())
            .unwrap();
        let batches = read_file(table, Bytes::from(bytes)).unwrap();
        let mut last = i64::MIN;
        let mut rows = 0;
        for b in &batches {
            let times = b
                .column_by_name(time_column(table))
                .unwrap()
                .as_primitive::<TimestampNanosecondType>();
            for &t in times.values().iter() {
                assert!(t >= last, "{key}: rows out of time order");
                last = t;
            }
            rows += b.num_rows();
        }
        out.push((key, table.key_path().to_owned(), rows));
    }
    out
}

fn rows_by_table(files: &[(String, String, usize)]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (_, table, rows) in files {
        *out.entry(table.clone()).or_default() += rows;
    }
    out
}

fn partition_dir(key: &str) -> &str {
    key.rsplit_once('/').unwrap().0
}

#[test]
fn a_run_merges_the_spool_into_one_ordered_file_per_partition() {
    let store = MemoryStorage::new();
    let sent = spool(
        &store,
        &[
            logs(40, 2, 1),
            logs(30, 2, 2),
            traces(25, 3),
            metrics(50, 4),
            logs(5, 1, 5),
        ],
    );
    let report = compact(&store, &settings(), Mode::Spool, NOW_MS, "a", &Quiet).unwrap();
    assert_eq!(report.outcome, Outcome::Done);
    assert_eq!(report.inputs, 5);
    assert!(!report.more && !report.recovered);
    let files = files(&store);
    assert_eq!(rows_by_table(&files), sent);
    assert_eq!(report.rows as usize, sent.values().sum::<usize>());
    // One file per (table, service, hour).
    let mut dirs: Vec<&str> = files.iter().map(|(k, _, _)| partition_dir(k)).collect();
    let n = dirs.len();
    dirs.dedup();
    assert_eq!(dirs.len(), n, "{files:?}");
    assert_eq!(report.outputs.len(), n);
    assert!(keys_under(&store, "p/_spool/").is_empty());
    assert!(
        keys_under(&store, "p/_compactor/").is_empty(),
        "lease and intent are gone"
    );
    // Nothing left: a second run does nothing.
    let again = compact(&store, &settings(), Mode::Spool, NOW_MS, "a", &Quiet).unwrap();
    assert_eq!((again.inputs, again.outputs.len()), (0, 0));
}

#[test]
fn a_crash_anywhere_leaves_every_row_stored_once_after_the_next_run() {
    for at in [
        "intent",
        "output",
        "later-output",
        "outputs",
        "delete",
        "later-delete",
    ] {
        let store = MemoryStorage::new();
        let sent = spool(&store, &[logs(40, 3, 1), logs(30, 3, 2), traces(20, 3)]);
        let crashed = catch_unwind(AssertUnwindSafe(|| {
            compact(&store, &settings(), Mode::Spool, NOW_MS, "a", &CrashAt(at))
        }));
        assert!(crashed.is_err(), "{at}: the run was to crash");
        assert!(
            block_on(store.get("p/_compactor/intent"))
                .unwrap()
                .is_some(),
            "{at}"
        );
        // The lease of the dead run holds off another compactor until it expires …
        let busy = compact(&store, &settings(), Mode::Spool, NOW_MS + 1, "b", &Quiet).unwrap();
        assert!(
            matches!(busy.outcome, Outcome::Busy { ref owner, .. } if owner == "a"),
            "{at}"
        );
        // … and then the next one finishes the interrupted run.
        let later = NOW_MS + 61_000;
        let report = compact(&store, &settings(), Mode::Spool, later, "b", &Quiet).unwrap();
        assert!(report.recovered, "{at}");
        assert_eq!(
            rows_by_table(&files(&store)),
            sent,
            "{at}: every row exactly once"
        );
        assert!(keys_under(&store, "p/_spool/").is_empty(), "{at}");
        assert!(keys_under(&store, "p/_compactor/").is_empty(), "{at}");
    }
}

#[test]
fn a_held_lease_keeps_a_second_compactor_out_and_an_expired_one_is_taken_over() {
    let store = MemoryStorage::new();
    spool(&store, &[logs(10, 1, 1)]);
    let lease = lease_text("other", NOW_MS + 1_000);
    block_on(store.put("p/_compactor/lease", lease.clone())).unwrap();
    let busy = compact(&store, &settings(), Mode::Spool, NOW_MS, "a", &Quiet).unwrap();
    assert_eq!(
        busy.outcome,
        Outcome::Busy {
            owner: "other".to_owned(),
            expires_ms: NOW_MS + 1_000
        }
    );
    assert_eq!(keys_under(&store, "p/_spool/").len(), 1, "nothing touched");
    assert_eq!(store.objects()["p/_compactor/lease"], lease);
    let done = compact(
        &store,
        &settings(),
        Mode::Spool,
        NOW_MS + 1_001,
        "a",
        &Quiet,
    )
    .unwrap();
    assert_eq!((done.outcome, done.inputs), (Outcome::Done, 1));
    assert!(keys_under(&store, "p/_compactor/").is_empty());
}

#[test]
fn a_lost_lease_stops_the_run() {
    struct Steal<'a>(&'a MemoryStorage);
    impl Observer for Steal<'_> {
        fn step(&self, step: Step<'_>) {
            if let Step::IntentStored { .. } = step {
                block_on(
                    self.0
                        .put("p/_compactor/lease", lease_text("thief", i64::MAX)),
                )
                .unwrap();
            }
        }
    }
    let store = MemoryStorage::new();
    spool(&store, &[logs(10, 1, 1), logs(10, 1, 2)]);
    let mut s = settings();
    s.lease_ms = 0; // renew before every output
    let err = compact(&store, &s, Mode::Spool, NOW_MS, "a", &Steal(&store)).unwrap_err();
    assert!(
        matches!(err, CompactError::LeaseLost { ref owner } if owner == "thief"),
        "{err}"
    );
    assert_eq!(keys_under(&store, "p/_spool/").len(), 2, "inputs kept");
    assert_eq!(
        store.objects()["p/_compactor/lease"],
        lease_text("thief", i64::MAX)
    );
}

#[test]
fn a_run_reads_at_most_its_bound_and_leaves_the_rest() {
    let store = MemoryStorage::new();
    let requests: Vec<Vec<Partition>> = (0..6).map(|s| logs(50, 1, s)).collect();
    let sent = spool(&store, &requests);
    let one = store.objects().values().map(Vec::len).max().unwrap() as u64;
    let mut s = settings();
    s.run_bytes = one * 2;
    let mut runs = 0;
    loop {
        let report = compact(&store, &s, Mode::Spool, NOW_MS, "a", &Quiet).unwrap();
        runs += 1;
        assert!(report.input_bytes <= s.run_bytes, "{report:?}");
        assert!(report.inputs >= 1);
        if !report.more {
            break;
        }
    }
    assert_eq!(runs, 3);
    assert_eq!(rows_by_table(&files(&store)), sent);
    assert!(keys_under(&store, "p/_spool/").is_empty());
}

#[test]
fn outputs_split_at_the_file_bound() {
    let store = MemoryStorage::new();
    let sent = spool(&store, &[logs(40, 1, 1), logs(40, 1, 2), logs(40, 1, 3)]);
    let mut s = settings();
    s.file_rows = 80;
    let report = compact(&store, &s, Mode::Spool, NOW_MS, "a", &Quiet).unwrap();
    let rows: Vec<u64> = report.outputs.iter().map(|w| w.rows).collect();
    assert_eq!(rows, vec![80, 40]);
    assert_eq!(rows_by_table(&files(&store)), sent);
}

#[test]
fn an_unreadable_spool_object_is_quarantined_not_lost() {
    let store = MemoryStorage::new();
    let sent = spool(&store, &[logs(10, 1, 1)]);
    block_on(store.put("p/_spool/logs/2024-01-01T00/bad", b"OTSQ garbage".to_vec())).unwrap();
    let report = compact(&store, &settings(), Mode::Spool, NOW_MS, "a", &Quiet).unwrap();
    assert_eq!((report.quarantined, report.inputs), (1, 1));
    assert_eq!(
        store.objects()["p/_compactor/quarantine/logs/2024-01-01T00/bad"],
        b"OTSQ garbage"
    );
    assert_eq!(rows_by_table(&files(&store)), sent);
}

/// Writes each request's partitions as the server would, one file each, named as if their rows
/// were `shift_hours` later.
fn write_files(store: &MemoryStorage, requests: &[Vec<Partition>], shift_hours: i64) {
    for parts in requests {
        for p in parts {
            let at = p.min_time_ns + shift_hours * 3_600_000_000_000;
            let key = object_key("p/", p.table, &p.service, at, next_token());
            let file = encode_merged(
                p.table,
                std::slice::from_ref(&p.batch),
                &ParquetOptions::default(),
            )
            .unwrap();
            block_on(store.put(&key, file)).unwrap();
        }
    }
}

#[test]
fn sealed_hours_are_merged_and_open_ones_left_alone() {
    let store = MemoryStorage::new();
    let old: Vec<Vec<Partition>> = (0..4).map(|s| logs(30, 2, s)).collect();
    write_files(&store, &old, 0);
    // Files of an hour five hours later, which has only just ended.
    write_files(&store, &[logs(10, 1, 8), logs(10, 1, 9), traces(10, 9)], 5);
    let before = files(&store);
    let hour_of = |k: &str| parse_data_key("p/", k).unwrap().hour;
    let newest = before.iter().map(|(k, _, _)| hour_of(k)).max().unwrap();
    // The newest hour ended 1 s ago: within the grace period, so not sealed yet.
    let now = (newest + 1) * MS_PER_HOUR + 1_000;
    let report = compact(&store, &settings(), Mode::Sealed, now, "a", &Quiet).unwrap();
    let after = files(&store);
    assert_eq!(rows_by_table(&after), rows_by_table(&before));
    let sealed = |k: &str| hour_of(k) < newest;
    let dirs = |fs: &[(String, String, usize)], pred: &dyn Fn(&str) -> bool| {
        let mut d: Vec<String> = fs
            .iter()
            .filter(|(k, _, _)| pred(k))
            .map(|(k, _, _)| partition_dir(k).to_owned())
            .collect();
        d.sort();
        d
    };
    let mut sealed_dirs = dirs(&before, &sealed);
    sealed_dirs.dedup();
    assert_eq!(
        dirs(&after, &sealed),
        sealed_dirs,
        "one file per sealed partition"
    );
    assert_eq!(
        dirs(&after, &|k| !sealed(k)),
        dirs(&before, &|k| !sealed(k)),
        "open hours untouched"
    );
    // Partitions that had one file are not rewritten.
    assert!(report.outputs.iter().all(|w| w.inputs >= 2), "{report:?}");
    assert!(!report.outputs.is_empty());
    let again = compact(&store, &settings(), Mode::Sealed, now, "a", &Quiet).unwrap();
    assert!(again.outputs.is_empty(), "{again:?}");
}

#[test]
fn a_sealed_merge_interrupted_is_finished_once() {
    for at in ["output", "delete"] {
        let store = MemoryStorage::new();
        let old: Vec<Vec<Partition>> = (0..3).map(|s| logs(20, 1, s)).collect();
        write_files(&store, &old, 0);
        let before = rows_by_table(&files(&store));
        let crashed = catch_unwind(AssertUnwindSafe(|| {
            compact(&store, &settings(), Mode::Sealed, NOW_MS, "a", &CrashAt(at))
        }));
        assert!(crashed.is_err());
        let report = compact(
            &store,
            &settings(),
            Mode::Sealed,
            NOW_MS + 61_000,
            "b",
            &Quiet,
        )
        .unwrap();
        assert!(report.recovered, "{at}");
        assert_eq!(rows_by_table(&files(&store)), before, "{at}");
    }
}

#[test]
fn intents_round_trip_and_garbage_is_refused() {
    let intent = Intent {
        mode: Mode::Spool,
        inputs: vec!["p/_spool/logs/a".to_owned(), "p/_spool/logs/b".to_owned()],
        outputs: vec![Output {
            table: Table::Metrics(otlp2parquet_common::MetricKind::Sum),
            service: "svc.a-b".to_owned(),
            hour: -3,
            key: "p/metrics/sum/x.parquet".to_owned(),
            inputs: vec![0, 1],
        }],
    };
    assert_eq!(
        Intent::parse(intent.render().as_bytes()),
        Ok(intent.clone())
    );
    let text = intent.render();
    assert!(Intent::parse(b"\xff").is_err());
    assert!(Intent::parse(text.replace("0,1", "0,2").as_bytes()).is_err());
    assert!(Intent::parse(text.replace("metrics/sum", "nope").as_bytes()).is_err());
    assert!(Intent::parse(&text.as_bytes()[..text.len() - 20]).is_err());
    assert!(Intent::parse(b"something else\n").is_err());
}

#[test]
fn data_keys_parse_into_their_partition() {
    let key = object_key("p/", Table::Logs, "api", 1_705_329_000_000_000_000, 7);
    let f = parse_data_key("p/", &key).unwrap();
    assert_eq!(
        (f.table, f.service.as_str(), f.hour),
        (Table::Logs, "api", 473_702)
    );
    let m = object_key(
        "p/",
        Table::Metrics(otlp2parquet_common::MetricKind::Histogram),
        "api",
        0,
        7,
    );
    assert_eq!(
        parse_data_key("p/", &m).unwrap().table,
        Table::Metrics(otlp2parquet_common::MetricKind::Histogram)
    );
    assert!(parse_data_key("p/", "p/logs/api/x.parquet").is_none());
    assert!(parse_data_key("p/", "p/_spool/logs/2024/x").is_none());
    assert!(parse_data_key("q/", &key).is_none());
}

#[test]
fn a_drain_runs_until_nothing_is_left_or_it_is_told_to_stop() {
    let store = MemoryStorage::new();
    let sent = spool(&store, &(0..6).map(|s| logs(50, 1, s)).collect::<Vec<_>>());
    let one = store.objects().values().map(Vec::len).max().unwrap() as u64;
    let mut s = settings();
    s.run_bytes = one * 2;
    let now = || NOW_MS;
    let env = Env {
        now_ms: &now,
        token: &next_token,
        owner: "a",
        observer: &Quiet,
    };
    // Told to stop after the first run: input is left.
    let first = block_on(drain(&store, &s, Mode::Spool, &env, &|| false));
    assert!(first.error.is_none());
    assert_eq!(
        (first.totals.runs, first.totals.inputs, first.totals.more),
        (1, 2, true)
    );
    let rest = block_on(drain(&store, &s, Mode::Spool, &env, &|| true));
    assert_eq!(
        (rest.totals.runs, rest.totals.inputs, rest.totals.more),
        (2, 4, false)
    );
    assert_eq!(rows_by_table(&files(&store)), sent);
    // A held lease stops a drain before any work.
    block_on(store.put("p/_compactor/lease", lease_text("other", NOW_MS + 1))).unwrap();
    let busy = block_on(drain(&store, &s, Mode::Spool, &env, &|| true));
    assert_eq!(busy.totals.busy, Some(("other".to_owned(), NOW_MS + 1)));
    assert_eq!(busy.totals.runs, 0);
}
