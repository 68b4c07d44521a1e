//! The `otlp2parquet` binary as users run it: a real process on a free 127.0.0.1 port, spoken
//! to over raw HTTP/1.1, stopped by PID.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    fn start(name: &str) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_otlp2parquet"))
            .args(["serve", "--output"])
            .arg(dir.join("data"))
            // A hermetic environment: no OTLP2PARQUET_* or RUST_LOG of the caller's leaks in.
            .env_clear()
            .env("OTLP2PARQUET_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.request("GET", "/health", &[], b"").0 != 200 {
            assert!(Instant::now() < deadline, "server did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// One HTTP/1.1 request; (status, body). Status 0 when the connection failed.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, Vec::new());
        };
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = match out.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(i) => out[i + 4..].to_vec(),
            None => Vec::new(),
        };
        (status, body)
    }

    fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir.join("data"), &mut out);
        out.sort();
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/otlp")
            .join(name),
    )
    .unwrap()
}

#[test]
fn serves_every_signal_and_writes_parquet_under_output_dir() {
    let server = Server::start("every-signal");
    for (path, file, ct) in [
        ("/v1/logs", "logs.pb", "application/x-protobuf"),
        ("/v1/traces", "trace.json", "application/json"),
        ("/v1/metrics", "metrics_mixed.jsonl", "application/x-ndjson"),
    ] {
        let (status, body) = server.request("POST", path, &[("Content-Type", ct)], &fixture(file));
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    }
    let files = server.files();
    let rel: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(server.dir.join("data"))
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
    let server = Server::start("bad-input");
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
    assert!(server.files().is_empty());
    assert_eq!(server.request("GET", "/health", &[], b"").0, 200);
    let (status, _) = server.request(
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/x-protobuf")],
        &fixture("logs.pb"),
    );
    assert_eq!(status, 200);
    assert!(!server.files().is_empty());
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
