//! Layout of the files `encode_parquet` writes (docs/schema.md#footer-metadata,
//! docs/schema.md#file-layout): read back with parquet-rs, a
//! file has the codec, row groups, statistics, page indexes, per-column encodings
//! (docs/adr/0004-parquet-encoding.md) and footer metadata we promise, and its data round-trips.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, MapBuilder, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_schema::ArrowError;
use bytes::Bytes;
use otlp2parquet_common::MetricKind;
use otlp2parquet_common::config::ParquetCompression;
use otlp2parquet_writer::{ParquetOptions, Table, VERSION, encode_parquet};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, Encoding};
use parquet::errors::ParquetError;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::serialized_reader::ReadOptionsBuilder;

/// `rows` rows with a timestamp, a repetitive string, a map, a list and a double column.
fn sample_batch(rows: usize) -> Result<RecordBatch, ArrowError> {
    let ts: ArrayRef = Arc::new(
        TimestampNanosecondArray::from(
            (0..rows as i64)
                .map(|i| 1_735_689_599_000_000_000 + i * 100_000_000)
                .collect::<Vec<_>>(),
        )
        .with_timezone("UTC"),
    );
    let service: ArrayRef = Arc::new(StringArray::from(
        (0..rows)
            .map(|i| if i % 3 == 0 { "checkout" } else { "ledger.api" })
            .collect::<Vec<_>>(),
    ));
    let mut attrs = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for i in 0..rows {
        for j in 0..(i % 3) {
            attrs.keys().append_value(format!("k{j}"));
            attrs.values().append_value(format!("v{i}.{j}"));
        }
        attrs.append(true)?;
    }
    let attrs: ArrayRef = Arc::new(attrs.finish());
    let mut names = ListBuilder::new(StringBuilder::new());
    for i in 0..rows {
        for j in 0..(i % 2) {
            names.values().append_value(format!("event {j}"));
        }
        names.append(true);
    }
    let names: ArrayRef = Arc::new(names.finish());
    let value: ArrayRef = Arc::new(Float64Array::from(
        (0..rows).map(|i| i as f64 * 1.5).collect::<Vec<_>>(),
    ));
    RecordBatch::try_from_iter_with_nullable(vec![
        ("Timestamp", ts, false),
        ("ServiceName", service, false),
        ("Attributes", attrs, false),
        ("Events.Name", names, false),
        ("Value", value, false),
    ])
}

fn options(compression: ParquetCompression, row_group_rows: usize) -> ParquetOptions {
    ParquetOptions {
        compression,
        row_group_rows,
        ..ParquetOptions::default()
    }
}

/// The rows of `file` in `schema`, the memory form they were written from: the file form only
/// adds field ids (and, in microseconds, another unit), which `conform_batch` takes off again.
fn read_as(
    file: Vec<u8>,
    schema: &arrow_schema::SchemaRef,
) -> Result<Vec<RecordBatch>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for batch in ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))?.build()? {
        out.push(otlp2parquet_writer::layout::conform_batch(&batch?, schema)?);
    }
    Ok(out)
}

fn open(file: &[u8]) -> Result<SerializedFileReader<Bytes>, ParquetError> {
    let opts = ReadOptionsBuilder::new().with_page_index().build();
    SerializedFileReader::new_with_options(Bytes::copy_from_slice(file), opts)
}

#[test]
fn codec_follows_the_option() {
    let batch = sample_batch(10).unwrap();
    let cases = [
        (ParquetCompression::Zstd, "ZSTD"),
        (ParquetCompression::Snappy, "SNAPPY"),
        (ParquetCompression::None, "UNCOMPRESSED"),
    ];
    for (compression, codec) in cases {
        let file = encode_parquet(
            Table::Logs,
            std::slice::from_ref(&batch),
            &options(compression, 100),
        )
        .unwrap();
        let reader = open(&file).unwrap();
        let meta = reader.metadata();
        assert_eq!(meta.num_row_groups(), 1);
        for column in meta.row_group(0).columns() {
            let got = column.compression();
            let name = match got {
                Compression::ZSTD(_) => "ZSTD",
                Compression::SNAPPY => "SNAPPY",
                Compression::UNCOMPRESSED => "UNCOMPRESSED",
                other => panic!("unexpected codec {other:?}"),
            };
            assert_eq!(name, codec, "column {}", column.column_path());
        }
    }
}

#[test]
fn zstd_is_level_one_by_default() {
    let defaults = ParquetOptions::default();
    assert_eq!(defaults.compression, ParquetCompression::Zstd);
    assert_eq!(defaults.row_group_rows, 122_880);
    let props = otlp2parquet_writer::writer_properties(Table::Logs, &defaults);
    let column = parquet::schema::types::ColumnPath::from("Timestamp");
    assert_eq!(
        props.compression(&column),
        Compression::ZSTD(parquet::basic::ZstdLevel::try_new(1).unwrap())
    );
    assert_eq!(props.max_row_group_row_count(), Some(122_880));
}

#[test]
fn row_groups_hold_at_most_row_group_rows() {
    let batch = sample_batch(10).unwrap();
    let file = encode_parquet(
        Table::Traces,
        &[batch],
        &options(ParquetCompression::Zstd, 3),
    )
    .unwrap();
    let reader = open(&file).unwrap();
    let meta = reader.metadata();
    let rows: Vec<i64> = meta.row_groups().iter().map(|rg| rg.num_rows()).collect();
    assert_eq!(rows, vec![3, 3, 3, 1]);
    // Several input batches are cut the same way.
    let file = encode_parquet(
        Table::Traces,
        &[
            sample_batch(4).unwrap(),
            sample_batch(4).unwrap(),
            sample_batch(2).unwrap(),
        ],
        &options(ParquetCompression::Snappy, 3),
    )
    .unwrap();
    let rows: Vec<i64> = open(&file)
        .unwrap()
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| rg.num_rows())
        .collect();
    assert_eq!(rows, vec![3, 3, 3, 1]);
}

#[test]
fn zero_row_group_rows_does_not_panic() {
    let file = encode_parquet(
        Table::Logs,
        &[sample_batch(2).unwrap()],
        &options(ParquetCompression::None, 0),
    )
    .unwrap();
    assert_eq!(open(&file).unwrap().metadata().num_row_groups(), 2);
}

#[test]
fn statistics_dictionary_and_page_indexes_are_written() {
    let file = encode_parquet(
        Table::Logs,
        &[sample_batch(10).unwrap()],
        &options(ParquetCompression::Zstd, 4),
    )
    .unwrap();
    let reader = open(&file).unwrap();
    let meta = reader.metadata();
    for rg in meta.row_groups() {
        for column in rg.columns() {
            let path = column.column_path();
            let nested = path.parts().len() > 1;
            // Top-level columns have min/max statistics; map and list leaves have none.
            match column.statistics() {
                Some(stats) => {
                    assert!(!nested, "{path} has statistics");
                    assert!(stats.min_bytes_opt().is_some(), "{path}");
                    assert!(stats.max_bytes_opt().is_some(), "{path}");
                }
                None => assert!(nested, "no statistics for {path}"),
            }
            // Page statistics mean a column index; every chunk has an offset index.
            assert_eq!(column.column_index_range().is_some(), !nested, "{path}");
            assert!(column.offset_index_range().is_some(), "{path}");
        }
    }
    // Timestamp statistics are the real min/max of the first row group.
    let ts = meta.row_group(0).column(0).statistics().unwrap();
    assert_eq!(
        ts.min_bytes_opt().unwrap(),
        1_735_689_599_000_000_000i64.to_le_bytes()
    );
    assert_eq!(
        ts.max_bytes_opt().unwrap(),
        1_735_689_599_300_000_000i64.to_le_bytes()
    );
    // Dictionary encoding is on for the repetitive string column.
    let service = meta.row_group(0).column(1);
    assert_eq!(service.column_path().string(), "ServiceName");
    assert!(service.dictionary_page_offset().is_some());
    assert!(service.encodings().any(is_dictionary));
}

fn is_dictionary(e: Encoding) -> bool {
    matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY)
}

/// (column path, has a dictionary page, encodings) of every column chunk of row group 0.
fn chunk_encodings(file: &[u8]) -> Result<Vec<(String, bool, Vec<Encoding>)>, ParquetError> {
    let reader = open(file)?;
    Ok(reader
        .metadata()
        .row_group(0)
        .columns()
        .iter()
        .map(|c| {
            (
                c.column_path().string(),
                c.dictionary_page_offset().is_some(),
                c.encodings().collect(),
            )
        })
        .collect())
}

#[test]
fn unique_columns_skip_the_dictionary() {
    let file = encode_parquet(
        Table::Logs,
        &[sample_batch(50).unwrap()],
        &options(ParquetCompression::Zstd, 100),
    )
    .unwrap();
    let chunks = chunk_encodings(&file).unwrap();
    let find = |name: &str| {
        chunks
            .iter()
            .find(|(path, _, _)| path == name)
            .unwrap_or_else(|| panic!("no column {name}: {chunks:?}"))
            .clone()
    };
    // Nanosecond times: no dictionary, deltas.
    let (_, dict, encodings) = find("Timestamp");
    assert!(!dict);
    assert!(
        encodings.contains(&Encoding::DELTA_BINARY_PACKED),
        "{encodings:?}"
    );
    assert!(!encodings.iter().copied().any(is_dictionary));
    // Measured values: no dictionary, plain.
    let (_, dict, encodings) = find("Value");
    assert!(!dict);
    assert!(encodings.contains(&Encoding::PLAIN), "{encodings:?}");
    // Repetitive strings, attribute keys and list items keep it.
    for name in [
        "ServiceName",
        "Attributes.entries.key",
        "Attributes.entries.value",
    ] {
        let (_, dict, encodings) = find(name);
        assert!(dict, "{name}");
        assert!(encodings.into_iter().any(is_dictionary), "{name}");
    }
    assert!(find("Events.Name.list.item").1);
}

#[test]
fn event_attribute_values_skip_the_dictionary_and_keys_keep_it() {
    let batch = sample_batch(20).unwrap();
    // The same map under the name of a log record's attributes.
    let schema = batch.schema();
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| {
            if f.name() == "Attributes" {
                Arc::new(f.as_ref().clone().with_name("LogAttributes"))
            } else {
                Arc::clone(f)
            }
        })
        .collect();
    let renamed = RecordBatch::try_new(
        Arc::new(arrow_schema::Schema::new(fields)),
        batch.columns().to_vec(),
    )
    .unwrap();
    let file = encode_parquet(
        Table::Logs,
        std::slice::from_ref(&renamed),
        &options(ParquetCompression::Zstd, 100),
    )
    .unwrap();
    let chunks = chunk_encodings(&file).unwrap();
    let dict = |name: &str| {
        chunks
            .iter()
            .find(|(path, _, _)| path == name)
            .map(|(_, d, _)| *d)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    assert!(dict("LogAttributes.entries.key"));
    assert!(!dict("LogAttributes.entries.value"));
    // The file reads back as written.
    assert_eq!(read_as(file, &renamed.schema()).unwrap(), vec![renamed]);
}

#[test]
fn delta_encoded_integers_round_trip_at_the_extremes() {
    // Deltas between these overflow i64: the encoder wraps, readers must get the values back.
    let values = vec![
        i64::MIN,
        i64::MAX,
        0,
        -1,
        i64::MAX,
        i64::MIN,
        1,
        i64::MIN + 1,
    ];
    let ts: ArrayRef =
        Arc::new(TimestampNanosecondArray::from(values.clone()).with_timezone("UTC"));
    let batch = RecordBatch::try_from_iter_with_nullable(vec![("Timestamp", ts, false)]).unwrap();
    let file = encode_parquet(
        Table::Logs,
        std::slice::from_ref(&batch),
        &options(ParquetCompression::Zstd, 100),
    )
    .unwrap();
    let chunks = chunk_encodings(&file).unwrap();
    assert!(chunks[0].2.contains(&Encoding::DELTA_BINARY_PACKED));
    assert_eq!(read_as(file, &batch.schema()).unwrap(), vec![batch]);
}

#[test]
fn repeated_files_of_one_schema_are_identical() {
    // The per-schema writer plan is cached; a second file must come out byte for byte the same,
    // and a file of another table must not pick up the first table's plan.
    let batch = sample_batch(30).unwrap();
    let opts = options(ParquetCompression::Zstd, 100);
    let first = encode_parquet(Table::Logs, std::slice::from_ref(&batch), &opts).unwrap();
    let second = encode_parquet(Table::Logs, std::slice::from_ref(&batch), &opts).unwrap();
    assert_eq!(first, second);
    let traces = encode_parquet(Table::Traces, std::slice::from_ref(&batch), &opts).unwrap();
    let reader = open(&traces).unwrap();
    let kv = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap();
    let schema_id = kv.iter().find(|e| e.key == "otlp2parquet.schema").unwrap();
    assert_eq!(schema_id.value.as_deref(), Some("traces/v1"));
    // Other options give another plan too.
    let snappy = encode_parquet(
        Table::Logs,
        std::slice::from_ref(&batch),
        &options(ParquetCompression::Snappy, 100),
    )
    .unwrap();
    let reader = open(&snappy).unwrap();
    assert_eq!(
        reader.metadata().row_group(0).column(0).compression(),
        Compression::SNAPPY
    );
}

#[test]
fn footer_metadata_names_schema_and_version() {
    for table in Table::ALL {
        let file = encode_parquet(
            table,
            &[sample_batch(3).unwrap()],
            &options(ParquetCompression::Zstd, 100),
        )
        .unwrap();
        let reader = open(&file).unwrap();
        let fm = reader.metadata().file_metadata();
        let kv = fm.key_value_metadata().expect("key-value metadata");
        let get = |k: &str| kv.iter().find(|e| e.key == k).and_then(|e| e.value.clone());
        assert_eq!(
            get("otlp2parquet.schema").as_deref(),
            Some(table.schema_id())
        );
        assert_eq!(get("otlp2parquet.version").as_deref(), Some(VERSION));
        // The Arrow schema travels too, so readers keep the UTC timezone.
        assert!(get("ARROW:schema").is_some());
        let created_by = fm.created_by().expect("created_by");
        assert!(created_by.contains("otlp2parquet"), "{created_by}");
        assert!(created_by.contains(VERSION), "{created_by}");
    }
    assert_eq!(
        Table::Metrics(MetricKind::ExponentialHistogram).schema_id(),
        "exponential_histogram/v1"
    );
}

#[test]
fn data_round_trips() {
    let input = [sample_batch(7).unwrap(), sample_batch(5).unwrap()];
    let file = encode_parquet(Table::Logs, &input, &options(ParquetCompression::Zstd, 4)).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
        .unwrap()
        .with_batch_size(3)
        .build()
        .unwrap();
    let expected_schema = input[0].schema();
    // Flatten the input into (batch, row) pairs and compare row slices in order.
    let mut want: Vec<RecordBatch> = Vec::new();
    for b in &input {
        for i in 0..b.num_rows() {
            want.push(b.slice(i, 1));
        }
    }
    let mut seen = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let batch = otlp2parquet_writer::layout::conform_batch(&batch, &expected_schema).unwrap();
        assert_eq!(batch.schema(), expected_schema);
        for i in 0..batch.num_rows() {
            assert_eq!(batch.slice(i, 1), want[seen], "row {seen}");
            seen += 1;
        }
    }
    assert_eq!(seen, 12);
}

#[test]
fn no_batches_gives_an_empty_file_in_the_table_schema() {
    for table in Table::ALL {
        let file = encode_parquet(table, &[], &ParquetOptions::default()).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file)).unwrap();
        assert_eq!(builder.metadata().file_metadata().num_rows(), 0);
        assert_eq!(
            builder.schema().fields(),
            otlp2parquet_writer::table_file_schema(table, &ParquetOptions::default()).fields()
        );
    }
}

#[test]
fn mismatched_batches_are_an_error_not_a_panic() {
    let other = RecordBatch::try_from_iter(vec![(
        "x",
        Arc::new(Float64Array::from(vec![1.0])) as ArrayRef,
    )])
    .unwrap();
    let err = encode_parquet(
        Table::Logs,
        &[sample_batch(2).unwrap(), other],
        &ParquetOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("logs"), "{err}");
}
