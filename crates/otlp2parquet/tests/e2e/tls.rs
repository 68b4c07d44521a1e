//! TLS on both listeners: the Python SDK over HTTPS and over gRPC with TLS, mutual TLS refusing
//! and accepting clients, certificate rotation under load (by file change and by SIGHUP), and
//! the startup errors of unusable files. Certificates are made in each test with the `openssl`
//! command line; the TLS clients are the SDK, Python's `ssl` and curl.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::batching::rows_under;
use crate::sdk::{check_dir, run_id, sdk_dir, send_env};
use crate::util::{Launch, Server, python, run_once, run_python};

/// A test's certificate authority, and the certificates it signs (EC P-256, for 127.0.0.1).
pub(crate) struct Pki {
    dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (install it: make deps)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    /// A new CA (`ca.pem`) in `dir`.
    pub(crate) fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let pki = Pki {
            dir: dir.to_owned(),
        };
        pki.key("ca.key");
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=otlp2parquet test CA",
            ],
        );
        pki
    }

    fn key(&self, name: &str) {
        openssl(
            &self.dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                name,
            ],
        );
    }

    /// The CA certificate (what clients trust).
    pub(crate) fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A certificate `<name>.pem` with key `<name>.key`, signed by the CA, serial `serial`
    /// (hex), valid for `days` days from now (negative: expired). `client` makes it a client
    /// certificate.
    pub(crate) fn issue(
        &self,
        name: &str,
        serial: &str,
        days: i32,
        client: bool,
    ) -> (PathBuf, PathBuf) {
        let key = format!("{name}.key");
        self.key(&key);
        openssl(
            &self.dir,
            &[
                "req",
                "-new",
                "-key",
                &key,
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        let ext = format!("{name}.ext");
        let usage = if client {
            "extendedKeyUsage=clientAuth\n"
        } else {
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        };
        std::fs::write(self.dir.join(&ext), usage).unwrap();
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                &format!("0x{serial}"),
                "-days",
                &days.to_string(),
                "-extfile",
                &ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
        (self.dir.join(format!("{name}.pem")), self.dir.join(key))
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A TLS server (mutual TLS when `client_ca`) with its certificate `cert`/`key`.
fn tls_server(
    name: &str,
    pki: &Pki,
    (cert, key): (&Path, &Path),
    client_ca: Option<&Path>,
    client: Option<(PathBuf, PathBuf)>,
    extra: &[(&str, &str)],
) -> Server {
    let mut env = vec![
        ("OTLP2PARQUET_TLS_CERT_FILE", path(cert)),
        ("OTLP2PARQUET_TLS_KEY_FILE", path(key)),
        ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "3600"),
    ];
    if let Some(ca) = client_ca {
        env.push(("OTLP2PARQUET_TLS_CLIENT_CA_FILE", path(ca)));
    }
    env.extend_from_slice(extra);
    let launch = Launch {
        tls_ca: Some(pki.ca()),
        tls_client: client,
        open_files: None,
    };
    Server::start_launch(name, &env, launch)
}

fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn python_sdk_over_https_and_grpc_with_tls_stores_every_signal() {
    let pki = Pki::new(&test_dir("tls-sdk-pki"));
    let (cert, key) = pki.issue("server", "1001", 2, false);
    let mut server = tls_server("tls-sdk", &pki, (&cert, &key), None, None, &[]);
    let run = run_id();
    let ca = pki.ca();
    let env = [("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&ca))];
    let grpc_url = format!("https://127.0.0.1:{}", server.grpc_port);
    let mut reports = Vec::new();
    for (service, endpoint, transport) in [
        ("py-tls-http", server.endpoint(), "http"),
        ("py-tls-grpc", grpc_url.clone(), "grpc"),
    ] {
        assert!(endpoint.starts_with("https://"), "{endpoint}");
        let mut cmd = Command::new(python());
        cmd.arg(sdk_dir().join("python/send.py"))
            .args([&endpoint, service, "gzip", &run, transport]);
        reports.push(send_env(&server, cmd, service, &env));
    }
    server.stop();
    check_dir(&server, &server.data_dir(), &reports);
}

#[test]
fn mutual_tls_refuses_an_sdk_without_a_client_certificate_and_stores_one_with_it() {
    let pki = Pki::new(&test_dir("mtls-pki"));
    let (cert, key) = pki.issue("server", "1101", 2, false);
    let client = pki.issue("client", "2201", 2, true);
    let ca = pki.ca();
    let mut server = tls_server(
        "mtls",
        &pki,
        (&cert, &key),
        Some(&ca),
        Some(client.clone()),
        &[],
    );
    let grpc_url = format!("https://127.0.0.1:{}", server.grpc_port);

    // Without a client certificate: both exports fail, refused in the handshake.
    let out = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls/refused.py"))
        .args([&server.endpoint(), &grpc_url])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(results["http"], "FAILURE", "{stdout}");
    assert_eq!(results["grpc"], "FAILURE", "{stdout}");
    let log = std::fs::read_to_string(server.dir.join("server.log")).unwrap();
    assert!(
        log.contains("TLS handshake failed") && log.contains("server.tls.client_ca_file"),
        "the refusal is logged with its cause:\n{}",
        server.log_tail()
    );

    // With one, over both transports: stored.
    let run = run_id();
    let env = [
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&ca)),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", path(&client.0)),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", path(&client.1)),
    ];
    let mut reports = Vec::new();
    for (service, endpoint, transport) in [
        ("py-mtls-http", server.endpoint(), "http"),
        ("py-mtls-grpc", grpc_url.clone(), "grpc"),
    ] {
        let mut cmd = Command::new(python());
        cmd.arg(sdk_dir().join("python/send.py"))
            .args([&endpoint, service, "none", &run, transport]);
        reports.push(send_env(&server, cmd, service, &env));
    }
    server.stop();
    check_dir(&server, &server.data_dir(), &reports);
    assert_eq!(
        rows_under(&server, "traces/tls-refused/"),
        0,
        "nothing of the refused client was stored"
    );
}

/// Replaces `dst` with `src` the way deployment tools do: a new file renamed over the old.
fn replace(src: &Path, dst: &Path) {
    let tmp = dst.with_extension("tmp");
    std::fs::copy(src, &tmp).unwrap();
    std::fs::rename(&tmp, dst).unwrap();
}

fn serial_seen(server: &Server, ca: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls/rotate.py");
    let port = server.port.to_string();
    run_python(&script, &["--serial", &port, path(ca)], &server.log_tail())
        .trim()
        .to_owned()
}

fn log_count(server: &Server, needle: &str) -> usize {
    std::fs::read_to_string(server.dir.join("server.log"))
        .unwrap()
        .matches(needle)
        .count()
}

/// Polls until `f` holds (20 s at most).
fn eventually(what: &str, server: &Server, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "{what}\n{}", server.log_tail());
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn certificates_rotate_under_load_without_a_failed_request() {
    let pki = Pki::new(&test_dir("tls-rotate-pki"));
    let first = pki.issue("first", "a001", 2, false);
    let second = pki.issue("second", "a002", 2, false);
    let third = pki.issue("third", "a003", 2, false);
    // The server reads its files from a directory of its own, replaced in place below.
    let live = pki.dir.join("live");
    std::fs::create_dir_all(&live).unwrap();
    let (cert, key) = (live.join("server.pem"), live.join("server.key"));
    std::fs::copy(&first.0, &cert).unwrap();
    std::fs::copy(&first.1, &key).unwrap();
    let ca = pki.ca();
    let mut server = tls_server("tls-rotate", &pki, (&cert, &key), None, None, &[]);

    // Load: new connections and one kept-alive connection, while the files are replaced.
    let stop_file = server.dir.join("stop-load");
    let load = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls/rotate.py"))
        .args([&server.port.to_string(), path(&ca), path(&stop_file), "60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    // The key first: until the certificate follows, the pair does not match, and the server
    // keeps the first one (logging why) rather than taking half a rotation.
    replace(&second.1, &key);
    eventually("a mismatched pair is refused and logged", &server, || {
        log_count(&server, "TLS files not reloaded") >= 1
    });
    replace(&second.0, &cert);
    eventually("the rotated pair is taken", &server, || {
        log_count(&server, "TLS certificate reloaded") >= 1
    });
    std::thread::sleep(Duration::from_secs(2));
    std::fs::write(&stop_file, b"").unwrap();
    let out = load.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rotate.py: {stdout}\n{}",
        server.log_tail()
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        seen["failed"],
        0,
        "no request failed: {stdout}\n{}",
        server.log_tail()
    );
    assert_eq!(
        seen["keepalive_lost"], 0,
        "the open connection was kept: {stdout}"
    );
    assert_eq!(
        seen["serials"],
        serde_json::json!(["a001", "a002"]),
        "new connections saw the old, then the new certificate: {stdout}"
    );
    let sent = seen["ok"].as_i64().unwrap();
    assert!(sent > 40, "the load ran through the rotation: {stdout}");

    // A broken certificate keeps the current one; SIGHUP re-reads the files at once.
    std::fs::write(&cert, b"-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    eventually("the broken file is refused and logged", &server, || {
        log_count(&server, "TLS files not reloaded") >= 2
    });
    assert_eq!(
        serial_seen(&server, &ca),
        "a002",
        "the previous certificate stays"
    );
    std::fs::copy(&third.1, &key).unwrap();
    std::fs::copy(&third.0, &cert).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    eventually("SIGHUP reloads", &server, || {
        log_count(&server, "SIGHUP") >= 1
    });
    assert_eq!(serial_seen(&server, &ca), "a003");

    server.stop();
    assert_eq!(
        rows_under(&server, "logs/tls-rotation/"),
        sent,
        "every acknowledged record was stored"
    );
}

#[test]
fn plaintext_wrong_key_expired_and_missing_files_get_the_documented_errors() {
    let pki = Pki::new(&test_dir("tls-errors-pki"));
    let (cert, key) = pki.issue("server", "b001", 2, false);
    let (_, other_key) = pki.issue("other", "b002", 2, false);
    let (expired, expired_key) = pki.issue("expired", "b003", -1, false);

    // Plaintext HTTP to the TLS port: a 400 that says what to do, and the server goes on.
    let mut server = tls_server("tls-plaintext", &pki, (&cert, &key), None, None, &[]);
    let (status, body) = server.request(
        "POST",
        "/v1/logs",
        &[("content-type", "application/json")],
        b"{}",
    );
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("this port speaks TLS: send to https://"),
        "{body}"
    );
    assert!(
        log_count(&server, "plaintext request on a TLS port") >= 1,
        "{}",
        server.log_tail()
    );
    assert_eq!(
        serial_seen(&server, &pki.ca()),
        "b001",
        "TLS clients are still served"
    );
    server.stop();

    let dir = test_dir("tls-errors");
    let start = |cert: &Path, key: &Path| {
        run_once(
            &dir,
            &["serve", "--output", path(&dir.join("data"))],
            &[
                ("OTLP2PARQUET_LISTEN_ADDR", "127.0.0.1:0"),
                ("OTLP2PARQUET_GRPC_LISTEN_ADDR", "off"),
                ("OTLP2PARQUET_TLS_CERT_FILE", path(cert)),
                ("OTLP2PARQUET_TLS_KEY_FILE", path(key)),
            ],
        )
    };
    for (what, cert, key, expected) in [
        (
            "a key of another certificate",
            &cert,
            &other_key,
            "does not match the certificate in",
        ),
        (
            "an expired certificate",
            &expired,
            &expired_key,
            "(serial b003) expired at",
        ),
        (
            "a missing certificate",
            &dir.join("nope.pem"),
            &key,
            "cannot read certificate",
        ),
        (
            "a key file that is a certificate",
            &cert,
            &cert,
            "holds no private key",
        ),
    ] {
        let out = start(cert, key);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{what}: the server must not start");
        assert!(
            stderr.contains(expected) || stdout.contains(expected),
            "{what}: expected {expected:?} in\n{stdout}\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
}
