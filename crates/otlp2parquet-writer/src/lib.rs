//! ClickHouse-compatible Arrow schemas (docs/schema.md), OTLP → Arrow conversion, Parquet
//! encoding (docs/schema.md#file-layout) and object keys (docs/keys.md).
//!
//! The conversion entry points ([`convert_logs`], [`convert_traces`], [`convert_metrics`]) take a
//! decoded request and the time it was received, and return one [`Partition`] per
//! (table, safe service name, hour): each partition becomes one Parquet file under the key
//! [`object_key`] gives it.

#![deny(missing_docs)]

mod convert;
mod error;
mod gather;
mod ids;
pub mod key;
pub mod layout;
mod merge;
#[cfg(feature = "opendal")]
pub mod opendal_storage;
mod parquet;
pub mod part;
pub mod read;
pub mod schema;
mod storage;
mod table;
pub mod value;

pub use convert::{convert_logs, convert_metrics, convert_traces};
pub use error::WriterError;
pub use ids::hex_id;
pub use key::{object_key, safe_service_name};
pub use merge::{encode_merged, time_column};
#[cfg(feature = "opendal")]
pub use opendal_storage::OpendalStorage;
pub use parquet::{
    BLOOM_FILTER_FPP, ParquetOptions, SCHEMA_METADATA_KEY, TimestampUnit, VERSION_METADATA_KEY,
    bloom_columns, encode_parquet, table_file_schema, writer_properties,
};
pub use storage::{
    Fetched, Listed, MemoryStorage, ObjectStore, PutNew, Storage, StorageError, StorageErrorKind,
    content_tag,
};
pub use table::Table;

use arrow_array::RecordBatch;

/// The version written into every file's footer as `otlp2parquet.version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Rows of one table that share a safe service name and an hour: the content of one file.
#[derive(Debug, Clone)]
pub struct Partition {
    /// The table the rows belong to.
    pub table: Table,
    /// The key-safe service name (docs/keys.md#service-names) shared by every row.
    pub service: String,
    /// The earliest row time in the batch, in ns since the epoch (rows are sorted by it).
    pub min_time_ns: i64,
    /// The rows, in the table's schema, ordered by time.
    pub batch: RecordBatch,
}

impl Partition {
    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }
}
