//! The string form of an OTLP `AnyValue` (SPEC §4), as the ClickHouse exporter stores attribute
//! values and log bodies.
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

use std::fmt::{self, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use otlp2parquet_proto::{AnyValue, KeyValue};

/// Arrays and kvlists nested deeper than this are written as `null`. The decoders already bound
/// nesting (to protect their own stacks); this guard only keeps the writer's recursion bounded
/// whatever builds the value.
pub const MAX_JSON_DEPTH: usize = 128;

/// The SPEC §4 string form of `v`: borrowed for string values, else written into `scratch`
/// (which is cleared first and may be reused across calls to avoid allocating).
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
/// without `+` (SPEC §4: `12`, `12.5`, `0.000001`, `1e21`, `1e-7`, `-0`): the shortest digits
/// that round-trip, in plain notation for 1e-6 ≤ |x| < 1e21 and `d[.ddd]eN` otherwise.
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
    let Some(buf) = shortest_scientific(x.abs()) else {
        // Unreachable: the longest `{:e}` of an f64 is 23 bytes. Fall back to the plain form.
        let _ = write!(out, "{}", x.abs());
        return;
    };
    let sci = buf.as_str();
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let (first, rest) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exponent: i32 = exp.parse().unwrap_or(0);
    // value = 0.DIGITS × 10^n with DIGITS = first + rest (k digits)
    let k = 1 + rest.len() as i32;
    let n = exponent + 1;
    if k <= n && n <= 21 {
        out.push_str(first);
        out.push_str(rest);
        push_zeros(out, n - k);
    } else if 0 < n && n <= 21 {
        // 1 ≤ n < k: the point falls inside the digits, after `first` and n − 1 digits of `rest`.
        let split = (n - 1) as usize;
        out.push_str(first);
        out.push_str(rest.get(..split).unwrap_or(rest));
        out.push('.');
        out.push_str(rest.get(split..).unwrap_or(""));
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        push_zeros(out, -n);
        out.push_str(first);
        out.push_str(rest);
    } else {
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push_str(exp);
    }
}

/// The shortest round-trip digits of the finite, positive `x` as `d[.ddd]e[-]N`.
///
/// `{:e}` finds them but breaks a tie between two equally close shortest candidates upwards,
/// where Python's `repr` (the reference) and JavaScript engines pick the even one: 2⁻²⁵ is
/// `2.9802322387695312e-8`, not `…313`. Rounding the exact value to the same number of digits
/// (`{:.Ne}`, which rounds half to even) gives the closest candidate; it replaces the `{:e}`
/// digits when it also round-trips. A tie needs the exact binary value to sit half a unit past
/// the last digit, which is only possible with 16 or 17 digits, so shorter outputs skip this.
fn shortest_scientific(x: f64) -> Option<StackStr> {
    let mut shortest = StackStr::new();
    write!(shortest, "{x:e}").ok()?;
    let mantissa = shortest.as_str().split_once('e').map_or("", |(m, _)| m);
    let digits = mantissa.len() - usize::from(mantissa.contains('.'));
    if digits < 16 {
        return Some(shortest);
    }
    let mut nearest = StackStr::new();
    write!(nearest, "{:.*e}", digits - 1, x).ok()?;
    if nearest.as_str() != shortest.as_str() && nearest.as_str().parse::<f64>() == Ok(x) {
        return Some(nearest);
    }
    Some(shortest)
}

fn push_zeros(out: &mut String, count: i32) {
    for _ in 0..count {
        out.push('0');
    }
}

fn write_i64(out: &mut String, i: i64) {
    let _ = write!(out, "{i}");
}

/// Appends the compact JSON form of `v` (SPEC §4's form of arrays and kvlists).
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

/// A fixed-size stack buffer that `{:e}` formats into without allocating.
struct StackStr {
    buf: [u8; 32],
    len: usize,
}

impl StackStr {
    fn new() -> Self {
        StackStr {
            buf: [0; 32],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        self.buf
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
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
