//! Rows kept between a request and the file they end up in (the Worker's spool,
//! docs/adr/0012-worker-spool.md): one batch as an Arrow IPC stream with zstd-compressed
//! bodies. Decoding is a copy of the buffers, with none of Parquet's page decoding, so that
//! the Worker's script stays small; the bytes are still a fraction of the request's.

use std::io::Cursor;

use arrow_array::RecordBatch;
use arrow_ipc::CompressionType;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::{IpcWriteOptions, StreamWriter};

use crate::{Table, WriterError};

fn arrow_error(table: Table) -> impl Fn(arrow_schema::ArrowError) -> WriterError {
    move |source| WriterError::Arrow {
        table: table.name(),
        source,
    }
}

/// `batch` (in `table`'s schema) as one compressed IPC stream.
pub fn encode_part(table: Table, batch: &RecordBatch) -> Result<Vec<u8>, WriterError> {
    let error = arrow_error(table);
    let options = IpcWriteOptions::default()
        .try_with_compression(Some(CompressionType::ZSTD))
        .map_err(&error)?;
    let mut writer =
        StreamWriter::try_new_with_options(Vec::new(), &batch.schema(), options).map_err(&error)?;
    writer.write(batch).map_err(&error)?;
    writer.finish().map_err(&error)?;
    writer.into_inner().map_err(&error)
}

/// The batch of a part [`encode_part`] wrote, in `table`'s own schema. A part cut short, with
/// more or less than one batch or another table's columns is an error. Only pass bytes that
/// [`encode_part`] produced: arrow-ipc's reader trusts a stream's buffer offsets and can panic
/// on forged ones (the spool checks a CRC-32 of every part before it gets here).
pub fn decode_part(table: Table, part: &[u8]) -> Result<RecordBatch, WriterError> {
    let error = arrow_error(table);
    let invalid = |what: &str| {
        error(arrow_schema::ArrowError::IpcError(format!(
            "a spooled part must hold one batch, this one {what}"
        )))
    };
    let mut reader = StreamReader::try_new(Cursor::new(part), None).map_err(&error)?;
    let batch = reader
        .next()
        .ok_or_else(|| invalid("holds none"))?
        .map_err(&error)?;
    if reader.next().is_some() {
        return Err(invalid("holds more"));
    }
    RecordBatch::try_new(crate::schema::schema(table), batch.columns().to_vec()).map_err(&error)
}
