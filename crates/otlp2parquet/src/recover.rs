//! Startup replay of the write-ahead log (docs/adr/0010-write-ahead-log.md).
//!
//! Two passes over the segments. The first collects the intents (files that were about to
//! be written) and which entries exist. An intent whose entries all survive is a file that may
//! or may not have been stored: it is written again under the same key with the same rows. An
//! intent with an entry missing was stored for sure (segments are deleted only once their rows
//! are), so its rows are skipped. The second pass converts every entry again and sorts its
//! partitions: into a rewritten file, skipped, or back into the buffers as rows of no file yet.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;

use otlp2parquet_handlers::convert;
use otlp2parquet_writer::Partition;

use crate::batcher::{BufferKey, PendingFile};
use crate::wal::{self, Intent, Position, Record, Resume};

/// What replay found.
pub(crate) struct Replay {
    /// Where the log goes on: the old segments and what is pending on each.
    pub(crate) resume: Resume,
    /// Rows of no file yet, with their entry's position.
    pub(crate) loose: Vec<(Partition, Position)>,
    /// Files to write again under their logged keys.
    pub(crate) files: Vec<PendingFile>,
    /// Counts for the startup log line.
    pub(crate) summary: Summary,
}

/// Counts for the startup log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) segments: usize,
    pub(crate) entries: u64,
    pub(crate) rows: u64,
    pub(crate) files_rewritten: usize,
    pub(crate) intents_done: usize,
    pub(crate) corrupt_records: u64,
    pub(crate) torn_bytes: u64,
    /// Entries that no longer convert (a bug, or a changed limit): their rows are dropped.
    pub(crate) unconvertible: u64,
}

/// How a (entry, buffer) pair found in the log is treated.
#[derive(Debug, Clone, Copy)]
enum Cover {
    /// Its file was stored: skip.
    Stored,
    /// Its file is written again: index into `files`.
    Rewrite(usize),
}

/// Reads the log in `dir` (missing: nothing to replay).
pub(crate) fn replay(dir: &Path) -> io::Result<Replay> {
    let segments = match wal::segments(dir) {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut summary = Summary {
        segments: segments.len(),
        ..Summary::default()
    };
    let mut next_seq = 0u64;
    // Pass 1: which entries exist, and the intents.
    let mut entries: HashMap<u64, u64> = HashMap::new();
    let mut intents: Vec<(Position, Intent)> = Vec::new();
    for (n, path) in &segments {
        let stats = wal::read_segment(path, *n, |at, record| {
            next_seq = next_seq.max(at.seq.saturating_add(1));
            match record {
                Record::Entry(_) => {
                    entries.insert(at.seq, at.segment);
                }
                Record::Intent(i) => intents.push((at, i)),
            }
        })?;
        summary.corrupt_records += stats.corrupt;
        summary.torn_bytes += stats.torn_bytes;
    }
    let mut pending: BTreeMap<u64, usize> = segments.iter().map(|(n, _)| (*n, 0)).collect();
    let mut covers: HashMap<(u64, BufferKey), Cover> = HashMap::new();
    let mut files: Vec<PendingFile> = Vec::new();
    // Rows of each rewritten file, by entry, until pass 2 has seen them all.
    let mut parts: Vec<HashMap<u64, Vec<(Partition, Position)>>> = Vec::new();
    for (at, intent) in intents {
        let key = BufferKey {
            table: intent.table,
            service: intent.service.clone(),
            hour: intent.hour,
        };
        let complete = intent.seqs.iter().all(|s| entries.contains_key(s));
        let seqs = intent.seqs.clone();
        let cover = if complete {
            *pending.entry(at.segment).or_default() += 1;
            files.push(PendingFile {
                intent,
                at,
                batches: Vec::new(),
                units: Vec::new(),
            });
            parts.push(HashMap::new());
            Cover::Rewrite(files.len() - 1)
        } else {
            summary.intents_done += 1;
            Cover::Stored
        };
        for seq in seqs {
            covers.insert((seq, key.clone()), cover);
        }
    }
    // Pass 2: every entry converted again, its partitions sorted.
    let mut loose = Vec::new();
    for (n, path) in &segments {
        wal::read_segment(path, *n, |at, record| {
            let Record::Entry(entry) = record else {
                return;
            };
            summary.entries += 1;
            let converted = match convert(&entry.request(), usize::MAX) {
                Ok(c) => c,
                Err(f) => {
                    summary.unconvertible += 1;
                    tracing::error!(seq = at.seq, error = %f.error, "a logged request no longer converts; its rows are dropped");
                    return;
                }
            };
            for p in converted.partitions {
                let key = BufferKey::of(&p);
                match covers.get(&(at.seq, key)) {
                    Some(Cover::Stored) => {}
                    Some(Cover::Rewrite(i)) => {
                        summary.rows += p.num_rows() as u64;
                        *pending.entry(at.segment).or_default() += 1;
                        if let Some(m) = parts.get_mut(*i) {
                            m.entry(at.seq).or_default().push((p, at));
                        }
                    }
                    None => {
                        summary.rows += p.num_rows() as u64;
                        *pending.entry(at.segment).or_default() += 1;
                        loose.push((p, at));
                    }
                }
            }
        })?;
    }
    for (file, mut by_seq) in files.iter_mut().zip(parts) {
        for seq in &file.intent.seqs {
            for (p, at) in by_seq.remove(seq).unwrap_or_default() {
                file.batches.push(p.batch);
                file.units.push(at);
            }
        }
    }
    summary.files_rewritten = files.len();
    Ok(Replay {
        resume: Resume { pending, next_seq },
        loose,
        files,
        summary,
    })
}
