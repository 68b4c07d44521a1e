//! The form a table takes in a file (docs/schema.md#field-ids and #timestamp-unit), as opposed
//! to its form in memory.
//!
//! In memory every table keeps one schema (`crate::schema`): nanosecond times and no field ids,
//! so batches of any age — spooled parts, logged requests, files read back for compaction —
//! always merge. Only when a file is written do its columns take the file form:
//!
//! - **Field ids.** Every field carries a Parquet field id (`PARQUET:field_id`), so that a file
//!   can be added to an Iceberg table as it is. Top-level column `i` (0-based) gets id `i + 1`;
//!   the fields nested in it (map key and value, list item, and the key and value of a list of
//!   maps), in depth-first order, get `100 × (i + 1) + 1`, `+ 2`, …. Ids never change for a
//!   column that exists, and a column added at the end gets new ones.
//! - **Time unit.** With [`TimestampUnit::Microsecond`] every timestamp, nested ones included,
//!   is in microseconds (values truncated toward the past); with the default nanoseconds the
//!   columns stay as they are (`TimestampTime` keeps its milliseconds).
//!
//! [`conform`] moves a column between the two forms in either direction; reading a file back
//! (`crate::read`) uses it to return to the memory form.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{
    Array, ArrayRef, Int64Array, ListArray, MapArray, RecordBatch, StructArray, make_array,
};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields, Schema, SchemaRef, TimeUnit};
use otlp2parquet_common::config::TimestampUnit;

/// Arrow field metadata key that the Parquet writer turns into a field id.
pub const FIELD_ID_KEY: &str = "PARQUET:field_id";

/// Field ids of the fields nested in top-level column `id` start at `NESTED_ID_BASE × id + 1`.
pub const NESTED_ID_BASE: i32 = 100;

/// The file form of `schema` (a table's memory schema): field ids on every field, times in
/// `unit`. Schema-level metadata is kept.
pub fn file_schema(schema: &Schema, unit: TimestampUnit) -> SchemaRef {
    let fields: Vec<FieldRef> = schema
        .fields()
        .iter()
        .zip(1i32..)
        .map(|(field, id)| {
            let mut next = NESTED_ID_BASE * id;
            let data_type = file_type(field.data_type(), unit, &mut next);
            Arc::new(with_id(
                field.as_ref().clone().with_data_type(data_type),
                id,
            ))
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn with_id(field: Field, id: i32) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(FIELD_ID_KEY.to_owned(), id.to_string());
    field.with_metadata(metadata)
}

/// A nested field in file form, numbered from `next`.
fn nested_field(field: &Field, unit: TimestampUnit, next: &mut i32) -> FieldRef {
    *next += 1;
    let id = *next;
    let data_type = file_type(field.data_type(), unit, next);
    Arc::new(with_id(field.clone().with_data_type(data_type), id))
}

fn file_type(data_type: &DataType, unit: TimestampUnit, next: &mut i32) -> DataType {
    match data_type {
        DataType::Timestamp(_, tz) if unit == TimestampUnit::Microsecond => {
            DataType::Timestamp(TimeUnit::Microsecond, tz.clone())
        }
        DataType::List(item) => DataType::List(nested_field(item, unit, next)),
        DataType::Map(entries, sorted) => {
            // The entries struct is Parquet's repeated `key_value` group, which Iceberg does not
            // number; its key and value are numbered.
            let DataType::Struct(children) = entries.data_type() else {
                return data_type.clone();
            };
            let children: Fields = children
                .iter()
                .map(|child| nested_field(child, unit, next))
                .collect();
            let entries = entries
                .as_ref()
                .clone()
                .with_data_type(DataType::Struct(children));
            DataType::Map(Arc::new(entries), *sorted)
        }
        DataType::Struct(children) => DataType::Struct(
            children
                .iter()
                .map(|child| nested_field(child, unit, next))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `batch` with every column conformed to `schema` (see [`conform`]).
pub fn conform_batch(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    if Arc::ptr_eq(&batch.schema(), schema) {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| conform(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(Arc::clone(schema), columns)
}

/// `array` as type `to`, which may differ from the array's type only in the unit of its
/// timestamps and the metadata (names, ids) of its nested fields. Buffers are shared, except
/// for timestamps whose unit changes; going to a coarser unit truncates toward the past.
pub fn conform(array: &ArrayRef, to: &DataType) -> Result<ArrayRef, ArrowError> {
    let from = array.data_type();
    if from == to {
        return Ok(Arc::clone(array));
    }
    match (from, to) {
        (DataType::Timestamp(from_unit, _), DataType::Timestamp(to_unit, _)) => {
            // Every timestamp is an i64 array: rescale the raw values, then label them `to`.
            let raw = Int64Array::from(
                array
                    .to_data()
                    .into_builder()
                    .data_type(DataType::Int64)
                    .build()?,
            );
            let (from_step, to_step) = (nanos_per(*from_unit), nanos_per(*to_unit));
            let scaled = if from_step >= to_step {
                let factor = from_step / to_step;
                raw.unary::<_, Int64Type>(|v| v.saturating_mul(factor))
            } else {
                let divisor = to_step / from_step;
                raw.unary::<_, Int64Type>(|v| v.div_euclid(divisor))
            };
            Ok(make_array(
                scaled
                    .into_data()
                    .into_builder()
                    .data_type(to.clone())
                    .build()?,
            ))
        }
        (DataType::List(_), DataType::List(item)) => {
            let list = array.as_list::<i32>();
            let values = conform(list.values(), item.data_type())?;
            Ok(Arc::new(ListArray::try_new(
                Arc::clone(item),
                list.offsets().clone(),
                values,
                list.nulls().cloned(),
            )?))
        }
        (DataType::Map(_, _), DataType::Map(entries, sorted)) => {
            let map = array.as_map();
            let DataType::Struct(children) = entries.data_type() else {
                return Err(mismatch(from, to));
            };
            let struct_array = conform_struct(map.entries(), children)?;
            Ok(Arc::new(MapArray::try_new(
                Arc::clone(entries),
                map.offsets().clone(),
                struct_array,
                map.nulls().cloned(),
                *sorted,
            )?))
        }
        (DataType::Struct(_), DataType::Struct(children)) => {
            Ok(Arc::new(conform_struct(array.as_struct(), children)?))
        }
        _ => Err(mismatch(from, to)),
    }
}

fn conform_struct(array: &StructArray, fields: &Fields) -> Result<StructArray, ArrowError> {
    let columns = array
        .columns()
        .iter()
        .zip(fields)
        .map(|(column, field)| conform(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    StructArray::try_new(fields.clone(), columns, array.nulls().cloned())
}

/// Nanoseconds in one step of `unit`.
fn nanos_per(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

fn mismatch(from: &DataType, to: &DataType) -> ArrowError {
    ArrowError::SchemaError(format!("a column of type {from} cannot be written as {to}"))
}

/// The field id of every field of `schema` by dotted path (`LogAttributes.entries.key`), for
/// documentation and tests.
pub fn field_ids(schema: &Schema) -> Vec<(String, i32)> {
    fn walk(prefix: &str, field: &Field, out: &mut Vec<(String, i32)>) {
        let path = if prefix.is_empty() {
            field.name().clone()
        } else {
            format!("{prefix}.{}", field.name())
        };
        if let Some(id) = field
            .metadata()
            .get(FIELD_ID_KEY)
            .and_then(|v| v.parse().ok())
        {
            out.push((path.clone(), id));
        }
        match field.data_type() {
            DataType::List(item) => walk(&path, item, out),
            DataType::Map(entries, _) => walk(&path, entries, out),
            DataType::Struct(children) => {
                for child in children {
                    walk(&path, child, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for field in schema.fields() {
        walk("", field, &mut out);
    }
    out
}
