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

#[test]
fn h2c_auth_and_the_startup_line() {
    let mut server = Server::start_with(
        "h2c-auth",
        &[("OTLP2PARQUET_AUTH_BEARER_TOKEN", "s3cret-token")],
    );
    let log = server.log_tail();
    assert!(
        log.contains("writing Parquet to")
            && log.contains(&server.data_dir().display().to_string()),
        "the startup line says where data goes: {log}"
    );
    // No or wrong credentials: 401 with a challenge; health stays open.
    let (status, _) = server.request(
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/x-protobuf")],
        &fixture("logs.pb"),
    );
    assert_eq!(status, 401);
    let (status, _) = server.request(
        "POST",
        "/v1/logs",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Authorization", "Bearer wrong"),
        ],
        &fixture("logs.pb"),
    );
    assert_eq!(status, 401);
    assert_eq!(server.request("GET", "/health", &[], b"").0, 200);
    // HTTP/2 without TLS (prior knowledge), authorized: stored.
    let body = server.data_dir().with_file_name("logs.pb");
    std::fs::write(&body, fixture("logs.pb")).unwrap();
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{http_code}",
            "--http2-prior-knowledge",
        ])
        .args([
            "-H",
            "Content-Type: application/x-protobuf",
            "-H",
            "Authorization: Bearer s3cret-token",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .arg(format!("{}/v1/logs", server.endpoint()))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2 200", "{out:?}");
    server.stop();
    assert!(
        server
            .files()
            .iter()
            .all(|f| f.starts_with(server.data_dir().join("logs"))),
        "only the authorized request was stored"
    );
    assert!(!server.files().is_empty());
}

#[test]
fn connect_prints_client_configuration() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_otlp2parquet"))
            .env_clear()
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "connect",
        "otel-collector",
        "--url",
        "http://parquet.internal:4318/",
    ]);
    assert!(out.status.success(), "{out:?}");
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(yaml.contains("otlphttp/otlp2parquet:"), "{yaml}");
    assert!(
        yaml.contains("endpoint: http://parquet.internal:4318\n"),
        "{yaml}"
    );
    let out = run(&["connect", "claude-code"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318")
    );
    let out = run(&["connect", "codex", "--url", "https://otlp.example.com"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("endpoint = \"https://otlp.example.com/v1/logs\"")
    );
    let out = run(&["connect", "codex", "--url", "otlp.example.com"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected http://"));
    let out = run(&["connect", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("otel-collector"));
}
