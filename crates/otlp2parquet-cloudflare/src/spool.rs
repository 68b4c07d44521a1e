//! The spool's platform-free parts (docs/adr/0012-worker-spool.md): which Durable Object a
//! request part goes to, the append message the fetch handler sends it, and the flush policy
//! its alarm applies. Plain Rust, tested natively; `object` (wasm32 only) runs them against
//! the Durable Object's SQLite storage and the R2 binding.
//!
//! The append message the fetch handler sends a Durable Object is the spool format every
//! target shares ([`otlp2parquet_batch::spool::Append`]): each part carries a CRC-32 of its data,
//! checked on arrival and again in the flush, because Arrow's IPC reader trusts the buffer
//! offsets of its input.

pub use otlp2parquet_batch::spool::{Append, MalformedAppend, Part, checksum, decode_append};
use otlp2parquet_writer::Table;

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
