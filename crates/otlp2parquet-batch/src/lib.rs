//! Platform-neutral batching (docs/adr/0006-server-batching.md): converted rows are buffered
//! per (table, service, hour) and leave as one merged, time-ordered Parquet file per buffer.
//!
//! [`Buffers`] holds the rows and applies the flush policy — a buffer is due at
//! [`Limits::max_rows`] rows or [`Limits::max_bytes`] of Arrow memory, when it is
//! [`Limits::max_age`] old, and under memory pressure (waiting buffers past half of
//! [`Limits::max_buffered_bytes`]) — and [`FlushPlan`] fixes a due buffer's object key before
//! it is encoded and written. Nothing here reads a clock, spawns a task or locks: the caller
//! passes the time in (any monotonic clock, as a [`Duration`] since an epoch of its choosing),
//! runs the flushes its platform's way (the server: tokio tasks) and serialises access.

#![warn(missing_docs)]

pub mod compact;
pub mod spool;

use std::collections::HashMap;
use std::time::Duration;

use arrow_array::RecordBatch;
use otlp2parquet_common::config::Config;
use otlp2parquet_writer::key::hour_bucket;
use otlp2parquet_writer::{
    ParquetOptions, Partition, Table, WriterError, encode_merged, object_key,
};

/// What identifies a buffer: rows of one table, service and hour share a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BufferKey {
    /// The table.
    pub table: Table,
    /// The key-safe service name.
    pub service: String,
    /// The hour, in hours since the epoch ([`hour_bucket`]).
    pub hour: i64,
}

impl BufferKey {
    /// The buffer a partition belongs in.
    pub fn of(p: &Partition) -> BufferKey {
        BufferKey {
            table: p.table,
            service: p.service.clone(),
            hour: hour_bucket(p.min_time_ns),
        }
    }
}

/// Rows waiting for their file. `U` is what the caller tracks per partition (the server: the
/// write-ahead log position of the request the rows came from).
#[derive(Debug)]
pub struct Buffer<U> {
    /// The rows, one batch per partition, each ordered by time.
    pub batches: Vec<RecordBatch>,
    /// Rows in `batches`.
    pub rows: usize,
    /// Arrow memory of `batches`, as the caller measured it.
    pub bytes: usize,
    /// The earliest row time, in ns since the epoch (names the file).
    pub min_time_ns: i64,
    /// When the first rows arrived, on the caller's clock.
    pub opened: Duration,
    /// The caller's tags of the partitions here.
    pub units: Vec<U>,
}

impl<U> Buffer<U> {
    /// A buffer holding `batches` already, as replay restores one.
    pub fn restored(
        batches: Vec<RecordBatch>,
        bytes: usize,
        min_time_ns: i64,
        units: Vec<U>,
        now: Duration,
    ) -> Buffer<U> {
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        Buffer {
            batches,
            rows,
            bytes,
            min_time_ns,
            opened: now,
            units,
        }
    }
}

/// The flush limits of the `[batch]` configuration (docs/configuration.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Flush a buffer at this many rows.
    pub max_rows: usize,
    /// Flush a buffer at this much Arrow memory.
    pub max_bytes: usize,
    /// Flush a buffer this long after its first rows arrived.
    pub max_age: Duration,
    /// Memory held in total that requests may not pass; waiting buffers past half of it are
    /// flushed, largest first, down to a quarter.
    pub max_buffered_bytes: usize,
}

impl Limits {
    /// The limits `config` asks for.
    pub fn from_config(config: &Config) -> Limits {
        Limits {
            max_rows: config.batch.max_rows,
            max_bytes: config.batch.max_bytes,
            max_age: Duration::from_secs(config.batch.max_age_secs),
            max_buffered_bytes: config.batch.max_buffered_bytes,
        }
    }
}

/// A buffer taken out for writing.
pub type Due<U> = (BufferKey, Buffer<U>);

/// Every open buffer and the flush policy.
#[derive(Debug)]
pub struct Buffers<U> {
    open: HashMap<BufferKey, Buffer<U>>,
    limits: Limits,
}

impl<U: Clone> Buffers<U> {
    /// No buffers yet.
    pub fn new(limits: Limits) -> Buffers<U> {
        Buffers {
            open: HashMap::new(),
            limits,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Open buffers.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether no buffer is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Adds partitions (`sizes`: the Arrow memory of each) tagged with `unit`, and takes out
    /// every buffer that became due: at its row or byte limit, or to relieve memory pressure.
    pub fn insert(
        &mut self,
        partitions: Vec<Partition>,
        sizes: Vec<usize>,
        unit: Option<U>,
        now: Duration,
    ) -> Vec<Due<U>> {
        let mut due = Vec::new();
        for (p, size) in partitions.into_iter().zip(sizes) {
            let key = BufferKey::of(&p);
            let buffer = self.open.entry(key.clone()).or_insert_with(|| Buffer {
                batches: Vec::new(),
                rows: 0,
                bytes: 0,
                min_time_ns: p.min_time_ns,
                opened: now,
                units: Vec::new(),
            });
            buffer.rows += p.batch.num_rows();
            buffer.bytes += size;
            buffer.min_time_ns = buffer.min_time_ns.min(p.min_time_ns);
            buffer.batches.push(p.batch);
            buffer.units.extend(unit.clone());
            if (buffer.rows >= self.limits.max_rows || buffer.bytes >= self.limits.max_bytes)
                && let Some(b) = self.open.remove(&key)
            {
                due.push((key, b));
            }
        }
        self.relieve_pressure(&mut due);
        due
    }

    /// Under memory pressure — buffers waiting for their limits hold more than half of
    /// `max_buffered_bytes` — takes the largest buffers out until a quarter is left. Without
    /// this, many buffers each below its own limits could fill the bound together and every
    /// request would be refused until their age came.
    fn relieve_pressure(&mut self, out: &mut Vec<Due<U>>) {
        let waiting: usize = self.open.values().map(|b| b.bytes).sum();
        let bound = self.limits.max_buffered_bytes;
        if waiting <= bound / 2 {
            return;
        }
        let mut by_size: Vec<(BufferKey, usize)> = self
            .open
            .iter()
            .map(|(k, b)| (k.clone(), b.bytes))
            .collect();
        by_size.sort_unstable_by_key(|&(_, size)| std::cmp::Reverse(size));
        let mut left = waiting;
        for (key, size) in by_size {
            if left <= bound / 4 {
                break;
            }
            if let Some(b) = self.open.remove(&key) {
                out.push((key, b));
                left = left.saturating_sub(size);
            }
        }
    }

    /// Takes out every buffer at least `max_age` old at `now`.
    pub fn take_aged(&mut self, now: Duration) -> Vec<Due<U>> {
        let max_age = self.limits.max_age;
        let old: Vec<BufferKey> = self
            .open
            .iter()
            .filter(|(_, b)| now.saturating_sub(b.opened) >= max_age)
            .map(|(k, _)| k.clone())
            .collect();
        old.into_iter()
            .filter_map(|k| self.open.remove(&k).map(|b| (k, b)))
            .collect()
    }

    /// Takes out every buffer (shutdown, replay).
    pub fn drain(&mut self) -> Vec<Due<U>> {
        self.open.drain().collect()
    }
}

/// A due buffer with its object key fixed: the key is chosen before anything is encoded or
/// written, so that a write redone (a retry, a replay after a crash) replaces its file
/// instead of adding a second one.
#[derive(Debug)]
pub struct FlushPlan<U> {
    /// The buffer's identity.
    pub key: BufferKey,
    /// Where the file goes (docs/keys.md).
    pub object: String,
    /// Its rows.
    pub buffer: Buffer<U>,
}

impl<U> FlushPlan<U> {
    /// Plans the file of `buffer`: its object key under `prefix`, named by its earliest row and
    /// a fresh `token`.
    pub fn new(prefix: &str, key: BufferKey, buffer: Buffer<U>, token: u128) -> FlushPlan<U> {
        let object = object_key(prefix, key.table, &key.service, buffer.min_time_ns, token);
        FlushPlan {
            key,
            object,
            buffer,
        }
    }

    /// Plans a file whose key was fixed earlier (replay of a logged intent).
    pub fn with_object(object: String, key: BufferKey, buffer: Buffer<U>) -> FlushPlan<U> {
        FlushPlan {
            key,
            object,
            buffer,
        }
    }
}

/// The one Parquet file of a buffer's batches, merged into time order.
pub fn encode(
    table: Table,
    batches: &[RecordBatch],
    opts: &ParquetOptions,
) -> Result<Vec<u8>, WriterError> {
    encode_merged(table, batches, opts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use otlp2parquet_proto::{ExportRequest, LogsRequest};
    use otlp2parquet_writer::convert_logs;
    use prost::Message;

    use super::*;

    fn logs(records: usize, services: usize, seed: u64) -> Vec<Partition> {
        let body =
            otlp2parquet_proto::testing::logs_request(records, services, seed).encode_to_vec();
        let req = LogsRequest::decode_protobuf(&body).unwrap();
        convert_logs(&req, 1).unwrap()
    }

    fn sizes(parts: &[Partition]) -> Vec<usize> {
        parts
            .iter()
            .map(|p| p.batch.get_array_memory_size())
            .collect()
    }

    fn limits() -> Limits {
        Limits {
            max_rows: 1_000,
            max_bytes: usize::MAX,
            max_age: Duration::from_secs(10),
            max_buffered_bytes: usize::MAX,
        }
    }

    #[test]
    fn a_buffer_is_due_at_its_row_limit_with_every_tag() {
        let mut b: Buffers<u32> = Buffers::new(limits());
        for seed in 0..3 {
            let p = logs(300, 1, seed);
            let s = sizes(&p);
            assert!(b.insert(p, s, Some(seed as u32), Duration::ZERO).is_empty());
        }
        let p = logs(300, 1, 3);
        let s = sizes(&p);
        let due = b.insert(p, s, Some(3), Duration::ZERO);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].1.rows, 1_200);
        assert_eq!(due[0].1.units, vec![0, 1, 2, 3]);
        assert!(b.is_empty());
    }

    #[test]
    fn age_is_measured_on_the_callers_clock() {
        let mut b: Buffers<()> = Buffers::new(limits());
        let p = logs(10, 2, 1);
        let s = sizes(&p);
        b.insert(p, s, None, Duration::from_secs(5));
        assert!(b.take_aged(Duration::from_secs(14)).is_empty());
        assert_eq!(b.take_aged(Duration::from_secs(15)).len(), 2);
        assert!(b.is_empty());
    }

    #[test]
    fn pressure_takes_the_largest_buffers_first() {
        let one = logs(200, 1, 1);
        let size: usize = sizes(&one).iter().sum();
        let mut b: Buffers<()> = Buffers::new(Limits {
            max_buffered_bytes: size * 4,
            ..limits()
        });
        // Two services: a large buffer and a small one, together past half the bound.
        let big = logs(400, 1, 2);
        let s = sizes(&big);
        assert!(b.insert(big, s, None, Duration::ZERO).is_empty() || b.is_empty());
        let mut small = logs(20, 1, 3);
        for p in &mut small {
            p.service = "other".to_owned();
        }
        let s = sizes(&small);
        let due = b.insert(small, s, None, Duration::ZERO);
        assert!(!due.is_empty());
        assert!(
            due.iter().all(|(k, _)| k.service != "other"),
            "the large one goes first"
        );
    }

    #[test]
    fn a_plan_names_its_file_by_the_earliest_row() {
        let mut b: Buffers<()> = Buffers::new(limits());
        let p = logs(10, 1, 1);
        let s = sizes(&p);
        b.insert(p, s, None, Duration::ZERO);
        let (key, buffer) = b.drain().pop().unwrap();
        let plan = FlushPlan::new("pre/", key.clone(), buffer, 7);
        assert!(plan.object.starts_with("pre/logs/"), "{}", plan.object);
        let file = encode(key.table, &plan.buffer.batches, &ParquetOptions::default()).unwrap();
        assert_eq!(&file[..4], b"PAR1");
    }
}
