//! End to end: every fixture through the pipeline, the files read back by real engines.

use std::process::Command;

use crate::util::{
    RECEIVED_AT_NS, content_type_of, fixture, fixture_names, python, repo_root, run, signal_of,
};

#[test]
fn fixtures_match_reference_and_load_into_clickhouse_and_duckdb() {
    let out = repo_root().join("target/e2e/fixtures");
    let _ = std::fs::remove_dir_all(&out);
    let names = fixture_names();
    assert!(names.len() >= 20, "fixtures missing: {names:?}");
    for name in &names {
        let body = fixture(&format!("otlp/{name}"));
        let (resp, storage) = run(signal_of(name), Some(content_type_of(name)), None, &body);
        assert_eq!(
            resp.status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&resp.body)
        );
        let objects = storage.objects();
        assert!(!objects.is_empty(), "{name}: nothing written");
        for (key, bytes) in objects {
            let path = out.join(name).join(&key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let script = repo_root().join("crates/otlp2parquet-handlers/tests/e2e/check_files.py");
    let result = Command::new(python())
        .arg(&script)
        .arg(&out)
        .arg(RECEIVED_AT_NS.to_string())
        .output()
        .expect("run check_files.py");
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    println!("{stdout}");
    assert!(
        result.status.success(),
        "check_files.py failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all fixtures match"), "{stdout}");
}
