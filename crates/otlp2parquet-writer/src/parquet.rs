//! Parquet encoding (SPEC §5.4): one in-memory file per partition.
//!
//! Every file is written the same way: the configured codec (zstd level 1 by default), dictionary
//! encoding, page-level statistics with column and offset indexes (so ClickHouse and DuckDB can
//! skip pages by time or service), row groups of at most `row_group_rows` rows, and footer
//! key-value metadata naming the schema (`otlp2parquet.schema` = `<table>/v1`) and the writer
//! version (`otlp2parquet.version`, SPEC §4.4). The Arrow schema is embedded too (parquet-rs
//! default), so readers get `Timestamp(…, "UTC")` and the map/list field names back exactly.
//!
//! Page size and write batch size stay at parquet-rs's defaults (1 MiB, 1 024 rows): on 200 000
//! log-like rows, batch sizes of 8 Ki and 32 Ki rows and 8 MiB pages were within noise of them.
//! What does cost time is the dictionary on columns that are unique per row (ids, nanosecond
//! times): the encoder fills a 1 MiB dictionary, then falls back to plain; turning dictionaries
//! off everywhere halved encoding time on that data and made the file ~9 % smaller, but SPEC
//! §5.4 asks for dictionaries on, so they stay on.
use arrow_array::RecordBatch;
use otlp2parquet_common::config::ParquetCompression;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::{Table, VERSION, WriterError};

/// Footer metadata key holding the table's schema id (SPEC §4.4).
pub const SCHEMA_METADATA_KEY: &str = "otlp2parquet.schema";

/// Footer metadata key holding the writer version (SPEC §4.4).
pub const VERSION_METADATA_KEY: &str = "otlp2parquet.version";

/// How files are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParquetOptions {
    /// Page compression codec.
    pub compression: ParquetCompression,
    /// Maximum rows per row group.
    pub row_group_rows: usize,
}

impl Default for ParquetOptions {
    /// zstd, 122 880 rows per row group (SPEC §2 defaults).
    fn default() -> Self {
        ParquetOptions {
            compression: ParquetCompression::Zstd,
            row_group_rows: 122_880,
        }
    }
}

/// Encodes `batches` (all in `table`'s schema, already ordered by time) as one Parquet file.
///
/// With no batches the file holds no rows, in the schema of [`crate::schema::schema`]. A batch
/// whose schema differs from the first one's is an error (a converter bug), not a panic.
pub fn encode_parquet(
    table: Table,
    batches: &[RecordBatch],
    opts: &ParquetOptions,
) -> Result<Vec<u8>, WriterError> {
    let parquet_error = |source| WriterError::Parquet {
        table: table.name(),
        source,
    };
    let schema = match batches.first() {
        Some(batch) => batch.schema(),
        None => crate::schema::schema(table),
    };
    let capacity: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
    // Compressed Parquet is usually several times smaller than the Arrow data it came from.
    let buffer = Vec::with_capacity(capacity / 4 + 4096);
    let props = writer_properties(table, opts);
    let mut writer = ArrowWriter::try_new(buffer, schema, Some(props)).map_err(parquet_error)?;
    for batch in batches {
        writer.write(batch).map_err(parquet_error)?;
    }
    writer.into_inner().map_err(parquet_error)
}

/// The writer properties every file of `table` is written with.
pub fn writer_properties(table: Table, opts: &ParquetOptions) -> WriterProperties {
    let compression = match opts.compression {
        ParquetCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
        ParquetCompression::Snappy => Compression::SNAPPY,
        ParquetCompression::None => Compression::UNCOMPRESSED,
    };
    WriterProperties::builder()
        .set_created_by(format!(
            "otlp2parquet version {VERSION} ({})",
            parquet::file::properties::DEFAULT_CREATED_BY
        ))
        .set_compression(compression)
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        // The builder panics on 0; config validation rejects 0, this keeps a stray 0 harmless.
        .set_max_row_group_row_count(Some(opts.row_group_rows.max(1)))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(SCHEMA_METADATA_KEY.to_owned(), table.schema_id().to_owned()),
            KeyValue::new(VERSION_METADATA_KEY.to_owned(), VERSION.to_owned()),
        ]))
        .build()
}
