//! What makes a file query-ready (docs/schema.md#file-layout, docs/adr/0014-query-ready-files.md):
//! field ids on every column, the configured time unit, bloom filters on the trace and span ids,
//! the time column in `sorting_columns`, row groups bounded by bytes — on both encoding paths
//! (`encode_parquet` and the merge of overlapping batches), and files read back in memory form.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failure is a panic with context"
)]

use std::collections::{BTreeMap, HashSet};

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, TimestampNanosecondType, UInt64Type};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use bytes::Bytes;
use otlp2parquet_proto::{ExportRequest, LogsRequest, MetricsRequest, TracesRequest, testing};
use otlp2parquet_writer::layout::{FIELD_ID_KEY, field_ids};
use otlp2parquet_writer::read::read_file;
use otlp2parquet_writer::{
    ParquetOptions, Partition, Table, TimestampUnit, bloom_columns, convert_logs, convert_metrics,
    convert_traces, encode_merged, encode_parquet, table_file_schema,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Encoding, LogicalType, TimeUnit as ParquetTimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::serialized_reader::ReadOptionsBuilder;
use prost::Message as _;

const RECEIVED_AT_NS: i64 = 1_705_329_000_000_000_000;

fn partitions(table: &str, records: usize) -> Vec<Partition> {
    match table {
        "logs" => {
            let body = testing::logs_request(records, 1, 7).encode_to_vec();
            convert_logs(
                &LogsRequest::decode_protobuf(&body).unwrap(),
                RECEIVED_AT_NS,
            )
            .unwrap()
        }
        "traces" => {
            let body = testing::traces_request(records, 1, 7).encode_to_vec();
            convert_traces(
                &TracesRequest::decode_protobuf(&body).unwrap(),
                RECEIVED_AT_NS,
            )
            .unwrap()
        }
        _ => {
            let body = testing::metrics_request(records, 1, 7).encode_to_vec();
            convert_metrics(
                &MetricsRequest::decode_protobuf(&body).unwrap(),
                RECEIVED_AT_NS,
            )
            .unwrap()
        }
    }
}

/// One partition per table: logs, traces and every metric kind the generator makes.
fn every_table() -> Vec<Partition> {
    let mut out = partitions("logs", 300);
    out.extend(partitions("traces", 300));
    out.extend(partitions("metrics", 300));
    out
}

fn reader(file: &[u8]) -> SerializedFileReader<Bytes> {
    let opts = ReadOptionsBuilder::new()
        .with_page_index()
        .with_reader_properties(
            parquet::file::properties::ReaderProperties::builder()
                .set_read_bloom_filter(true)
                .build(),
        )
        .build();
    SerializedFileReader::new_with_options(Bytes::copy_from_slice(file), opts).unwrap()
}

fn us() -> ParquetOptions {
    ParquetOptions {
        timestamp_unit: TimestampUnit::Microsecond,
        ..ParquetOptions::default()
    }
}

#[test]
fn every_column_and_nested_field_has_its_documented_field_id() {
    for unit in [TimestampUnit::Nanosecond, TimestampUnit::Microsecond] {
        let opts = ParquetOptions {
            timestamp_unit: unit,
            ..ParquetOptions::default()
        };
        for p in every_table() {
            let file = encode_parquet(p.table, std::slice::from_ref(&p.batch), &opts).unwrap();
            let r = reader(&file);
            let descr = r.metadata().file_metadata().schema_descr();
            // Top-level column i has id i + 1.
            for (i, field) in descr.root_schema().get_fields().iter().enumerate() {
                let info = field.get_basic_info();
                assert!(info.has_id(), "{} {}", p.table.name(), field.name());
                assert_eq!(
                    info.id(),
                    i as i32 + 1,
                    "{} {}",
                    p.table.name(),
                    field.name()
                );
            }
            // Every leaf has an id, unique in the file; nested ones are 100 × parent + n.
            let mut seen = HashSet::new();
            for leaf in descr.columns() {
                let info = leaf.self_type().get_basic_info();
                assert!(info.has_id(), "{} {}", p.table.name(), leaf.path());
                let id = info.id();
                assert!(seen.insert(id), "{} id {id} twice", p.table.name());
                let parts = leaf.path().parts();
                if parts.len() > 1 {
                    let top = descr
                        .root_schema()
                        .get_fields()
                        .iter()
                        .position(|f| f.name() == parts[0])
                        .unwrap() as i32
                        + 1;
                    assert!(
                        id > 100 * top && id < 100 * (top + 1),
                        "{} {}: {id} outside the range of column {top}",
                        p.table.name(),
                        leaf.path()
                    );
                }
            }
            // The embedded Arrow schema says the same (readers that use it see the ids too).
            let arrow = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
                .unwrap()
                .schema()
                .clone();
            let expected = table_file_schema(p.table, &opts);
            assert_eq!(
                field_ids(&arrow),
                field_ids(&expected),
                "{}",
                p.table.name()
            );
            assert!(arrow.field(0).metadata().contains_key(FIELD_ID_KEY));
        }
    }
}

#[test]
fn field_ids_do_not_depend_on_the_time_unit() {
    for table in Table::ALL {
        let ns = field_ids(&table_file_schema(table, &ParquetOptions::default()));
        let micros = field_ids(&table_file_schema(table, &us()));
        assert_eq!(ns, micros, "{}", table.name());
        assert!(ns.len() > table_file_schema(table, &us()).fields().len());
    }
}

/// The unit of every timestamp leaf of a file, by column path.
fn timestamp_units(file: &[u8]) -> BTreeMap<String, ParquetTimeUnit> {
    let r = reader(file);
    let descr = r.metadata().file_metadata().schema_descr();
    descr
        .columns()
        .iter()
        .filter_map(|c| match c.logical_type_ref() {
            Some(LogicalType::Timestamp(t)) => Some((c.path().string(), t.unit)),
            _ => None,
        })
        .collect()
}

/// `p` with sub-microsecond digits added to its time column, which the generator leaves at 0.
fn with_nanos(mut p: Partition) -> Partition {
    let time = otlp2parquet_writer::time_column(p.table);
    let index = p.batch.schema().index_of(time).unwrap();
    let column = p
        .batch
        .column(index)
        .as_primitive::<TimestampNanosecondType>();
    let shifted: ArrayRef = Arc::new(
        column
            .unary::<_, TimestampNanosecondType>(|v| v + 789)
            .with_timezone("UTC"),
    );
    let mut columns = p.batch.columns().to_vec();
    columns[index] = shifted;
    p.batch = RecordBatch::try_new(p.batch.schema(), columns).unwrap();
    p
}

#[test]
fn microseconds_apply_to_every_time_column_and_truncate() {
    for p in every_table().into_iter().map(with_nanos) {
        let ns_file = encode_parquet(
            p.table,
            std::slice::from_ref(&p.batch),
            &ParquetOptions::default(),
        )
        .unwrap();
        let us_file = encode_parquet(p.table, std::slice::from_ref(&p.batch), &us()).unwrap();
        let ns_units = timestamp_units(&ns_file);
        let us_units = timestamp_units(&us_file);
        assert_eq!(
            ns_units.keys().collect::<Vec<_>>(),
            us_units.keys().collect::<Vec<_>>()
        );
        assert!(!us_units.is_empty(), "{}", p.table.name());
        for (path, unit) in &us_units {
            assert!(
                matches!(unit, ParquetTimeUnit::MICROS),
                "{} {path}: {unit:?}",
                p.table.name()
            );
        }
        for (path, unit) in &ns_units {
            let expected = if path == "TimestampTime" {
                matches!(unit, ParquetTimeUnit::MILLIS)
            } else {
                matches!(unit, ParquetTimeUnit::NANOS)
            };
            assert!(expected, "{} {path}: {unit:?}", p.table.name());
        }
        // Values: the time column is the nanosecond value truncated to microseconds.
        let time = otlp2parquet_writer::time_column(p.table);
        let read = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(us_file.clone()))
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<Vec<RecordBatch>, _>>()
            .unwrap();
        let got: Vec<i64> = read
            .iter()
            .flat_map(|b| {
                b.column_by_name(time)
                    .unwrap()
                    .as_primitive::<TimestampMicrosecondType>()
                    .values()
                    .to_vec()
            })
            .collect();
        let sent = p
            .batch
            .column_by_name(time)
            .unwrap()
            .as_primitive::<TimestampNanosecondType>();
        let want: Vec<i64> = sent.values().iter().map(|v| v.div_euclid(1000)).collect();
        assert_eq!(got, want, "{}", p.table.name());
        assert!(
            sent.values().iter().any(|v| v % 1000 != 0),
            "the test needs sub-µs times"
        );
        // Durations stay in nanoseconds.
        if p.table == Table::Traces {
            let d = read[0].column_by_name("Duration").unwrap();
            assert_eq!(d.data_type(), &DataType::UInt64);
            assert_eq!(
                d.as_primitive::<UInt64Type>().value(0),
                p.batch
                    .column_by_name("Duration")
                    .unwrap()
                    .as_primitive::<UInt64Type>()
                    .value(0)
            );
        }
        // Read back for compaction, a µs file comes back in memory form, truncated.
        let back = read_file(p.table, Bytes::from(us_file)).unwrap();
        let back_times: Vec<i64> = back
            .iter()
            .flat_map(|b| {
                assert_eq!(
                    b.schema().field_with_name(time).unwrap().data_type(),
                    &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
                );
                b.column_by_name(time)
                    .unwrap()
                    .as_primitive::<TimestampNanosecondType>()
                    .values()
                    .to_vec()
            })
            .collect();
        let truncated: Vec<i64> = want.iter().map(|v| v * 1000).collect();
        assert_eq!(back_times, truncated, "{}", p.table.name());
        let back_ns = read_file(p.table, Bytes::from(ns_file)).unwrap();
        assert_eq!(
            back_ns[0].column(0),
            &p.batch.column(0).slice(0, back_ns[0].num_rows())
        );
    }
}

#[test]
fn bloom_filters_on_ids_find_every_id_and_skip_most_others() {
    for p in every_table() {
        let file = encode_parquet(
            p.table,
            std::slice::from_ref(&p.batch),
            &ParquetOptions::default(),
        )
        .unwrap();
        let r = reader(&file);
        let columns = bloom_columns(p.table);
        let group = r.get_row_group(0).unwrap();
        let meta = r.metadata().row_group(0);
        for (i, chunk) in meta.columns().iter().enumerate() {
            let path = chunk.column_path().string();
            let wanted = columns.contains(&path.as_str());
            let filter = group.get_column_bloom_filter(i);
            assert_eq!(filter.is_some(), wanted, "{} {path}", p.table.name());
            if wanted || path == "Body" {
                // No dictionary on ids and bodies: values are (nearly) unique.
                assert!(
                    !chunk
                        .encodings()
                        .any(|e| e == Encoding::RLE_DICTIONARY || e == Encoding::PLAIN_DICTIONARY),
                    "{} {path} has a dictionary",
                    p.table.name()
                );
            }
            let Some(filter) = filter else { continue };
            let values = p.batch.column_by_name(&path).unwrap().as_string::<i32>();
            for v in values.iter().flatten() {
                assert!(
                    filter.check(&v),
                    "{path}: {v} missing from its bloom filter"
                );
            }
            let false_positives = (0..10_000u64)
                .filter(|i| {
                    filter.check(format!("{:032x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).as_str())
                })
                .count();
            assert!(
                false_positives < 500,
                "{path}: {false_positives} of 10 000 absent ids pass"
            );
        }
    }
    // Off when configured off.
    let opts = ParquetOptions {
        bloom_filters: false,
        ..ParquetOptions::default()
    };
    let p = &partitions("traces", 100)[0];
    let file = encode_parquet(p.table, std::slice::from_ref(&p.batch), &opts).unwrap();
    let r = reader(&file);
    let group = r.get_row_group(0).unwrap();
    for i in 0..r.metadata().row_group(0).num_columns() {
        assert!(group.get_column_bloom_filter(i).is_none());
    }
}

/// The `sorting_columns` of every row group, as column paths.
fn sorting_paths(file: &[u8]) -> Vec<Vec<String>> {
    let r = reader(file);
    let descr = r.metadata().file_metadata().schema_descr_ptr();
    r.metadata()
        .row_groups()
        .iter()
        .map(|rg| {
            rg.sorting_columns()
                .map(|cols| {
                    cols.iter()
                        .map(|c| {
                            assert!(!c.descending);
                            descr.column(c.column_idx as usize).path().string()
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

fn overlapping(table: &str) -> Vec<RecordBatch> {
    // Two requests over the same five minutes: their rows interleave.
    let mut out: Vec<RecordBatch> = partitions(table, 400)
        .into_iter()
        .map(|p| p.batch)
        .collect();
    out.extend(partitions(table, 400).into_iter().map(|p| p.batch));
    out
}

#[test]
fn sorting_columns_name_the_time_column_on_both_paths() {
    for p in every_table() {
        let time = otlp2parquet_writer::time_column(p.table).to_owned();
        let opts = ParquetOptions {
            row_group_rows: 16,
            ..ParquetOptions::default()
        };
        let file = encode_parquet(p.table, std::slice::from_ref(&p.batch), &opts).unwrap();
        let groups = sorting_paths(&file);
        assert!(groups.len() > 1, "{}", p.table.name());
        assert!(
            groups.iter().all(|g| g == &vec![time.clone()]),
            "{groups:?}"
        );
    }
    let batches = overlapping("traces");
    let file = encode_merged(Table::Traces, &batches, &us()).unwrap();
    let groups = sorting_paths(&file);
    assert!(
        groups.iter().all(|g| g == &vec!["Timestamp".to_owned()]),
        "{groups:?}"
    );
    // The merged rows are in that order, in microseconds.
    let read = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<Vec<RecordBatch>, _>>()
        .unwrap();
    let times: Vec<i64> = read
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_primitive::<TimestampMicrosecondType>()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(
        times.len(),
        batches.iter().map(RecordBatch::num_rows).sum::<usize>()
    );
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn row_groups_are_bounded_by_bytes_on_both_paths() {
    // Wide rows: every log body is 4 KiB.
    let mut req = testing::logs_request(2_000, 1, 3);
    for r in &mut req.resource_logs {
        for s in &mut r.scope_logs {
            for (i, l) in s.log_records.iter_mut().enumerate() {
                let text = format!("{i:06} {}", "x".repeat(4089));
                l.body = Some(otlp2parquet_proto::pb::AnyValue {
                    value: Some(otlp2parquet_proto::pb::any_value::Value::StringValue(text)),
                });
            }
        }
    }
    let body = req.encode_to_vec();
    let parts = convert_logs(
        &LogsRequest::decode_protobuf(&body).unwrap(),
        RECEIVED_AT_NS,
    )
    .unwrap();
    let batch = &parts[0].batch;
    let cap = 1024 * 1024;
    let opts = ParquetOptions {
        row_group_bytes: cap,
        ..ParquetOptions::default()
    };
    let single = encode_parquet(Table::Logs, std::slice::from_ref(batch), &opts).unwrap();
    let merged = encode_merged(
        Table::Logs,
        &[batch.slice(1000, 1000), batch.slice(0, 1000)],
        &opts,
    )
    .unwrap();
    for file in [single, merged] {
        let r = reader(&file);
        let groups = r.metadata().row_groups();
        assert!(groups.len() >= 8, "{} row groups", groups.len());
        let rows: i64 = groups.iter().map(|g| g.num_rows()).sum();
        assert_eq!(rows, 2_000);
        for g in groups {
            assert!(
                g.total_byte_size() as usize <= cap,
                "a row group of {} bytes",
                g.total_byte_size()
            );
        }
    }
    // Narrow rows stay under the row count alone.
    let p = &partitions("logs", 3_000)[0];
    let file = encode_parquet(
        p.table,
        std::slice::from_ref(&p.batch),
        &ParquetOptions::default(),
    )
    .unwrap();
    assert_eq!(reader(&file).metadata().num_row_groups(), 1);
}

#[test]
fn the_memory_form_has_no_field_ids() {
    for p in every_table() {
        let schema = p.batch.schema();
        assert!(field_ids(&schema).is_empty(), "{}", p.table.name());
    }
}
