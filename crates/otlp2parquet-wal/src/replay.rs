//! Startup replay of the log: what it holds sorted into files to write again, rows of no file
//! yet, and the references each segment keeps (see the crate docs).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::Path;

use arrow_array::RecordBatch;
use otlp2parquet_batch::BufferKey;
use otlp2parquet_handlers::convert;
use otlp2parquet_writer::Partition;

use crate::log::Resume;
use crate::record::{Intent, Position, Record};
use crate::segment::{read_segment, segments as segment_files};

/// A file found half-written in the log at startup: written again under the same key with the
/// same rows, so that a copy stored before the crash is replaced rather than duplicated.
#[derive(Debug)]
pub struct PendingFile {
    /// The intent record.
    pub intent: Intent,
    /// Where the intent record is.
    pub at: Position,
    /// The rows, in the intent's order.
    pub batches: Vec<RecordBatch>,
    /// The entries the rows came from, one per batch.
    pub units: Vec<Position>,
}

/// What replay found.
#[derive(Debug)]
pub struct Replay {
    /// Where the log goes on: the old segments and what is pending on each.
    pub resume: Resume,
    /// Rows of no file yet, with their entry's position.
    pub loose: Vec<(Partition, Position)>,
    /// Files to write again under their logged keys.
    pub files: Vec<PendingFile>,
    /// Counts for the startup log line.
    pub summary: Summary,
}

/// Counts for the startup log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Segment files found.
    pub segments: usize,
    /// Entries read (cancelled ones excluded).
    pub entries: u64,
    /// Rows of the entries that go back into files, rewritten or buffered.
    pub rows: u64,
    /// Intents whose files are written again.
    pub files_rewritten: usize,
    /// Intents whose files were stored for sure (an entry of theirs is gone).
    pub intents_done: usize,
    /// Records skipped for a bad checksum or content.
    pub corrupt_records: u64,
    /// Bytes of torn tails ignored.
    pub torn_bytes: u64,
    /// Entries that do not convert: requests answered with an error when they arrived.
    pub refused: u64,
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
pub fn replay(dir: &Path) -> io::Result<Replay> {
    let segments = match segment_files(dir) {
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
    let mut cancelled: HashSet<u64> = HashSet::new();
    for (n, path) in &segments {
        let stats = read_segment(path, *n, |at, record| {
            next_seq = next_seq.max(at.seq.saturating_add(1));
            match record {
                Record::Entry(_) => {
                    entries.insert(at.seq, at.segment);
                }
                Record::Intent(i) => intents.push((at, i)),
                Record::Cancel(seq) => {
                    cancelled.insert(seq);
                }
            }
        })?;
        summary.corrupt_records += stats.corrupt;
        summary.torn_bytes += stats.torn_bytes;
    }
    // A cancelled entry was answered with an error: it is no entry at all.
    entries.retain(|seq, _| !cancelled.contains(seq));
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
        read_segment(path, *n, |at, record| {
            let Record::Entry(entry) = record else {
                return;
            };
            if cancelled.contains(&at.seq) {
                return;
            }
            summary.entries += 1;
            // Conversion is deterministic (same bytes, arrival time and bound): an entry that
            // fails now was answered with that error when it arrived (its cancel record did not
            // reach the disk before the crash), so nothing acknowledged is dropped here.
            let converted = match convert(&entry.request(), entry.limit()) {
                Ok(c) => c,
                Err(f) => {
                    summary.refused += 1;
                    tracing::debug!(seq = at.seq, error = %f.error, "a logged request was refused when it arrived; skipped");
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

#[cfg(test)]
mod tests {
    use otlp2parquet_common::Signal;
    use otlp2parquet_handlers::Request;
    use prost::Message;

    use super::*;
    use crate::log::{SEGMENT_BYTES, Wal};
    use crate::record::Entry;
    use crate::tests::TempDir;

    fn body(seed: u64) -> Vec<u8> {
        otlp2parquet_proto::testing::logs_request(20, 2, seed).encode_to_vec()
    }

    fn request(body: &[u8]) -> Request<'_> {
        Request {
            signal: Signal::Logs,
            content_type: Some("application/x-protobuf"),
            content_encoding: None,
            body,
            received_at_ns: 7,
        }
    }

    /// The buffer keys of a request's partitions.
    fn keys(body: &[u8]) -> Vec<BufferKey> {
        convert(&request(body), usize::MAX)
            .unwrap()
            .partitions
            .iter()
            .map(BufferKey::of)
            .collect()
    }

    fn intent_for(key: &BufferKey, seqs: Vec<u64>) -> Intent {
        Intent {
            object: "logs/x.parquet".to_owned(),
            table: key.table,
            service: key.service.clone(),
            hour: key.hour,
            seqs,
        }
    }

    /// Logs the requests of `a` and `b`, two partitions each.
    async fn append_two(wal: &Wal, a: &[u8], b: &[u8]) -> (Position, Position) {
        let mut at = Vec::new();
        for body in [a, b] {
            let entry = Entry::of(&request(body), usize::MAX);
            at.push(wal.append_entry(&entry, 2).await.unwrap());
        }
        (at[0], at[1])
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_intent_whose_entries_all_survive_is_rewritten_and_its_rows_are_not_loose() {
        let dir = TempDir::new("rewrite");
        let (a, b) = (body(1), body(2));
        let key = keys(&a)[0].clone();
        assert_eq!(keys(&b)[0], key, "both requests fill the same two buffers");
        let wal = Wal::start(&dir.0, Resume::default(), SEGMENT_BYTES).unwrap();
        let (ea, eb) = append_two(&wal, &a, &b).await;
        let i = wal
            .append_intent(&intent_for(&key, vec![ea.seq, eb.seq]))
            .await
            .unwrap();
        wal.barrier().await;
        let r = replay(&dir.0).unwrap();
        assert_eq!(r.files.len(), 1);
        let file = &r.files[0];
        assert_eq!(file.at, i);
        assert_eq!(file.units, vec![ea, eb]);
        assert_eq!(file.batches.iter().map(|b| b.num_rows()).sum::<usize>(), 20);
        // The other service's rows of both requests are loose.
        assert_eq!(r.loose.len(), 2);
        assert!(r.loose.iter().all(|(p, _)| BufferKey::of(p) != key));
        // Two partitions per entry and the intent, all in one segment.
        assert_eq!(r.resume.pending.values().sum::<usize>(), 5);
        assert_eq!(r.resume.next_seq, i.seq + 1);
        assert_eq!(r.summary.files_rewritten, 1);
        assert_eq!(r.summary.rows, 40);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_intent_with_a_deleted_entry_was_stored_and_its_rows_are_skipped() {
        let dir = TempDir::new("stored");
        let (a, b) = (body(1), body(2));
        let key = keys(&a)[0].clone();
        // One segment per record.
        let wal = Wal::start(&dir.0, Resume::default(), 16).unwrap();
        let (ea, eb) = append_two(&wal, &a, &b).await;
        wal.append_intent(&intent_for(&key, vec![ea.seq, eb.seq]))
            .await
            .unwrap();
        wal.barrier().await;
        drop(wal);
        // The first entry's segment went: every row of it was stored, so the intent's file was.
        let (_, first) = segment_files(&dir.0).unwrap().remove(0);
        std::fs::remove_file(first).unwrap();
        let r = replay(&dir.0).unwrap();
        assert!(r.files.is_empty());
        assert_eq!(r.summary.intents_done, 1);
        // Only the second entry's other-service rows are left to write.
        assert_eq!(r.loose.len(), 1);
        let (p, at) = &r.loose[0];
        assert_ne!(BufferKey::of(p), key);
        assert_eq!(*at, eb);
        assert_eq!(r.summary.rows, 10);
        assert_eq!(r.resume.pending.get(&eb.segment), Some(&1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelled_and_refused_entries_are_skipped() {
        let dir = TempDir::new("cancel");
        let a = body(1);
        let wal = Wal::start(&dir.0, Resume::default(), SEGMENT_BYTES).unwrap();
        let ea = wal
            .append_entry(&Entry::of(&request(&a), usize::MAX), 1)
            .await
            .unwrap();
        wal.cancel(ea).await.unwrap();
        // A body that never converts, logged without its cancel (a crash in between).
        wal.append_entry(&Entry::of(&request(b"\xff\xff garbage"), usize::MAX), 1)
            .await
            .unwrap();
        // One over its bound: refused (413) when it arrived, so refused again.
        wal.append_entry(&Entry::of(&request(&a), 16), 1)
            .await
            .unwrap();
        wal.barrier().await;
        let r = replay(&dir.0).unwrap();
        assert!(r.loose.is_empty() && r.files.is_empty());
        assert_eq!(r.summary.entries, 2);
        assert_eq!(r.summary.refused, 2);
        assert_eq!(
            r.resume.pending.values().sum::<usize>(),
            0,
            "nothing holds the segment"
        );
    }

    #[test]
    fn a_missing_log_directory_replays_nothing() {
        let r = replay(Path::new("/nonexistent/otlp2parquet-wal")).unwrap();
        assert_eq!(r.summary, Summary::default());
        assert!(r.loose.is_empty() && r.files.is_empty() && r.resume.pending.is_empty());
    }
}
