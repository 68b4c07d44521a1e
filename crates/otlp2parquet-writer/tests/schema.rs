//! The schemas are a contract (docs/schema.md): their Arrow and Parquet forms are golden files.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers (outside #[test] fns) fail the test loudly by design"
)]

use crate::golden;

use arrow_schema::{DataType, Schema};
use otlp2parquet_writer::schema::{self, METADATA_SCHEMA, METADATA_VERSION};
use otlp2parquet_writer::{ParquetOptions, Table, TimestampUnit, VERSION, table_file_schema};
use parquet::arrow::ArrowSchemaConverter;

/// One line per column: position, name, type (with nested fields), nullability.
fn arrow_text(schema: &Schema) -> String {
    let mut out = String::new();
    for (i, f) in schema.fields().iter().enumerate() {
        let null = if f.is_nullable() { "null" } else { "not null" };
        out.push_str(&format!(
            "{i:>2} {}: {} {null}\n",
            f.name(),
            type_text(f.data_type())
        ));
    }
    let mut meta: Vec<_> = schema.metadata().iter().collect();
    meta.sort();
    for (k, v) in meta {
        // The version changes with every release; the test below checks its value.
        let v = if k == METADATA_VERSION {
            "<crate version>"
        } else {
            v.as_str()
        };
        out.push_str(&format!("metadata {k} = {v}\n"));
    }
    out
}

/// A type with every nested field's name and nullability spelled out.
fn type_text(t: &DataType) -> String {
    let field = |f: &arrow_schema::Field| {
        let null = if f.is_nullable() { "" } else { " not null" };
        format!("{}: {}{null}", f.name(), type_text(f.data_type()))
    };
    match t {
        DataType::List(f) => format!("List<{}>", field(f)),
        DataType::Map(f, sorted) => format!("Map<{}, keys_sorted={sorted}>", field(f)),
        DataType::Struct(fs) => {
            let inner: Vec<String> = fs.iter().map(|f| field(f)).collect();
            format!("Struct<{}>", inner.join(", "))
        }
        other => format!("{other:?}"),
    }
}

fn parquet_text(schema: &Schema) -> String {
    let descr = ArrowSchemaConverter::new().convert(schema).unwrap();
    let mut out = Vec::new();
    parquet::schema::printer::print_schema(&mut out, descr.root_schema());
    String::from_utf8(out).unwrap()
}

#[test]
fn arrow_schemas_match_golden_files() {
    for table in Table::ALL {
        let s = schema::schema(table);
        golden::check(&format!("{}.arrow.txt", table.name()), &arrow_text(&s));
    }
}

/// The Parquet schema of the files, in both time units: the memory schema plus field ids on
/// every field (`[n]` after the name), times in the unit configured (docs/schema.md#field-ids).
#[test]
fn parquet_schemas_match_golden_files() {
    for (unit, suffix) in [
        (TimestampUnit::Nanosecond, "parquet.txt"),
        (TimestampUnit::Microsecond, "us.parquet.txt"),
    ] {
        let opts = ParquetOptions {
            timestamp_unit: unit,
            ..ParquetOptions::default()
        };
        for table in Table::ALL {
            let s = table_file_schema(table, &opts);
            golden::check(&format!("{}.{suffix}", table.name()), &parquet_text(&s));
        }
    }
}

#[test]
fn schema_metadata_names_table_and_version() {
    for table in Table::ALL {
        let s = schema::schema(table);
        assert_eq!(s.metadata()[METADATA_SCHEMA], table.schema_id());
        assert_eq!(s.metadata()[METADATA_VERSION], VERSION);
    }
}

#[test]
fn every_column_is_non_nullable_and_uniquely_named() {
    for table in Table::ALL {
        let s = schema::schema(table);
        let mut names = std::collections::HashSet::new();
        for f in s.fields() {
            assert!(
                !f.is_nullable(),
                "{}.{} is nullable",
                table.name(),
                f.name()
            );
            assert!(
                names.insert(f.name().clone()),
                "{}.{} twice",
                table.name(),
                f.name()
            );
        }
    }
}

#[test]
fn column_counts_follow_the_spec() {
    let counts: Vec<(&str, usize)> = Table::ALL
        .iter()
        .map(|t| (t.name(), schema::schema(*t).fields().len()))
        .collect();
    assert_eq!(
        counts,
        [
            ("logs", 17),
            ("traces", 22),
            ("gauge", 21),
            ("sum", 23),
            ("histogram", 27),
            ("exponential_histogram", 31),
            ("summary", 19),
        ]
    );
}

#[test]
fn schema_is_cached() {
    for table in Table::ALL {
        assert!(std::sync::Arc::ptr_eq(
            &schema::schema(table),
            &schema::schema(table)
        ));
    }
}
