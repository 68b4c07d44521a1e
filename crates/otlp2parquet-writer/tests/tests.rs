//! Integration tests of the writer: schemas (golden), conversion, keys, values, Parquet layout.

#[path = "golden/check.rs"]
mod golden;

mod convert;
mod convert_fixtures;
mod key;
mod merge;
mod opendal;
mod parquet;
mod schema;
mod value;
