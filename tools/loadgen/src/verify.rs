//! Counts the rows the server wrote, from Parquet footers only (no data pages are read).

use std::io::Write;
use std::path::{Path, PathBuf};

use parquet::file::metadata::ParquetMetaDataReader;

/// Files, rows and bytes found under one signal's directory.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Totals {
    /// `*.parquet` files read.
    pub files: u64,
    /// Sum of the footers' `num_rows`.
    pub rows: u64,
    /// Sum of the file sizes.
    pub bytes: u64,
}

/// Sums every `*.parquet` file under `dir` (recursively).
pub fn count(dir: &Path) -> Result<Totals, String> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    let mut totals = Totals::default();
    for path in files {
        let file = std::fs::File::open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let size = file
            .metadata()
            .map_err(|e| format!("cannot stat {}: {e}", path.display()))?
            .len();
        let meta = ParquetMetaDataReader::new()
            .parse_and_finish(&file)
            .map_err(|e| format!("{}: not a readable Parquet file: {e}", path.display()))?;
        let rows = u64::try_from(meta.file_metadata().num_rows())
            .map_err(|_| format!("{}: negative row count", path.display()))?;
        totals.files += 1;
        totals.rows += rows;
        totals.bytes += size;
    }
    Ok(totals)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
        if kind.is_dir() {
            collect(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    Ok(())
}

/// The metric tables, each a directory under `metrics/` (docs/keys.md): one row per data point.
const METRIC_TABLES: [&str; 5] = [
    "gauge",
    "sum",
    "histogram",
    "exponential_histogram",
    "summary",
];

/// Counts `dir/<signal>/` and compares with `expect`; `Ok(true)` when they match. Metrics are
/// every table under `dir/metrics/` (`metrics/<kind>/<service>/…`), summed, with a line per
/// table that has files.
pub fn verify(dir: &Path, signal_dir: &str, expect: u64) -> Result<bool, String> {
    let root = dir.join(signal_dir);
    // No directory means the server wrote nothing for this signal: zero rows, not an error.
    let totals = if root.exists() {
        count(&root)?
    } else {
        Totals::default()
    };
    let ok = totals.rows == expect;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "verify {}: {} files, {} rows, {:.1} MiB on disk; expected {} rows: {}",
        root.display(),
        totals.files,
        totals.rows,
        totals.bytes as f64 / (1024.0 * 1024.0),
        expect,
        if ok { "OK" } else { "MISMATCH" }
    )
    .map_err(|e| e.to_string())?;
    if signal_dir == "metrics" {
        for table in METRIC_TABLES {
            let path = root.join(table);
            if path.exists() {
                let t = count(&path)?;
                writeln!(out, "  {table}: {} files, {} rows", t.files, t.rows)
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_missing_directories() {
        let dir = std::env::temp_dir().join(format!("loadgen-verify-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("logs/svc")).unwrap();
        std::fs::write(dir.join("logs/svc/notes.txt"), b"not parquet").unwrap();
        assert_eq!(count(&dir.join("logs")).unwrap(), Totals::default());
        assert!(count(&dir.join("traces")).is_err());
        std::fs::write(dir.join("logs/svc/bad.parquet"), b"nope").unwrap();
        assert!(count(&dir.join("logs")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A one-column file of `rows` rows, written with parquet's low-level writer.
    fn write_file(path: &Path, rows: i64) {
        use parquet::data_type::Int64Type;
        use parquet::file::writer::SerializedFileWriter;
        let schema = std::sync::Arc::new(
            parquet::schema::parser::parse_message_type("message m { REQUIRED INT64 v; }").unwrap(),
        );
        let file = std::fs::File::create(path).unwrap();
        let mut writer = SerializedFileWriter::new(file, schema, Default::default()).unwrap();
        let mut group = writer.next_row_group().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        let values: Vec<i64> = (0..rows).collect();
        column
            .typed::<Int64Type>()
            .write_batch(&values, None, None)
            .unwrap();
        column.close().unwrap();
        group.close().unwrap();
        writer.close().unwrap();
    }

    #[test]
    fn sums_rows_of_nested_files() {
        let dir = std::env::temp_dir().join(format!("loadgen-rows-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("traces/a/hour=01")).unwrap();
        std::fs::create_dir_all(dir.join("traces/b")).unwrap();
        write_file(&dir.join("traces/a/hour=01/x.parquet"), 7);
        write_file(&dir.join("traces/b/y.parquet"), 5);
        let totals = count(&dir.join("traces")).unwrap();
        assert_eq!((totals.files, totals.rows), (2, 12));
        assert!(totals.bytes > 0);
        assert!(verify(&dir, "traces", 12).unwrap());
        assert!(!verify(&dir, "traces", 13).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sums_rows_of_every_metric_table() {
        let dir = std::env::temp_dir().join(format!("loadgen-metrics-{}", std::process::id()));
        let hour = "year=2026/month=12/day=07/hour=12";
        for (table, rows) in [("gauge", 9), ("sum", 4), ("histogram", 6)] {
            for service in ["cart", "checkout"] {
                let d = dir.join(format!("metrics/{table}/{service}/{hour}"));
                std::fs::create_dir_all(&d).unwrap();
                write_file(&d.join("1-a.parquet"), rows);
            }
        }
        let totals = count(&dir.join("metrics")).unwrap();
        assert_eq!((totals.files, totals.rows), (6, 38));
        assert!(verify(&dir, "metrics", 38).unwrap());
        assert!(!verify(&dir, "metrics", 19).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
