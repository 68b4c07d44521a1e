//! OTLP/JSON decoding of export requests (docs/protocol.md#content-types), into the borrowed
//! [`crate::model`] types.
//!
//! The rules are those of the OTLP/JSON mapping as the reference implementation reads them:
//! lowerCamelCase keys with snake_case accepted, `null` meaning absent, 64-bit integers as
//! numbers or decimal strings, enums as numbers or names, ids as hex (or base64), unknown keys
//! ignored, and any value of the wrong JSON type an error.
//!
//! The decoder is a set of serde visitors driven directly by `serde_json` over the body: no
//! intermediate `serde_json::Value`, strings without escapes borrowed from the body, and no
//! allocation per field beyond the `Vec`s of repeated fields. Errors name the JSON path of the
//! bad value and its line and column, e.g.
//! `resourceSpans[0].scopeSpans[0].spans[0].traceId: "zzz" is neither 32 hex chars nor base64 of
//! 16 bytes (line 22 column 31)`.
//!
//! Known departures from the reference, all on inputs no OTLP producer sends: numbers beyond
//! the range of a double (`1e400`) are an error where Python reads infinity; a duplicate key
//! whose first value is malformed is an error (see [`object`]); fields the reference never
//! reads (e.g. `droppedAttributesCount`, `metadata`) are validated like every other field; and
//! nesting deeper than 128 JSON levels is an error.

mod common;
mod ids;
mod logs;
mod metrics;
mod object;
mod path;
mod scalar;
mod traces;

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

use self::object::Message;
use self::path::Path;
use self::scalar::Got;
use crate::{DecodeError, LogsRequest, MetricsRequest, TracesRequest};

pub(crate) fn decode_logs(buf: &[u8]) -> Result<LogsRequest<'_>, DecodeError> {
    decode(buf)
}

pub(crate) fn decode_traces(buf: &[u8]) -> Result<TracesRequest<'_>, DecodeError> {
    decode(buf)
}

pub(crate) fn decode_metrics(buf: &[u8]) -> Result<MetricsRequest<'_>, DecodeError> {
    decode(buf)
}

/// Decodes one request object from the whole of `buf`.
fn decode<'a, M: Message<'a>>(buf: &'a [u8]) -> Result<M, DecodeError> {
    // Validating up front makes a non-UTF-8 byte anywhere (even in an ignored member) an error,
    // as in the reference, and lets serde_json skip re-validating every string.
    let text = std::str::from_utf8(buf).map_err(|e| {
        DecodeError::new(format!(
            "body is not UTF-8: invalid byte at offset {}",
            e.valid_up_to()
        ))
    })?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let request = RequestSeed::<M>(PhantomData)
        .deserialize(&mut deserializer)
        .map_err(to_decode_error)?;
    deserializer.end().map_err(to_decode_error)?;
    Ok(request)
}

/// The top-level value, which must be an object.
struct RequestSeed<M>(PhantomData<M>);

impl<'de, M: Message<'de>> DeserializeSeed<'de> for RequestSeed<M> {
    type Value = M;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<M, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, M: Message<'de>> Visitor<'de> for RequestSeed<M> {
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<M, A::Error> {
        M::read(map, &Path::ROOT)
    }

    fn visit_unit<E: de::Error>(self) -> Result<M, E> {
        Err(not_an_object("null"))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<M, E> {
        Err(not_an_object(Got::Bool(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<M, E> {
        Err(not_an_object(Got::U64(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<M, E> {
        Err(not_an_object(Got::I64(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<M, E> {
        Err(not_an_object(Got::F64(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<M, E> {
        Err(not_an_object(Got::Str(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<M, A::Error> {
        Err(not_an_object(Got::Array))
    }
}

fn not_an_object<E: de::Error>(got: impl fmt::Display) -> E {
    E::custom(format_args!("request must be a JSON object, got {got}"))
}

/// Turns serde_json's "MESSAGE at line L column C" into "MESSAGE (line L column C)", marking
/// syntax errors as such.
fn to_decode_error(err: serde_json::Error) -> DecodeError {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    let prefix = match err.classify() {
        Category::Syntax | Category::Eof => "invalid JSON: ",
        Category::Data | Category::Io => "",
    };
    if err.line() == 0 {
        DecodeError::new(format!("{prefix}{message}"))
    } else {
        DecodeError::new(format!(
            "{prefix}{message} (line {} column {})",
            err.line(),
            err.column()
        ))
    }
}
