//! Rows → partitions: one group per (safe service, hour of the row's time), rows ordered by
//! time within a group (docs/keys.md#hours).

use std::collections::HashMap;

use super::columns::MAX_COLUMN_BYTES;
use super::context::Contexts;
use crate::{Partition, Table, WriterError};

const NANOS_PER_HOUR: i64 = 3_600 * 1_000_000_000;

/// A row reference with the time it is stored and partitioned under.
pub(crate) struct Timed<R> {
    pub(crate) time: i64,
    pub(crate) row: R,
}

/// The rows of one future partition.
pub(crate) struct Group<R> {
    service: usize,
    repeat_bytes: u64,
    pub(crate) rows: Vec<Timed<R>>,
}

/// Groups rows by (service, hour), in order of first appearance.
pub(crate) struct Groups<R> {
    index: HashMap<(usize, i64), usize>,
    /// The key of the last row: consecutive rows nearly always share it.
    last: Option<((usize, i64), usize)>,
    groups: Vec<Group<R>>,
    /// Capacity for the first group (usually the only one): the request's row count.
    first_capacity: usize,
}

impl<R> Groups<R> {
    pub(crate) fn new(rows_hint: usize) -> Self {
        Self {
            index: HashMap::new(),
            last: None,
            groups: Vec::new(),
            first_capacity: rows_hint,
        }
    }

    /// Adds a row of service `service` stored at `time`, repeating `repeat_bytes` of
    /// resource/scope text.
    #[inline]
    pub(crate) fn push(&mut self, service: usize, repeat_bytes: u64, time: i64, row: R) {
        let key = (service, time.div_euclid(NANOS_PER_HOUR));
        let at = match self.last {
            Some((k, at)) if k == key => at,
            _ => {
                let at = match self.index.get(&key) {
                    Some(&at) => at,
                    None => {
                        let at = self.open(key.0);
                        self.index.insert(key, at);
                        at
                    }
                };
                self.last = Some((key, at));
                at
            }
        };
        if let Some(g) = self.groups.get_mut(at) {
            g.repeat_bytes = g.repeat_bytes.saturating_add(repeat_bytes);
            g.rows.push(Timed { time, row });
        }
    }

    fn open(&mut self, service: usize) -> usize {
        let capacity = std::mem::take(&mut self.first_capacity);
        self.groups.push(Group {
            service,
            repeat_bytes: 0,
            rows: Vec::with_capacity(capacity),
        });
        self.groups.len() - 1
    }

    /// The groups, each sorted by time; equal times keep input order (a stable sort, which
    /// is also linear on the usual already-sorted input).
    pub(crate) fn finish(mut self) -> Vec<Group<R>> {
        for g in &mut self.groups {
            g.rows.sort_by_key(|r| r.time);
        }
        self.groups
    }
}

impl<R> Group<R> {
    /// Builds the partition of this group with `build`, which turns sorted rows into a batch.
    pub(crate) fn into_partition(
        self,
        table: Table,
        ctx: &Contexts<'_>,
        build: impl FnOnce(&[Timed<R>]) -> Result<arrow_array::RecordBatch, WriterError>,
    ) -> Result<Partition, WriterError> {
        // Checked before building: otherwise a request with a megabyte resource and a million
        // two-byte records would spend minutes and terabytes before Arrow's offsets overflow.
        if self.repeat_bytes > MAX_COLUMN_BYTES as u64 {
            return Err(WriterError::InvalidRecord(format!(
                "{}: {} rows repeat {} bytes of resource/scope attributes, more than one file can hold",
                table.name(),
                self.rows.len(),
                self.repeat_bytes
            )));
        }
        let min_time_ns = self.rows.first().map_or(0, |r| r.time);
        let batch = build(&self.rows)?;
        Ok(Partition {
            table,
            service: ctx.service(self.service).to_owned(),
            min_time_ns,
            batch,
        })
    }
}

/// A u64 time as a `Timestamp(ns)` value; `what` names the field when it does not fit
/// (a time after 2262-04-11T23:47:16Z).
#[inline]
pub(crate) fn timestamp(t: u64, what: impl FnOnce() -> String) -> Result<i64, WriterError> {
    i64::try_from(t).map_err(|_| {
        WriterError::InvalidRecord(format!(
            "{}: {t} ns is after 2262-04-11T23:47:16Z, the last time a nanosecond timestamp holds",
            what()
        ))
    })
}

/// The time a row is stored and partitioned under: its own, or the received-at time when it
/// has none (docs/keys.md#time-rules).
#[inline]
pub(crate) fn or_received(t: i64, received_at_ns: i64) -> i64 {
    if t == 0 { received_at_ns } else { t }
}

/// `t` truncated to whole seconds, in milliseconds (`TimestampTime`).
#[inline]
pub(crate) fn whole_seconds_ms(t: i64) -> i64 {
    t.div_euclid(1_000_000_000) * 1_000
}
