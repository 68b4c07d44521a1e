//! Merging the batches of several requests into one file (the server's batcher,
//! docs/adr/0006-server-batching.md).
//!
//! Each batch is already ordered by time (the converters sort), but batches of concurrent
//! requests overlap, and a file's rows must be ordered by time (docs/schema.md#conventions).
//! When the batches happen to follow each other in time (the common case for one busy client)
//! they are written as they are; otherwise the rows are merged through a stable sort on the time
//! column and gathered a piece of one column at a time (`parquet::encode_gathered`), so merging
//! never holds a second copy of the whole buffer.

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_schema::ArrowError;

use crate::parquet::{ParquetEncoder, encode_gathered};
use crate::{ParquetOptions, Table, WriterError};

/// The column rows are ordered by in `table`.
pub fn time_column(table: Table) -> &'static str {
    match table {
        Table::Logs => crate::schema::logs::TIMESTAMP,
        Table::Traces => crate::schema::traces::TIMESTAMP,
        Table::Metrics(_) => crate::schema::metrics::TIME_UNIX,
    }
}

/// The time values of `batch`'s time column (nanoseconds), or an error naming the table when the
/// batch does not have one (a converter bug).
fn times(table: Table, batch: &RecordBatch) -> Result<&[i64], WriterError> {
    let name = time_column(table);
    let column = batch
        .column_by_name(name)
        .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
        .ok_or_else(|| WriterError::Arrow {
            table: table.name(),
            source: ArrowError::SchemaError(format!(
                "batch has no {name} column of nanosecond timestamps"
            )),
        })?;
    // Null times do not occur (the converters substitute the received-at time); if one did, its
    // slot holds 0 and sorts first, which is harmless.
    Ok(column.values().as_ref())
}

/// Encodes the rows of `batches` (each ordered by time, all in `table`'s schema) as one Parquet
/// file with every row ordered by time; equal times keep batch order, then row order.
pub fn encode_merged(
    table: Table,
    batches: &[RecordBatch],
    opts: &ParquetOptions,
) -> Result<Vec<u8>, WriterError> {
    let columns: Vec<&[i64]> = batches
        .iter()
        .map(|b| times(table, b))
        .collect::<Result<_, _>>()?;
    if in_order(&columns) {
        let mut encoder = ParquetEncoder::new(table, batches, opts)?;
        for batch in batches {
            encoder.write(batch)?;
        }
        return encoder.finish();
    }
    let mut order: Vec<(i64, usize, usize)> = columns
        .iter()
        .enumerate()
        .flat_map(|(b, times)| times.iter().enumerate().map(move |(r, &t)| (t, b, r)))
        .collect();
    // Stable: rows with equal times keep their arrival order.
    order.sort_by_key(|&(t, _, _)| t);
    let rows: Vec<(usize, usize)> = order.into_iter().map(|(_, b, r)| (b, r)).collect();
    encode_gathered(table, batches, &rows, opts)
}

/// Whether the batches, taken in turn, are already ordered by time.
fn in_order(columns: &[&[i64]]) -> bool {
    let mut last = i64::MIN;
    for times in columns {
        // Each batch is sorted; only the seams between batches need checking, but a cheap full
        // check also guards against an unsorted batch.
        for &t in *times {
            if t < last {
                return false;
            }
            last = t;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::in_order;

    #[test]
    fn order_checks_seams_and_rows() {
        assert!(in_order(&[&[1, 2, 2], &[2, 5], &[]]));
        assert!(!in_order(&[&[1, 3], &[2, 4]]));
        assert!(!in_order(&[&[3, 1]]));
        assert!(in_order(&[]));
    }
}
