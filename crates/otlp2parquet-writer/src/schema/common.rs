//! Types and columns shared by several tables.
//!
//! | column | type | OTLP source |
//! |---|---|---|
//! | `ServiceName` | Utf8 | resource attribute `service.name`, stringified; else `""` |
//! | `ResourceSchemaUrl` | Utf8 | `Resource*.schema_url` |
//! | `ResourceAttributes` | Map | `Resource.attributes` |
//! | `ScopeSchemaUrl` | Utf8 | `Scope*.schema_url` |
//! | `ScopeName` | Utf8 | `InstrumentationScope.name` |
//! | `ScopeVersion` | Utf8 | `InstrumentationScope.version` |
//! | `ScopeAttributes` | Map | `InstrumentationScope.attributes` |
//! | `ScopeDroppedAttrCount` | UInt32 | `InstrumentationScope.dropped_attributes_count` |
//!
//! Ids (`TraceId`, `SpanId`, …) are Utf8 lowercase hex, `""` when absent.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

use crate::Table;

/// Footer/schema metadata key holding `<table>/v1` (docs/schema.md#footer-metadata).
pub const METADATA_SCHEMA: &str = "otlp2parquet.schema";
/// Footer/schema metadata key holding the otlp2parquet version.
pub const METADATA_VERSION: &str = "otlp2parquet.version";

/// `ServiceName`.
pub const SERVICE_NAME: &str = "ServiceName";
/// `ResourceSchemaUrl`.
pub const RESOURCE_SCHEMA_URL: &str = "ResourceSchemaUrl";
/// `ResourceAttributes`.
pub const RESOURCE_ATTRIBUTES: &str = "ResourceAttributes";
/// `ScopeSchemaUrl`.
pub const SCOPE_SCHEMA_URL: &str = "ScopeSchemaUrl";
/// `ScopeName`.
pub const SCOPE_NAME: &str = "ScopeName";
/// `ScopeVersion`.
pub const SCOPE_VERSION: &str = "ScopeVersion";
/// `ScopeAttributes`.
pub const SCOPE_ATTRIBUTES: &str = "ScopeAttributes";
/// `ScopeDroppedAttrCount`.
pub const SCOPE_DROPPED_ATTR_COUNT: &str = "ScopeDroppedAttrCount";

/// Name of the struct field inside a `Map` column.
pub const MAP_ENTRIES: &str = "entries";
/// Name of the key field of a map entry.
pub const MAP_KEY: &str = "key";
/// Name of the value field of a map entry.
pub const MAP_VALUE: &str = "value";
/// Name of the element field of a `List` column.
pub const LIST_ITEM: &str = "item";

/// The time zone of every timestamp column.
pub const UTC: &str = "UTC";

/// `Timestamp(Nanosecond, "UTC")`.
pub fn timestamp_ns() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some(UTC.into()))
}

/// `Timestamp(Millisecond, "UTC")`: whole seconds kept in milliseconds, because Parquet has no
/// seconds unit (`TimestampTime`, docs/schema.md#logs).
pub fn timestamp_ms() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into()))
}

/// `Map<Utf8, Utf8>` with non-nullable keys and values, as the exporter's `Map(String, String)`.
pub fn attribute_map() -> DataType {
    let entries = Fields::from(vec![
        Field::new(MAP_KEY, DataType::Utf8, false),
        Field::new(MAP_VALUE, DataType::Utf8, false),
    ]);
    DataType::Map(
        Arc::new(Field::new(MAP_ENTRIES, DataType::Struct(entries), false)),
        false,
    )
}

/// `List<item>` with a non-nullable `item` field (the exporter's `Array(T)`).
pub fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new(LIST_ITEM, item, false)))
}

/// A non-nullable column.
pub fn column(name: &str, data_type: DataType) -> Field {
    Field::new(name, data_type, false)
}

/// The schema of `table` with the footer metadata of docs/schema.md#footer-metadata.
pub(crate) fn table_schema(table: Table, fields: Vec<Field>) -> SchemaRef {
    let metadata = HashMap::from([
        (METADATA_SCHEMA.to_owned(), table.schema_id().to_owned()),
        (METADATA_VERSION.to_owned(), crate::VERSION.to_owned()),
    ]);
    Arc::new(Schema::new_with_metadata(fields, metadata))
}
