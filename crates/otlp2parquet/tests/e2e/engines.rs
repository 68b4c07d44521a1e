//! Every common engine reads our files (docs/schema.md#timestamp-unit, docs/queries.md): every
//! fixture, the cookbook's generated requests (`tests/engines/gen_requests.py`: errors over two
//! days, traces with their logs, counters with a reset) and the Python SDK's signals are written
//! once with `parquet.timestamp_unit = "ns"` and once with `"us"`; `tests/engines/check.py` then reads both directories with pyarrow, DuckDB,
//! chdb, Polars, DataFusion and — `us` only — Spark (row counts and sampled values equal on every
//! engine), checks that Spark refuses the `ns` files as the README says, and runs every query of
//! the cookbook on DuckDB, ClickHouse and Spark against answers computed independently. One
//! Python process, one Spark session.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::batching::post_ok;
use crate::sdk::{run_id, sdk_dir, send};
use crate::util::{Server, fixture, python, repo_root, run_python};

/// The fixtures of `testdata/otlp` (the invalid ones aside), with their route and content type.
fn fixtures() -> Vec<(&'static str, String, &'static str)> {
    let dir = repo_root().join("testdata/otlp");
    let mut out: Vec<(&'static str, String, &'static str)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let content_type = match Path::new(&name).extension()?.to_str()? {
                "pb" => "application/x-protobuf",
                "json" => "application/json",
                "jsonl" => "application/x-ndjson",
                _ => return None,
            };
            let route = if name.starts_with("log") {
                "/v1/logs"
            } else if name.starts_with("trace") {
                "/v1/traces"
            } else {
                "/v1/metrics"
            };
            Some((route, name, content_type))
        })
        .collect();
    out.sort();
    out
}

fn engines_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines")
}

/// The end of the cookbook's 24-hour error window: after the generated requests' errors (from
/// 2025-10-17T11:20Z on), long before the SDK's (sent now).
const NOW: &str = "2025-10-18T12:00:00Z";

/// Writes every fixture, the generated requests and the Python SDK's signals with `unit`;
/// returns the data directory and a trace id of the generated requests that has both spans and
/// log records.
fn write(unit: &str) -> (Server, PathBuf, String) {
    let mut server = Server::start_with(
        &format!("engines-{unit}"),
        &[
            ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "3600"),
            ("OTLP2PARQUET_PARQUET_TIMESTAMP_UNIT", unit),
        ],
    );
    let fixtures = fixtures();
    assert!(fixtures.len() >= 20, "{fixtures:?}");
    for (route, name, content_type) in &fixtures {
        post_ok(
            &server,
            route,
            ("Content-Type", content_type),
            &fixture(name),
        );
    }
    let generated = server.dir.join("requests");
    std::fs::create_dir_all(&generated).unwrap();
    let out = Command::new(python())
        .arg(engines_dir().join("gen_requests.py"))
        .arg(&generated)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace_id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(trace_id.len(), 32, "{trace_id:?}");
    for (route, name) in [
        ("/v1/logs", "logs.json"),
        ("/v1/traces", "traces.json"),
        ("/v1/metrics", "metrics.json"),
    ] {
        let body = std::fs::read(generated.join(name)).unwrap();
        post_ok(&server, route, ("Content-Type", "application/json"), &body);
    }
    let mut cmd = Command::new(python());
    cmd.arg(sdk_dir().join("python/send.py")).args([
        &server.endpoint(),
        &format!("engines-sdk-{unit}"),
        "gzip",
        &run_id(),
    ]);
    send(&server, cmd, &format!("engines-sdk-{unit}"));
    server.stop();
    let data = server.data_dir();
    (server, data, trace_id)
}

#[test]
fn every_engine_reads_both_units_and_every_cookbook_query_runs() {
    let (ns_server, ns, trace_id) = write("ns");
    let (us_server, us, same) = write("us");
    assert_eq!(trace_id, same, "gen_requests.py is deterministic");
    let stdout = run_python(
        &engines_dir().join("check.py"),
        &[
            repo_root().join("docs/queries.md").into_os_string(),
            format!("ns={}", ns.display()).into(),
            format!("us={}", us.display()).into(),
            format!("trace_id={trace_id}").into(),
            format!("now={NOW}").into(),
        ],
        &format!("{}\n{}", ns_server.log_tail(), us_server.log_tail()),
    );
    assert!(stdout.contains("engines agree"), "{stdout}");
    assert!(stdout.contains("results match"), "{stdout}");
}
