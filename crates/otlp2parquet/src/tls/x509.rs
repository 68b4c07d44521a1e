//! The few fields of an X.509 certificate the server reports and checks itself: the serial
//! number (logged at every load, so a rotation can be seen) and the validity period (a certificate
//! that has expired or is not valid yet is refused before clients see it). rustls verifies
//! everything else; this reads DER just far enough to reach `validity`.

/// What the server reads off its own certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The serial number as lowercase hex (leading zero bytes dropped).
    pub serial: String,
    /// `notBefore`, Unix seconds.
    pub not_before: i64,
    /// `notAfter`, Unix seconds.
    pub not_after: i64,
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const EXPLICIT_VERSION: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// Reads the serial and validity of a DER certificate; `None` when it is not one.
pub fn facts(der: &[u8]) -> Option<CertFacts> {
    let (tag, cert, _) = tlv(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = tlv(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let (mut tag, mut value, mut rest) = tlv(tbs)?;
    if tag == EXPLICIT_VERSION {
        (tag, value, rest) = tlv(rest)?;
    }
    if tag != INTEGER {
        return None;
    }
    let serial = hex(value);
    // signature algorithm, issuer, then validity
    let (_, _, rest) = tlv(rest)?;
    let (_, _, rest) = tlv(rest)?;
    let (tag, validity, _) = tlv(rest)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, before, rest) = tlv(validity)?;
    let not_before = time(tag, before)?;
    let (tag, after, _) = tlv(rest)?;
    let not_after = time(tag, after)?;
    Some(CertFacts {
        serial,
        not_before,
        not_after,
    })
}

/// One DER tag-length-value: (tag, value, what follows).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b))
    };
    let (value, after) = rest.split_at_checked(len)?;
    Some((tag, value, after))
}

fn hex(bytes: &[u8]) -> String {
    let trimmed = match bytes.iter().position(|&b| b != 0) {
        Some(i) => bytes.get(i..).unwrap_or_default(),
        None => &[0],
    };
    trimmed.iter().map(|b| format!("{b:02x}")).collect()
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) to Unix
/// seconds.
fn time(tag: u8, value: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(value).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        UTC_TIME => {
            let yy: i64 = text.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, text.get(2..)?)
        }
        GENERALIZED_TIME => (text.get(..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    let field = |at: usize| -> Option<i64> { rest.get(at..at + 2)?.parse().ok() };
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if rest.len() != 10 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-12-07T11:00:00Z` for Unix seconds (for messages).
pub fn format_time(secs: i64) -> String {
    let (year, month, day) = otlp2parquet_writer::key::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_and_generalized_times_convert_to_unix_seconds() {
        assert_eq!(time(UTC_TIME, b"700101000000Z"), Some(0));
        assert_eq!(time(UTC_TIME, b"251018120000Z"), Some(1_760_788_800));
        assert_eq!(
            time(GENERALIZED_TIME, b"20251018120000Z"),
            Some(1_760_788_800)
        );
        assert_eq!(time(UTC_TIME, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(UTC_TIME, b"2510181200Z"), None);
        assert_eq!(time(UTC_TIME, b"251318120000Z"), None);
        assert_eq!(time(0x05, b"251018120000Z"), None);
    }

    #[test]
    fn format_time_inverts_days_from_civil() {
        for secs in [0, 951_782_400, 1_760_788_800, 2_524_607_999, -86_400] {
            let text = format_time(secs);
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            assert_eq!(
                time(GENERALIZED_TIME, format!("{digits}Z").as_bytes()),
                Some(secs),
                "{text}"
            );
        }
        assert_eq!(format_time(1_760_788_800), "2025-10-18T12:00:00Z");
    }

    #[test]
    fn truncated_or_foreign_der_is_not_a_certificate() {
        assert_eq!(facts(b""), None);
        assert_eq!(facts(&[0x30, 0x82, 0xff]), None);
        assert_eq!(facts(&[0x04, 0x01, 0x00]), None);
        assert_eq!(facts(&[0x30, 0x03, 0x30, 0x01, 0x02]), None);
    }

    #[test]
    fn serial_hex_drops_leading_zero_bytes() {
        assert_eq!(hex(&[0x00, 0x8f, 0x01]), "8f01");
        assert_eq!(hex(&[0x00]), "00");
    }
}
