//! Integration tests of the writer: schemas (golden), conversion, keys, values, Parquet layout.

#[path = "golden/check.rs"]
mod golden;

mod convert;
mod convert_fixtures;
mod key;
mod layout;
mod merge;
/// Against a real S3 server (s3s-fs): only with the `e2e` feature (`make test`).
#[cfg(feature = "e2e")]
mod e2e {
    mod opendal;
}
mod parquet;
mod schema;
mod value;
