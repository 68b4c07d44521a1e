//! Object keys as docs/keys.md#layout spells them, checked field by field.

/// The metric tables, in the order of docs/schema.md#metrics.
pub const METRIC_KINDS: [&str; 5] = [
    "gauge",
    "sum",
    "histogram",
    "exponential_histogram",
    "summary",
];

/// (year, month, day, hour) in UTC of `micros` since the epoch (Hinnant's civil-from-days).
pub fn utc_hour(micros: i64) -> (i64, i64, i64, i64) {
    let secs = micros.div_euclid(1_000_000);
    let (days, hour) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) / 3_600);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, hour)
}

/// The parts of a checked key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParts {
    /// `logs`, `traces` or `metrics/<kind>`.
    pub table: String,
    /// The service segment.
    pub service: String,
    /// The file's `{micros}`: its earliest record time.
    pub micros: i64,
    /// The partition directory (the key without the file name).
    pub dir: String,
}

/// Checks `key` against docs/keys.md#layout under `prefix`: table, a store-safe service segment,
/// `year=/month=/day=/hour=` matching the file's `{micros}`, and a 32-lowercase-hex uuid.
/// Panics naming what is wrong.
pub fn check_key(key: &str, prefix: &str) -> KeyParts {
    let rest = key
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{key}: not under the prefix {prefix:?}"));
    let parts: Vec<&str> = rest.split('/').collect();
    let (table, tail) = match parts[0] {
        "logs" | "traces" => (parts[0].to_owned(), &parts[1..]),
        "metrics" => {
            assert!(
                parts.len() > 1 && METRIC_KINDS.contains(&parts[1]),
                "{key}: unknown metric kind"
            );
            (format!("metrics/{}", parts[1]), &parts[2..])
        }
        other => panic!("{key}: unknown table {other:?}"),
    };
    assert_eq!(
        tail.len(),
        6,
        "{key}: expected service/year=/month=/day=/hour=/file"
    );
    let service = tail[0];
    assert!(
        !service.is_empty()
            && service.len() <= 128
            && service
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
        "{key}: unsafe service segment"
    );
    let (micros, uuid) = tail[5]
        .strip_suffix(".parquet")
        .and_then(|f| f.split_once('-'))
        .unwrap_or_else(|| panic!("{key}: file name is not {{micros}}-{{uuid}}.parquet"));
    let micros: i64 = micros
        .parse()
        .unwrap_or_else(|e| panic!("{key}: micros {micros:?}: {e}"));
    assert!(
        uuid.len() == 32
            && uuid
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{key}: the uuid is not 32 lowercase hex"
    );
    let (y, m, d, h) = utc_hour(micros);
    assert_eq!(
        tail[1..5].join("/"),
        format!("year={y:04}/month={m:02}/day={d:02}/hour={h:02}"),
        "{key}: the hour path does not match the file's earliest time"
    );
    KeyParts {
        table,
        service: service.to_owned(),
        micros,
        dir: key.rsplit_once('/').map_or("", |(d, _)| d).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_hours() {
        assert_eq!(utc_hour(0), (1970, 1, 1, 0));
        // 2024-02-29T23:59:59Z, a leap day.
        assert_eq!(utc_hour(1_709_251_199_000_000), (2024, 2, 29, 23));
    }

    #[test]
    fn checks_every_field() {
        let ok = "p/metrics/sum/checkout/year=2024/month=01/day=15/hour=14/1705329000000000-0123456789abcdef0123456789abcdef.parquet";
        let parts = check_key(ok, "p/");
        assert_eq!(parts.table, "metrics/sum");
        assert_eq!(parts.service, "checkout");
        assert_eq!(parts.micros, 1_705_329_000_000_000);
        let wrong_hour = ok.replace("hour=14", "hour=15");
        assert!(std::panic::catch_unwind(|| check_key(&wrong_hour, "p/")).is_err());
        let short_uuid = ok.replace("-0123", "-123");
        assert!(std::panic::catch_unwind(|| check_key(&short_uuid, "p/")).is_err());
    }
}
