//! `encode_merged`: the batches of several requests become one file whose rows are all there,
//! ordered by time, whether or not the requests overlapped in time.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failure is a panic with context"
)]

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::{RecordBatch, StringArray};
use bytes::Bytes;
use otlp2parquet_proto::{ExportRequest, LogsRequest};
use otlp2parquet_writer::{
    ParquetOptions, Partition, SCHEMA_METADATA_KEY, Table, VERSION_METADATA_KEY, convert_logs,
    encode_merged,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use prost::Message;

/// The single-service log partitions of a generated request with `records` records.
fn partitions(records: usize, seed: u64) -> Vec<Partition> {
    let body = otlp2parquet_proto::testing::logs_request(records, 1, seed).encode_to_vec();
    let req = LogsRequest::decode_protobuf(&body).unwrap();
    convert_logs(&req, 1).unwrap()
}

/// The rows of a logs file, back in memory form (no field ids).
fn read(file: Vec<u8>) -> RecordBatch {
    let batches = otlp2parquet_writer::read::read_file(Table::Logs, Bytes::from(file)).unwrap();
    arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap()
}

fn times(batch: &RecordBatch) -> Vec<i64> {
    batch
        .column_by_name("Timestamp")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>()
        .values()
        .to_vec()
}

fn bodies(batch: &RecordBatch) -> Vec<String> {
    let col = batch.column_by_name("Body").unwrap();
    let col = col.as_any().downcast_ref::<StringArray>().unwrap();
    let mut out: Vec<String> = col.iter().map(|v| v.unwrap_or("").to_owned()).collect();
    out.sort();
    out
}

/// Asserts that every column of `back` equals Arrow's own interleave of `batches` in stable time
/// order.
fn assert_merged_like_interleave(back: &RecordBatch, batches: &[RecordBatch]) {
    let mut order: Vec<(i64, usize, usize)> = batches
        .iter()
        .enumerate()
        .flat_map(|(b, batch)| {
            times(batch)
                .into_iter()
                .enumerate()
                .map(move |(r, t)| (t, b, r))
        })
        .collect();
    order.sort_by_key(|&(t, _, _)| t);
    let picks: Vec<(usize, usize)> = order.iter().map(|&(_, b, r)| (b, r)).collect();
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    let expected = arrow_select::interleave::interleave_record_batch(&refs, &picks).unwrap();
    assert_eq!(back.num_rows(), expected.num_rows());
    for (i, field) in expected.schema().fields().iter().enumerate() {
        assert_eq!(
            back.column(i).as_ref(),
            expected.column(i).as_ref(),
            "column {}",
            field.name()
        );
    }
}

#[test]
fn overlapping_batches_merge_into_time_order() {
    // Generated requests with different seeds cover the same time range: they overlap.
    let mut batches = Vec::new();
    for seed in 1..=4 {
        for p in partitions(300, seed) {
            assert_eq!(p.table, Table::Logs);
            batches.push(p.batch);
        }
    }
    let input_times: Vec<i64> = batches.iter().flat_map(times).collect();
    assert!(
        input_times.windows(2).any(|w| w[1] < w[0]),
        "the test needs overlapping input"
    );
    let opts = ParquetOptions {
        row_group_rows: 500,
        ..ParquetOptions::default()
    };
    let file = encode_merged(Table::Logs, &batches, &opts).unwrap();
    // The footer is the one every file gets (schema id, version, Arrow schema).
    let meta = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file.clone()))
        .unwrap()
        .metadata()
        .clone();
    let kv: Vec<String> = meta
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .map(|kv| kv.key.clone())
        .collect();
    for key in [SCHEMA_METADATA_KEY, VERSION_METADATA_KEY, "ARROW:schema"] {
        assert!(kv.iter().any(|k| k == key), "{key} missing from {kv:?}");
    }
    assert_eq!(meta.num_row_groups(), 3, "row groups of 500 rows");
    let back = read(file);
    assert_eq!(back.num_rows(), 1200);
    let t = times(&back);
    assert!(
        t.windows(2).all(|w| w[0] <= w[1]),
        "rows not ordered by time"
    );
    let mut want = input_times;
    want.sort_unstable();
    assert_eq!(t, want);
    // Every column equals Arrow's own interleave in the same stable time order.
    assert_merged_like_interleave(&back, &batches);
    let all: Vec<RecordBatch> = batches.clone();
    let concat = arrow_select::concat::concat_batches(&all[0].schema(), &all).unwrap();
    assert_eq!(bodies(&back), bodies(&concat));
}

#[test]
fn a_row_group_of_many_pieces_merges_like_one() {
    // 24 000 overlapping rows in one row group: gathered and encoded in several pieces.
    let batches: Vec<RecordBatch> = (1..=4)
        .flat_map(|seed| partitions(6000, seed))
        .map(|p| p.batch)
        .collect();
    // The premise: the batches overlap in time, so the merge gathers instead of appending.
    let last_of_first = times(&batches[0]).into_iter().max().unwrap();
    let first_of_second = times(&batches[1]).into_iter().min().unwrap();
    assert!(first_of_second < last_of_first);
    let file = encode_merged(Table::Logs, &batches, &ParquetOptions::default()).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file.clone()))
        .unwrap()
        .metadata()
        .clone();
    assert_eq!(meta.num_row_groups(), 1);
    assert_merged_like_interleave(&read(file), &batches);
}

#[test]
fn batches_already_in_order_are_written_as_they_are() {
    let batches: Vec<RecordBatch> = partitions(200, 7).into_iter().map(|p| p.batch).collect();
    let (a, b) = (batches[0].slice(0, 120), batches[0].slice(120, 80));
    let file = encode_merged(Table::Logs, &[a, b], &ParquetOptions::default()).unwrap();
    let back = read(file);
    assert_eq!(times(&back), times(&batches[0]));
    let body = |b: &RecordBatch| b.column_by_name("Body").unwrap().clone();
    assert_eq!(body(&back).as_ref(), body(&batches[0]).as_ref());
}

#[test]
fn no_batches_give_an_empty_file_and_a_batch_without_time_is_an_error() {
    let empty = read_empty(encode_merged(Table::Traces, &[], &ParquetOptions::default()).unwrap());
    assert_eq!(empty, 0);
    // Metric tables order by TimeUnix: a logs batch has none, which is an error, not a panic.
    let logs: Vec<RecordBatch> = partitions(10, 3).into_iter().map(|p| p.batch).collect();
    let err = encode_merged(
        Table::Metrics(otlp2parquet_common::MetricKind::Gauge),
        &logs,
        &ParquetOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("TimeUnix"), "{err}");
}

fn read_empty(file: Vec<u8>) -> usize {
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
        .unwrap()
        .build()
        .unwrap();
    reader.map(|b| b.unwrap().num_rows()).sum()
}

/// A spooled part gives back exactly its batch, in the table's own schema, so that parts merge
/// like batches fresh from conversion; garbage and another table's part are errors.
#[test]
fn spooled_parts_merge_like_converted_batches() {
    use otlp2parquet_writer::part::{decode_part, encode_part};
    use otlp2parquet_writer::schema::schema;
    let opts = ParquetOptions::default();
    let parts = partitions(700, 11);
    let mut decoded = Vec::new();
    for p in &parts {
        let bytes = encode_part(Table::Logs, &p.batch).unwrap();
        let back = decode_part(Table::Logs, &bytes).unwrap();
        assert_eq!(back.schema(), schema(Table::Logs));
        assert_eq!(back, p.batch);
        assert!(decode_part(Table::Traces, &bytes).is_err());
        // Cut anywhere before the end-of-stream marker (8 bytes), it is refused.
        for cut in (0..bytes.len() - 8).step_by(7) {
            assert!(
                decode_part(Table::Logs, &bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        decoded.push(back);
    }
    let direct: Vec<RecordBatch> = parts.iter().map(|p| p.batch.clone()).collect();
    assert_eq!(
        read(encode_merged(Table::Logs, &decoded, &opts).unwrap()),
        read(encode_merged(Table::Logs, &direct, &opts).unwrap())
    );
    assert!(decode_part(Table::Logs, b"not a stream").is_err());
}
