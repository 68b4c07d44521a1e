//! Fault injection against the write-ahead log (docs/adr/0010-write-ahead-log.md): the server
//! under load from several client threads, each record carrying a unique id in its body, while
//! the process is SIGKILLed, the S3 server is down for 30 s, or the log's disk is full. Every
//! id answered 200 must be in the Parquet output exactly once, and no id twice.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arrow_array::{Array, StringArray};
use otlp2parquet_testkit::S3Fs;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::batching::metric;
use crate::util::Server;

/// Records per request.
const PER_REQUEST: usize = 50;

/// What the clients saw.
#[derive(Debug, Default)]
struct Tally {
    /// (thread, request number) of every request answered 200.
    acked: Vec<(usize, usize)>,
    /// Requests by status (0: no HTTP answer, e.g. the server was dead).
    statuses: BTreeMap<u16, usize>,
    /// 503 answers without a `Retry-After`.
    unavailable_without_retry_after: usize,
}

/// Client threads posting OTLP/JSON logs until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
    threads: Vec<JoinHandle<Tally>>,
}

/// The body of request `n` of `thread`: [`PER_REQUEST`] records with ids `tag-thread-n-i`.
fn body(tag: &str, thread: usize, n: usize) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let records: Vec<String> = (0..PER_REQUEST)
        .map(|i| {
            format!(
                r#"{{"timeUnixNano":"{now}","severityText":"INFO","body":{{"stringValue":"{tag}-{thread}-{n}-{i}"}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"durability"}}}}]}},"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        records.join(",")
    )
    .into_bytes()
}

impl Load {
    /// `threads` clients sending to the port in `port` (changed on restart) as fast as the
    /// server answers; a client pauses 20 ms after an answer other than 200.
    fn start(port: &Arc<AtomicU16>, threads: usize, tag: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicUsize::new(0));
        let threads = (0..threads)
            .map(|t| {
                let (stop, acked, port, tag) = (
                    Arc::clone(&stop),
                    Arc::clone(&acked),
                    Arc::clone(port),
                    tag.to_owned(),
                );
                std::thread::spawn(move || {
                    let mut tally = Tally::default();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let reply = otlp2parquet_testkit::http(
                            port.load(Ordering::Relaxed),
                            "POST",
                            "/v1/logs",
                            &[("Content-Type", "application/json")],
                            &body(&tag, t, n),
                        );
                        *tally.statuses.entry(reply.status).or_default() += 1;
                        match reply.status {
                            200 => {
                                tally.acked.push((t, n));
                                acked.fetch_add(1, Ordering::Relaxed);
                            }
                            503 if reply.header("retry-after").is_none() => {
                                tally.unavailable_without_retry_after += 1;
                            }
                            _ => {}
                        }
                        if reply.status != 200 {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        n += 1;
                    }
                    tally
                })
            })
            .collect();
        Load {
            stop,
            acked,
            threads,
        }
    }

    /// Requests answered 200 so far.
    fn acked(&self) -> usize {
        self.acked.load(Ordering::Relaxed)
    }

    fn finish(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Tally::default();
        for t in self.threads {
            let tally = t.join().unwrap();
            all.acked.extend(tally.acked);
            for (status, n) in tally.statuses {
                *all.statuses.entry(status).or_default() += n;
            }
            all.unavailable_without_retry_after += tally.unavailable_without_retry_after;
        }
        all
    }
}

/// How often each log body occurs in `files` (Parquet bytes, by name for messages).
fn body_counts(files: Vec<(String, Vec<u8>)>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for (name, bytes) in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .unwrap_or_else(|e| panic!("{name} is not Parquet: {e}"))
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let column = batch
                .column_by_name("Body")
                .unwrap_or_else(|| panic!("{name} has no Body column"));
            let bodies = column.as_any().downcast_ref::<StringArray>().unwrap();
            for i in 0..bodies.len() {
                *counts.entry(bodies.value(i).to_owned()).or_default() += 1;
            }
        }
    }
    counts
}

/// The Parquet files under `dir`, read.
fn parquet_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(dir, &mut paths);
    paths
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Every acknowledged id stored exactly once, and no id stored twice; returns the rows stored.
fn assert_exactly_once(tag: &str, tally: &Tally, counts: &HashMap<String, usize>) -> usize {
    let twice: Vec<(&String, &usize)> = counts.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        twice.is_empty(),
        "{tag}: ids stored more than once: {twice:?}"
    );
    let mut missing = Vec::new();
    for (t, n) in &tally.acked {
        for i in 0..PER_REQUEST {
            if !counts.contains_key(&format!("{tag}-{t}-{n}-{i}")) {
                missing.push(format!("{tag}-{t}-{n}-{i}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{tag}: {} acknowledged ids are not stored, e.g. {:?} (statuses {:?})",
        missing.len(),
        &missing[..missing.len().min(5)],
        tally.statuses
    );
    let stored = counts.len();
    assert!(
        stored >= tally.acked.len() * PER_REQUEST,
        "{tag}: stored {stored} < acknowledged"
    );
    stored
}

/// Only 200, 503 (with `Retry-After`) and, while the server is dead, no answer.
fn assert_statuses(tag: &str, tally: &Tally, allowed: &[u16]) {
    for status in tally.statuses.keys() {
        assert!(
            allowed.contains(status),
            "{tag}: unexpected status {status} ({:?})",
            tally.statuses
        );
    }
    assert_eq!(
        tally.unavailable_without_retry_after, 0,
        "{tag}: every 503 carries Retry-After"
    );
}

#[test]
fn kill_9_under_load_loses_and_duplicates_nothing_acknowledged_ten_times_in_a_row() {
    for round in 0..10 {
        let tag = format!("k{round}");
        let mut server = Server::start_with(
            &format!("kill9-{round}"),
            &[
                // Many flushes during the run, so that the kill lands between or inside them.
                ("OTLP2PARQUET_BATCH_MAX_ROWS", "2000"),
                ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "1"),
            ],
        );
        let port = Arc::new(AtomicU16::new(server.port));
        let load = Load::start(&port, 4, &tag);
        // A different moment in each round.
        std::thread::sleep(Duration::from_millis(1_200 + 170 * round));
        let before_kill = load.acked();
        server.kill9();
        std::thread::sleep(Duration::from_millis(200));
        server.restart();
        port.store(server.port, Ordering::Relaxed);
        let restarted = load.acked();
        let deadline = Instant::now() + Duration::from_secs(20);
        while load.acked() < restarted + 20 {
            assert!(
                Instant::now() < deadline,
                "{tag}: no traffic taken after the restart:\n{}",
                server.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let tally = load.finish();
        server.stop();
        assert!(
            before_kill > 20,
            "{tag}: only {before_kill} requests before the kill"
        );
        let log = std::fs::read_to_string(server.dir.join("server.log")).unwrap();
        assert!(
            log.contains("replaying the write-ahead log"),
            "{tag}: the restart replays the log:\n{}",
            server.log_tail()
        );
        assert_statuses(&tag, &tally, &[0, 200]);
        let counts = body_counts(parquet_files(&server.data_dir()));
        let stored = assert_exactly_once(&tag, &tally, &counts);
        assert!(
            crate::util::wal_segments(&server.data_dir().join("_wal")).is_empty(),
            "{tag}: the log is empty after a clean stop"
        );
        eprintln!(
            "{tag}: {} requests acknowledged ({before_kill} before SIGKILL), {stored} rows stored, statuses {:?}",
            tally.acked.len(),
            tally.statuses
        );
    }
}

#[test]
fn storage_down_30_s_under_load_refuses_with_503_then_stores_every_acknowledged_row_once() {
    let mut s3 = S3Fs::start(
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("outage-load-s3s"),
        "telemetry",
    );
    let mut env = s3.s3_env("load/");
    for (k, v) in [
        ("OTLP2PARQUET_BATCH_MAX_ROWS", "2000"),
        ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "1"),
        ("OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES", "1000000"),
    ] {
        env.push((k.to_owned(), v.to_owned()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut server = Server::start_args("outage-load", &["serve"], &env);
    let port = Arc::new(AtomicU16::new(server.port));
    let load = Load::start(&port, 4, "s");
    std::thread::sleep(Duration::from_secs(1));
    s3.kill();
    let at_kill = load.acked();
    std::thread::sleep(Duration::from_secs(30));
    let at_return = load.acked();
    s3.spawn();
    let deadline = Instant::now() + Duration::from_secs(60);
    while load.acked() < at_return + 50 {
        assert!(
            Instant::now() < deadline,
            "no traffic taken after storage returned:\n{}",
            server.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let tally = load.finish();
    let rejections = metric(&server, "otlp2parquet_overload_rejections_total").unwrap_or(0.0);
    server.stop();
    assert_statuses("s", &tally, &[200, 503]);
    let refused = tally.statuses.get(&503).copied().unwrap_or(0);
    assert!(
        refused > 0,
        "the memory bound is reached during 30 s down: {:?}",
        tally.statuses
    );
    assert!(rejections > 0.0, "overload rejections are counted");
    let counts = body_counts(s3.read_all());
    let stored = assert_exactly_once("s", &tally, &counts);
    eprintln!(
        "storage down 30 s: {} requests acknowledged ({at_kill} before, {} during the outage), {refused} refused with 503, {stored} rows stored",
        tally.acked.len(),
        at_return - at_kill
    );
}

/// A tmpfs mounted for one test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: PathBuf, size: &str) -> Tmpfs {
        let _ = Command::new("umount").arg(&path).status();
        std::fs::create_dir_all(&path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "mount -t tmpfs (needs root) failed: {status}"
        );
        Tmpfs(path)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_log_disk_answers_503_without_crashing_and_recovers_when_space_returns() {
    let disk = Tmpfs::mount(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("wal-disk"),
        "4m",
    );
    let wal = disk.0.join("wal");
    let wal_text = wal.display().to_string();
    let mut server = Server::start_with(
        "wal-disk-full",
        &[
            ("OTLP2PARQUET_BATCH_WAL_PATH", &wal_text),
            // Nothing is written (so nothing leaves the log) until the end.
            ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "600"),
        ],
    );
    // Leave about 1 MiB of the 4 MiB free.
    let filler = disk.0.join("filler");
    std::fs::write(&filler, vec![0u8; 3 << 20]).unwrap();
    let mut tally = Tally::default();
    let mut n = 0;
    let post = |tally: &mut Tally, n: &mut usize| {
        let reply = server.request(
            "POST",
            "/v1/logs",
            &[("Content-Type", "application/json")],
            &body("d", 0, *n),
        );
        *tally.statuses.entry(reply.0).or_default() += 1;
        if reply.0 == 200 {
            tally.acked.push((0, *n));
        }
        *n += 1;
        reply
    };
    // ~7 KB a request: the free MiB is gone within 200 requests.
    let mut full = None;
    for _ in 0..400 {
        let (status, reply) = post(&mut tally, &mut n);
        if status == 503 {
            full = Some(String::from_utf8_lossy(&reply).into_owned());
            break;
        }
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    }
    let full =
        full.unwrap_or_else(|| panic!("no 503 with the log's disk full:\n{}", server.log_tail()));
    assert!(
        full.contains("write-ahead log"),
        "the 503 names the log: {full}"
    );
    let reply = otlp2parquet_testkit::http(
        server.port,
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/json")],
        &body("d", 0, n),
    );
    n += 1;
    *tally.statuses.entry(reply.status).or_default() += 1;
    assert_eq!(reply.status, 503, "still full");
    assert!(
        reply.header("retry-after").is_some(),
        "503 with Retry-After"
    );
    assert_eq!(
        server.request("GET", "/health", &[], b"").0,
        200,
        "alive and well"
    );
    assert!(
        metric(&server, "otlp2parquet_wal_failures_total").is_some_and(|f| f >= 2.0),
        "log failures are counted"
    );
    // Space returns: requests are taken again.
    std::fs::remove_file(&filler).unwrap();
    for _ in 0..20 {
        let (status, reply) = post(&mut tally, &mut n);
        assert_eq!(
            status,
            200,
            "after space returned: {}",
            String::from_utf8_lossy(&reply)
        );
    }
    server.stop();
    let counts = body_counts(parquet_files(&server.data_dir()));
    let stored = assert_exactly_once("d", &tally, &counts);
    assert_eq!(
        stored,
        tally.acked.len() * PER_REQUEST,
        "refused requests are not stored"
    );
    assert!(
        crate::util::wal_segments(&wal).is_empty(),
        "the log is empty after a clean stop"
    );
    eprintln!("wal disk full: {:?}, {stored} rows stored", tally.statuses);
}

/// A second server on the same data directory (two pods on one volume, a restart that overlaps
/// the old process) must not replay and delete the log the first one still writes: it refuses
/// to start, naming the lock and the holder's pid, and the first keeps every acknowledged row.
#[test]
fn a_second_server_on_the_same_log_refuses_to_start_and_the_first_keeps_every_row() {
    let mut first = Server::start_with(
        "wal-lock-first",
        &[("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "600")],
    );
    let data = first.data_dir().display().to_string();
    let post = |server: &Server, n: usize| {
        let (status, reply) = server.request(
            "POST",
            "/v1/logs",
            &[("Content-Type", "application/json")],
            &body("lock", 0, n),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    };
    for n in 0..5 {
        post(&first, n);
    }
    // The second process, on free ports of its own: it must exit, and soon.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wal-lock-second");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut second = Command::new(env!("CARGO_BIN_EXE_otlp2parquet"))
        .args(["serve", "--output", &data])
        .env_clear()
        .env("NO_COLOR", "1")
        .env(
            "OTLP2PARQUET_LISTEN_ADDR",
            format!("127.0.0.1:{}", crate::util::free_port()),
        )
        .env(
            "OTLP2PARQUET_GRPC_LISTEN_ADDR",
            format!("127.0.0.1:{}", crate::util::free_port()),
        )
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("a second server on {data} kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = second.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!status.success(), "{text}");
    let lock = first.data_dir().join("_wal").join("LOCK");
    assert!(text.contains(&lock.display().to_string()), "{text}");
    assert!(text.contains(&format!("pid {}", first.pid())), "{text}");
    // The first server kept its log: it goes on answering, and every row lands once.
    for n in 5..10 {
        post(&first, n);
    }
    first.stop();
    assert_eq!(
        crate::batching::rows_under(&first, "logs/"),
        (10 * PER_REQUEST) as i64
    );
    // With the first one gone, the lock is free: a server starts on the same directory and has
    // nothing left to replay.
    let mut next = Server::start_args("wal-lock-next", &["serve", "--output", &data], &[]);
    next.stop();
    assert_eq!(
        crate::batching::rows_under(&first, "logs/"),
        (10 * PER_REQUEST) as i64
    );
}
