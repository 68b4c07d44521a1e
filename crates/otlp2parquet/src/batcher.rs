//! The server's batcher: the runtime around the platform-neutral batch core
//! (`otlp2parquet_batch`, which holds the buffers per (table, service, hour) and decides when
//! each is due). Here live what needs tokio: the age timer (so quiet buffers flush without
//! further traffic), flush tasks with bounded encoding concurrency, write retries, the
//! shutdown flush, and the write-ahead log's hooks.
//!
//! Memory is bounded: buffered rows, files being encoded and files awaiting a retry all count
//! against `batch.max_buffered_bytes`; a request that would pass it is refused (503 +
//! `Retry-After`) rather than queued. A write that fails is retried with backoff for as long as
//! the process lives, and its rows stay counted as buffered until it succeeds.
//! docs/adr/0006-server-batching.md explains the choices.
//!
//! With a write-ahead log ([`otlp2parquet_wal`]), a request is acknowledged only once it is synced
//! to the log, and each file's intent is logged before the file is written; each buffer
//! remembers the log positions of its rows so that their segments can go once the file is
//! stored. docs/adr/0010-write-ahead-log.md explains that part.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::RecordBatch;
use otlp2parquet_batch::{Buffer, Buffers, FlushPlan, Limits, encode};
use otlp2parquet_common::config::Config;
use otlp2parquet_handlers::{Error, ErrorKind, Failure, KeyTokens, Stored, convert};
use otlp2parquet_writer::{ParquetOptions, Partition, Storage, StorageErrorKind};
use tokio::sync::{Notify, Semaphore};

pub(crate) use otlp2parquet_batch::BufferKey;

use crate::clock::{monotonic, now_ns};
use crate::metrics::Metrics;
use crate::store::Store;
use otlp2parquet_wal::{Entry, Intent, Pending, PendingFile, Position, Wal};

/// First wait before retrying a failed write; doubles up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);
/// Longest wait between retries of a failed write.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Rows and memory a request has been granted.
struct Reserved {
    rows: usize,
    bytes: usize,
    sizes: Vec<usize>,
}

/// Takes back an entry sent to the log but refused: a cancel record, then its reference.
async fn withdraw(wal: &Wal, pending: Pending) {
    let Ok(at) = pending.wait().await else {
        return;
    };
    if let Err(e) = wal.cancel(at).await {
        tracing::warn!(seq = at.seq, error = %e, "cannot log that a request was refused; a replay before its segment goes would store it");
    }
    wal.release(vec![at.segment]);
}

/// The 503 for a request that finds the buffers full.
fn overloaded(held: u64, bound: u64) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!(
            "the server holds {held} bytes of unwritten data, the most \
             batch.max_buffered_bytes ({bound}) allows; retry later"
        ),
    )
}

/// Buffers, flush tasks and their accounting.
pub struct Batcher {
    buffers: Mutex<Buffers<Position>>,
    limits: Limits,
    opts: ParquetOptions,
    prefix: String,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    tokens: Arc<KeyTokens>,
    /// Encodes run on blocking threads, at most one per core, so that a burst of flushes does
    /// not starve request handling.
    encoders: Semaphore,
    /// Flush tasks not finished yet (encoding, writing or waiting to retry).
    in_flight: AtomicUsize,
    idle: Notify,
    wal: Option<Arc<Wal>>,
}

impl Batcher {
    /// A batcher writing to `store`.
    pub fn new(
        config: &Config,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
        tokens: Arc<KeyTokens>,
        wal: Option<Arc<Wal>>,
    ) -> Arc<Batcher> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let limits = Limits::from_config(config);
        Arc::new(Batcher {
            buffers: Mutex::new(Buffers::new(limits)),
            limits,
            opts: otlp2parquet_handlers::parquet_options(config),
            prefix: config.storage.prefix.clone(),
            store,
            metrics,
            tokens,
            encoders: Semaphore::new(cores),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            wal,
        })
    }

    /// Whether a request may be taken at all: `Err` (503) when buffered memory has already
    /// reached `max_buffered_bytes`. [`Batcher::submit`] checks the bound again with the
    /// request's real size.
    pub fn has_room(&self) -> Result<(), Error> {
        let held = self.metrics.buffered_bytes.load(Ordering::Acquire);
        let bound = self.limits.max_buffered_bytes as u64;
        if held >= bound {
            self.metrics
                .overload_rejections
                .fetch_add(1, Ordering::Relaxed);
            return Err(overloaded(held, bound));
        }
        Ok(())
    }

    /// Buffers the partitions of one request (memory durability). Fails (503) when the memory
    /// bound is reached; then nothing of the request is kept.
    pub fn submit(self: &Arc<Self>, partitions: Vec<Partition>) -> Result<(), Error> {
        let reserved = self.reserve(&partitions, true)?;
        self.insert(partitions, reserved.sizes, None);
        Ok(())
    }

    /// Whether requests go through the write-ahead log ([`Batcher::ingest_logged`]).
    pub fn is_logged(&self) -> bool {
        self.wal.is_some()
    }

    /// Takes one request with the write-ahead log: its entry is sent to the log at once and
    /// converted while the log syncs; its rows are buffered, and the answer is 200, only once
    /// both are done. A request refused after it was sent (400, 503) gets a cancel record, so
    /// replay skips it. Runs in a task of its own, so that a client hanging up can neither
    /// leave an entry logged but not buffered nor leak a reservation.
    pub async fn ingest_logged(self: &Arc<Self>, entry: Entry) -> Result<Stored, Failure> {
        let Some(wal) = self.wal.clone() else {
            return Err(Failure {
                format: entry.request().response_format(),
                error: Error::new(ErrorKind::Internal, "no write-ahead log"),
            });
        };
        let guess = entry.request().response_format();
        let this = Arc::clone(self);
        let task = tokio::spawn(async move { this.ingest_task(&wal, &entry).await });
        task.await.unwrap_or_else(|e| {
            Err(Failure {
                format: guess,
                error: Error::new(ErrorKind::Internal, format!("the request task failed: {e}")),
            })
        })
    }

    async fn ingest_task(
        self: &Arc<Self>,
        wal: &Arc<Wal>,
        entry: &Entry,
    ) -> Result<Stored, Failure> {
        // One reference holds the entry's segment until its rows are in their buffers.
        let pending = wal.send_entry(entry, 1);
        let converted = match convert(&entry.request(), entry.limit()) {
            Ok(c) => c,
            Err(f) => {
                // Answered at once; replay would refuse the entry again anyway.
                let wal = Arc::clone(wal);
                tokio::spawn(async move { withdraw(&wal, pending).await });
                return Err(f);
            }
        };
        let (format, records, partitions) =
            (converted.format, converted.records, converted.partitions);
        if partitions.is_empty() {
            let wal = Arc::clone(wal);
            tokio::spawn(async move { withdraw(&wal, pending).await });
            return Ok(Stored { format, records });
        }
        let reserved = match self.reserve(&partitions, true) {
            Ok(r) => r,
            Err(error) => {
                // A 503 must not be stored by a replay (the client will send it again).
                withdraw(wal, pending).await;
                return Err(Failure { format, error });
            }
        };
        let at = match pending.wait().await {
            Ok(at) => at,
            Err(e) => {
                self.unreserve(reserved.rows, reserved.bytes);
                self.metrics.wal_failures.fetch_add(1, Ordering::Relaxed);
                let why = if e.kind() == std::io::ErrorKind::StorageFull {
                    "its disk is full"
                } else {
                    "it could not be written"
                };
                let error = Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "the write-ahead log did not take the request ({why}: {e}); retry later"
                    ),
                );
                return Err(Failure { format, error });
            }
        };
        // The partitions' references before the partitions: a flush may release them at once.
        wal.retain(at.segment, partitions.len());
        self.insert(partitions, reserved.sizes, Some(at));
        wal.release(vec![at.segment]);
        Ok(Stored { format, records })
    }

    /// Counts a request's rows and memory as buffered; with `bounded`, refuses (503) when that
    /// would pass `max_buffered_bytes`.
    fn reserve(&self, partitions: &[Partition], bounded: bool) -> Result<Reserved, Error> {
        let rows: usize = partitions.iter().map(Partition::num_rows).sum();
        // Walking an array tree for its size is not free: once per partition.
        let sizes: Vec<usize> = partitions
            .iter()
            .map(|p| p.batch.get_array_memory_size())
            .collect();
        let bytes: usize = sizes.iter().sum();
        let held = self
            .metrics
            .buffered_bytes
            .fetch_add(bytes as u64, Ordering::AcqRel);
        let bound = self.limits.max_buffered_bytes as u64;
        // An empty server always takes a request, however large (it is already bounded by
        // max_payload_bytes); otherwise the bound holds.
        if bounded && held > 0 && held.saturating_add(bytes as u64) > bound {
            self.metrics
                .buffered_bytes
                .fetch_sub(bytes as u64, Ordering::AcqRel);
            self.metrics
                .overload_rejections
                .fetch_add(1, Ordering::Relaxed);
            return Err(overloaded(held, bound));
        }
        self.metrics
            .buffered_rows
            .fetch_add(rows as u64, Ordering::Relaxed);
        Ok(Reserved { rows, bytes, sizes })
    }

    fn unreserve(&self, rows: usize, bytes: usize) {
        self.forget(rows as u64, bytes as u64);
    }

    /// Adds reserved partitions to their buffers and starts the flushes that became due.
    fn insert(
        self: &Arc<Self>,
        partitions: Vec<Partition>,
        sizes: Vec<usize>,
        at: Option<Position>,
    ) {
        let due = self
            .lock_buffers()
            .insert(partitions, sizes, at, monotonic());
        for (key, buffer) in due {
            self.spawn_flush(key, buffer, None);
        }
    }

    /// Takes back what the log held at startup: rows of no file yet go to their buffers (past
    /// the memory bound if need be: they were acknowledged), half-written files are written
    /// again under their keys; then every buffer is flushed, before any new request arrives.
    pub(crate) fn restore(
        self: &Arc<Self>,
        loose: Vec<(Partition, Position)>,
        files: Vec<PendingFile>,
    ) {
        for file in files {
            let rows: usize = file.batches.iter().map(RecordBatch::num_rows).sum();
            let bytes: usize = file
                .batches
                .iter()
                .map(RecordBatch::get_array_memory_size)
                .sum();
            self.metrics
                .buffered_bytes
                .fetch_add(bytes as u64, Ordering::AcqRel);
            self.metrics
                .buffered_rows
                .fetch_add(rows as u64, Ordering::Relaxed);
            let key = BufferKey {
                table: file.intent.table,
                service: file.intent.service.clone(),
                hour: file.intent.hour,
            };
            let buffer = Buffer::restored(
                file.batches,
                bytes,
                file.intent.hour,
                file.units,
                monotonic(),
            );
            self.spawn_flush(key, buffer, Some((file.intent.object, file.at)));
        }
        for (p, at) in loose {
            let partitions = vec![p];
            if let Ok(reserved) = self.reserve(&partitions, false) {
                self.insert(partitions, reserved.sizes, Some(at));
            }
        }
        let all = self.lock_buffers().drain();
        for (key, buffer) in all {
            self.spawn_flush(key, buffer, None);
        }
    }

    /// Flushes every buffer older than `max_age`.
    pub fn flush_aged(self: &Arc<Self>) {
        let old = self.lock_buffers().take_aged(monotonic());
        for (key, buffer) in old {
            self.spawn_flush(key, buffer, None);
        }
    }

    /// Runs [`Batcher::flush_aged`] on a timer until the process ends.
    pub fn spawn_age_timer(self: &Arc<Self>) {
        let tick =
            (self.limits.max_age / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                this.flush_aged();
            }
        });
    }

    /// Flushes every buffer and waits up to `deadline` for all writes (retries included) to
    /// finish. Returns the rows still unwritten when it gave up (0 when everything is stored).
    pub async fn shutdown(self: &Arc<Self>, deadline: Duration) -> u64 {
        let all = self.lock_buffers().drain();
        for (key, buffer) in all {
            self.spawn_flush(key, buffer, None);
        }
        let wait = async {
            loop {
                let idle = self.idle.notified();
                if self.in_flight.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        if tokio::time::timeout(deadline, wait).await.is_err() {
            return self.metrics.buffered_rows.load(Ordering::Relaxed);
        }
        0
    }

    /// Waits until the write-ahead log has handled every release (segments of written files
    /// deleted); at once without a log.
    pub async fn wal_barrier(&self) {
        if let Some(wal) = &self.wal {
            wal.barrier().await;
        }
    }

    fn lock_buffers(&self) -> std::sync::MutexGuard<'_, Buffers<Position>> {
        // A panic while holding the lock cannot happen (no code under it panics), and if it
        // did the buffers are still consistent, so a poisoned lock is used as is.
        self.buffers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts writing one buffer; `preset` is the object key and intent of a file replayed
    /// from the log.
    fn spawn_flush(
        self: &Arc<Self>,
        key: BufferKey,
        buffer: Buffer<Position>,
        preset: Option<(String, Position)>,
    ) {
        let (plan, replayed_intent) = match preset {
            Some((object, at)) => (FlushPlan::with_object(object, key, buffer), Some(at)),
            None => {
                let token = self.tokens.next(now_ns());
                (FlushPlan::new(&self.prefix, key, buffer, token), None)
            }
        };
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let this = Arc::clone(self);
        tokio::spawn(async move {
            this.flush(plan, replayed_intent).await;
            if this.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
                this.idle.notify_waiters();
            }
        });
    }

    /// Encodes one buffer and writes it, retrying until the write succeeds.
    async fn flush(&self, plan: FlushPlan<Position>, replayed_intent: Option<Position>) {
        let FlushPlan {
            key,
            object,
            buffer,
        } = plan;
        let (rows, arrow_bytes) = (buffer.rows as u64, buffer.bytes as u64);
        let units = buffer.units;
        let encoded = {
            let _permit = self.encoders.acquire().await;
            let (table, opts) = (key.table, self.opts);
            tokio::task::spawn_blocking(move || encode(table, &buffer.batches, &opts)).await
        };
        let file = match encoded {
            Ok(Ok(file)) => file,
            Ok(Err(e)) => {
                self.forget(rows, arrow_bytes);
                tracing::error!(key = %object, rows, error = %e, logged = !units.is_empty(), "encoding a merged file failed (a bug); logged rows stay in the write-ahead log until restart, others are lost");
                return;
            }
            Err(e) => {
                self.forget(rows, arrow_bytes);
                tracing::error!(key = %object, rows, error = %e, logged = !units.is_empty(), "the encoding task failed (a bug); logged rows stay in the write-ahead log until restart, others are lost");
                return;
            }
        };
        // The intent goes to the log before the first attempt: a crash after the file is
        // stored must lead replay to this key, not to a second file with the same rows.
        let intent_at = match (&self.wal, replayed_intent) {
            (_, Some(at)) => Some(at),
            (Some(wal), None) if !units.is_empty() => {
                Some(self.log_intent(wal, &key, &object, &units).await)
            }
            _ => None,
        };
        let size = file.len() as u64;
        // The Arrow buffers are gone; what stays held until the write succeeds is the file.
        self.metrics
            .buffered_bytes
            .fetch_add(size, Ordering::AcqRel);
        self.metrics
            .buffered_bytes
            .fetch_sub(arrow_bytes, Ordering::AcqRel);
        let mut delay = FIRST_RETRY_DELAY;
        loop {
            match self.store.put(&object, file.clone()).await {
                Ok(()) => break,
                Err(e) => {
                    self.metrics.flush_failures.fetch_add(1, Ordering::Relaxed);
                    let retry_in_ms = delay.as_millis() as u64;
                    match e.kind {
                        StorageErrorKind::Temporary => {
                            tracing::warn!(key = %object, rows, error = %e, retry_in_ms, "writing a file failed; its rows stay buffered and the write is retried");
                        }
                        StorageErrorKind::Permanent => {
                            tracing::error!(key = %object, rows, error = %e, retry_in_ms, "storage refused a file: check the storage settings (bucket, credentials); its rows stay buffered and the write is retried");
                        }
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
            }
        }
        self.metrics.flushes.fetch_add(1, Ordering::Relaxed);
        self.metrics.rows_written.fetch_add(rows, Ordering::Relaxed);
        self.metrics
            .bytes_written
            .fetch_add(size, Ordering::Relaxed);
        self.forget(rows, size);
        if let Some(wal) = &self.wal {
            let mut segments: Vec<u64> = units.iter().map(|u| u.segment).collect();
            segments.extend(intent_at.map(|at| at.segment));
            wal.release(segments);
        }
        tracing::debug!(key = %object, rows, bytes = size, "file written");
    }

    /// Logs the intent to write `object`, retrying (rows stay buffered) until the log takes it.
    async fn log_intent(
        &self,
        wal: &Wal,
        key: &BufferKey,
        object: &str,
        units: &[Position],
    ) -> Position {
        // A request's partitions of one buffer are listed once.
        let mut seen = std::collections::HashSet::with_capacity(units.len());
        let seqs: Vec<u64> = units
            .iter()
            .map(|u| u.seq)
            .filter(|seq| seen.insert(*seq))
            .collect();
        let intent = Intent {
            object: object.to_owned(),
            table: key.table,
            service: key.service.clone(),
            hour: key.hour,
            seqs,
        };
        let mut delay = FIRST_RETRY_DELAY;
        loop {
            match wal.append_intent(&intent).await {
                Ok(at) => return at,
                Err(e) => {
                    self.metrics.wal_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(key = %object, error = %e, retry_in_ms = delay.as_millis() as u64, "logging a file's intent failed; its rows stay buffered and it is retried");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
            }
        }
    }

    /// Takes rows and bytes off the buffered gauges.
    fn forget(&self, rows: u64, bytes: u64) {
        self.metrics
            .buffered_rows
            .fetch_sub(rows, Ordering::Relaxed);
        self.metrics
            .buffered_bytes
            .fetch_sub(bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use otlp2parquet_common::config::Config;
    use otlp2parquet_common::platform::Platform;
    use otlp2parquet_proto::{ExportRequest, LogsRequest};
    use otlp2parquet_writer::{MemoryStorage, Partition, StorageErrorKind, convert_logs};
    use prost::Message;

    use super::*;

    /// The log partitions of a generated request: `records` records over `services` services.
    fn logs(records: usize, services: usize, seed: u64) -> Vec<Partition> {
        let body =
            otlp2parquet_proto::testing::logs_request(records, services, seed).encode_to_vec();
        let req = LogsRequest::decode_protobuf(&body).unwrap();
        convert_logs(&req, 1).unwrap()
    }

    struct Harness {
        batcher: Arc<Batcher>,
        store: Arc<Store>,
        memory: Arc<MemoryStorage>,
        metrics: Arc<Metrics>,
    }

    fn memory_store() -> (Arc<Store>, Arc<MemoryStorage>) {
        let memory = Arc::new(MemoryStorage::new());
        let store = Store::new(crate::store::memory::Shared(Arc::clone(&memory)));
        (Arc::new(store), memory)
    }

    impl Harness {
        fn new(tune: impl FnOnce(&mut Config)) -> Harness {
            let mut config = Config::defaults(Platform::Server);
            tune(&mut config);
            let (store, memory) = memory_store();
            let metrics = Arc::new(Metrics::default());
            let batcher = Batcher::new(
                &config,
                Arc::clone(&store),
                Arc::clone(&metrics),
                Arc::new(KeyTokens::default()),
                None,
            );
            Harness {
                batcher,
                store,
                memory,
                metrics,
            }
        }

        /// A batcher with a write-ahead log in `dir`, replaying what is there first, writing to
        /// `store` (a new in-memory store if `None`).
        fn logged(
            dir: &std::path::Path,
            max_rows: usize,
            store: Option<(Arc<Store>, Arc<MemoryStorage>)>,
        ) -> Harness {
            let mut config = Config::defaults(Platform::Server);
            config.batch.max_rows = max_rows;
            let (store, memory) = store.unwrap_or_else(memory_store);
            let metrics = Arc::new(Metrics::default());
            let replay = otlp2parquet_wal::replay(dir).unwrap();
            let wal = Wal::start(dir, replay.resume, otlp2parquet_wal::SEGMENT_BYTES).unwrap();
            let batcher = Batcher::new(
                &config,
                Arc::clone(&store),
                Arc::clone(&metrics),
                Arc::new(KeyTokens::default()),
                Some(Arc::new(wal)),
            );
            batcher.restore(replay.loose, replay.files);
            Harness {
                batcher,
                store,
                memory,
                metrics,
            }
        }

        async fn send(&self, records: usize, services: usize, seed: u64) {
            let body =
                otlp2parquet_proto::testing::logs_request(records, services, seed).encode_to_vec();
            let request = otlp2parquet_handlers::Request {
                signal: otlp2parquet_common::Signal::Logs,
                content_type: Some("application/x-protobuf"),
                content_encoding: None,
                body: &body,
                received_at_ns: 1,
            };
            self.batcher
                .ingest_logged(Entry::of(&request, usize::MAX))
                .await
                .unwrap();
        }

        fn memory(&self) -> &MemoryStorage {
            &self.memory
        }

        /// Rows per stored file, by key.
        fn files(&self) -> Vec<(String, i64)> {
            self.memory()
                .objects()
                .into_iter()
                .map(|(k, v)| {
                    let reader =
                        parquet::file::reader::SerializedFileReader::new(bytes::Bytes::from(v))
                            .unwrap();
                    let rows = parquet::file::reader::FileReader::metadata(&reader)
                        .file_metadata()
                        .num_rows();
                    (k, rows)
                })
                .collect()
        }

        async fn wait_for(&self, what: &str, cond: impl Fn(&Harness) -> bool) {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !cond(self) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "timed out waiting for {what}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }

        fn gauge(&self) -> (u64, u64) {
            (
                self.metrics.buffered_rows.load(Ordering::Relaxed),
                self.metrics.buffered_bytes.load(Ordering::Relaxed),
            )
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_requests_become_one_file_when_the_row_limit_is_reached() {
        let h = Harness::new(|c| c.batch.max_rows = 1_000);
        for seed in 0..4 {
            h.batcher.submit(logs(300, 1, seed)).unwrap();
        }
        h.wait_for("the flush", |h| h.files().len() == 1).await;
        assert_eq!(h.files()[0].1, 1_200);
        assert_eq!(h.batcher.shutdown(Duration::from_secs(5)).await, 0);
        assert_eq!(h.files().len(), 1, "nothing else was buffered");
        assert_eq!(h.gauge(), (0, 0));
        assert_eq!(h.metrics.rows_written.load(Ordering::Relaxed), 1_200);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_quiet_buffer_is_flushed_by_age_without_more_traffic() {
        let h = Harness::new(|c| c.batch.max_age_secs = 1);
        h.batcher.spawn_age_timer();
        h.batcher.submit(logs(50, 2, 1)).unwrap();
        let start = std::time::Instant::now();
        h.wait_for("the age flush", |h| h.files().len() == 2).await;
        assert!(start.elapsed() >= Duration::from_millis(900));
        assert_eq!(h.files().iter().map(|f| f.1).sum::<i64>(), 50);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_memory_bound_requests_are_refused_with_503() {
        let first = logs(200, 1, 1);
        let size: usize = first.iter().map(|p| p.batch.get_array_memory_size()).sum();
        let h = Harness::new(|c| c.batch.max_buffered_bytes = size + size / 2);
        // Hold every encoder so that the pressure flush the first request starts cannot free
        // anything before the second arrives.
        let permits = u32::try_from(h.batcher.encoders.available_permits()).unwrap();
        let hold = h.batcher.encoders.acquire_many(permits).await.unwrap();
        h.batcher.submit(first).unwrap();
        let err = h.batcher.submit(logs(200, 1, 2)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.message().contains("batch.max_buffered_bytes"), "{err}");
        assert_eq!(h.gauge().0, 200, "the refused request holds nothing");
        assert_eq!(h.metrics.overload_rejections.load(Ordering::Relaxed), 1);
        // Once written, there is room again.
        drop(hold);
        assert_eq!(h.batcher.shutdown(Duration::from_secs(5)).await, 0);
        h.batcher.submit(logs(200, 1, 3)).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_pressure_writes_the_largest_buffers_before_the_bound_is_reached() {
        let one = logs(200, 1, 1);
        let size: usize = one.iter().map(|p| p.batch.get_array_memory_size()).sum();
        // Room for about 10 requests; no buffer reaches a row, byte or age limit.
        let h = Harness::new(|c| c.batch.max_buffered_bytes = size * 10);
        for seed in 0..30 {
            h.batcher.submit(logs(200, 1, seed)).unwrap();
            // Flushes run in the background; give them a moment as a real client would.
            h.wait_for("room", |h| (h.gauge().1 as usize) < size * 8)
                .await;
        }
        h.wait_for("pressure flushes", |h| !h.files().is_empty())
            .await;
        assert_eq!(h.batcher.shutdown(Duration::from_secs(5)).await, 0);
        assert_eq!(h.files().iter().map(|f| f.1).sum::<i64>(), 6_000);
        assert_eq!(h.metrics.overload_rejections.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_keeps_its_rows_and_is_retried_until_it_succeeds() {
        let h = Harness::new(|c| c.batch.max_rows = 100);
        h.memory().fail_with(Some(StorageErrorKind::Temporary));
        h.batcher.submit(logs(150, 1, 9)).unwrap();
        h.wait_for("two failed attempts", |h| {
            h.metrics.flush_failures.load(Ordering::Relaxed) >= 2
        })
        .await;
        let (rows, bytes) = h.gauge();
        assert_eq!(rows, 150, "rows stay counted while the write fails");
        assert!(bytes > 0);
        assert!(h.files().is_empty());
        h.memory().fail_with(None);
        h.wait_for("the retried write", |h| h.files().len() == 1)
            .await;
        assert_eq!(h.files()[0].1, 150);
        h.wait_for("the gauges to drop", |h| h.gauge() == (0, 0))
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_writes_every_buffer_or_reports_what_it_could_not() {
        let h = Harness::new(|_| {});
        h.batcher.submit(logs(500, 5, 4)).unwrap();
        assert!(
            h.files().is_empty(),
            "below every limit nothing is written yet"
        );
        assert_eq!(h.batcher.shutdown(Duration::from_secs(5)).await, 0);
        let files = h.files();
        assert_eq!(files.len(), 5);
        assert_eq!(files.iter().map(|f| f.1).sum::<i64>(), 500);

        let down = Harness::new(|_| {});
        down.memory().fail_with(Some(StorageErrorKind::Temporary));
        down.batcher.submit(logs(40, 1, 5)).unwrap();
        assert_eq!(down.batcher.shutdown(Duration::from_millis(300)).await, 40);
    }

    use otlp2parquet_testkit::TempDir;

    /// Copies the segment files of `from` into a new directory: the log as a crash at this
    /// moment would leave it.
    fn snapshot(from: &std::path::Path) -> TempDir {
        let to = TempDir::new("snapshot");
        for (_, path) in otlp2parquet_wal::segments(from).unwrap() {
            std::fs::copy(&path, to.0.join(path.file_name().unwrap())).unwrap();
        }
        to
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_crash_replay_stores_every_logged_row_exactly_once() {
        let dir = TempDir::new("replay");
        let h = Harness::logged(&dir.0, 300, None);
        // 200 rows for each of two services, then 200 more for the first: its buffer reaches
        // 300 rows and is written; the second's 200 rows wait.
        h.send(400, 2, 1).await;
        h.send(200, 1, 2).await;
        h.wait_for("the first file", |h| h.files().len() == 1).await;
        h.batcher.wal_barrier().await;
        let written = h.files();
        assert_eq!(written[0].1, 400);
        // The crash: the log as it is now, replayed against the same storage.
        let crashed = snapshot(&dir.0);
        assert_eq!(otlp2parquet_wal::segments(&crashed.0).unwrap().len(), 1);
        let again = Harness::logged(
            &crashed.0,
            300,
            Some((Arc::clone(&h.store), Arc::clone(&h.memory))),
        );
        assert_eq!(again.batcher.shutdown(Duration::from_secs(5)).await, 0);
        again.batcher.wal_barrier().await;
        let files = again.files();
        assert_eq!(
            files.len(),
            2,
            "the written file is rewritten under its key: {files:?}"
        );
        assert!(
            files.contains(&written[0]),
            "same key, same rows: {files:?}"
        );
        assert_eq!(files.iter().map(|f| f.1).sum::<i64>(), 600);
        assert!(
            otlp2parquet_wal::segments(&crashed.0).unwrap().is_empty(),
            "once everything is stored the log is empty"
        );
        // And the original process, finishing normally, leaves an empty log too.
        assert_eq!(h.batcher.shutdown(Duration::from_secs(5)).await, 0);
        h.batcher.wal_barrier().await;
        assert!(otlp2parquet_wal::segments(&dir.0).unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_of_two_hours_go_to_two_files() {
        let h = Harness::new(|_| {});
        let mut parts = logs(10, 1, 1);
        let mut later = logs(10, 1, 2);
        for p in &mut later {
            p.min_time_ns += 3_600_000_000_000;
        }
        parts.append(&mut later);
        h.batcher.submit(parts).unwrap();
        assert_eq!(h.batcher.shutdown(Duration::from_secs(5)).await, 0);
        let files = h.files();
        assert_eq!(files.len(), 2, "{files:?}");
        assert_ne!(
            files[0].0.split("/hour=").nth(1).map(|s| &s[..2]),
            files[1].0.split("/hour=").nth(1).map(|s| &s[..2]),
        );
    }
}
