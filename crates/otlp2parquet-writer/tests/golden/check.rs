//! Golden-file comparison shared by the schema and fixture tests.
//!
//! `UPDATE_GOLDEN=1 cargo test -p otlp2parquet-writer` rewrites the files; without it a mismatch
//! fails with a line diff, so every change to a schema or a conversion is reviewed as a diff.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers (outside #[test] fns) fail the test loudly by design"
)]

use std::path::PathBuf;

/// Directory of the golden files.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden file `name` (relative to `tests/golden`).
pub fn check(name: &str, actual: &str) {
    let path = dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v != "0") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the output (run with UPDATE_GOLDEN=1 to accept):\n{}",
            path.display(),
            diff(&expected, actual)
        );
    }
}

/// A minimal line diff: `-` golden lines, `+` actual lines, for each differing position.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            if let Some(x) = x {
                out.push_str(&format!("{:>4} - {x}\n", i + 1));
            }
            if let Some(y) = y {
                out.push_str(&format!("{:>4} + {y}\n", i + 1));
            }
        }
    }
    out
}
