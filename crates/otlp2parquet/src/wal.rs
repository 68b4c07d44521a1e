//! The batcher's write-ahead log (docs/adr/0010-write-ahead-log.md).
//!
//! A directory of segment files `<16 hex digits>.wal`, each an 8-byte magic followed by
//! records `len: u32 LE | crc32: u32 LE | payload`, the checksum covering the payload. Two
//! kinds of payload:
//!
//! - an **entry**: one accepted request exactly as received (signal, headers, body, arrival
//!   time), so that replaying it converts to the same rows;
//! - an **intent**: a file about to be written — its object key, its buffer (table, service,
//!   hour) and the entries whose rows it holds. Replaying an intent rewrites the same key with
//!   the same rows, so a file written just before a crash is replaced, not duplicated.
//!
//! One thread owns the files. Appends from concurrent requests queue on a channel; the thread
//! takes everything queued, writes it with one `write` and one `fdatasync`, and only then
//! answers each request (group commit). Each segment counts the references still pending on
//! it: one per buffered partition of its entries and one per unfinished intent. Segments are
//! deleted oldest first, once sealed and with nothing pending — so an intent is never lost
//! while the entries it covers survive.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use bytes::Bytes;
use otlp2parquet_common::Signal;
use otlp2parquet_handlers::Request;
use otlp2parquet_writer::Table;
use tokio::sync::oneshot;

const MAGIC: &[u8; 8] = b"O2PWAL01";
/// A segment is sealed once it holds this much; the next append opens a new one.
pub const SEGMENT_BYTES: u64 = 64 << 20;
/// One group commit writes at most about this much; the rest waits for the next sync.
const GROUP_BYTES: usize = 16 << 20;
/// `len` + `crc`.
const HEADER: usize = 8;
const KIND_ENTRY: u8 = 1;
const KIND_INTENT: u8 = 2;
const KIND_CANCEL: u8 = 3;
/// Kind byte + sequence number, at the start of every payload.
const PREFIX: usize = 9;

/// Where a record lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// The segment file's number.
    pub segment: u64,
    /// The record's sequence number, unique across segments and restarts.
    pub seq: u64,
}

/// A logged request: its record payload, shared between the log thread that writes it and the
/// request task that converts it, and where its fields lie in it.
#[derive(Debug, Clone)]
pub struct Entry {
    payload: Bytes,
    signal: Signal,
    received_at_ns: i64,
    /// `request.max_payload_bytes` when it was received: replay decodes under the same bound.
    limit: u64,
    content_type: Option<Range<usize>>,
    content_encoding: Option<Range<usize>>,
    body: usize,
}

impl Entry {
    /// The request as it will be logged (one copy of the body).
    pub fn of(request: &Request<'_>, limit: usize) -> Entry {
        let mut out = prefix(KIND_ENTRY, request.body.len() + 64);
        out.push(signal_code(request.signal));
        out.extend_from_slice(&request.received_at_ns.to_le_bytes());
        out.extend_from_slice(&(limit as u64).to_le_bytes());
        let content_type = put_opt_str(&mut out, request.content_type);
        let content_encoding = put_opt_str(&mut out, request.content_encoding);
        let body = out.len();
        out.extend_from_slice(request.body);
        Entry {
            payload: Bytes::from(out),
            signal: request.signal,
            received_at_ns: request.received_at_ns,
            limit: limit as u64,
            content_type,
            content_encoding,
            body,
        }
    }

    /// The request again (for conversion, at once or at replay).
    pub fn request(&self) -> Request<'_> {
        let text = |r: &Option<Range<usize>>| {
            r.clone()
                .and_then(|r| self.payload.get(r))
                .and_then(|b| std::str::from_utf8(b).ok())
        };
        Request {
            signal: self.signal,
            content_type: text(&self.content_type),
            content_encoding: text(&self.content_encoding),
            body: self.payload.get(self.body..).unwrap_or_default(),
            received_at_ns: self.received_at_ns,
        }
    }

    /// The payload bound the request was received under.
    pub fn limit(&self) -> usize {
        usize::try_from(self.limit).unwrap_or(usize::MAX)
    }

    fn parse(payload: &[u8]) -> Option<Entry> {
        let mut r = Reader(payload, 0);
        r.u8()?;
        r.array::<8>()?;
        let signal = signal_of(r.u8()?)?;
        let received_at_ns = i64::from_le_bytes(r.array()?);
        let limit = u64::from_le_bytes(r.array()?);
        let content_type = r.opt_range()?;
        let content_encoding = r.opt_range()?;
        Some(Entry {
            payload: Bytes::copy_from_slice(payload),
            signal,
            received_at_ns,
            limit,
            content_type,
            content_encoding,
            body: r.1,
        })
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        // Everything but the sequence number slot.
        self.payload.get(PREFIX..) == other.payload.get(PREFIX..)
    }
}

/// A file about to be written: its key and the rows (by buffer and entry) it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// The object key the file is written to.
    pub object: String,
    /// The buffer's table.
    pub table: Table,
    /// The buffer's service.
    pub service: String,
    /// The buffer's hour bucket.
    pub hour: i64,
    /// The entries whose partitions of this buffer are in the file, in order, each once.
    pub seqs: Vec<u64>,
}

impl Intent {
    fn payload(&self) -> Vec<u8> {
        let mut out = prefix(KIND_INTENT, 64 + self.object.len() + 8 * self.seqs.len());
        out.push(table_code(self.table));
        out.extend_from_slice(&self.hour.to_le_bytes());
        put_opt_str(&mut out, Some(&self.service));
        put_opt_str(&mut out, Some(&self.object));
        for seq in &self.seqs {
            out.extend_from_slice(&seq.to_le_bytes());
        }
        out
    }

    fn parse(mut r: Reader<'_>) -> Option<Intent> {
        r.u8()?;
        r.array::<8>()?;
        let table = Table::ALL.get(usize::from(r.u8()?)).copied()?;
        let hour = i64::from_le_bytes(r.array()?);
        let service = r.opt_str()??;
        let object = r.opt_str()??;
        let rest = r.rest();
        if !rest.len().is_multiple_of(8) {
            return None;
        }
        let seqs = rest
            .chunks_exact(8)
            .filter_map(|c| c.try_into().ok().map(u64::from_le_bytes))
            .collect();
        Some(Intent {
            object,
            table,
            service,
            hour,
            seqs,
        })
    }
}

/// A record read back.
#[derive(Debug)]
pub enum Record {
    /// A logged request.
    Entry(Entry),
    /// A file that was about to be written.
    Intent(Intent),
    /// The entry with this sequence number was refused after all (never acknowledged).
    Cancel(u64),
}

/// What reading one segment found besides its records.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadStats {
    /// Valid records.
    pub records: u64,
    /// Records whose checksum or content was wrong, skipped.
    pub corrupt: u64,
    /// Bytes at the end that do not form a whole record (a write cut short), ignored.
    pub torn_bytes: u64,
}

/// The segment files in `dir`, by number.
pub fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for item in fs::read_dir(dir)? {
        let path = item?.path();
        let number = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| u64::from_str_radix(n, 16).ok());
        if let Some(n) = number {
            out.push((n, path));
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:016x}.wal"))
}

/// Reads one segment, calling `each` for every valid record in order.
pub fn read_segment(
    path: &Path,
    segment: u64,
    mut each: impl FnMut(Position, Record),
) -> io::Result<ReadStats> {
    let data = fs::read(path)?;
    let mut stats = ReadStats::default();
    let Some(mut rest) = data.strip_prefix(MAGIC.as_slice()) else {
        // A segment created but never written to (crash right after create) is empty.
        stats.torn_bytes = data.len() as u64;
        return Ok(stats);
    };
    while !rest.is_empty() {
        let header = rest
            .get(..HEADER)
            .and_then(|h| <[u8; HEADER]>::try_from(h).ok());
        let Some(header) = header else { break };
        let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
        let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
        let crc = u32::from_le_bytes([c0, c1, c2, c3]);
        let Some(payload) = rest.get(HEADER..HEADER.saturating_add(len)) else {
            break;
        };
        rest = rest.get(HEADER + len..).unwrap_or_default();
        if crc32fast::hash(payload) != crc {
            // The length may be right while the bytes are not (a bit flip): skip one record.
            // If the length itself is wrong the following records fail their checks too.
            stats.corrupt += 1;
            continue;
        }
        match parse(payload) {
            Some((seq, record)) => {
                stats.records += 1;
                each(Position { segment, seq }, record);
            }
            None => stats.corrupt += 1,
        }
    }
    stats.torn_bytes = rest.len() as u64;
    Ok(stats)
}

fn parse(payload: &[u8]) -> Option<(u64, Record)> {
    let mut r = Reader(payload, 0);
    let kind = r.u8()?;
    let seq = u64::from_le_bytes(r.array()?);
    let record = match kind {
        KIND_ENTRY => Record::Entry(Entry::parse(payload)?),
        KIND_INTENT => Record::Intent(Intent::parse(Reader(payload, 0))?),
        KIND_CANCEL => Record::Cancel(u64::from_le_bytes(r.array()?)),
        _ => return None,
    };
    Some((seq, record))
}

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
        self.send(entry.payload.clone(), refs)
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
        let mut payload = prefix(KIND_CANCEL, 17);
        payload.extend_from_slice(&at.seq.to_le_bytes());
        self.send(Bytes::from(payload), 0).wait().await
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
            let seq = first_seq + i as u64;
            buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            // The payload's sequence number is filled in here, where the order is decided
            // (the payload itself is shared with the request task, so it is not patched).
            let kind = payload.first().copied().unwrap_or_default();
            let tail = payload.get(PREFIX..).unwrap_or_default();
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(&[kind]);
            hasher.update(&seq.to_le_bytes());
            hasher.update(tail);
            buf.extend_from_slice(&hasher.finalize().to_le_bytes());
            buf.push(kind);
            buf.extend_from_slice(&seq.to_le_bytes());
            buf.extend_from_slice(tail);
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

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn prefix(kind: u8, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.push(kind);
    out.extend_from_slice(&[0; 8]);
    out
}

/// Appends an optional string (u16 length, `u16::MAX` for none); returns where its bytes lie.
fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) -> Option<Range<usize>> {
    match s {
        // Header values and keys are far below 64 KiB; longer ones are cut at a character
        // boundary, never panicked on.
        Some(s) => {
            let mut len = s.len().min(usize::from(u16::MAX - 1));
            while !s.is_char_boundary(len) {
                len -= 1;
            }
            out.extend_from_slice(&(len as u16).to_le_bytes());
            let start = out.len();
            out.extend_from_slice(s.as_bytes().get(..len).unwrap_or_default());
            Some(start..start + len)
        }
        None => {
            out.extend_from_slice(&u16::MAX.to_le_bytes());
            None
        }
    }
}

fn signal_code(signal: Signal) -> u8 {
    match signal {
        Signal::Logs => 0,
        Signal::Traces => 1,
        Signal::Metrics => 2,
    }
}

fn signal_of(code: u8) -> Option<Signal> {
    Signal::ALL.get(usize::from(code)).copied()
}

fn table_code(table: Table) -> u8 {
    Table::ALL
        .iter()
        .position(|t| *t == table)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

/// A cursor over a payload (and how far it is in); every read is checked.
struct Reader<'a>(&'a [u8], usize);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        self.1 += n;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// Where an optional UTF-8 string lies: `Some(None)` when absent, `None` when malformed.
    fn opt_range(&mut self) -> Option<Option<Range<usize>>> {
        let len = u16::from_le_bytes(self.array()?);
        if len == u16::MAX {
            return Some(None);
        }
        let start = self.1;
        let bytes = self.take(usize::from(len))?;
        std::str::from_utf8(bytes).ok()?;
        Some(Some(start..start + usize::from(len)))
    }

    /// `Some(None)` for an absent string, `None` when the payload is malformed.
    fn opt_str(&mut self) -> Option<Option<String>> {
        let len = u16::from_le_bytes(self.array()?);
        if len == u16::MAX {
            return Some(None);
        }
        let bytes = self.take(usize::from(len))?;
        String::from_utf8(bytes.to_vec()).ok().map(Some)
    }

    fn rest(self) -> &'a [u8] {
        self.0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use super::*;

    /// A fresh directory under the system temp dir, removed on drop.
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> TempDir {
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("otlp2parquet-wal-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

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

    #[test]
    fn a_file_that_is_not_a_segment_is_ignored_and_an_empty_one_reads_as_torn() {
        let dir = TempDir::new("names");
        fs::write(dir.0.join("notes.txt"), b"hello").unwrap();
        fs::write(dir.0.join("00000000000000ff.wal"), b"O2P").unwrap();
        let found = segments(&dir.0).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 255);
        let stats = read_segment(&found[0].1, 255, |_, _| panic!("no record")).unwrap();
        assert_eq!(stats.torn_bytes, 3);
    }
}
