//! Every OTLP/JSON fixture of `testdata/otlp`, converted with a fixed received-at time and
//! rendered as text, is a golden file (`tests/golden/fixtures/<name>.txt`): a change to the
//! decoder or the converter shows up as a reviewable diff.
//!
//! Rows are printed vertically, one `Column: value` line each (values formatted by
//! `arrow-cast`), because the metric tables are too wide for a readable grid.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers (outside #[test] fns) fail the test loudly by design"
)]

use crate::golden;

use std::path::PathBuf;

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Field};
use otlp2parquet_proto::{ExportRequest, LogsRequest, MetricsRequest, TracesRequest};
use otlp2parquet_writer::{Partition, convert_logs, convert_metrics, convert_traces};

/// 2024-01-15T14:30:00Z, after every fixture time.
const RECEIVED_AT_NS: i64 = 1_705_329_000_000_000_000;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/otlp");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn convert(name: &str, body: &[u8]) -> Vec<Partition> {
    let parts = if name.starts_with("log") {
        convert_logs(&LogsRequest::decode_json(body).unwrap(), RECEIVED_AT_NS)
    } else if name.starts_with("trace") {
        convert_traces(&TracesRequest::decode_json(body).unwrap(), RECEIVED_AT_NS)
    } else if name.starts_with("metrics") {
        convert_metrics(&MetricsRequest::decode_json(body).unwrap(), RECEIVED_AT_NS)
    } else {
        panic!("{name}: no signal for this fixture name")
    };
    parts.unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn render(parts: &[Partition]) -> String {
    let options = FormatOptions::default().with_null("<null>");
    let mut out = String::new();
    for p in parts {
        out.push_str(&format!(
            "== {} service={} min_time_ns={} rows={}\n",
            p.table.name(),
            p.service,
            p.min_time_ns,
            p.num_rows()
        ));
        let schema = p.batch.schema();
        let columns: Vec<ArrayRef> = p.batch.columns().iter().map(displayable).collect();
        let formatters: Vec<ArrayFormatter<'_>> = columns
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for row in 0..p.num_rows() {
            out.push_str(&format!("-- row {row}\n"));
            for (field, f) in schema.fields().iter().zip(&formatters) {
                // Escaped so that a value with a line break stays on its line.
                let value = f.value(row).to_string().replace('\n', "\\n");
                out.push_str(&format!("{}: {value}\n", field.name()));
            }
        }
    }
    out
}

/// `arrow-cast` formats named zones only with its `chrono-tz` feature: show "UTC" as the
/// equivalent fixed offset (a metadata-only cast).
fn displayable(col: &ArrayRef) -> ArrayRef {
    fn offset_zone(t: &DataType) -> Option<DataType> {
        match t {
            DataType::Timestamp(unit, Some(_)) => {
                Some(DataType::Timestamp(*unit, Some("+00:00".into())))
            }
            DataType::List(f) => offset_zone(f.data_type()).map(|inner| {
                DataType::List(Arc::new(Field::new(f.name(), inner, f.is_nullable())))
            }),
            _ => None,
        }
    }
    match offset_zone(col.data_type()) {
        Some(t) => arrow_cast::cast(col, &t).unwrap(),
        None => Arc::clone(col),
    }
}

#[test]
fn json_fixtures_convert_to_their_golden_tables() {
    let files = fixtures();
    assert!(files.len() >= 8, "fixtures missing: {files:?}");
    for path in files {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let body = std::fs::read(&path).unwrap();
        let parts = convert(&name, &body);
        assert!(!parts.is_empty(), "{name}: no rows");
        golden::check(&format!("fixtures/{name}.txt"), &render(&parts));
    }
}
