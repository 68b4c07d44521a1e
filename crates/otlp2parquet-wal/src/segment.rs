//! Segment files: `<16 hex digits>.wal`, each [`MAGIC`] followed by records
//! `len: u32 LE | crc32: u32 LE | payload`, the checksum covering the payload.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::record::{PREFIX, Position, Record, decode};

/// The 8 bytes every segment file starts with.
pub const MAGIC: &[u8; 8] = b"O2PWAL01";
/// `len` + `crc`.
pub(crate) const HEADER: usize = 8;

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

/// The file of segment number `segment` in `dir`.
pub(crate) fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:016x}.wal"))
}

/// Reads one segment, calling `each` for every valid record in order.
pub fn read_segment(
    path: &Path,
    segment: u64,
    each: impl FnMut(Position, Record),
) -> io::Result<ReadStats> {
    let data = fs::read(path)?;
    Ok(scan(&data, segment, each))
}

/// Reads the bytes `data` of segment number `segment`, calling `each` for every valid record
/// in order. Never fails: bad records are skipped and counted, and a tail that is no whole
/// record is counted as torn.
pub fn scan(data: &[u8], segment: u64, mut each: impl FnMut(Position, Record)) -> ReadStats {
    let mut stats = ReadStats::default();
    let Some(mut rest) = data.strip_prefix(MAGIC.as_slice()) else {
        // A segment created but never written to (crash right after create) is empty.
        stats.torn_bytes = data.len() as u64;
        return stats;
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
        match decode(payload) {
            Some((seq, record)) => {
                stats.records += 1;
                each(Position { segment, seq }, record);
            }
            None => stats.corrupt += 1,
        }
    }
    stats.torn_bytes = rest.len() as u64;
    stats
}

/// Appends the record of `payload` to `buf` with its sequence number `seq` filled in:
/// `len | crc32 | payload`.
pub(crate) fn frame(buf: &mut Vec<u8>, payload: &[u8], seq: u64) {
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    // The payload's sequence number is filled in here, where the order is decided (the
    // payload itself is shared with the request task, so it is not patched).
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

/// Syncs `dir` itself, so that a file created or deleted in it stays so after a crash.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::TempDir;

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

    #[test]
    fn scan_reads_framed_records_and_counts_what_it_skips() {
        let cancel = crate::record::cancel_payload(7);
        let mut data = MAGIC.to_vec();
        frame(&mut data, &cancel, 3);
        let good = data.len();
        frame(&mut data, &cancel, 4);
        // A flipped bit in the second record's payload, then half a header.
        data[good + HEADER + 1] ^= 0x01;
        data.extend_from_slice(&[1, 2, 3, 4]);
        let mut seen = Vec::new();
        let stats = scan(&data, 9, |at, r| seen.push((at, r)));
        assert_eq!(
            stats,
            ReadStats {
                records: 1,
                corrupt: 1,
                torn_bytes: 4
            }
        );
        match &seen[..] {
            [(at, Record::Cancel(7))] => assert_eq!(*at, Position { segment: 9, seq: 3 }),
            other => panic!("unexpected records {other:?}"),
        }
    }
}
