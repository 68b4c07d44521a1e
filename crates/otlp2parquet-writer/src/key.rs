//! Object keys (docs/keys.md): one pure function from (prefix, table, service, event time,
//! token) to the key of a file.
//!
//! ```text
//! {prefix}{logs|traces|metrics/<kind>}/{service}/year=YYYY/month=MM/day=DD/hour=HH/{micros}-{uuid}.parquet
//! ```
//!
//! The date parts are the UTC hour of the earliest row; `{micros}` is that row's time in µs since
//! the epoch (floored, so times before 1970 give negative numbers, as the reference does) and
//! `{uuid}` is the caller's random 128-bit token as 32 lowercase hex digits. The service segment
//! always goes through [`safe_service_name`], so no service name can add a path segment or
//! climb out of the prefix.
//!
//! The calendar arithmetic is written here (days → civil date) instead of pulling in a date
//! crate: it is a dozen lines, and the Worker build pays for every dependency.
use std::borrow::Cow;
use std::fmt::Write as _;

use crate::Table;

/// Longest service segment, in bytes (docs/keys.md#service-names).
pub const MAX_SERVICE_BYTES: usize = 128;

/// The segment used when a service name is empty, `.` or `..`.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

const NANOS_PER_HOUR: i64 = 3_600_000_000_000;

/// The service name made safe for every store (docs/keys.md#service-names): each character outside
/// `[A-Za-z0-9._-]` becomes one `_`, `""`, `.` and `..` become `unknown_service`, and the
/// result is cut to 128 bytes (it is ASCII, so any cut is a character boundary).
///
/// Borrows `name` when it is already safe, so the common case does not allocate.
pub fn safe_service_name(name: &str) -> Cow<'_, str> {
    let already_safe = name.len() <= MAX_SERVICE_BYTES
        && !matches!(name, "" | "." | "..")
        && name.bytes().all(is_safe_byte);
    if already_safe {
        return Cow::Borrowed(name);
    }
    let mut safe: String = name
        .chars()
        .take(MAX_SERVICE_BYTES)
        .map(|c| {
            if c.is_ascii() && is_safe_byte(c as u8) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if matches!(safe.as_str(), "" | "." | "..") {
        safe = UNKNOWN_SERVICE.to_owned();
    }
    Cow::Owned(safe)
}

fn is_safe_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// The object key of a file (docs/keys.md#layout) holding rows of `table` for `service`, whose
/// earliest row time is `earliest_ns` (ns since the epoch, UTC), made unique by `token`.
///
/// `prefix` is used as given (a prefix meant as a directory ends in `/`, e.g. `otlp/`); the
/// service is made safe here whatever the caller passed.
pub fn object_key(
    prefix: &str,
    table: Table,
    service: &str,
    earliest_ns: i64,
    token: u128,
) -> String {
    let service = safe_service_name(service);
    let hour = hour_bucket(earliest_ns);
    let (year, month, day) = civil_from_days(hour.div_euclid(24));
    let hour_of_day = hour.rem_euclid(24);
    let micros = earliest_ns.div_euclid(1_000);
    let mut key = String::with_capacity(prefix.len() + service.len() + 120);
    key.push_str(prefix);
    key.push_str(table.key_path());
    key.push('/');
    key.push_str(&service);
    // Writing to a String cannot fail.
    let _ = write!(
        key,
        "/year={year:04}/month={month:02}/day={day:02}/hour={hour_of_day:02}/{micros}-{token:032x}.parquet"
    );
    key
}

/// The hour `ns` falls in, as whole hours since the epoch (floored, so it is correct before
/// 1970 too). Rows with the same bucket share a file.
pub fn hour_bucket(ns: i64) -> i64 {
    ns.div_euclid(NANOS_PER_HOUR)
}

/// An hour ([`hour_bucket`]) as `YYYY-MM-DDTHH` (UTC), which sorts as the hours do (from year
/// 0 to 9999).
pub fn hour_label(hour: i64) -> String {
    let (year, month, day) = civil_from_days(hour.div_euclid(24));
    format!("{year:04}-{month:02}-{day:02}T{:02}", hour.rem_euclid(24))
}

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01.
///
/// Howard Hinnant's `civil_from_days`: counts in 400-year eras starting on March 1st, so the
/// leap day is the last day of its year and needs no special case.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let mp = (5 * day_of_year + 2) / 153; // March = 0 … February = 11
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(19_783), (2024, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-25_508), (1900, 3, 1));
    }

    #[test]
    fn civil_dates_agree_with_a_day_by_day_walk() {
        // Walk forward from 1600-01-01 one day at a time with the Gregorian month lengths.
        fn days_in(year: i64, month: i64) -> i64 {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            }
        }
        let (mut y, mut m, mut d) = (1600, 1, 1);
        for days in -135_140..150_000 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            d += 1;
            if d > days_in(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn hour_buckets_floor() {
        assert_eq!(hour_bucket(0), 0);
        assert_eq!(hour_bucket(NANOS_PER_HOUR - 1), 0);
        assert_eq!(hour_bucket(NANOS_PER_HOUR), 1);
        assert_eq!(hour_bucket(-1), -1);
        assert_eq!(hour_bucket(-NANOS_PER_HOUR), -1);
        assert_eq!(hour_bucket(-NANOS_PER_HOUR - 1), -2);
    }
}
