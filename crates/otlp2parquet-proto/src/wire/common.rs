//! `opentelemetry.proto.common.v1` and `resource.v1`: values, attributes, resource, scope.

use super::error::Error;
use super::reader::{Value, for_each_field};
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
