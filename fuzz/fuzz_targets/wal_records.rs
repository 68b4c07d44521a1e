//! The write-ahead log's record parser: segment bytes or one record payload, as a crash or a
//! bad disk may leave them.
//!
//! Input layout: byte 0 modulo 3 picks what the rest is: 0 a segment's records (the magic is
//! prepended), 1 a whole segment file (magic included, or not: then nothing is read), 2 one
//! record payload for `decode`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp2parquet_wal::{Entry, MAGIC, Record, decode, scan};

/// The segment number the fuzzed bytes are read as.
const SEGMENT: u64 = 0x2a;
/// `len u32 | crc32 u32` before every record.
const HEADER: u64 = 8;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => check_scan(&[MAGIC.as_slice(), rest].concat()),
        1 => check_scan(rest),
        _ => check_decode(rest),
    }
});

/// `scan` over `segment`: every record it reports is counted once, and the counts never
/// claim more bytes than there are.
fn check_scan(segment: &[u8]) {
    let mut callbacks = 0u64;
    let stats = scan(segment, SEGMENT, |at, record| {
        callbacks += 1;
        assert_eq!(at.segment, SEGMENT, "a record of another segment");
        if let Record::Entry(entry) = &record {
            check_entry(entry, segment.len());
        }
    });
    assert_eq!(
        stats.records, callbacks,
        "records counted != records reported"
    );
    let Some(records) = segment.strip_prefix(MAGIC.as_slice()) else {
        assert_eq!(
            (stats.records, stats.corrupt),
            (0, 0),
            "records without the magic"
        );
        assert_eq!(stats.torn_bytes, segment.len() as u64);
        return;
    };
    // Each record, valid or corrupt, took at least its header; the torn tail is what is left.
    let claimed = HEADER * (stats.records + stats.corrupt) + stats.torn_bytes;
    assert!(
        claimed <= records.len() as u64,
        "{stats:?} claims {claimed} of {} bytes",
        records.len()
    );
}

/// `decode` over one payload: an entry's body is the payload's tail, and the sequence number
/// is the one in the payload's prefix.
fn check_decode(payload: &[u8]) {
    let Some((seq, record)) = decode(payload) else {
        return;
    };
    let prefix = payload.get(1..9).and_then(|s| <[u8; 8]>::try_from(s).ok());
    assert_eq!(prefix.map(u64::from_le_bytes), Some(seq), "sequence number");
    match &record {
        Record::Entry(entry) => {
            check_entry(entry, payload.len());
            assert!(
                payload.ends_with(entry.request().body),
                "the body is not the payload's tail"
            );
        }
        Record::Intent(intent) => {
            assert!(
                8 * intent.seqs.len() <= payload.len(),
                "more seqs than bytes"
            );
            assert!(intent.object.len() + intent.service.len() <= payload.len());
        }
        Record::Cancel(_) => assert!(payload.len() >= 17, "a cancel without its seq"),
    }
}

/// An entry read back gives a request that fits in the `len` bytes it came from and that logs
/// as the same entry again (the format round-trips).
fn check_entry(entry: &Entry, len: usize) {
    let request = entry.request();
    assert!(request.body.len() <= len, "a body longer than its input");
    for header in [request.content_type, request.content_encoding]
        .into_iter()
        .flatten()
    {
        assert!(
            header.len() < usize::from(u16::MAX),
            "a header past its u16 length"
        );
    }
    assert_eq!(
        &Entry::of(&request, entry.limit()),
        entry,
        "the entry does not log as itself again"
    );
}
