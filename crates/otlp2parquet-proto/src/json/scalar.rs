//! Scalar fields: how each protobuf scalar type may be spelled in OTLP/JSON
//! (docs/protocol.md#content-types).
//!
//! A [`Kind`] says which JSON values a field type accepts and what they decode to; one generic
//! [`ScalarSeed`] drives serde_json for all of them. Every kind treats JSON `null` as the field
//! being absent. Errors are raised inside the visitor so serde_json stamps them with the line
//! and column of the offending value.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::ids;
use super::path::Path;

/// The JSON value a field received, for "expected …, got …" messages.
pub(super) enum Got<'s> {
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(&'s str),
    Array,
    Object,
}

impl fmt::Display for Got<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Got::Bool(v) => write!(f, "{v}"),
            Got::U64(v) => write!(f, "{v}"),
            Got::I64(v) => write!(f, "{v}"),
            Got::F64(v) => write!(f, "{v}"),
            Got::Str(v) => write!(f, "{}", Quoted(v)),
            Got::Array => f.write_str("an array"),
            Got::Object => f.write_str("an object"),
        }
    }
}

/// A string quoted for an error message, cut short: the message goes back to the sender and
/// into logs, and the value may be megabytes of hostile input.
pub(super) struct Quoted<'s>(pub(super) &'s str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX_CHARS: usize = 64;
        match self.0.char_indices().nth(MAX_CHARS) {
            Some((cut, _)) => {
                let head = self.0.get(..cut).unwrap_or_default();
                write!(f, "{head:?}… ({} bytes)", self.0.len())
            }
            None => write!(f, "{:?}", self.0),
        }
    }
}

/// "expected X, got Y".
pub(super) fn wrong_type(expected: &str, got: Got<'_>) -> String {
    format!("expected {expected}, got {got}")
}

/// A serde error naming the path; serde_json appends the position.
pub(super) fn fail<E: de::Error>(path: &Path<'_>, problem: impl fmt::Display) -> E {
    E::custom(format_args!("{path}: {problem}"))
}

/// A field type: which JSON values it accepts and what they decode to. The default methods
/// reject the value as the wrong type; `null` always decodes to [`Kind::absent`].
pub(super) trait Kind<'de> {
    /// The decoded value.
    type Out;
    /// What the field holds, for messages ("an integer").
    const EXPECTED: &'static str;
    /// The value of an absent or `null` field.
    fn absent() -> Self::Out;
    fn from_bool(v: bool) -> Result<Self::Out, String> {
        Err(wrong_type(Self::EXPECTED, Got::Bool(v)))
    }
    fn from_u64(v: u64) -> Result<Self::Out, String> {
        Err(wrong_type(Self::EXPECTED, Got::U64(v)))
    }
    fn from_i64(v: i64) -> Result<Self::Out, String> {
        Err(wrong_type(Self::EXPECTED, Got::I64(v)))
    }
    fn from_f64(v: f64) -> Result<Self::Out, String> {
        Err(wrong_type(Self::EXPECTED, Got::F64(v)))
    }
    fn from_str(v: &str) -> Result<Self::Out, String> {
        Err(wrong_type(Self::EXPECTED, Got::Str(v)))
    }
    /// A string borrowed from the body (one without escapes).
    fn from_borrowed_str(v: &'de str) -> Result<Self::Out, String> {
        Self::from_str(v)
    }
}

/// Decodes one JSON value as the field type `K`.
pub(super) struct ScalarSeed<'p, K> {
    path: &'p Path<'p>,
    kind: PhantomData<K>,
}

impl<'p, K> ScalarSeed<'p, K> {
    pub(super) fn new(path: &'p Path<'p>) -> Self {
        Self {
            path,
            kind: PhantomData,
        }
    }
}

impl<'de, K: Kind<'de>> DeserializeSeed<'de> for ScalarSeed<'_, K> {
    type Value = K::Out;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Out, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, K: Kind<'de>> Visitor<'de> for ScalarSeed<'_, K> {
    type Value = K::Out;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, K::EXPECTED)
    }

    fn visit_unit<E: de::Error>(self) -> Result<K::Out, E> {
        Ok(K::absent())
    }

    fn visit_none<E: de::Error>(self) -> Result<K::Out, E> {
        Ok(K::absent())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<K::Out, E> {
        K::from_bool(v).map_err(|p| fail(self.path, p))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<K::Out, E> {
        K::from_u64(v).map_err(|p| fail(self.path, p))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<K::Out, E> {
        K::from_i64(v).map_err(|p| fail(self.path, p))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<K::Out, E> {
        K::from_f64(v).map_err(|p| fail(self.path, p))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<K::Out, E> {
        K::from_str(v).map_err(|p| fail(self.path, p))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<K::Out, E> {
        K::from_borrowed_str(v).map_err(|p| fail(self.path, p))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<K::Out, A::Error> {
        Err(fail(self.path, wrong_type(K::EXPECTED, Got::Array)))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<K::Out, A::Error> {
        Err(fail(self.path, wrong_type(K::EXPECTED, Got::Object)))
    }
}

// ------------------------------------------------------------------------------------------
// Kinds
// ------------------------------------------------------------------------------------------

/// `string`: borrowed from the body unless it had escapes.
pub(super) struct Text;

impl<'de> Kind<'de> for Text {
    type Out = Cow<'de, str>;
    const EXPECTED: &'static str = "a string";
    fn absent() -> Self::Out {
        Cow::Borrowed("")
    }
    fn from_str(v: &str) -> Result<Self::Out, String> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn from_borrowed_str(v: &'de str) -> Result<Self::Out, String> {
        Ok(Cow::Borrowed(v))
    }
}

/// `bool`: only `true` / `false`.
pub(super) struct Flag;

impl Kind<'_> for Flag {
    type Out = bool;
    const EXPECTED: &'static str = "true or false";
    fn absent() -> bool {
        false
    }
    fn from_bool(v: bool) -> Result<bool, String> {
        Ok(v)
    }
}

/// An integer type of protobuf (`uint64`, `fixed64`, `int64`, `uint32`, `int32`, …): a JSON
/// number that is integral, or a decimal string, range-checked for `T`.
pub(super) struct Int<T>(PhantomData<T>);

pub(super) type U64 = Int<u64>;
pub(super) type I64 = Int<i64>;
pub(super) type U32 = Int<u32>;
pub(super) type I32 = Int<i32>;

fn in_range<T: TryFrom<i128>>(n: i128) -> Result<T, String> {
    T::try_from(n).map_err(|_| format!("{n} out of range"))
}

/// A JSON number with a fraction or exponent (`1.5e18`) is accepted when it is integral.
fn integral(v: f64) -> Result<i128, String> {
    // Beyond ±2^100 no protobuf integer fits; stop there so the cast below cannot saturate
    // into a false "in range".
    const LIMIT: f64 = 1.2676506002282294e30;
    if !v.is_finite() || v.fract() != 0.0 {
        return Err(format!("not an integer: {v}"));
    }
    if v.abs() >= LIMIT {
        return Err(format!("{v} out of range"));
    }
    #[allow(clippy::cast_possible_truncation)] // integral and |v| < 2^100, so exact
    Ok(v as i128)
}

/// `-?[0-9]+` as an integer; `None` if `v` is not of that form. Leading zeros are fine.
fn decimal(v: &str) -> Option<Result<i128, String>> {
    let (negative, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut n: i128 = 0;
    for c in digits.bytes() {
        match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(i128::from(c - b'0')))
        {
            Some(next) => n = next,
            None => return Some(Err(format!("{} out of range", Quoted(v)))),
        }
    }
    Some(Ok(if negative { -n } else { n }))
}

fn int_from_str<T: TryFrom<i128>>(v: &str) -> Result<T, String> {
    match decimal(v) {
        Some(n) => in_range(n?),
        None => Err(format!("not an integer: {}", Quoted(v))),
    }
}

impl<T: TryFrom<i128> + Default> Kind<'_> for Int<T> {
    type Out = T;
    const EXPECTED: &'static str = "an integer";
    fn absent() -> T {
        T::default()
    }
    fn from_u64(v: u64) -> Result<T, String> {
        in_range(i128::from(v))
    }
    fn from_i64(v: i64) -> Result<T, String> {
        in_range(i128::from(v))
    }
    fn from_f64(v: f64) -> Result<T, String> {
        in_range(integral(v)?)
    }
    fn from_str(v: &str) -> Result<T, String> {
        int_from_str(v)
    }
}

/// `double`: a JSON number, or a string holding `NaN`, `Infinity`, `-Infinity` (the protobuf
/// JSON mapping) or a decimal number.
pub(super) struct F64;

/// The reference's decimal-number syntax: `-?(digits[.digits?] | .digits)([eE][+-]?digits)?`.
fn is_decimal_number(v: &str) -> bool {
    let v = v.strip_prefix('-').unwrap_or(v);
    let (mantissa, exponent) = match v.find(['e', 'E']) {
        Some(at) => (v.get(..at).unwrap_or(v), v.get(at + 1..)),
        None => (v, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (digits(int) && (frac.is_empty() || digits(frac))) || (int.is_empty() && digits(frac))
        }
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

impl Kind<'_> for F64 {
    type Out = f64;
    const EXPECTED: &'static str = "a number";
    fn absent() -> f64 {
        0.0
    }
    #[allow(clippy::cast_precision_loss)] // JSON numbers are doubles; large ints round as in JS
    fn from_u64(v: u64) -> Result<f64, String> {
        Ok(v as f64)
    }
    #[allow(clippy::cast_precision_loss)] // as above
    fn from_i64(v: i64) -> Result<f64, String> {
        Ok(v as f64)
    }
    fn from_f64(v: f64) -> Result<f64, String> {
        Ok(v)
    }
    fn from_str(v: &str) -> Result<f64, String> {
        match v {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ if is_decimal_number(v) => v
                .parse()
                .map_err(|_| format!("not a number: {}", Quoted(v))),
            _ => Err(format!("not a number: {}", Quoted(v))),
        }
    }
}

/// Any kind, keeping "absent / null" apart from the zero value: `Some` only when the field
/// held a value (optional doubles, oneof members).
pub(super) struct Opt<K>(PhantomData<K>);

impl<'de, K: Kind<'de>> Kind<'de> for Opt<K> {
    type Out = Option<K::Out>;
    const EXPECTED: &'static str = K::EXPECTED;
    fn absent() -> Self::Out {
        None
    }
    fn from_bool(v: bool) -> Result<Self::Out, String> {
        K::from_bool(v).map(Some)
    }
    fn from_u64(v: u64) -> Result<Self::Out, String> {
        K::from_u64(v).map(Some)
    }
    fn from_i64(v: i64) -> Result<Self::Out, String> {
        K::from_i64(v).map(Some)
    }
    fn from_f64(v: f64) -> Result<Self::Out, String> {
        K::from_f64(v).map(Some)
    }
    fn from_str(v: &str) -> Result<Self::Out, String> {
        K::from_str(v).map(Some)
    }
    fn from_borrowed_str(v: &'de str) -> Result<Self::Out, String> {
        K::from_borrowed_str(v).map(Some)
    }
}

/// A trace id (`N` = 16) or span id (`N` = 8); see [`ids::id`].
pub(super) struct Id<const N: usize>;

impl<const N: usize> Kind<'_> for Id<N> {
    type Out = [u8; N];
    const EXPECTED: &'static str = "a hex or base64 id string";
    fn absent() -> [u8; N] {
        [0; N]
    }
    fn from_str(v: &str) -> Result<[u8; N], String> {
        ids::id(v).ok_or_else(|| {
            format!(
                "{} is neither {} hex chars nor base64 of {N} bytes",
                Quoted(v),
                2 * N
            )
        })
    }
}

/// `bytes` (`bytesValue`): base64.
pub(super) struct Base64;

impl<'de> Kind<'de> for Base64 {
    type Out = Cow<'de, [u8]>;
    const EXPECTED: &'static str = "a base64 string";
    fn absent() -> Self::Out {
        Cow::Borrowed(&[])
    }
    fn from_str(v: &str) -> Result<Self::Out, String> {
        ids::base64(v)
            .map(Cow::Owned)
            .ok_or_else(|| format!("not base64: {}", Quoted(v)))
    }
}

// ------------------------------------------------------------------------------------------
// Enums
// ------------------------------------------------------------------------------------------

/// The names of an OTLP enum, indexed by value.
pub(super) trait EnumNames {
    /// The enum's protobuf name, for messages.
    const ENUM: &'static str;
    /// Value names; the name at index `i` has value `i`.
    const NAMES: &'static [&'static str];
}

/// An enum: its number (JSON number or decimal string; any `int32`, as protobuf enums are open)
/// or its name; an unknown name is an error.
pub(super) struct Enum<T>(PhantomData<T>);

impl<T: EnumNames> Kind<'_> for Enum<T> {
    type Out = i32;
    const EXPECTED: &'static str = "an enum name or number";
    fn absent() -> i32 {
        0
    }
    fn from_u64(v: u64) -> Result<i32, String> {
        I32::from_u64(v)
    }
    fn from_i64(v: i64) -> Result<i32, String> {
        I32::from_i64(v)
    }
    fn from_f64(v: f64) -> Result<i32, String> {
        I32::from_f64(v)
    }
    fn from_str(v: &str) -> Result<i32, String> {
        if let Some(n) = decimal(v) {
            return in_range(n?);
        }
        T::NAMES
            .iter()
            .position(|name| *name == v)
            .and_then(|i| i32::try_from(i).ok())
            .ok_or_else(|| format!("unknown {} name {}", T::ENUM, Quoted(v)))
    }
}

/// `opentelemetry.proto.logs.v1.SeverityNumber`.
pub(super) struct Severity;

impl EnumNames for Severity {
    const ENUM: &'static str = "SeverityNumber";
    const NAMES: &'static [&'static str] = &[
        "SEVERITY_NUMBER_UNSPECIFIED",
        "SEVERITY_NUMBER_TRACE",
        "SEVERITY_NUMBER_TRACE2",
        "SEVERITY_NUMBER_TRACE3",
        "SEVERITY_NUMBER_TRACE4",
        "SEVERITY_NUMBER_DEBUG",
        "SEVERITY_NUMBER_DEBUG2",
        "SEVERITY_NUMBER_DEBUG3",
        "SEVERITY_NUMBER_DEBUG4",
        "SEVERITY_NUMBER_INFO",
        "SEVERITY_NUMBER_INFO2",
        "SEVERITY_NUMBER_INFO3",
        "SEVERITY_NUMBER_INFO4",
        "SEVERITY_NUMBER_WARN",
        "SEVERITY_NUMBER_WARN2",
        "SEVERITY_NUMBER_WARN3",
        "SEVERITY_NUMBER_WARN4",
        "SEVERITY_NUMBER_ERROR",
        "SEVERITY_NUMBER_ERROR2",
        "SEVERITY_NUMBER_ERROR3",
        "SEVERITY_NUMBER_ERROR4",
        "SEVERITY_NUMBER_FATAL",
        "SEVERITY_NUMBER_FATAL2",
        "SEVERITY_NUMBER_FATAL3",
        "SEVERITY_NUMBER_FATAL4",
    ];
}

/// `opentelemetry.proto.trace.v1.Span.SpanKind`.
pub(super) struct SpanKind;

impl EnumNames for SpanKind {
    const ENUM: &'static str = "SpanKind";
    const NAMES: &'static [&'static str] = &crate::model::SPAN_KIND_NAMES;
}

/// `opentelemetry.proto.trace.v1.Status.StatusCode`.
pub(super) struct StatusCode;

impl EnumNames for StatusCode {
    const ENUM: &'static str = "StatusCode";
    const NAMES: &'static [&'static str] = &crate::model::STATUS_CODE_NAMES;
}

/// `opentelemetry.proto.metrics.v1.AggregationTemporality`.
pub(super) struct Temporality;

impl EnumNames for Temporality {
    const ENUM: &'static str = "AggregationTemporality";
    const NAMES: &'static [&'static str] = &[
        "AGGREGATION_TEMPORALITY_UNSPECIFIED",
        "AGGREGATION_TEMPORALITY_DELTA",
        "AGGREGATION_TEMPORALITY_CUMULATIVE",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_the_reference() {
        assert_eq!(U64::from_f64(1.5e18), Ok(1_500_000_000_000_000_000));
        assert!(U64::from_f64(1.5).is_err());
        assert!(U64::from_f64(1.8446744073709552e19).is_err());
        assert_eq!(U64::from_str("18446744073709551615"), Ok(u64::MAX));
        assert!(U64::from_str("18446744073709551616").is_err());
        assert!(U64::from_str("-1").is_err());
        assert_eq!(I64::from_str("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(U32::from_str("0004"), Ok(4));
        assert!(U32::from_str("+4").is_err());
        assert!(U32::from_str(" 4").is_err());
        assert!(I32::from_u64(1 << 31).is_err());
        assert!(U64::from_str(&"9".repeat(100)).is_err());
    }

    #[test]
    fn doubles_follow_the_reference() {
        assert!(F64::from_str("NaN").is_ok_and(f64::is_nan));
        assert_eq!(F64::from_str("-Infinity"), Ok(f64::NEG_INFINITY));
        assert_eq!(F64::from_str("5."), Ok(5.0));
        assert_eq!(F64::from_str("-.5e1"), Ok(-5.0));
        assert_eq!(F64::from_str("1E+2"), Ok(100.0));
        for bad in [
            "inf", "nan", "+1", ".", "1e", "1.2.3", "", "-", "e5", "0x10",
        ] {
            assert!(F64::from_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enums_take_names_and_numbers() {
        assert_eq!(Enum::<Severity>::from_str("SEVERITY_NUMBER_INFO"), Ok(9));
        assert_eq!(Enum::<Severity>::from_str("SEVERITY_NUMBER_FATAL4"), Ok(24));
        assert_eq!(Enum::<SpanKind>::from_str("7"), Ok(7));
        assert_eq!(Enum::<SpanKind>::from_u64(99), Ok(99));
        assert!(Enum::<StatusCode>::from_str("OK").is_err());
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(10_000);
        let message = U64::from_str(&long).unwrap_err();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("10000 bytes"), "{message}");
    }
}
