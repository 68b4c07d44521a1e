//! Reading our own files back, for the compactor's `--sealed` merge
//! (docs/adr/0013-lambda-spool.md): what a file holds, from its footer, and its rows.

use arrow_array::RecordBatch;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::ParquetMetaDataReader;

use crate::layout::conform;
use crate::{Table, WriterError};

/// What a file's footer says it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStats {
    /// Rows.
    pub rows: u64,
    /// Uncompressed bytes of its column chunks (close to the Arrow memory of its rows).
    pub uncompressed_bytes: u64,
}

fn parquet_error(table: Table) -> impl Fn(parquet::errors::ParquetError) -> WriterError {
    move |source| WriterError::Parquet {
        table: table.name(),
        source,
    }
}

/// The footer of a Parquet file, summed over its row groups.
pub fn file_stats(table: Table, file: &Bytes) -> Result<FileStats, WriterError> {
    let meta = ParquetMetaDataReader::new()
        .parse_and_finish(file)
        .map_err(parquet_error(table))?;
    let mut stats = FileStats {
        rows: 0,
        uncompressed_bytes: 0,
    };
    for group in meta.row_groups() {
        stats.rows += u64::try_from(group.num_rows()).unwrap_or(0);
        stats.uncompressed_bytes += u64::try_from(group.total_byte_size()).unwrap_or(0);
    }
    Ok(stats)
}

/// Every row of a Parquet file of `table`, as batches in `table`'s own schema (a file of
/// another table, or one whose columns differ, is an error). A file in another time unit or
/// with field ids (`crate::layout`) comes back in the memory form.
pub fn read_file(table: Table, file: Bytes) -> Result<Vec<RecordBatch>, WriterError> {
    let error = parquet_error(table);
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(&error)?
        .with_batch_size(8_192)
        .build()
        .map_err(&error)?;
    let schema = crate::schema::schema(table);
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|source| WriterError::Arrow {
            table: table.name(),
            source,
        })?;
        let columns = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(column, field)| conform(column, field.data_type()))
            .collect::<Result<Vec<_>, _>>();
        let batch = columns
            .and_then(|columns| RecordBatch::try_new(schema.clone(), columns))
            .map_err(|source| WriterError::Arrow {
                table: table.name(),
                source,
            })?;
        out.push(batch);
    }
    Ok(out)
}
