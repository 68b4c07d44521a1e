//! Parquet encoding (SPEC §5.4) (helper-owned, in progress).
use arrow_array::RecordBatch;
use otlp2parquet_common::config::ParquetCompression;

use crate::{Table, WriterError};

/// How files are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParquetOptions {
    /// Page compression codec.
    pub compression: ParquetCompression,
    /// Maximum rows per row group.
    pub row_group_rows: usize,
}

/// Encodes `batches` (all in `table`'s schema, already ordered by time) as one Parquet file.
pub fn encode_parquet(
    _table: Table,
    _batches: &[RecordBatch],
    _opts: &ParquetOptions,
) -> Result<Vec<u8>, WriterError> {
    Ok(Vec::new())
}
