//! The log thread and its handle: group commit, segment rotation, sealing and deletion.
//!
//! One thread owns the files. Appends from concurrent requests queue on a channel; the thread
//! takes everything queued, writes it with one `write` and one `fdatasync`, and only then
//! answers each request (group commit). Each segment counts the references still pending on
//! it; sealed segments with nothing pending are deleted, oldest first.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::record::{Entry, Intent, Position, cancel_payload};
use crate::segment::{HEADER, MAGIC, frame, segment_path, sync_dir};

/// A segment is sealed once it holds this much; the next append opens a new one.
pub const SEGMENT_BYTES: u64 = 64 << 20;
/// One group commit writes at most about this much; the rest waits for the next sync.
const GROUP_BYTES: usize = 16 << 20;

/// What the log thread is asked to do.
enum Msg {
    Append {
        payload: Bytes,
        /// References the record holds on its segment until released.
        refs: usize,
        reply: oneshot::Sender<io::Result<Position>>,
    },
    /// More references on a segment.
    Retain { segment: u64, refs: usize },
    /// One reference off each listed segment.
    Release(Vec<u64>),
    /// Answered once everything sent before it is done.
    Barrier(oneshot::Sender<()>),
}

/// A handle on the log; cheap to share behind an `Arc`.
pub struct Wal {
    tx: mpsc::Sender<Msg>,
}

/// Where a reopened log starts: the segments found and the references replay holds on each.
#[derive(Debug, Default)]
pub struct Resume {
    /// Old segments and the references still pending on each (0: deletable at once).
    pub pending: BTreeMap<u64, usize>,
    /// Next sequence number (one past the highest seen).
    pub next_seq: u64,
}

impl Wal {
    /// Starts the log thread on `dir` (created if missing), after the segments of `resume`.
    pub fn start(dir: &Path, resume: Resume, segment_bytes: u64) -> io::Result<Wal> {
        fs::create_dir_all(dir)?;
        let next_segment = resume
            .pending
            .keys()
            .next_back()
            .map_or(0, |last| last.saturating_add(1));
        let segments = resume
            .pending
            .into_iter()
            .map(|(n, pending)| {
                (
                    n,
                    Segment {
                        pending,
                        sealed: true,
                    },
                )
            })
            .collect();
        let mut log = Log {
            dir: dir.to_path_buf(),
            active: None,
            next_segment,
            next_seq: resume.next_seq,
            segments,
            segment_bytes,
        };
        log.delete_done();
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("otlp2parquet-wal".to_owned())
            .spawn(move || log.run(&rx))?;
        Ok(Wal { tx })
    }

    /// Queues a request for the log, holding `refs` references on its segment, without
    /// waiting; [`Pending::wait`] returns once it is synced.
    pub fn send_entry(&self, entry: &Entry, refs: usize) -> Pending {
        self.send(entry.payload().clone(), refs)
    }

    /// Appends a request holding `refs` references and waits until it is synced.
    #[cfg(test)]
    pub async fn append_entry(&self, entry: &Entry, refs: usize) -> io::Result<Position> {
        self.send_entry(entry, refs).wait().await
    }

    /// Appends an intent (holding one reference until released) and waits until it is synced.
    pub async fn append_intent(&self, intent: &Intent) -> io::Result<Position> {
        self.send(Bytes::from(intent.payload()), 1).wait().await
    }

    /// Marks the entry at `at` as refused (replay skips it) and waits until that is synced.
    pub async fn cancel(&self, at: Position) -> io::Result<Position> {
        self.send(Bytes::from(cancel_payload(at.seq)), 0)
            .wait()
            .await
    }

    fn send(&self, payload: Bytes, refs: usize) -> Pending {
        let (reply, answer) = oneshot::channel();
        let sent = self.tx.send(Msg::Append {
            payload,
            refs,
            reply,
        });
        Pending(sent.map(|()| answer).map_err(|_| stopped()))
    }

    /// Adds `refs` references on `segment` (before the rows they stand for can be released).
    pub fn retain(&self, segment: u64, refs: usize) {
        if refs > 0 && self.tx.send(Msg::Retain { segment, refs }).is_err() {
            tracing::error!("the write-ahead log thread is gone; its segments stay until restart");
        }
    }

    /// Drops one reference from each segment in `segments` (a written file's entries and its
    /// intent); segments left with none are deleted in order.
    pub fn release(&self, segments: Vec<u64>) {
        if !segments.is_empty() && self.tx.send(Msg::Release(segments)).is_err() {
            tracing::error!("the write-ahead log thread is gone; its segments stay until restart");
        }
    }

    /// Waits until every message sent before is handled (releases and deletions included).
    pub async fn barrier(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Barrier(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

/// An append on its way to the log.
pub struct Pending(io::Result<oneshot::Receiver<io::Result<Position>>>);

impl Pending {
    /// Waits until the record is synced; its position.
    pub async fn wait(self) -> io::Result<Position> {
        self.0?.await.map_err(|_| stopped())?
    }
}

fn stopped() -> io::Error {
    io::Error::other("the write-ahead log thread stopped")
}

struct Segment {
    pending: usize,
    sealed: bool,
}

struct Active {
    file: File,
    segment: u64,
    len: u64,
    records: u64,
}

/// The state the log thread owns.
struct Log {
    dir: PathBuf,
    active: Option<Active>,
    next_segment: u64,
    next_seq: u64,
    segments: BTreeMap<u64, Segment>,
    segment_bytes: u64,
}

type Append = (Bytes, usize, oneshot::Sender<io::Result<Position>>);

impl Log {
    fn run(mut self, rx: &mpsc::Receiver<Msg>) {
        let mut carry = None;
        loop {
            let first = match carry.take() {
                Some(m) => m,
                None => match rx.recv() {
                    Ok(m) => m,
                    Err(_) => return,
                },
            };
            let mut appends: Vec<Append> = Vec::new();
            let mut bytes = 0;
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Append {
                        payload,
                        refs,
                        reply,
                    } => {
                        bytes += payload.len() + HEADER;
                        appends.push((payload, refs, reply));
                    }
                    Msg::Retain { segment, refs } => {
                        if let Some(s) = self.segments.get_mut(&segment) {
                            s.pending += refs;
                        }
                    }
                    Msg::Release(segments) => self.release(&segments),
                    // Everything before the barrier has been received; appends in this group
                    // are committed first.
                    Msg::Barrier(done) => {
                        self.commit(std::mem::take(&mut appends));
                        let _ = done.send(());
                    }
                }
                if bytes >= GROUP_BYTES {
                    break;
                }
                next = rx.try_recv().ok();
            }
            self.commit(appends);
            // A message that did not fit this group starts the next one.
            carry = rx.try_recv().ok();
        }
    }

    fn open_segment(&mut self) -> io::Result<&mut Active> {
        if self.active.is_none() {
            let segment = self.next_segment;
            let path = segment_path(&self.dir, segment);
            let mut file = OpenOptions::new()
                .create_new(true)
                .write(true)
                .open(&path)?;
            // The number is used up even if the file cannot be started (disk full): the next
            // try creates the next one.
            self.next_segment += 1;
            let started = file
                .write_all(MAGIC)
                .and_then(|()| file.sync_all())
                .and_then(|()| sync_dir(&self.dir));
            if let Err(e) = started {
                drop(file);
                let _ = fs::remove_file(&path);
                return Err(e);
            }
            self.segments.insert(
                segment,
                Segment {
                    pending: 0,
                    sealed: false,
                },
            );
            self.active = Some(Active {
                file,
                segment,
                len: MAGIC.len() as u64,
                records: 0,
            });
        }
        self.active.as_mut().ok_or_else(stopped)
    }

    /// Writes and syncs `appends` as one group, then answers each.
    fn commit(&mut self, appends: Vec<Append>) {
        if appends.is_empty() {
            return;
        }
        let first_seq = self.next_seq;
        let total: usize = appends.iter().map(|(p, _, _)| p.len() + HEADER).sum();
        let mut buf = Vec::with_capacity(total);
        for (i, (payload, _, _)) in appends.iter().enumerate() {
            frame(&mut buf, payload, first_seq + i as u64);
        }
        let written = self.write(&buf);
        let segment = self.active.as_ref().map_or(0, |a| a.segment);
        match written {
            Ok(()) => {
                self.next_seq = first_seq + appends.len() as u64;
                let refs: usize = appends.iter().map(|(_, r, _)| r).sum();
                if let Some(s) = self.segments.get_mut(&segment) {
                    s.pending += refs;
                }
                for (i, (_, _, reply)) in appends.into_iter().enumerate() {
                    let seq = first_seq + i as u64;
                    let _ = reply.send(Ok(Position { segment, seq }));
                }
                if self
                    .active
                    .as_ref()
                    .is_some_and(|a| a.len >= self.segment_bytes)
                {
                    self.seal();
                }
            }
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, requests = appends.len(), "write-ahead log append failed; the requests are refused");
                for (_, _, reply) in appends {
                    let _ = reply.send(Err(io::Error::new(e.kind(), e.to_string())));
                }
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<()> {
        let active = self.open_segment()?;
        let start = active.len;
        let result = active
            .file
            .write_all(buf)
            .and_then(|()| active.file.sync_data());
        match result {
            Ok(()) => {
                active.len += buf.len() as u64;
                active.records += 1;
                Ok(())
            }
            Err(e) => {
                // Cut the partial group off so that later appends follow whole records; if
                // that fails too, leave the segment (replay stops at its torn tail).
                let cut = active
                    .file
                    .set_len(start)
                    .and_then(|()| active.file.seek(SeekFrom::Start(start)).map(drop))
                    .and_then(|()| active.file.sync_data());
                if cut.is_err() {
                    self.seal();
                }
                Err(e)
            }
        }
    }

    /// Closes the active segment; the next append opens a new one.
    fn seal(&mut self) {
        if let Some(active) = self.active.take()
            && let Some(s) = self.segments.get_mut(&active.segment)
        {
            s.sealed = true;
        }
        self.delete_done();
    }

    fn release(&mut self, segments: &[u64]) {
        for n in segments {
            if let Some(s) = self.segments.get_mut(n) {
                s.pending = s.pending.saturating_sub(1);
            }
        }
        // A quiet log with nothing pending starts afresh, so that an idle server keeps no
        // segments around (and a restart has nothing to replay).
        let idle = self.active.as_ref().is_some_and(|a| {
            a.records > 0
                && self
                    .segments
                    .get(&a.segment)
                    .is_some_and(|s| s.pending == 0)
        });
        if idle {
            self.seal();
        } else {
            self.delete_done();
        }
    }

    /// Deletes sealed segments with nothing pending, oldest first, stopping at the first that
    /// must stay: a later segment may hold the intents that tell replay an earlier one's rows
    /// are already written.
    fn delete_done(&mut self) {
        while let Some((&n, s)) = self.segments.first_key_value() {
            if !s.sealed || s.pending > 0 {
                return;
            }
            let path = segment_path(&self.dir, n);
            let removed = match fs::remove_file(&path) {
                Ok(()) => sync_dir(&self.dir),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = removed {
                tracing::warn!(path = %path.display(), error = %e, "cannot delete a written write-ahead log segment; retrying later");
                return;
            }
            tracing::debug!(path = %path.display(), "write-ahead log segment deleted");
            self.segments.remove(&n);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use otlp2parquet_common::Signal;
    use otlp2parquet_handlers::Request;
    use otlp2parquet_writer::Table;

    use super::*;
    use crate::record::Record;
    use crate::segment::{ReadStats, read_segment, segments};
    use crate::tests::TempDir;

    fn entry_with(body: &[u8], content_type: Option<&str>) -> Entry {
        let request = Request {
            signal: Signal::Traces,
            content_type,
            content_encoding: Some("gzip"),
            body,
            received_at_ns: 1_700_000_000_123_456_789,
        };
        Entry::of(&request, 4096)
    }

    fn entry(body: &[u8]) -> Entry {
        entry_with(body, Some("application/x-protobuf"))
    }

    fn intent(seqs: Vec<u64>) -> Intent {
        Intent {
            object: "traces/svc/year=2026/month=11/day=26/hour=10/x.parquet".to_owned(),
            table: Table::Traces,
            service: "svc".to_owned(),
            hour: 42,
            seqs,
        }
    }

    /// Every record of every segment in `dir`, and the read stats summed.
    fn read_all(dir: &Path) -> (Vec<(Position, Record)>, ReadStats) {
        let mut out = Vec::new();
        let mut total = ReadStats::default();
        for (n, path) in segments(dir).unwrap() {
            let s = read_segment(&path, n, |at, r| out.push((at, r))).unwrap();
            total.records += s.records;
            total.corrupt += s.corrupt;
            total.torn_bytes += s.torn_bytes;
        }
        (out, total)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn records_read_back_as_written_with_increasing_sequence_numbers() {
        let dir = TempDir::new("roundtrip");
        let wal = Wal::start(&dir.0, Resume::default(), SEGMENT_BYTES).unwrap();
        let a = wal.append_entry(&entry(b"first"), 2).await.unwrap();
        let b = wal.append_intent(&intent(vec![a.seq])).await.unwrap();
        let none = entry_with(b"", None);
        let c = wal.append_entry(&none, 1).await.unwrap();
        assert!(a.seq < b.seq && b.seq < c.seq);
        let (records, stats) = read_all(&dir.0);
        assert_eq!(
            stats,
            ReadStats {
                records: 3,
                corrupt: 0,
                torn_bytes: 0
            }
        );
        match &records[..] {
            [
                (pa, Record::Entry(ea)),
                (pb, Record::Intent(ib)),
                (pc, Record::Entry(ec)),
            ] => {
                assert_eq!((*pa, *pb, *pc), (a, b, c));
                assert_eq!(ea, &entry(b"first"));
                let r = ea.request();
                assert_eq!(r.body, b"first");
                assert_eq!(r.signal, Signal::Traces);
                assert_eq!(r.content_type, Some("application/x-protobuf"));
                assert_eq!(r.content_encoding, Some("gzip"));
                assert_eq!(r.received_at_ns, 1_700_000_000_123_456_789);
                assert_eq!(ea.limit(), 4096);
                assert_eq!(ec.request().content_type, None);
                assert_eq!(ib, &intent(vec![a.seq]));
                assert_eq!(ec, &none);
            }
            other => panic!("unexpected records {other:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_share_syncs_and_all_land() {
        let dir = TempDir::new("group");
        let wal = Arc::new(Wal::start(&dir.0, Resume::default(), SEGMENT_BYTES).unwrap());
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let wal = Arc::clone(&wal);
            tasks.push(tokio::spawn(async move {
                wal.append_entry(&entry(&i.to_le_bytes()), 1).await.unwrap()
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap().seq);
        }
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), 200, "every append has its own sequence number");
        let (records, stats) = read_all(&dir.0);
        assert_eq!(stats.records, 200);
        let mut bodies: Vec<u32> = records
            .iter()
            .map(|(_, r)| match r {
                Record::Entry(e) => u32::from_le_bytes(e.request().body.try_into().unwrap()),
                other => panic!("only entries were written: {other:?}"),
            })
            .collect();
        bodies.sort_unstable();
        assert_eq!(bodies, (0..200).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_torn_tail_and_a_flipped_bit_are_skipped_and_counted() {
        let dir = TempDir::new("torn");
        let wal = Wal::start(&dir.0, Resume::default(), SEGMENT_BYTES).unwrap();
        for body in [b"aaaa", b"bbbb", b"cccc"] {
            wal.append_entry(&entry(body), 1).await.unwrap();
        }
        wal.barrier().await;
        let (_, path) = segments(&dir.0).unwrap().remove(0);
        let mut data = fs::read(&path).unwrap();
        // Flip a bit in the second record's body, then cut the third record short.
        let second = data.windows(4).position(|w| w == b"bbbb").unwrap();
        data[second] ^= 0x01;
        let cut = data.len() - 3;
        data.truncate(cut);
        fs::write(&path, &data).unwrap();
        let (records, stats) = read_all(&dir.0);
        assert_eq!(stats.records, 1);
        assert_eq!(stats.corrupt, 1);
        assert!(stats.torn_bytes > 0);
        match &records[..] {
            [(_, Record::Entry(e))] => assert_eq!(e.request().body, b"aaaa"),
            other => panic!("unexpected records {other:?}"),
        }
        // Garbage where a header should be is a torn tail too, never a panic.
        fs::write(&path, [MAGIC.as_slice(), &[0xff; 5]].concat()).unwrap();
        let (records, stats) = read_all(&dir.0);
        assert!(records.is_empty());
        assert_eq!(stats.torn_bytes, 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn segments_go_oldest_first_once_nothing_is_pending_on_them() {
        let dir = TempDir::new("delete");
        // Tiny segments: every append seals its segment.
        let wal = Wal::start(&dir.0, Resume::default(), 16).unwrap();
        let a = wal.append_entry(&entry(b"a"), 1).await.unwrap();
        let b = wal.append_entry(&entry(b"b"), 1).await.unwrap();
        assert_ne!(a.segment, b.segment);
        // The newer segment is done first: it must wait for the older one.
        wal.release(vec![b.segment]);
        wal.barrier().await;
        assert_eq!(segments(&dir.0).unwrap().len(), 2);
        wal.release(vec![a.segment]);
        wal.barrier().await;
        assert!(segments(&dir.0).unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_log_with_nothing_pending_keeps_no_segment() {
        let dir = TempDir::new("idle");
        let wal = Wal::start(&dir.0, Resume::default(), SEGMENT_BYTES).unwrap();
        let a = wal.append_entry(&entry(b"a"), 2).await.unwrap();
        let i = wal.append_intent(&intent(vec![a.seq])).await.unwrap();
        wal.release(vec![a.segment, i.segment]);
        wal.barrier().await;
        assert_eq!(
            segments(&dir.0).unwrap().len(),
            1,
            "one partition still pending"
        );
        wal.release(vec![a.segment]);
        wal.barrier().await;
        assert!(segments(&dir.0).unwrap().is_empty());
        // The next append opens a new segment after the deleted one.
        let next = wal.append_entry(&entry(b"b"), 1).await.unwrap();
        assert!(next.segment > a.segment && next.seq > i.seq);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reopened_log_continues_after_the_old_segments_and_deletes_finished_ones() {
        let dir = TempDir::new("resume");
        let old = Wal::start(&dir.0, Resume::default(), 16).unwrap();
        let a = old.append_entry(&entry(b"a"), 1).await.unwrap();
        let b = old.append_entry(&entry(b"b"), 1).await.unwrap();
        old.barrier().await;
        drop(old);
        let resume = Resume {
            pending: BTreeMap::from([(a.segment, 0), (b.segment, 1)]),
            next_seq: b.seq + 1,
        };
        let wal = Wal::start(&dir.0, resume, SEGMENT_BYTES).unwrap();
        let c = wal.append_entry(&entry(b"c"), 1).await.unwrap();
        assert!(c.segment > b.segment && c.seq > b.seq);
        let left: Vec<u64> = segments(&dir.0).unwrap().into_iter().map(|s| s.0).collect();
        assert_eq!(
            left,
            vec![b.segment, c.segment],
            "the finished segment went at start"
        );
    }
}
