//! Object keys (docs/keys.md): time edges, hostile service names, and keys produced by the
//! reference implementation (/work/shared/reference/reference.py `convert` + `object_key`).

use otlp2parquet_common::MetricKind;
use otlp2parquet_writer::key::{MAX_SERVICE_BYTES, UNKNOWN_SERVICE, hour_bucket};
use otlp2parquet_writer::{Table, object_key, safe_service_name};

const TOKEN: u128 = 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef;

/// (ns since epoch, expected date path, expected micros)
const TIMES: &[(i64, &str, i64)] = &[
    (0, "year=1970/month=01/day=01/hour=00", 0),
    // midnight
    (
        1_709_251_200_000_000_000,
        "year=2024/month=03/day=01/hour=00",
        1_709_251_200_000_000,
    ),
    // last nanosecond of an hour, then the next hour
    (
        1_709_254_799_999_999_999,
        "year=2024/month=03/day=01/hour=00",
        1_709_254_799_999_999,
    ),
    (
        1_709_254_800_000_000_000,
        "year=2024/month=03/day=01/hour=01",
        1_709_254_800_000_000,
    ),
    // year edge: 2024-12-31T23:59:59.9 and 2025-01-01T00:00
    (
        1_735_689_599_900_000_000,
        "year=2024/month=12/day=31/hour=23",
        1_735_689_599_900_000,
    ),
    (
        1_735_689_600_000_000_000,
        "year=2025/month=01/day=01/hour=00",
        1_735_689_600_000_000,
    ),
    // leap days, and February of a common year
    (
        1_709_251_199_999_999_999,
        "year=2024/month=02/day=29/hour=23",
        1_709_251_199_999_999,
    ),
    (
        951_782_400_000_000_000,
        "year=2000/month=02/day=29/hour=00",
        951_782_400_000_000,
    ),
    (
        1_677_628_799_000_000_000,
        "year=2023/month=02/day=28/hour=23",
        1_677_628_799_000_000,
    ),
    (
        1_677_628_800_000_000_000,
        "year=2023/month=03/day=01/hour=00",
        1_677_628_800_000_000,
    ),
    // before 1970: floored, never rounded towards zero
    (-1, "year=1969/month=12/day=31/hour=23", -1),
    (
        -3_600_000_000_001,
        "year=1969/month=12/day=31/hour=22",
        -3_600_000_001,
    ),
    // the ends of an i64 of nanoseconds
    (
        i64::MAX,
        "year=2262/month=04/day=11/hour=23",
        9_223_372_036_854_775,
    ),
    (
        i64::MIN,
        "year=1677/month=09/day=21/hour=00",
        -9_223_372_036_854_776,
    ),
];

#[test]
fn time_edges() {
    for &(ns, date, micros) in TIMES {
        let key = object_key("", Table::Logs, "svc", ns, TOKEN);
        let expected = format!("logs/svc/{date}/{micros}-0123456789abcdef0123456789abcdef.parquet");
        assert_eq!(key, expected, "ns = {ns}");
    }
}

#[test]
fn hour_bucket_groups_like_the_key() {
    for &(ns, _, _) in TIMES {
        let bucket = hour_bucket(ns);
        // Any time in the same bucket gets the same date path.
        let start = bucket.saturating_mul(3_600_000_000_000);
        let path = |t: i64| {
            let key = object_key("", Table::Traces, "s", t, 0);
            key.rsplit_once('/').map(|(dir, _)| dir.to_owned()).unwrap()
        };
        if start > i64::MIN {
            assert_eq!(path(start), path(ns), "ns = {ns}");
        }
        if let Some(prev) = start.checked_sub(1) {
            assert_ne!(path(prev), path(ns), "ns = {ns}");
            assert_eq!(hour_bucket(prev), bucket - 1);
        }
    }
}

#[test]
fn table_paths_and_uuid() {
    let cases = [
        (Table::Logs, "logs"),
        (Table::Traces, "traces"),
        (Table::Metrics(MetricKind::Gauge), "metrics/gauge"),
        (Table::Metrics(MetricKind::Sum), "metrics/sum"),
        (Table::Metrics(MetricKind::Histogram), "metrics/histogram"),
        (
            Table::Metrics(MetricKind::ExponentialHistogram),
            "metrics/exponential_histogram",
        ),
        (Table::Metrics(MetricKind::Summary), "metrics/summary"),
    ];
    for (table, path) in cases {
        let key = object_key("pre/", table, "a", 0, 1);
        assert_eq!(
            key,
            format!(
                "pre/{path}/a/year=1970/month=01/day=01/hour=00/0-00000000000000000000000000000001.parquet"
            )
        );
    }
    let key = object_key("", Table::Logs, "a", 0, u128::MAX);
    assert!(key.ends_with(&format!("/0-{}.parquet", "f".repeat(32))));
}

fn hostile_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "../../x",
        "a/b",
        "..",
        ".",
        "",
        "/",
        "//",
        "a//b",
        "\\..\\x",
        "日本",
        "😀",
        "\0",
        "%2e%2e",
        "%2F",
        "a b",
        "..\u{0}..",
        " .. ",
        "./.",
        "\u{2215}",
        "...",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    names.push("x".repeat(1024));
    names.push("/".repeat(1024));
    names.push("日".repeat(300));
    names
}

#[test]
fn hostile_service_names_cannot_escape() {
    let prefixes = ["", "pq/", "a/b/"];
    for prefix in prefixes {
        for table in Table::ALL {
            for name in hostile_names() {
                let key = object_key(prefix, table, &name, 1_700_000_000_000_000_000, TOKEN);
                assert!(key.starts_with(prefix), "{key}");
                let rest = &key[prefix.len()..];
                assert!(rest.starts_with(table.key_path()), "{key}");
                assert!(!key.contains("//"), "{key}");
                let segments: Vec<&str> = rest.split('/').collect();
                assert!(
                    segments
                        .iter()
                        .all(|s| !s.is_empty() && *s != "." && *s != ".."),
                    "{key}"
                );
                let expected_slashes =
                    prefix.matches('/').count() + table.key_path().matches('/').count() + 6;
                assert_eq!(key.matches('/').count(), expected_slashes, "{key}");
                let service = segments[table.key_path().matches('/').count() + 1];
                assert!(service.len() <= MAX_SERVICE_BYTES, "{key}");
                assert!(
                    service
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                    "{key}"
                );
                assert!(key.is_ascii() || !prefix.is_ascii(), "{key}");
            }
        }
    }
}

#[test]
fn safe_service_names() {
    let cases: &[(&str, &str)] = &[
        ("ledger.api", "ledger.api"),
        ("my-svc_1.2", "my-svc_1.2"),
        ("../../x", ".._.._x"),
        ("a/b", "a_b"),
        ("..", UNKNOWN_SERVICE),
        (".", UNKNOWN_SERVICE),
        ("", UNKNOWN_SERVICE),
        ("...", "..."),
        ("日本", "__"),
        ("😀", "_"),
        ("e\u{301}", "e_"),
        ("\0", "_"),
        ("%2e%2e", "_2e_2e"),
        ("a b\tc", "a_b_c"),
    ];
    for (name, expected) in cases {
        assert_eq!(safe_service_name(name), *expected, "name {name:?}");
        // Idempotent: a safe name stays as it is (and is borrowed).
        let once = safe_service_name(name);
        assert!(matches!(
            safe_service_name(&once),
            std::borrow::Cow::Borrowed(_)
        ));
    }
    assert_eq!(safe_service_name(&"x".repeat(1024)), "x".repeat(128));
    assert_eq!(safe_service_name(&"日".repeat(300)), "_".repeat(128));
    assert_eq!(safe_service_name(&"a".repeat(128)), "a".repeat(128));
    assert!(matches!(
        safe_service_name("ledger.api"),
        std::borrow::Cow::Borrowed("ledger.api")
    ));
}

/// Keys from the reference: `object_key(k, "0123456789abcdef0123456789abcdef")` for each key `k`
/// of `convert(signal, request, 1, prefix)`, with one record per request.
#[test]
fn keys_match_reference() {
    let cases: &[(&str, Table, &str, i64, &str)] = &[
        (
            "pq/",
            Table::Logs,
            "ledger.api",
            1_735_689_599_900_000_000,
            "pq/logs/ledger.api/year=2024/month=12/day=31/hour=23/1735689599900000-0123456789abcdef0123456789abcdef.parquet",
        ),
        (
            "",
            Table::Logs,
            "../../x",
            1_709_251_199_999_999_999,
            "logs/.._.._x/year=2024/month=02/day=29/hour=23/1709251199999999-0123456789abcdef0123456789abcdef.parquet",
        ),
        (
            "p/",
            Table::Logs,
            "日本😀 a/b",
            1_709_251_200_000_000_000,
            "p/logs/____a_b/year=2024/month=03/day=01/hour=00/1709251200000000-0123456789abcdef0123456789abcdef.parquet",
        ),
        (
            "",
            Table::Logs,
            "",
            1,
            "logs/unknown_service/year=1970/month=01/day=01/hour=00/0-0123456789abcdef0123456789abcdef.parquet",
        ),
        (
            "",
            Table::Logs,
            "%2e%2e",
            1_700_000_000_123_456_789,
            "logs/_2e_2e/year=2023/month=11/day=14/hour=22/1700000000123456-0123456789abcdef0123456789abcdef.parquet",
        ),
        (
            "x/",
            Table::Metrics(MetricKind::ExponentialHistogram),
            "ledger.api",
            1_735_689_600_000_000_000,
            "x/metrics/exponential_histogram/ledger.api/year=2025/month=01/day=01/hour=00/1735689600000000-0123456789abcdef0123456789abcdef.parquet",
        ),
        (
            "",
            Table::Metrics(MetricKind::Summary),
            "..",
            i64::MAX,
            "metrics/summary/unknown_service/year=2262/month=04/day=11/hour=23/9223372036854775-0123456789abcdef0123456789abcdef.parquet",
        ),
    ];
    for &(prefix, table, service, ns, expected) in cases {
        assert_eq!(object_key(prefix, table, service, ns, TOKEN), expected);
    }
}
