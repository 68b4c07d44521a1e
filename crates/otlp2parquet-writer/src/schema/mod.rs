//! The seven ClickHouse-compatible tables of docs/schema.md, each defined once.
//!
//! Every table lives in its own module with its column-name constants and one cached
//! [`SchemaRef`]; [`schema`] hands out the cached schema of any [`Table`]. Parts that several
//! tables share (resource and scope columns, attribute maps, ids, exemplars) are declared once in
//! [`common`] and [`metrics`].
//!
//! Conventions (docs/schema.md#conventions): every column is non-nullable; timestamps are
//! `Timestamp(Nanosecond, "UTC")` unless stated; attribute maps are `Map<Utf8, Utf8>` with
//! an `entries` struct of non-nullable `key` and `value` fields, keys not flagged as sorted
//! (the writer sorts them, but ClickHouse's `Map` type has no such flag); lists hold a
//! non-nullable `item` field.
//!
//! The schema metadata carries the footer key-value pairs of docs/schema.md#footer-metadata:
//! [`METADATA_SCHEMA`] = [`Table::schema_id`] and [`METADATA_VERSION`] = [`crate::VERSION`].

pub mod common;
pub mod logs;
pub mod metrics;
pub mod traces;

use arrow_schema::SchemaRef;

use crate::Table;

pub use common::{METADATA_SCHEMA, METADATA_VERSION};

/// The Arrow schema of `table` (cached: cloning the returned `Arc` is all this costs).
pub fn schema(table: Table) -> SchemaRef {
    match table {
        Table::Logs => logs::schema(),
        Table::Traces => traces::schema(),
        Table::Metrics(kind) => metrics::schema(kind),
    }
}
