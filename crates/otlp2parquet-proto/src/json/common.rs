//! Messages shared by all signals: `AnyValue`, `KeyValue`, `Resource`, `InstrumentationScope`.

use serde::de::MapAccess;

use super::object::{Field, Keys, Message, fields, invalid, list, optional, scalar};
use super::path::Path;
use super::scalar::{Base64, F64, Flag, I64, Opt, Text, U32};
use crate::model::{AnyValue, KeyValue, Resource, Scope};

fields! {
    enum ValueField {
        String = "stringValue" | "string_value",
        Bool = "boolValue" | "bool_value",
        Int = "intValue" | "int_value",
        Double = "doubleValue" | "double_value",
        Array = "arrayValue" | "array_value",
        KvList = "kvlistValue" | "kvlist_value",
        Bytes = "bytesValue" | "bytes_value",
    }
}

/// The `values` of an `ArrayValue` or `KeyValueList`.
#[derive(Default)]
struct Values<M>(Vec<M>);

fields! {
    enum ValuesField {
        Values = "values",
    }
}

impl<'de, M: Message<'de>> Message<'de> for Values<M> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = Values(Vec::new());
        let mut keys = Keys::<ValuesField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                ValuesField::Values => out.0 = list(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

// Recursion through arrayValue / kvlistValue goes through serde_json for every level, whose
// nesting limit (128) bounds it: a deeper document is an error, not a stack overflow.
impl<'de> Message<'de> for AnyValue<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        // One slot per member of the oneof, `Empty` while unset or null: the reference counts
        // the members that are set once the whole object is read.
        let mut slots: [AnyValue<'de>; 7] = Default::default();
        let mut keys = Keys::<ValueField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let value = match field {
                ValueField::String => {
                    scalar::<Opt<Text>, _>(&mut map, &path)?.map(AnyValue::String)
                }
                ValueField::Bool => scalar::<Opt<Flag>, _>(&mut map, &path)?.map(AnyValue::Bool),
                ValueField::Int => scalar::<Opt<I64>, _>(&mut map, &path)?.map(AnyValue::Int),
                ValueField::Double => scalar::<Opt<F64>, _>(&mut map, &path)?.map(AnyValue::Double),
                ValueField::Bytes => {
                    scalar::<Opt<Base64>, _>(&mut map, &path)?.map(AnyValue::Bytes)
                }
                ValueField::Array => optional::<Values<AnyValue<'de>>, _>(&mut map, &path)?
                    .map(|v| AnyValue::Array(v.0)),
                ValueField::KvList => optional::<Values<KeyValue<'de>>, _>(&mut map, &path)?
                    .map(|v| AnyValue::KvList(v.0)),
            };
            if let Some(slot) = slots.get_mut(field.index() as usize) {
                *slot = value.unwrap_or_default();
            }
        }
        let set = slots
            .iter()
            .filter(|v| !matches!(v, AnyValue::Empty))
            .count();
        if set > 1 {
            let names: Vec<&str> = slots
                .iter()
                .zip(ValueField::ALL)
                .filter(|(v, _)| !matches!(v, AnyValue::Empty))
                .map(|(_, f)| f.name())
                .collect();
            return Err(invalid(
                path,
                format_args!("AnyValue with more than one value: {}", names.join(", ")),
            ));
        }
        Ok(slots
            .into_iter()
            .find(|v| !matches!(v, AnyValue::Empty))
            .unwrap_or_default())
    }
}

impl ValueField {
    /// In declaration (= slot) order.
    const ALL: [ValueField; 7] = [
        ValueField::String,
        ValueField::Bool,
        ValueField::Int,
        ValueField::Double,
        ValueField::Array,
        ValueField::KvList,
        ValueField::Bytes,
    ];
}

fields! {
    enum KeyValueField {
        Key = "key",
        Value = "value",
    }
}

impl<'de> Message<'de> for KeyValue<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = KeyValue::default();
        let mut keys = Keys::<KeyValueField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                KeyValueField::Key => out.key = scalar::<Text, _>(&mut map, &path)?,
                KeyValueField::Value => {
                    out.value = optional(&mut map, &path)?.unwrap_or_default();
                }
            }
        }
        Ok(out)
    }
}

fields! {
    enum ResourceField {
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
    }
}

impl<'de> Message<'de> for Resource<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = Resource::default();
        let mut keys = Keys::<ResourceField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                ResourceField::Attributes => out.attributes = list(&mut map, &path)?,
                ResourceField::DroppedAttributesCount => {
                    out.dropped_attributes_count = scalar::<U32, _>(&mut map, &path)?;
                }
            }
        }
        Ok(out)
    }
}

fields! {
    enum ScopeField {
        Name = "name",
        Version = "version",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
    }
}

impl<'de> Message<'de> for Scope<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = Scope::default();
        let mut keys = Keys::<ScopeField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                ScopeField::Name => out.name = scalar::<Text, _>(&mut map, &path)?,
                ScopeField::Version => out.version = scalar::<Text, _>(&mut map, &path)?,
                ScopeField::Attributes => out.attributes = list(&mut map, &path)?,
                ScopeField::DroppedAttributesCount => {
                    out.dropped_attributes_count = scalar::<U32, _>(&mut map, &path)?;
                }
            }
        }
        Ok(out)
    }
}
