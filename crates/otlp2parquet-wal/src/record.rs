//! The record payloads: entries (requests as received), intents (files about to be written)
//! and cancels, and how they are encoded and decoded.
//!
//! Every payload starts with a kind byte and the record's sequence number (u64 LE, filled in
//! by the log thread when it decides the order). Strings are a u16 LE length (`u16::MAX` for
//! none) and their UTF-8 bytes.

use std::ops::Range;

use bytes::Bytes;
use otlp2parquet_common::Signal;
use otlp2parquet_handlers::Request;
use otlp2parquet_writer::Table;

pub(crate) const KIND_ENTRY: u8 = 1;
pub(crate) const KIND_INTENT: u8 = 2;
pub(crate) const KIND_CANCEL: u8 = 3;
/// Kind byte + sequence number, at the start of every payload.
pub(crate) const PREFIX: usize = 9;

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

    /// The record payload (its sequence number slot is zero until the log thread fills it in
    /// as it writes the record).
    pub(crate) fn payload(&self) -> &Bytes {
        &self.payload
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
    /// The intent's record payload (sequence number slot zero).
    pub(crate) fn payload(&self) -> Vec<u8> {
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

/// The payload of a cancel record for the entry with sequence number `seq`.
pub(crate) fn cancel_payload(seq: u64) -> Vec<u8> {
    let mut payload = prefix(KIND_CANCEL, 17);
    payload.extend_from_slice(&seq.to_le_bytes());
    payload
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

/// Decodes one record payload (the bytes after a record's `len | crc32` header): its sequence
/// number and the record, or `None` when the payload is malformed or of an unknown kind.
pub fn decode(payload: &[u8]) -> Option<(u64, Record)> {
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
mod tests {
    use super::*;

    #[test]
    fn payloads_decode_to_what_was_encoded_and_malformed_ones_to_nothing() {
        let request = Request {
            signal: Signal::Metrics,
            content_type: Some("application/json"),
            content_encoding: None,
            body: b"{}",
            received_at_ns: -5,
        };
        let entry = Entry::of(&request, 99);
        match decode(entry.payload()) {
            Some((0, Record::Entry(e))) => {
                assert_eq!(e, entry);
                assert_eq!(e.request().content_type, Some("application/json"));
                assert_eq!(e.request().body, b"{}");
                assert_eq!(e.limit(), 99);
            }
            other => panic!("unexpected {other:?}"),
        }
        let intent = Intent {
            object: "metrics_gauge/x.parquet".to_owned(),
            table: Table::ALL[3],
            service: "svc".to_owned(),
            hour: 7,
            seqs: vec![1, 2],
        };
        match decode(&intent.payload()) {
            Some((0, Record::Intent(i))) => assert_eq!(i, intent),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            decode(&cancel_payload(4)),
            Some((0, Record::Cancel(4)))
        ));
        // An unknown kind, a payload cut short, and seqs not a multiple of 8 bytes.
        let mut unknown = cancel_payload(4);
        unknown[0] = 9;
        assert!(decode(&unknown).is_none());
        assert!(decode(&entry.payload()[..PREFIX + 3]).is_none());
        let mut odd = intent.payload();
        odd.push(0);
        assert!(decode(&odd).is_none());
    }
}
