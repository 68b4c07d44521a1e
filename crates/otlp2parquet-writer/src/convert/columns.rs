//! Column builders: one per Arrow column, finished against the column's schema field.
//!
//! The builders append without checks on the hot path and report problems at `finish`:
//! a text column that would pass the 2 GiB an `i32`-offset Utf8 array can address stops
//! growing and makes the batch an [`WriterError::InvalidRecord`] instead of a panic deep in Arrow.

use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, BooleanBufferBuilder, StringBuilder};
use arrow_array::types::ArrowPrimitiveType;
use arrow_array::{
    Array, ArrayRef, BooleanArray, ListArray, MapArray, PrimitiveArray, RecordBatch, StringArray,
    StructArray,
};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, SchemaRef};

use crate::{Table, WriterError, schema};

/// Most bytes (or list elements) one column of one batch may hold: Arrow's `i32` offsets.
pub(crate) const MAX_COLUMN_BYTES: usize = i32::MAX as usize;

/// One column under construction.
pub(crate) trait Column {
    /// Number of values appended.
    fn len(&self) -> usize;
    /// Whether the column outgrew `i32` offsets (its content is then incomplete).
    fn overflowed(&self) -> bool;
    /// The finished array, typed after `field`.
    fn finish(self, field: &Field) -> Result<ArrayRef, ArrowError>;
}

/// A non-nullable Utf8 column. Arrow's `StringBuilder` takes `&str`, already valid UTF-8, so
/// finishing it skips the full validation pass `StringArray::try_new` would make; the length
/// check here keeps its offset-overflow `expect` from ever firing.
pub(crate) struct StrCol {
    builder: StringBuilder,
    overflow: bool,
}

impl StrCol {
    pub(crate) fn with_capacity(rows: usize, bytes: usize) -> Self {
        Self {
            builder: StringBuilder::with_capacity(rows, bytes),
            overflow: false,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, s: &str) {
        if self.builder.values_slice().len() + s.len() > MAX_COLUMN_BYTES {
            self.overflow = true;
            self.builder.append_value("");
        } else {
            self.builder.append_value(s);
        }
    }

    /// Appends the strings of `run`: one copy for all of them.
    #[inline]
    pub(crate) fn push_run(&mut self, run: &StrRun) {
        let bytes = run.array.values().len();
        if self.builder.values_slice().len() + bytes > MAX_COLUMN_BYTES
            || self.builder.append_array(&run.array).is_err()
        {
            self.overflow = true;
            self.builder.append_value_n("", run.array.len());
        }
    }
}

impl Column for StrCol {
    fn len(&self) -> usize {
        self.builder.len()
    }
    fn overflowed(&self) -> bool {
        self.overflow
    }
    fn finish(mut self, _field: &Field) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.builder.finish()))
    }
}

/// Several strings as one array: a value that repeats on many rows (resource and scope
/// attributes), appended with one copy per row.
pub(crate) struct StrRun {
    array: StringArray,
}

impl StrRun {
    fn new(strings: &[&str]) -> Self {
        let bytes = strings.iter().map(|s| s.len()).sum();
        let mut builder = StringBuilder::with_capacity(strings.len(), bytes);
        for s in strings {
            builder.append_value(s);
        }
        Self {
            array: builder.finish(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.array.len()
    }

    pub(crate) fn byte_len(&self) -> usize {
        self.array.values().len()
    }
}

/// Map entries encoded once, appended to many rows.
pub(crate) struct EncodedMap {
    keys: StrRun,
    values: StrRun,
}

impl EncodedMap {
    /// The map of `entries`, already sorted and unique.
    pub(crate) fn new(keys: &[&str], values: &[&str]) -> Self {
        Self {
            keys: StrRun::new(keys),
            values: StrRun::new(values),
        }
    }

    /// Bytes the map adds to a row (keys, values, and one per entry for its offsets).
    pub(crate) fn row_bytes(&self) -> usize {
        self.byte_len() + self.len()
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Bytes of keys and values.
    pub(crate) fn byte_len(&self) -> usize {
        self.key_bytes() + self.value_bytes()
    }

    pub(crate) fn key_bytes(&self) -> usize {
        self.keys.byte_len()
    }

    pub(crate) fn value_bytes(&self) -> usize {
        self.values.byte_len()
    }
}

/// A non-nullable primitive column (integers, floats, timestamps).
pub(crate) struct PrimCol<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
}

impl<T: ArrowPrimitiveType> PrimCol<T> {
    pub(crate) fn with_capacity(rows: usize) -> Self {
        Self {
            values: Vec::with_capacity(rows),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, v: T::Native) {
        self.values.push(v);
    }

    #[inline]
    pub(crate) fn extend_from_slice(&mut self, v: &[T::Native]) {
        self.values.extend_from_slice(v);
    }
}

impl<T: ArrowPrimitiveType> Column for PrimCol<T> {
    fn len(&self) -> usize {
        self.values.len()
    }
    fn overflowed(&self) -> bool {
        false
    }
    fn finish(self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let data_type = field.data_type();
        // Checked first because `with_data_type` panics on a mismatch; a timestamp's unit
        // and zone come from the schema, the one place they are defined.
        if !PrimitiveArray::<T>::is_compatible(data_type) {
            return Err(ArrowError::SchemaError(format!(
                "column {} is {data_type}, not {}",
                field.name(),
                T::DATA_TYPE
            )));
        }
        let array = PrimitiveArray::<T>::new(ScalarBuffer::from(self.values), None)
            .with_data_type(data_type.clone());
        Ok(Arc::new(array))
    }
}

/// A non-nullable Boolean column.
pub(crate) struct BoolCol {
    values: BooleanBufferBuilder,
}

impl BoolCol {
    pub(crate) fn with_capacity(rows: usize) -> Self {
        Self {
            values: BooleanBufferBuilder::new(rows),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, v: bool) {
        self.values.append(v);
    }
}

impl Column for BoolCol {
    fn len(&self) -> usize {
        self.values.len()
    }
    fn overflowed(&self) -> bool {
        false
    }
    fn finish(mut self, _field: &Field) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(BooleanArray::new(self.values.finish(), None)))
    }
}

/// Offsets of a list-like column: starts at 0, one entry per closed row.
struct Offsets {
    offsets: Vec<i32>,
    overflow: bool,
}

impl Offsets {
    fn with_capacity(rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            offsets,
            overflow: false,
        }
    }

    #[inline]
    fn close(&mut self, child_len: usize) {
        let end = i32::try_from(child_len).unwrap_or_else(|_| {
            self.overflow = true;
            i32::MAX
        });
        self.offsets.push(end);
    }

    fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    fn finish(self) -> OffsetBuffer<i32> {
        // Monotonic by construction: each value is a child length that only grows (or the
        // saturated maximum, reported through `overflow`).
        OffsetBuffer::new(ScalarBuffer::from(self.offsets))
    }
}

/// A `Map<Utf8, Utf8>` column; entries are appended in the order they are stored.
pub(crate) struct MapCol {
    keys: StrCol,
    values: StrCol,
    offsets: Offsets,
}

impl MapCol {
    pub(crate) fn with_capacity(rows: usize, entries: usize, bytes: usize) -> Self {
        Self::with_sizes(rows, entries, bytes / 2, bytes / 2)
    }

    /// A column sized for `entries` entries of `key_bytes` and `value_bytes` in all.
    pub(crate) fn with_sizes(
        rows: usize,
        entries: usize,
        key_bytes: usize,
        value_bytes: usize,
    ) -> Self {
        Self {
            keys: StrCol::with_capacity(entries, key_bytes),
            values: StrCol::with_capacity(entries, value_bytes),
            offsets: Offsets::with_capacity(rows),
        }
    }

    #[inline]
    pub(crate) fn entry(&mut self, key: &str, value: &str) {
        self.keys.push(key);
        self.values.push(value);
    }

    /// Appends all entries of `map` (already sorted and unique) to the current row.
    #[inline]
    pub(crate) fn entries(&mut self, map: &EncodedMap) {
        self.keys.push_run(&map.keys);
        self.values.push_run(&map.values);
    }

    /// Ends the current row's map.
    #[inline]
    pub(crate) fn close(&mut self) {
        self.offsets.close(self.keys.len());
    }
}

impl Column for MapCol {
    fn len(&self) -> usize {
        self.offsets.rows()
    }
    fn overflowed(&self) -> bool {
        self.offsets.overflow || self.keys.overflowed() || self.values.overflowed()
    }
    fn finish(self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let (entries, sorted) = match field.data_type() {
            DataType::Map(entries, sorted) => (entries, *sorted),
            other => return Err(mismatch(field, "Map", other)),
        };
        let DataType::Struct(kv) = entries.data_type() else {
            return Err(mismatch(field, "Map entries Struct", entries.data_type()));
        };
        let (key_field, value_field) = match (kv.first(), kv.get(1)) {
            (Some(k), Some(v)) => (k, v),
            _ => return Err(mismatch(field, "two map entry fields", entries.data_type())),
        };
        let keys = self.keys.finish(key_field)?;
        let values = self.values.finish(value_field)?;
        let entries_array = StructArray::try_new(kv.clone(), vec![keys, values], None)?;
        let map = MapArray::try_new(
            FieldRef::clone(entries),
            self.offsets.finish(),
            entries_array,
            None,
            sorted,
        )?;
        Ok(Arc::new(map))
    }
}

/// A `List<T>` column over any inner column.
pub(crate) struct ListCol<C> {
    items: C,
    offsets: Offsets,
}

impl<C: Column> ListCol<C> {
    pub(crate) fn new(rows: usize, items: C) -> Self {
        Self {
            items,
            offsets: Offsets::with_capacity(rows),
        }
    }

    /// The element column, to append the current row's elements to.
    #[inline]
    pub(crate) fn items(&mut self) -> &mut C {
        &mut self.items
    }

    /// Ends the current row's list.
    #[inline]
    pub(crate) fn close(&mut self) {
        self.offsets.close(self.items.len());
    }
}

impl<T: ArrowPrimitiveType> ListCol<PrimCol<T>> {
    /// Appends one row whose list is `values`.
    #[inline]
    pub(crate) fn push_row(&mut self, values: &[T::Native]) {
        self.items.extend_from_slice(values);
        self.close();
    }
}

impl<C: Column> Column for ListCol<C> {
    fn len(&self) -> usize {
        self.offsets.rows()
    }
    fn overflowed(&self) -> bool {
        self.offsets.overflow || self.items.overflowed()
    }
    fn finish(self, field: &Field) -> Result<ArrayRef, ArrowError> {
        let DataType::List(item) = field.data_type() else {
            return Err(mismatch(field, "List", field.data_type()));
        };
        let values = self.items.finish(item)?;
        let list = ListArray::try_new(FieldRef::clone(item), self.offsets.finish(), values, None)?;
        Ok(Arc::new(list))
    }
}

fn mismatch(field: &Field, wanted: &str, got: &DataType) -> ArrowError {
    ArrowError::SchemaError(format!(
        "column {}: builder makes {wanted}, schema has {got}",
        field.name()
    ))
}

/// The finished columns of one batch, collected in schema order.
pub(crate) struct Batch {
    table: Table,
    schema: SchemaRef,
    arrays: Vec<ArrayRef>,
}

impl Batch {
    pub(crate) fn new(table: Table) -> Self {
        let schema = schema::schema(table);
        let arrays = Vec::with_capacity(schema.fields().len());
        Self {
            table,
            schema,
            arrays,
        }
    }

    /// Finishes `col` as the next column, which must be the one called `name`.
    pub(crate) fn push(&mut self, name: &str, col: impl Column) -> Result<(), WriterError> {
        let field = match self.schema.fields().get(self.arrays.len()) {
            Some(f) if f.name() == name => Arc::clone(f),
            other => {
                let at = other.map_or("<end of schema>", |f| f.name().as_str());
                let msg = format!("column {name} pushed where the schema has {at}");
                return Err(self.arrow(ArrowError::SchemaError(msg)));
            }
        };
        if col.overflowed() {
            return Err(WriterError::InvalidRecord(format!(
                "{}.{name}: one file would hold more than {MAX_COLUMN_BYTES} bytes in this column",
                self.table.name()
            )));
        }
        let array = col.finish(&field).map_err(|e| self.arrow(e))?;
        self.arrays.push(array);
        Ok(())
    }

    /// The record batch; `RecordBatch::try_new` is where any drift from the schema is caught.
    pub(crate) fn finish(self) -> Result<RecordBatch, WriterError> {
        let table = self.table.name();
        RecordBatch::try_new(self.schema, self.arrays)
            .map_err(|source| WriterError::Arrow { table, source })
    }

    fn arrow(&self, source: ArrowError) -> WriterError {
        WriterError::Arrow {
            table: self.table.name(),
            source,
        }
    }
}
