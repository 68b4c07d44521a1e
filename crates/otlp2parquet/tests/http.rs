//! Raw HTTP/1.1 against the binary: every signal, bad input, bad configuration.

use std::process::Command;

use crate::util::{Server, fixture};

#[test]
fn serves_every_signal_and_writes_parquet_under_output_dir() {
    let mut server = Server::start("every-signal");
    for (path, file, ct) in [
        ("/v1/logs", "logs.pb", "application/x-protobuf"),
        ("/v1/traces", "trace.json", "application/json"),
        ("/v1/metrics", "metrics_mixed.jsonl", "application/x-ndjson"),
    ] {
        let (status, body) = server.request("POST", path, &[("Content-Type", ct)], &fixture(file));
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    }
    server.stop();
    let files = server.files();
    let rel: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(server.data_dir())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(rel.iter().all(|k| k.ends_with(".parquet")), "{rel:?}");
    for prefix in [
        "logs/",
        "traces/",
        "metrics/gauge/",
        "metrics/sum/",
        "metrics/histogram/",
    ] {
        assert!(
            rel.iter().any(|k| k.starts_with(prefix)),
            "no {prefix} file in {rel:?}"
        );
    }
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
    }
}

#[test]
fn bad_input_gets_otlp_errors_and_the_server_stays_up() {
    let mut server = Server::start("bad-input");
    let (status, body) = server.request(
        "POST",
        "/v1/traces",
        &[("Content-Type", "application/json")],
        b"{\"resourceSpans\":5}",
    );
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("resourceSpans"));
    assert_eq!(
        server
            .request("POST", "/v1/logs", &[("Content-Type", "text/plain")], b"x")
            .0,
        415
    );
    assert_eq!(server.request("GET", "/v1/logs", &[], b"").0, 405);
    assert_eq!(server.request("POST", "/v2/logs", &[], b"").0, 404);
    let big = vec![b' '; 8 * 1024 * 1024 + 10];
    assert_eq!(
        server
            .request(
                "POST",
                "/v1/logs",
                &[("Content-Type", "application/json")],
                &big
            )
            .0,
        413
    );
    assert_eq!(server.request("GET", "/health", &[], b"").0, 200);
    let (status, _) = server.request(
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/x-protobuf")],
        &fixture("logs.pb"),
    );
    assert_eq!(status, 200);
    server.stop();
    // Only the one good request left files behind.
    let files = server.files();
    assert!(!files.is_empty());
    for f in &files {
        let rel = f.strip_prefix(server.data_dir()).unwrap();
        assert!(rel.starts_with("logs"), "{}", rel.display());
    }
}

#[test]
fn bad_configuration_stops_the_start_naming_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_otlp2parquet"))
        .env_clear()
        .env("OTLP2PARQUET_BATCH_MAX_ROWS", "many")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("batch.max_rows") && err.contains("OTLP2PARQUET_BATCH_MAX_ROWS"),
        "{err}"
    );
}
