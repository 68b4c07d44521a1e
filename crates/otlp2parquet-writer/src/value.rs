//! The string form of an OTLP `AnyValue` (docs/schema.md#value-strings), as the ClickHouse
//! exporter stores attribute values and log bodies.
//!
//! | value | string |
//! |---|---|
//! | string | as is (borrowed, never copied) |
//! | bool | `true` / `false` |
//! | int | decimal |
//! | double | shortest round-trip digits in JavaScript's `Number::toString` layout ([`write_f64`]) |
//! | bytes | standard base64, padded |
//! | array, kvlist | compact JSON: no spaces, kvlist keys sorted by bytes, later duplicate wins |
//! | empty | `""` |
//!
//! Inside arrays and kvlists values keep their JSON types: strings are JSON strings (escaped like
//! Python's `json.dumps(ensure_ascii=False)`: `"`, `\` and control characters only, so non-ASCII
//! text stays readable), bools and ints are JSON literals, doubles use [`write_f64`], bytes are a
//! base64 JSON string and an empty value is `null`. JSON has no literal for NaN or ±Infinity, so
//! inside JSON those doubles are written as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (the
//! protobuf JSON mapping's spelling), which keeps the column valid JSON for `JSONExtract` and
//! `json_extract`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use otlp2parquet_proto::{AnyValue, KeyValue};

/// Arrays and kvlists nested deeper than this are written as `null`. The decoders already bound
/// nesting (to protect their own stacks); this guard only keeps the writer's recursion bounded
/// whatever builds the value.
pub const MAX_JSON_DEPTH: usize = 128;

/// The stored string form of `v` (docs/schema.md#value-strings): borrowed for string values,
/// else written into `scratch` (which is cleared first and may be reused across calls to avoid
/// allocating).
pub fn stringify<'v>(v: &'v AnyValue<'_>, scratch: &'v mut String) -> &'v str {
    match v {
        AnyValue::String(s) => s,
        AnyValue::Empty => "",
        AnyValue::Bool(true) => "true",
        AnyValue::Bool(false) => "false",
        AnyValue::Int(i) => {
            scratch.clear();
            write_i64(scratch, *i);
            scratch.as_str()
        }
        AnyValue::Double(x) => {
            scratch.clear();
            write_f64(scratch, *x);
            scratch.as_str()
        }
        AnyValue::Bytes(b) => {
            scratch.clear();
            STANDARD.encode_string(b, scratch);
            scratch.as_str()
        }
        AnyValue::Array(_) | AnyValue::KvList(_) => {
            scratch.clear();
            write_json(scratch, v, 0);
            scratch.as_str()
        }
    }
}

/// Appends `x` as JavaScript's `Number::toString` prints it, but with the exponent written
/// without `+` (docs/schema.md#value-strings: `12`, `12.5`, `0.000001`, `1e21`, `1e-7`, `-0`):
/// the shortest digits that round-trip, in plain notation for 1e-6 ≤ |x| < 1e21 and
/// `d[.ddd]eN` otherwise.
/// NaN and ±Infinity are written `NaN`, `Infinity`, `-Infinity`.
pub fn write_f64(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x < 0.0 { "-Infinity" } else { "Infinity" });
        return;
    }
    if x.is_sign_negative() {
        out.push('-');
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    let d = Digits::short(x.abs()).unwrap_or_else(|| Digits::ryu(x.abs()));
    let (digits, n) = (d.as_bytes(), d.n);
    // value = 0.DIGITS × 10^n with DIGITS = `digits` (k of them, no leading or trailing zero)
    let k = digits.len() as i32;
    if k <= n && n <= 21 {
        push_ascii(out, digits);
        push_zeros(out, n - k);
    } else if 0 < n && n <= 21 {
        // 1 ≤ n < k: the point falls inside the digits.
        let (int, frac) = digits.split_at_checked(n as usize).unwrap_or((digits, &[]));
        push_ascii(out, int);
        out.push('.');
        push_ascii(out, frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        push_zeros(out, -n);
        push_ascii(out, digits);
    } else {
        let (first, rest) = digits.split_at_checked(1).unwrap_or((digits, &[]));
        push_ascii(out, first);
        if !rest.is_empty() {
            out.push('.');
            push_ascii(out, rest);
        }
        out.push('e');
        write_i64(out, i64::from(n - 1));
    }
}

/// The significant digits of a finite, positive double, from Ryu's text.
struct Digits {
    buf: [u8; 24],
    len: usize,
    /// The decimal point position: value = 0.DIGITS × 10^n.
    n: i32,
}

impl Digits {
    /// The fast path for doubles with few decimals (`123.456`, `0.25`, `1500`), which is what
    /// durations, ratios and sizes usually are: the smallest `k` for which `x × 10^k` is an
    /// integer `m` below 10^15 that divides back to `x` exactly, if any.
    ///
    /// Then `m / 10^k` is a decimal that rounds to `x`, and the only one with `k` decimals:
    /// with `m < 10^15` the spacing 10^-k exceeds the width of the interval of reals that
    /// round to `x` (at most one ulp, < `x` × 2.3e-16). A shorter decimal, if one exists, is
    /// therefore `m` with trailing zeros, which are stripped; so the digits are the shortest
    /// round-trip digits, as Ryu would give (no tie can arise between unique candidates).
    /// Products and quotients are exact or correctly rounded: 10^k ≤ 10^22 is exact.
    fn short(x: f64) -> Option<Self> {
        const LIMIT: f64 = 1e15;
        if !(1e-7..LIMIT).contains(&x) {
            return None;
        }
        let mut scale = 1.0f64;
        for k in 0..=22 {
            let y = x * scale;
            if y >= LIMIT {
                return None;
            }
            // `0 < y < 10^15`: the cast is exact exactly when `y` is an integer (and cheaper
            // than `fract`, a libm call without SSE4.1).
            let m = y as u64;
            if m as f64 == y && m as f64 / scale == x {
                return Some(Self::decimal(m, k));
            }
            scale *= 10.0;
        }
        None
    }

    /// The digits of `m × 10^-k` (`m > 0`).
    fn decimal(m: u64, k: i32) -> Self {
        let mut digits = [0u8; 20];
        let start = decimal_digits(m, &mut digits);
        let all = digits.get(start..).unwrap_or_default();
        let mut d = Digits {
            buf: [0; 24],
            len: 0,
            n: all.len() as i32 - k,
        };
        let significant = all.len() - all.iter().rev().take_while(|&&b| b == b'0').count();
        let kept = all.get(..significant).unwrap_or_default();
        if let Some(dst) = d.buf.get_mut(..kept.len()) {
            dst.copy_from_slice(kept);
            d.len = kept.len();
        }
        d
    }

    /// Ryu finds the shortest digits that round-trip and, of two equally close candidates,
    /// picks the even one, as Python's `repr` (the reference) and JavaScript engines do: 2⁻²⁵
    /// is `2.9802322387695312e-8`, not `…313`. Only its layout differs (`1.0`, `0.001`,
    /// `1e21`), so its text `M[.F][eX]` is taken apart here.
    fn ryu(x: f64) -> Self {
        let mut ryu = ryu::Buffer::new();
        let text = ryu.format_finite(x).as_bytes();
        let (mantissa, exp) = match text.iter().position(|&b| b == b'e') {
            Some(at) => {
                let (m, e) = text.split_at(at);
                (m, parse_exponent(e.get(1..).unwrap_or_default()))
            }
            None => (text, 0),
        };
        let mut d = Digits {
            buf: [0; 24],
            len: 0,
            n: exp,
        };
        let mut seen_point = false;
        for &b in mantissa {
            if b == b'.' {
                seen_point = true;
            } else if b == b'0' && d.len == 0 {
                // A leading zero: `0.00ddd` moves the point left once per fraction zero.
                if seen_point {
                    d.n -= 1;
                }
            } else {
                if let Some(slot) = d.buf.get_mut(d.len) {
                    *slot = b;
                }
                d.len += 1;
                if !seen_point {
                    d.n += 1;
                }
            }
        }
        // Trailing zeros (`1000.0`, `1.0`) are not significant digits.
        while d.len > 0 && d.buf.get(d.len - 1) == Some(&b'0') {
            d.len -= 1;
        }
        d
    }

    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// Ryu's exponent digits (`-7`, `21`).
fn parse_exponent(e: &[u8]) -> i32 {
    let (negative, digits) = match e.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, e),
    };
    let n = digits
        .iter()
        .fold(0i32, |n, &b| n * 10 + i32::from(b.wrapping_sub(b'0')));
    if negative { -n } else { n }
}

fn push_zeros(out: &mut String, count: i32) {
    for _ in 0..count {
        out.push('0');
    }
}

/// Two-digit pairs `00`..`99`, so an integer is written two digits per division.
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an out-of-bounds index fails the build, never a request"
)]
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        table[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    table
};

/// Appends `i` in decimal, as `Display` would, without the formatting machinery.
fn write_i64(out: &mut String, i: i64) {
    if i < 0 {
        out.push('-');
    }
    let mut buf = [0u8; 20];
    let at = decimal_digits(i.unsigned_abs(), &mut buf);
    push_ascii(out, buf.get(at..).unwrap_or_default());
}

/// Appends ASCII digits; for a few bytes this is cheaper than `from_utf8` and `push_str`.
#[inline]
fn push_ascii(out: &mut String, digits: &[u8]) {
    out.reserve(digits.len());
    out.extend(digits.iter().map(|&b| char::from(b)));
}

/// Writes the decimal digits of `n` at the end of `buf`; returns where they start.
fn decimal_digits(mut n: u64, buf: &mut [u8; 20]) -> usize {
    let mut at = buf.len();
    while n >= 100 {
        let pair = DIGIT_PAIRS
            .get((n % 100) as usize)
            .copied()
            .unwrap_or_default();
        n /= 100;
        at -= 2;
        if let Some(dst) = buf.get_mut(at..at + 2) {
            dst.copy_from_slice(&pair);
        }
    }
    if n >= 10 {
        let pair = DIGIT_PAIRS.get(n as usize).copied().unwrap_or_default();
        at -= 2;
        if let Some(dst) = buf.get_mut(at..at + 2) {
            dst.copy_from_slice(&pair);
        }
    } else {
        at -= 1;
        if let Some(dst) = buf.get_mut(at) {
            *dst = b'0' + n as u8;
        }
    }
    at
}

/// Appends the compact JSON form of `v` (how arrays and kvlists are stored,
/// docs/schema.md#value-strings).
fn write_json(out: &mut String, v: &AnyValue<'_>, depth: usize) {
    match v {
        AnyValue::Empty => out.push_str("null"),
        AnyValue::String(s) => write_json_str(out, s),
        AnyValue::Bool(true) => out.push_str("true"),
        AnyValue::Bool(false) => out.push_str("false"),
        AnyValue::Int(i) => write_i64(out, *i),
        AnyValue::Double(x) if x.is_finite() => write_f64(out, *x),
        AnyValue::Double(x) => {
            out.push('"');
            write_f64(out, *x);
            out.push('"');
        }
        AnyValue::Bytes(b) => {
            out.push('"');
            STANDARD.encode_string(b, out);
            out.push('"');
        }
        AnyValue::Array(_) | AnyValue::KvList(_) if depth >= MAX_JSON_DEPTH => out.push_str("null"),
        AnyValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item, depth + 1);
            }
            out.push(']');
        }
        AnyValue::KvList(entries) => write_json_object(out, entries, depth),
    }
}

/// Writes a kvlist as a JSON object whose keys are sorted by their bytes, keeping the last of
/// duplicate keys (the exporter marshals a Go map).
fn write_json_object(out: &mut String, entries: &[KeyValue<'_>], depth: usize) {
    out.push('{');
    let strictly_sorted = entries
        .windows(2)
        .all(|w| matches!(w, [a, b] if a.key.as_bytes() < b.key.as_bytes()));
    if strictly_sorted {
        // The common case (producers usually send few, unique keys) needs no buffer.
        write_members(out, entries.iter(), depth);
    } else {
        let mut sorted: Vec<&KeyValue<'_>> = entries.iter().collect();
        // Stable: among equal keys input order is kept, so the last of each run is the later one.
        sorted.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
        let mut deduped: Vec<&KeyValue<'_>> = Vec::with_capacity(sorted.len());
        for kv in sorted {
            match deduped.last_mut() {
                Some(last) if last.key == kv.key => *last = kv,
                _ => deduped.push(kv),
            }
        }
        write_members(out, deduped.into_iter(), depth);
    }
    out.push('}');
}

fn write_members<'k, 'a: 'k>(
    out: &mut String,
    members: impl Iterator<Item = &'k KeyValue<'a>>,
    depth: usize,
) {
    for (i, kv) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, &kv.key);
        out.push(':');
        write_json(out, &kv.value, depth + 1);
    }
}

/// Appends `s` as a JSON string escaped exactly as Python's `json.dumps(ensure_ascii=False)`
/// does: `"` and `\` backslashed, `\b \f \n \r \t` by name, other control characters below
/// U+0020 as `\u00xx`; everything else (DEL and non-ASCII included) as is.
fn write_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so `start..i` always lies on char boundaries.
        out.push_str(s.get(start..i).unwrap_or(""));
        start = i + 1;
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(
                HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
            ));
            out.push(char::from(
                HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'),
            ));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(s.get(start..).unwrap_or(""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut s = String::new();
        write_f64(&mut s, x);
        s
    }

    #[test]
    fn doubles_in_spec_examples() {
        assert_eq!(f(12.0), "12");
        assert_eq!(f(12.5), "12.5");
        assert_eq!(f(0.000001), "0.000001");
        assert_eq!(f(1e21), "1e21");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(0.0), "0");
        assert_eq!(f(1.2345678901234568e20), "123456789012345680000");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::INFINITY), "Infinity");
        assert_eq!(f(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(f(-1.25e-300), "-1.25e-300");
        assert_eq!(f(123.456), "123.456");
        // A tie between two shortest candidates goes to the even digit, like Python's repr.
        assert_eq!(f(2f64.powi(-25)), "2.9802322387695312e-8");
    }

    fn int(i: i64) -> String {
        let mut s = String::from("x");
        write_i64(&mut s, i);
        s
    }

    #[test]
    fn integers_print_like_display() {
        for i in [
            0, 1, 9, 10, 99, 100, 101, 999, 1000, 200, 404, -1, -10, -100, -12345,
        ] {
            assert_eq!(int(i), format!("x{i}"));
        }
        assert_eq!(int(i64::MAX), "x9223372036854775807");
        assert_eq!(int(i64::MIN), "x-9223372036854775808");
        for p in 0..19 {
            let x = 10i64.pow(p);
            for i in [x - 1, x, x + 1, -x] {
                assert_eq!(int(i), format!("x{i}"));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_integer_prints_like_display(i: i64) {
            proptest::prop_assert_eq!(int(i), format!("x{i}"));
        }

        #[test]
        fn the_short_path_agrees_with_ryu(m in 1u64..1_000_000_000_000_000, k in 0i32..23) {
            let x = m as f64 / 10f64.powi(k);
            if let Some(short) = Digits::short(x) {
                let ryu = Digits::ryu(x);
                proptest::prop_assert_eq!((short.as_bytes(), short.n), (ryu.as_bytes(), ryu.n));
            }
        }

        #[test]
        fn doubles_round_trip(bits: u64) {
            let x = f64::from_bits(bits);
            proptest::prop_assume!(x.is_finite());
            let s = f(x);
            proptest::prop_assert_eq!(s.parse::<f64>().ok(), Some(x), "{}", s);
        }
    }

    #[test]
    fn json_string_escapes_like_python() {
        let mut s = String::new();
        write_json_str(&mut s, "a\u{1f}\n\"\\\u{7f}\u{8}\u{c}\r\t日本😀\u{0}");
        assert_eq!(s, "\"a\\u001f\\n\\\"\\\\\u{7f}\\b\\f\\r\\t日本😀\\u0000\"");
    }

    #[test]
    fn deep_nesting_stops_at_the_guard() {
        let mut v = AnyValue::Int(1);
        for _ in 0..(MAX_JSON_DEPTH + 10) {
            v = AnyValue::Array(vec![v]);
        }
        let mut scratch = String::new();
        let s = stringify(&v, &mut scratch);
        assert_eq!(s.matches('[').count(), MAX_JSON_DEPTH);
        assert!(s.contains("[null]"));
        assert!(!s.contains('1'));
    }
}
