//! The spool's platform-free parts (docs/adr/0012-worker-spool.md): which Durable Object a
//! request part goes to, the append message the fetch handler sends it, and the flush policy
//! its alarm applies. Plain Rust, tested natively; `object` (wasm32 only) runs them against
//! the Durable Object's SQLite storage and the R2 binding.
//!
//! An append message is `"OTSP"`, a version byte (1), the table (its index in [`Table::ALL`]),
//! the service (u16 LE length + UTF-8) and a u32 LE count of parts; each part is its hour, its
//! earliest row time (i64 LE each), its rows (u32 LE), its Arrow memory (u64 LE), the CRC-32 of
//! its data (u32 LE) and its data (u32 LE length + bytes: the part's rows, in time order, as
//! written by [`otlp2parquet_writer::part::encode_part`]).
//!
//! The checksum is what makes decoding safe: Arrow's IPC reader trusts the buffer offsets of its
//! input (a malformed stream can make it panic), so a part is decoded only when its bytes carry
//! the checksum its encoder gave them, here on arrival and again in the flush.

use otlp2parquet_writer::Table;

const MAGIC: &[u8; 4] = b"OTSP";
const VERSION: u8 = 1;
const MS_PER_HOUR: i64 = 3_600_000;

/// The most data one spooled part may hold: a Durable Object's SQLite stores at most 2 MB per
/// row, so a larger part is split before it is sent.
pub const MAX_PART_BYTES: usize = 1_536 * 1024;

/// The Durable Object that spools one table and service (shard `shard` of them).
pub fn object_name(table: Table, service: &str, shard: u32) -> String {
    format!("{}|{service}|{shard}", table.key_path())
}

/// The shard a request goes to: one of `shards`, chosen by the request's random key-token seed
/// so that load spreads evenly and no object is preferred.
pub fn shard_of(seed: u128, shards: u32) -> u32 {
    let shards = u128::from(shards.max(1));
    // `seed % shards` < shards <= u32::MAX.
    u32::try_from(seed % shards).unwrap_or(0)
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

/// The flush limits, from `[batch]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A file is written once an hour holds this many rows …
    pub max_rows: u64,
    /// … or this much Arrow memory (also what one flush reads at most) …
    pub max_bytes: u64,
    /// … or when its oldest part has waited this long.
    pub max_age_ms: i64,
}

/// What the spool holds for one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourStats {
    /// Hours since the epoch.
    pub hour: i64,
    /// Rows spooled.
    pub rows: u64,
    /// Their Arrow memory.
    pub arrow_bytes: u64,
    /// When the oldest part arrived, ms since the epoch.
    pub oldest_arrival_ms: i64,
}

impl HourStats {
    /// When this hour's rows are due to be written, ms since the epoch: now if they reach a
    /// size limit, else when the oldest part reaches `max_age`, or when the hour ends if it had
    /// not ended when that part arrived (late rows of a closed hour wait for their age, so a
    /// backlog does not become one small file per request).
    pub fn due_ms(&self, limits: &Limits) -> i64 {
        if self.rows >= limits.max_rows || self.arrow_bytes >= limits.max_bytes {
            return i64::MIN;
        }
        let aged = self.oldest_arrival_ms.saturating_add(limits.max_age_ms);
        let arrival_hour = self.oldest_arrival_ms.div_euclid(MS_PER_HOUR);
        if arrival_hour <= self.hour {
            aged.min(self.hour.saturating_add(1).saturating_mul(MS_PER_HOUR))
        } else {
            aged
        }
    }
}

/// The hour to flush first (the one due earliest) and when, or `None` for an empty spool.
pub fn next_flush(hours: &[HourStats], limits: &Limits) -> Option<(i64, i64)> {
    hours
        .iter()
        .map(|h| (h.due_ms(limits), h.hour))
        .min()
        .map(|(due, hour)| (hour, due))
}

/// How long the alarm waits after the `failures`-th failed flush in a row: 1 s doubling to a
/// minute.
pub fn backoff_ms(failures: u32) -> i64 {
    1_000i64.saturating_mul(1i64 << failures.min(6)).min(60_000)
}

/// One spooled part as the flush sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spooled {
    /// Its row id (spool order).
    pub id: i64,
    /// Rows.
    pub rows: u64,
    /// Arrow memory.
    pub arrow_bytes: u64,
}

/// The parts one flush takes, in spool order: at least the first, then as long as the rows and
/// Arrow memory stay within the limits. Returns the last id taken.
pub fn flush_extent(parts: &[Spooled], limits: &Limits) -> Option<i64> {
    let mut rows = 0u64;
    let mut bytes = 0u64;
    let mut last = None;
    for p in parts {
        rows = rows.saturating_add(p.rows);
        bytes = bytes.saturating_add(p.arrow_bytes);
        if last.is_some() && (rows > limits.max_rows || bytes > limits.max_bytes) {
            break;
        }
        last = Some(p.id);
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp2parquet_common::MetricKind;

    const LIMITS: Limits = Limits {
        max_rows: 1_000,
        max_bytes: 1 << 20,
        max_age_ms: 300_000,
    };

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
    fn object_names_and_shards() {
        assert_eq!(object_name(Table::Logs, "api", 0), "logs|api|0");
        assert_eq!(
            object_name(Table::Metrics(MetricKind::Sum), "a.b", 3),
            "metrics/sum|a.b|3"
        );
        assert_eq!(shard_of(u128::MAX, 1), 0);
        assert_eq!(shard_of(7, 0), 0);
        let mut seen = [0u32; 4];
        for seed in 0..400u128 {
            seen[shard_of(seed * 0x9e37_79b9_7f4a_7c15, 4) as usize] += 1;
        }
        assert!(seen.iter().all(|n| *n > 50), "{seen:?}");
    }

    #[test]
    fn an_hour_is_due_at_a_size_limit_its_age_or_its_end() {
        let hour = 480_000;
        let start = hour * MS_PER_HOUR;
        let open = HourStats {
            hour,
            rows: 10,
            arrow_bytes: 100,
            oldest_arrival_ms: start + 60_000,
        };
        assert_eq!(open.due_ms(&LIMITS), start + 360_000);
        // Arrived two minutes before the hour ends: due at its end.
        let closing = HourStats {
            oldest_arrival_ms: start + MS_PER_HOUR - 120_000,
            ..open
        };
        assert_eq!(closing.due_ms(&LIMITS), start + MS_PER_HOUR);
        // Rows of an hour long past wait for their age.
        let late = HourStats {
            oldest_arrival_ms: start + 5 * MS_PER_HOUR,
            ..open
        };
        assert_eq!(late.due_ms(&LIMITS), start + 5 * MS_PER_HOUR + 300_000);
        let full = HourStats {
            rows: 1_000,
            ..open
        };
        assert_eq!(full.due_ms(&LIMITS), i64::MIN);
        let heavy = HourStats {
            arrow_bytes: 1 << 20,
            ..open
        };
        assert_eq!(heavy.due_ms(&LIMITS), i64::MIN);

        assert_eq!(next_flush(&[], &LIMITS), None);
        assert_eq!(
            next_flush(
                &[
                    open,
                    HourStats {
                        hour: hour + 1,
                        ..full
                    }
                ],
                &LIMITS
            ),
            Some((hour + 1, i64::MIN))
        );
    }

    #[test]
    fn a_flush_takes_parts_up_to_the_limits_and_at_least_one() {
        let part = |id, rows, arrow_bytes| Spooled {
            id,
            rows,
            arrow_bytes,
        };
        assert_eq!(flush_extent(&[], &LIMITS), None);
        assert_eq!(flush_extent(&[part(4, 5_000, 1)], &LIMITS), Some(4));
        assert_eq!(
            flush_extent(&[part(1, 400, 1), part(2, 600, 1), part(3, 1, 1)], &LIMITS),
            Some(2)
        );
        assert_eq!(
            flush_extent(&[part(1, 1, 1 << 19), part(2, 1, 1 << 20)], &LIMITS),
            Some(1)
        );
    }

    #[test]
    fn backoff_doubles_to_a_minute() {
        assert_eq!(backoff_ms(0), 1_000);
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(5), 32_000);
        assert_eq!(backoff_ms(6), 60_000);
        assert_eq!(backoff_ms(u32::MAX), 60_000);
    }
}
