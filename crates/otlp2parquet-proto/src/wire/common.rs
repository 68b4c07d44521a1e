//! `opentelemetry.proto.common.v1` and `resource.v1`: values, attributes, resource, scope.

use super::error::Error;
use super::reader::{Value, for_each_field, read_varint};
use crate::model::{AnyValue, KeyValue, Resource, Scope};
use std::borrow::Cow;

/// How deeply `AnyValue` arrays and kvlists may nest. OTLP producers send a few levels at
/// most; the bound keeps a hostile body from overflowing the stack.
pub(super) const MAX_DEPTH: usize = 64;

/// Merges an encoded `AnyValue` into `out`, at nesting level `depth`. Protobuf merge rules
/// apply: a scalar member replaces what was there; an array or kvlist member that repeats the
/// current kind appends to it.
pub(super) fn merge_any_value<'a>(
    out: &mut AnyValue<'a>,
    buf: &'a [u8],
    depth: usize,
) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        match field {
            1 => *out = AnyValue::String(v.str("string_value")?),
            2 => *out = AnyValue::Bool(v.bool("bool_value")?),
            3 => *out = AnyValue::Int(v.int64("int_value")?),
            4 => *out = AnyValue::Double(v.double("double_value")?),
            5 => {
                let payload = v.bytes("array_value")?;
                check_depth(depth).map_err(|e| e.at("array_value"))?;
                if !matches!(out, AnyValue::Array(_)) {
                    *out = AnyValue::Array(Vec::new());
                }
                if let AnyValue::Array(items) = out {
                    merge_array(items, payload, depth + 1).map_err(|e| e.at("array_value"))?;
                }
            }
            6 => {
                let payload = v.bytes("kvlist_value")?;
                check_depth(depth).map_err(|e| e.at("kvlist_value"))?;
                if !matches!(out, AnyValue::KvList(_)) {
                    *out = AnyValue::KvList(Vec::new());
                }
                if let AnyValue::KvList(items) = out {
                    merge_kvlist(items, payload, depth + 1).map_err(|e| e.at("kvlist_value"))?;
                }
            }
            7 => *out = AnyValue::Bytes(Cow::Borrowed(v.bytes("bytes_value")?)),
            _ => {}
        }
        Ok(())
    })
}

fn check_depth(depth: usize) -> Result<(), Error> {
    if depth >= MAX_DEPTH {
        Err(Error::new(format!(
            "values nested deeper than {MAX_DEPTH} levels"
        )))
    } else {
        Ok(())
    }
}

/// `ArrayValue.values`.
fn merge_array<'a>(
    items: &mut Vec<AnyValue<'a>>,
    buf: &'a [u8],
    depth: usize,
) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        if field == 1 {
            let mut item = AnyValue::Empty;
            merge_any_value(&mut item, v.bytes("values")?, depth).map_err(|e| e.at("values"))?;
            items.push(item);
        }
        Ok(())
    })
}

/// `KeyValueList.values`.
fn merge_kvlist<'a>(
    items: &mut Vec<KeyValue<'a>>,
    buf: &'a [u8],
    depth: usize,
) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        if field == 1 {
            push_key_value(items, v.bytes("values")?, depth).map_err(|e| e.at("values"))?;
        }
        Ok(())
    })
}

/// Decodes one encoded `KeyValue` and appends it to `out`.
#[inline]
fn push_key_value<'a>(
    out: &mut Vec<KeyValue<'a>>,
    buf: &'a [u8],
    depth: usize,
) -> Result<(), Error> {
    if let Some(kv) = string_attribute(buf).or_else(|| scalar_attribute(buf)) {
        out.push(kv);
        return Ok(());
    }
    let mut kv = KeyValue::default();
    for_each_field(buf, |field, v| {
        match field {
            1 => kv.key = v.str("key")?,
            2 => merge_any_value(&mut kv.value, v.bytes("value")?, depth)
                .map_err(|e| e.at("value"))?,
            _ => {}
        }
        Ok(())
    })?;
    out.push(kv);
    Ok(())
}

/// The fast path for the most common attribute of all, a short ASCII key with a short string
/// value, encoded the canonical way: `0a klen key 12 vlen+2 0a vlen value`, nothing else.
/// The key, the four header bytes between (all ASCII) and the value are then one contiguous
/// span, so a single UTF-8 check covers both strings, and the generic field loop is skipped.
/// Anything else — other layouts, long strings, non-ASCII header bytes, invalid UTF-8 — returns
/// `None` and goes through the general decoder, which also produces the errors.
#[inline]
fn string_attribute(buf: &[u8]) -> Option<KeyValue<'_>> {
    let (&[0x0a, key_len], rest) = buf.split_first_chunk::<2>()? else {
        return None;
    };
    let key_len = usize::from(key_len);
    let (_, rest) = rest.split_at_checked(key_len)?;
    let (&[0x12, any_len, 0x0a, value_len], value) = rest.split_first_chunk::<4>()? else {
        return None;
    };
    if usize::from(value_len) != value.len() || usize::from(any_len) != value.len() + 2 {
        return None;
    }
    // Lengths below 0x80 are single-byte varints and ASCII, which keeps the span's split
    // points on character boundaries.
    if key_len >= 0x80 || any_len >= 0x80 || value_len >= 0x80 {
        return None;
    }
    let text = std::str::from_utf8(buf.get(2..)?).ok()?;
    Some(KeyValue {
        key: Cow::Borrowed(text.get(..key_len)?),
        value: AnyValue::String(Cow::Borrowed(text.get(key_len + 4..)?)),
    })
}

/// The fast path for a short key with an int, double or bool value, encoded the canonical
/// way: `0a klen key 12 alen tag payload`, the value message holding exactly one field
/// (`18` varint int, `21` fixed64 double, `10` one-byte varint bool). It skips the two
/// generic field loops of the general decoder and gives the same value; anything else
/// returns `None` and takes the general path, which also produces the errors.
#[inline]
fn scalar_attribute(buf: &[u8]) -> Option<KeyValue<'_>> {
    let (&[0x0a, key_len], rest) = buf.split_first_chunk::<2>()? else {
        return None;
    };
    if key_len >= 0x80 {
        return None;
    }
    let (key, rest) = rest.split_at_checked(usize::from(key_len))?;
    let (&[0x12, any_len, tag], payload) = rest.split_first_chunk::<3>()? else {
        return None;
    };
    if any_len >= 0x80 || usize::from(any_len) != payload.len() + 1 {
        return None;
    }
    let value = match (tag, payload) {
        (0x18, _) => {
            let mut p = payload;
            let v = read_varint(&mut p).ok()?;
            if !p.is_empty() {
                return None;
            }
            AnyValue::Int(v as i64)
        }
        (0x21, _) => AnyValue::Double(f64::from_le_bytes(payload.try_into().ok()?)),
        (0x10, &[b]) if b < 0x80 => AnyValue::Bool(b != 0),
        _ => return None,
    };
    Some(KeyValue {
        key: Cow::Borrowed(std::str::from_utf8(key).ok()?),
        value,
    })
}

/// Appends an attribute (a `repeated KeyValue` element) to `out`, naming the field in errors.
#[inline]
pub(super) fn push_attribute<'a>(
    out: &mut Vec<KeyValue<'a>>,
    v: Value<'a>,
    name: &'static str,
) -> Result<(), Error> {
    push_key_value(out, v.bytes(name)?, 0).map_err(|e| e.at(name))
}

/// Merges an encoded `Resource` into `out`.
pub(super) fn merge_resource<'a>(out: &mut Resource<'a>, v: Value<'a>) -> Result<(), Error> {
    let buf = v.bytes("resource")?;
    for_each_field(buf, |field, v| {
        match field {
            1 => push_attribute(&mut out.attributes, v, "attributes")?,
            2 => out.dropped_attributes_count = v.uint32("dropped_attributes_count")?,
            _ => {}
        }
        Ok(())
    })
    .map_err(|e| e.at("resource"))
}

/// Merges an encoded `InstrumentationScope` into `out`.
pub(super) fn merge_scope<'a>(out: &mut Scope<'a>, v: Value<'a>) -> Result<(), Error> {
    let buf = v.bytes("scope")?;
    for_each_field(buf, |field, v| {
        match field {
            1 => out.name = v.str("name")?,
            2 => out.version = v.str("version")?,
            3 => push_attribute(&mut out.attributes, v, "attributes")?,
            4 => out.dropped_attributes_count = v.uint32("dropped_attributes_count")?,
            _ => {}
        }
        Ok(())
    })
    .map_err(|e| e.at("scope"))
}
