//! The spool format every target shares (docs/adr/0012-worker-spool.md,
//! docs/adr/0013-lambda-spool.md): converted rows kept between the answer to a request and the
//! file they end up in.
//!
//! An [`Append`] holds the parts of one (table, service): `"OTSP"`, a version byte (1), the
//! table (its index in [`Table::ALL`]), the service (u16 LE length + UTF-8) and a u32 LE count
//! of parts; each part is its hour, its earliest row time (i64 LE each), its rows (u32 LE), its
//! Arrow memory (u64 LE), the CRC-32 of its data (u32 LE) and its data (u32 LE length + bytes:
//! the part's rows, in time order, as written by [`otlp2parquet_writer::part::encode_part`]).
//! The Worker sends one append to a Durable Object; the Lambda stores one [`SpoolObject`] per
//! request under `{prefix}_spool/` ([`spool_key`]): `"OTSQ"`, a version byte (1), the time the
//! request was received (i64 LE ns), a u32 LE count of appends and each append (u32 LE length +
//! bytes).
//!
//! The checksum is what makes decoding safe: Arrow's IPC reader trusts the buffer offsets of its
//! input (a malformed stream can make it panic), so a part is decoded only when its bytes carry
//! the checksum its encoder gave them.

use std::collections::BTreeMap;

use otlp2parquet_common::Signal;
use otlp2parquet_writer::key::{hour_bucket, hour_label};
use otlp2parquet_writer::part::encode_part;
use otlp2parquet_writer::{Partition, Table, WriterError};

const MAGIC: &[u8; 4] = b"OTSP";
const VERSION: u8 = 1;
const OBJECT_MAGIC: &[u8; 4] = b"OTSQ";
const OBJECT_VERSION: u8 = 1;

/// The directory, under the storage prefix, that spool objects live in. The leading `_` makes
/// Spark, Hive and Athena skip it, and no `*.parquet` glob matches what is inside.
pub const SPOOL_DIR: &str = "_spool/";

/// The key of a spool object: `{prefix}_spool/{signal}/{received hour}/{token}`, the hour as
/// `YYYY-MM-DDTHH` (UTC), so that a listing in key order gives the oldest hours first.
pub fn spool_key(prefix: &str, signal: Signal, received_at_ns: i64, token: u128) -> String {
    format!(
        "{prefix}{SPOOL_DIR}{}/{}/{token:032x}",
        signal.as_str(),
        hour_label(hour_bucket(received_at_ns))
    )
}

/// What one request leaves in the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolObject<'a> {
    /// When the request was received, ns since the epoch.
    pub received_at_ns: i64,
    /// Its rows, one append per (table, service).
    pub appends: Vec<Append<'a>>,
}

impl SpoolObject<'_> {
    /// The object's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let encoded: Vec<Vec<u8>> = self.appends.iter().map(Append::encode).collect();
        let total: usize = encoded.iter().map(|a| a.len() + 4).sum();
        let mut out = Vec::with_capacity(17 + total);
        out.extend_from_slice(OBJECT_MAGIC);
        out.push(OBJECT_VERSION);
        out.extend_from_slice(&self.received_at_ns.to_le_bytes());
        out.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        for a in &encoded {
            out.extend_from_slice(&(a.len() as u32).to_le_bytes());
            out.extend_from_slice(a);
        }
        out
    }
}

/// Reads a spool object; any truncation, trailing byte, bad checksum or unknown field is an
/// error.
pub fn decode_object(bytes: &[u8]) -> Result<SpoolObject<'_>, MalformedAppend> {
    let mut r = Reader(bytes);
    if r.take(4)? != OBJECT_MAGIC {
        return Err(MalformedAppend("not a spool object"));
    }
    if r.u8()? != OBJECT_VERSION {
        return Err(MalformedAppend("unknown spool object version"));
    }
    let received_at_ns = i64::from_le_bytes(r.array()?);
    let count = u32::from_le_bytes(r.array()?);
    let mut appends = Vec::new();
    for _ in 0..count {
        let len = u32::from_le_bytes(r.array()?) as usize;
        appends.push(decode_append(r.take(len)?)?);
    }
    if !r.0.is_empty() {
        return Err(MalformedAppend("trailing bytes"));
    }
    Ok(SpoolObject {
        received_at_ns,
        appends,
    })
}

/// The spool object of one request's partitions: each partition's rows encoded once
/// ([`encode_part`]), grouped by table and service.
pub fn encode_request(
    partitions: &[Partition],
    received_at_ns: i64,
) -> Result<Vec<u8>, WriterError> {
    let mut data: Vec<(Vec<u8>, &Partition)> = Vec::with_capacity(partitions.len());
    for p in partitions {
        data.push((encode_part(p.table, &p.batch)?, p));
    }
    let mut groups: BTreeMap<(usize, &str), Vec<Part<'_>>> = BTreeMap::new();
    for (bytes, p) in &data {
        let table = Table::ALL.iter().position(|t| *t == p.table).unwrap_or(0);
        groups
            .entry((table, p.service.as_str()))
            .or_default()
            .push(Part {
                hour: hour_bucket(p.min_time_ns),
                min_time_ns: p.min_time_ns,
                rows: u32::try_from(p.batch.num_rows()).unwrap_or(u32::MAX),
                arrow_bytes: p.batch.get_array_memory_size() as u64,
                data: bytes,
            });
    }
    let appends = groups
        .into_iter()
        .filter_map(|((table, service), parts)| {
            Table::ALL.get(table).map(|&table| Append {
                table,
                service,
                parts,
            })
        })
        .collect();
    Ok(SpoolObject {
        received_at_ns,
        appends,
    }
    .encode())
}

/// One part of a request: rows of one (table, service, hour), encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// Hours since the epoch.
    pub hour: i64,
    /// The earliest row time, ns since the epoch.
    pub min_time_ns: i64,
    /// Rows in `data`.
    pub rows: u32,
    /// Arrow memory of the rows (what the flush bound counts).
    pub arrow_bytes: u64,
    /// The encoded rows.
    pub data: &'a [u8],
}

/// What one append message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Append<'a> {
    /// The table.
    pub table: Table,
    /// The key-safe service name.
    pub service: &'a str,
    /// The request's parts for this table and service.
    pub parts: Vec<Part<'a>>,
}

/// Why an append message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed spool append: {0}")]
pub struct MalformedAppend(&'static str);

impl Append<'_> {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let data: usize = self.parts.iter().map(|p| p.data.len() + 32).sum();
        let mut out = Vec::with_capacity(16 + self.service.len() + data);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        let table = Table::ALL
            .iter()
            .position(|t| *t == self.table)
            .unwrap_or(0);
        out.push(table as u8);
        // Service names are key-safe, 128 bytes at most (docs/keys.md); the cut is a backstop.
        let bytes = self.service.as_bytes();
        let service = bytes.get(..usize::from(u16::MAX)).unwrap_or(bytes);
        out.extend_from_slice(&(service.len() as u16).to_le_bytes());
        out.extend_from_slice(service);
        out.extend_from_slice(&(self.parts.len() as u32).to_le_bytes());
        for p in &self.parts {
            out.extend_from_slice(&p.hour.to_le_bytes());
            out.extend_from_slice(&p.min_time_ns.to_le_bytes());
            out.extend_from_slice(&p.rows.to_le_bytes());
            out.extend_from_slice(&p.arrow_bytes.to_le_bytes());
            out.extend_from_slice(&checksum(p.data).to_le_bytes());
            out.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
            out.extend_from_slice(p.data);
        }
        out
    }
}

/// Reads an append message; any truncation, trailing byte or unknown field is an error.
pub fn decode_append(bytes: &[u8]) -> Result<Append<'_>, MalformedAppend> {
    let mut r = Reader(bytes);
    if r.take(4)? != MAGIC {
        return Err(MalformedAppend("not a spool message"));
    }
    if r.u8()? != VERSION {
        return Err(MalformedAppend("unknown version"));
    }
    let table = *Table::ALL
        .get(usize::from(r.u8()?))
        .ok_or(MalformedAppend("unknown table"))?;
    let len = u16::from_le_bytes(r.array()?);
    let service = std::str::from_utf8(r.take(usize::from(len))?)
        .map_err(|_| MalformedAppend("service is not UTF-8"))?;
    let count = u32::from_le_bytes(r.array()?);
    let mut parts = Vec::new();
    for _ in 0..count {
        let hour = i64::from_le_bytes(r.array()?);
        let min_time_ns = i64::from_le_bytes(r.array()?);
        let rows = u32::from_le_bytes(r.array()?);
        let arrow_bytes = u64::from_le_bytes(r.array()?);
        let crc = u32::from_le_bytes(r.array()?);
        let len = u32::from_le_bytes(r.array()?) as usize;
        let data = r.take(len)?;
        if checksum(data) != crc {
            return Err(MalformedAppend("part checksum mismatch"));
        }
        parts.push(Part {
            hour,
            min_time_ns,
            rows,
            arrow_bytes,
            data,
        });
    }
    if !r.0.is_empty() {
        return Err(MalformedAppend("trailing bytes"));
    }
    Ok(Append {
        table,
        service,
        parts,
    })
}

/// The CRC-32 (IEEE) of a part's data.
pub fn checksum(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MalformedAppend> {
        if n > self.0.len() {
            return Err(MalformedAppend("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], MalformedAppend> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, MalformedAppend> {
        Ok(self.array::<1>()?[0])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;
    use otlp2parquet_common::MetricKind;

    #[test]
    fn appends_round_trip_and_garbage_is_refused() {
        let message = Append {
            table: Table::Metrics(MetricKind::Histogram),
            service: "checkout",
            parts: vec![
                Part {
                    hour: 494_000,
                    min_time_ns: -5,
                    rows: 3,
                    arrow_bytes: 4_096,
                    data: b"PAR1 one",
                },
                Part {
                    hour: 494_001,
                    min_time_ns: i64::MAX,
                    rows: 0,
                    arrow_bytes: 0,
                    data: b"",
                },
            ],
        };
        let bytes = message.encode();
        assert_eq!(decode_append(&bytes), Ok(message));
        for cut in 0..bytes.len() {
            assert!(decode_append(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(decode_append(&long), Err(MalformedAppend("trailing bytes")));
        let mut table = bytes.clone();
        table[5] = 7;
        assert_eq!(decode_append(&table), Err(MalformedAppend("unknown table")));
        let mut version = bytes.clone();
        version[4] = 2;
        assert!(decode_append(&version).is_err());
        // One bit of the first part's data ("PAR1 one") flipped.
        let mut flipped = bytes;
        let at = flipped.windows(8).position(|w| w == b"PAR1 one").unwrap();
        flipped[at + 1] ^= 1;
        assert_eq!(
            decode_append(&flipped),
            Err(MalformedAppend("part checksum mismatch"))
        );
    }

    #[test]
    fn objects_round_trip_and_are_checked() {
        use otlp2parquet_proto::{ExportRequest, LogsRequest};
        use prost::Message;
        let body = otlp2parquet_proto::testing::logs_request(50, 3, 9).encode_to_vec();
        let req = LogsRequest::decode_protobuf(&body).unwrap();
        let parts = otlp2parquet_writer::convert_logs(&req, 77).unwrap();
        let bytes = encode_request(&parts, 77).unwrap();
        let object = decode_object(&bytes).unwrap();
        assert_eq!(object.received_at_ns, 77);
        let rows: u32 = object
            .appends
            .iter()
            .flat_map(|a| a.parts.iter().map(|p| p.rows))
            .sum();
        assert_eq!(rows, 50);
        assert_eq!(object.appends.len(), 3, "one append per service");
        for cut in [0, 4, 5, 13, 17, bytes.len() - 1] {
            assert!(decode_object(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(1);
        assert!(decode_object(&long).is_err());
        let part = &object.appends[0].parts[0];
        let batch = otlp2parquet_writer::part::decode_part(Table::Logs, part.data).unwrap();
        assert_eq!(batch.num_rows() as u32, part.rows);
    }

    #[test]
    fn spool_keys_sort_by_received_hour() {
        let hour = 1_705_329_000_000_000_000;
        let a = spool_key("p/", Signal::Logs, hour, 255);
        assert_eq!(
            a,
            "p/_spool/logs/2024-01-15T14/000000000000000000000000000000ff"
        );
        let later = spool_key("p/", Signal::Logs, hour + 3_600_000_000_000, 0);
        assert!(later > a);
    }
}
