//! OTLP/gRPC on the server's second listener: the real Python SDK's gRPC exporters (plain and
//! gzip) store what they send, read back row by row; malformed, oversized, unauthenticated and
//! unknown calls get the right gRPC status and the server keeps serving.
//!
//! The raw calls are made with curl over h2c (prior knowledge), framing the message by hand,
//! so that every status and trailer is checked exactly as the server sent it.

use std::process::Command;

use otlp2parquet_proto::testing::logs_request;
use prost::Message;

use crate::sdk::{check_dir, run_id, sdk_dir, send};
use crate::util::{Server, python};

const LOGS_EXPORT: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// What a raw gRPC call returned: the HTTP status, `grpc-status`, `grpc-message` and the
/// response message bytes (without the 5-byte frame header).
#[derive(Debug)]
struct Call {
    http: u16,
    grpc_status: Option<i32>,
    grpc_message: String,
    details: bool,
    message: Vec<u8>,
}

/// `message` framed (flag, big-endian length) and sent with curl over h2c.
fn call(
    server: &Server,
    path: &str,
    message: &[u8],
    compressed: Option<&str>,
    auth: Option<&str>,
) -> Call {
    let mut framed = vec![u8::from(compressed.is_some())];
    framed.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    framed.extend_from_slice(message);
    let body = server.dir.join(format!("grpc-{}.bin", framed.len()));
    std::fs::write(&body, &framed).unwrap();
    let headers = server.dir.join("grpc-headers.txt");
    let out_body = server.dir.join("grpc-out.bin");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--http2-prior-knowledge", "-X", "POST"])
        .args(["-H", "content-type: application/grpc", "-H", "te: trailers"])
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .arg("-D")
        .arg(&headers)
        .arg("-o")
        .arg(&out_body)
        .arg("-w")
        .arg("%{http_code}")
        .arg(format!("http://127.0.0.1:{}{path}", server.grpc_port));
    if let Some(enc) = compressed {
        cmd.args(["-H", &format!("grpc-encoding: {enc}")]);
    }
    if let Some(a) = auth {
        cmd.args(["-H", &format!("authorization: {a}")]);
    }
    let out = cmd.output().unwrap();
    // A server may answer an oversized call before reading all of it and then reset the rest of
    // the stream (curl's exit 92); the answer it sent is still there.
    assert!(
        out.status.success() || out.status.code() == Some(92),
        "curl to {path} ({} bytes) failed: {}",
        message.len(),
        String::from_utf8_lossy(&out.stderr)
    );
    let http: u16 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    // curl -D writes the headers and, after the body, the trailers.
    let head = std::fs::read_to_string(&headers).unwrap();
    let field = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    let raw = std::fs::read(&out_body).unwrap_or_default();
    Call {
        http,
        grpc_status: field("grpc-status").map(|s| s.parse().unwrap()),
        grpc_message: field("grpc-message").unwrap_or_default(),
        details: field("grpc-status-details-bin").is_some(),
        message: raw.get(5..).map(<[u8]>::to_vec).unwrap_or_default(),
    }
}

/// One call with grpcio, the gRPC library of the Python SDK's exporter (it sends an oversized
/// message whole even when the server answers before reading it all, unlike curl); the JSON
/// line `grpc_call.py` printed.
fn grpcio_call(
    server: &Server,
    method: &str,
    message: &[u8],
    compression: &str,
) -> serde_json::Value {
    grpcio_call_as(server, method, message, compression, None)
}

/// [`grpcio_call`] with `authorization` metadata.
fn grpcio_call_as(
    server: &Server,
    method: &str,
    message: &[u8],
    compression: &str,
    authorization: Option<&str>,
) -> serde_json::Value {
    let file = server.dir.join(format!("grpcio-{}.bin", message.len()));
    std::fs::write(&file, message).unwrap();
    let out = Command::new(python())
        .arg(sdk_dir().join("python/grpc_call.py"))
        .arg(format!("127.0.0.1:{}", server.grpc_port))
        .arg(method)
        .arg(&file)
        .arg(compression)
        .args(authorization)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "grpc_call.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Rows in every Parquet file the server wrote.
fn stored_rows(server: &Server) -> i64 {
    server
        .files()
        .into_iter()
        .map(|f| {
            otlp2parquet_testkit::parquet_rows(std::fs::read(&f).unwrap(), &f.display().to_string())
        })
        .sum()
}

#[test]
fn python_sdk_grpc_plain_and_gzip_is_stored_as_sent() {
    let mut server = Server::start_with("grpc-sdk", &[("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "3600")]);
    let run = run_id();
    let endpoint = format!("http://127.0.0.1:{}", server.grpc_port);
    let mut reports = Vec::new();
    for (service, compression) in [("py-sdk-grpc", "none"), ("py-sdk-grpc-gzip", "gzip")] {
        let mut cmd = Command::new(python());
        cmd.arg(sdk_dir().join("python/send.py")).args([
            &endpoint,
            service,
            compression,
            &run,
            "grpc",
        ]);
        reports.push(send(&server, cmd, service));
    }
    server.stop();
    check_dir(&server, &server.data_dir(), &reports);
}

#[test]
fn raw_calls_get_the_right_status_and_the_server_keeps_serving() {
    let mut server = Server::start_with(
        "grpc-raw",
        &[
            ("OTLP2PARQUET_MAX_PAYLOAD_BYTES", "65536"),
            ("OTLP2PARQUET_BATCH_MAX_AGE_SECS", "3600"),
        ],
    );
    let good = logs_request(10, 1, 1).encode_to_vec();

    let ok = call(&server, LOGS_EXPORT, &good, None, None);
    assert_eq!((ok.http, ok.grpc_status), (200, Some(0)), "{ok:?}");
    // An empty ExportLogsServiceResponse: no partial success.
    assert!(ok.message.is_empty(), "{ok:?}");

    let gz = otlp2parquet_testkit::gzip(&good);
    let ok_gz = call(&server, LOGS_EXPORT, &gz, Some("gzip"), None);
    assert_eq!(ok_gz.grpc_status, Some(0), "{ok_gz:?}");
    let zs = otlp2parquet_testkit::zstd(&good);
    let ok_zstd = call(&server, LOGS_EXPORT, &zs, Some("zstd"), None);
    assert_eq!(ok_zstd.grpc_status, Some(0), "{ok_zstd:?}");

    // A truncated message: INVALID_ARGUMENT, naming what is wrong.
    let bad = call(&server, LOGS_EXPORT, &good[..good.len() - 3], None, None);
    assert_eq!(bad.grpc_status, Some(3), "{bad:?}");
    assert!(!bad.grpc_message.is_empty() && bad.details, "{bad:?}");
    // A corrupt gzip frame is the client's fault too.
    let corrupt = call(
        &server,
        LOGS_EXPORT,
        b"\x1f\x8bnot gzip at all",
        Some("gzip"),
        None,
    );
    assert_eq!(corrupt.grpc_status, Some(3), "{corrupt:?}");

    // Over max_payload_bytes, plain and as a gzip bomb: RESOURCE_EXHAUSTED (not retryable: no
    // RetryInfo).
    let big = logs_request(3_000, 1, 1).encode_to_vec();
    assert!(big.len() > 65_536);
    let too_big = grpcio_call(&server, LOGS_EXPORT, &big, "none");
    assert_eq!(too_big["code"], 8, "{too_big}");
    assert_eq!(too_big["details"], false, "{too_big}");
    // 8 MiB that gzip to 8 KiB: decompression stops at the limit.
    let too_big_gz = grpcio_call(&server, LOGS_EXPORT, &vec![0u8; 8 << 20], "gzip");
    assert_eq!(too_big_gz["code"], 8, "{too_big_gz}");

    // An unknown method: UNIMPLEMENTED (answered without reading the message: grpcio, see
    // `grpcio_call`).
    let unknown = grpcio_call(
        &server,
        "/opentelemetry.proto.collector.logs.v1.LogsService/Nope",
        &good,
        "none",
    );
    assert_eq!(unknown["code"], 12, "{unknown}");

    // Still serving, and every acknowledged record is stored (3 × 10 rows).
    let after = call(&server, LOGS_EXPORT, &good, None, None);
    assert_eq!(after.grpc_status, Some(0), "{after:?}");
    server.stop();
    let rows = stored_rows(&server);
    assert_eq!(rows, 40);
}

#[test]
fn grpc_auth_uses_the_authorization_metadata() {
    let mut server =
        Server::start_with("grpc-auth", &[("OTLP2PARQUET_AUTH_BEARER_TOKEN", "s3cret")]);
    let good = logs_request(5, 1, 1).encode_to_vec();
    // Refused calls are answered before their message is read (grpcio, see `grpcio_call`:
    // curl may see the stream reset after the answer and drop the answer).
    let denied = grpcio_call_as(&server, LOGS_EXPORT, &good, "none", None);
    assert_eq!(denied["code"], 16, "{denied}");
    let wrong = grpcio_call_as(&server, LOGS_EXPORT, &good, "none", Some("Bearer nope"));
    assert_eq!(wrong["code"], 16, "{wrong}");
    let ok = call(&server, LOGS_EXPORT, &good, None, Some("Bearer s3cret"));
    assert_eq!(ok.grpc_status, Some(0), "{ok:?}");
    let also_ok = grpcio_call_as(&server, LOGS_EXPORT, &good, "none", Some("Bearer s3cret"));
    assert_eq!(also_ok["code"], 0, "{also_ok}");
    server.stop();
}

#[test]
fn grpc_can_be_switched_off() {
    let mut server = Server::start_with("grpc-off", &[("OTLP2PARQUET_GRPC_LISTEN_ADDR", "off")]);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", server.grpc_port)).is_err(),
        "nothing may listen on the gRPC port when it is off"
    );
    assert!(
        server.log_tail().contains("grpc_listen=off"),
        "{}",
        server.log_tail()
    );
    server.stop();
}

#[test]
fn a_zstd_bomb_is_refused_over_grpc_as_over_http() {
    let mut server = Server::start_with("grpc-zstd-window", &[]);
    let good = logs_request(10, 1, 1).encode_to_vec();
    // A frame declaring a 128 MiB window, past the decoder's cap: the decoder would allocate
    // the window before the payload limit could stop it.
    let bomb = otlp2parquet_testkit::zstd_wide_window(&good);
    let http = crate::bad_input::send(
        &server,
        "POST",
        "/v1/logs",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "zstd"),
        ],
        &bomb,
    );
    crate::bad_input::assert_rpc_status(&http, 400, false, "zstd window over HTTP");
    let grpc = call(&server, LOGS_EXPORT, &bomb, Some("zstd"), None);
    // INVALID_ARGUMENT is the gRPC code of the 400's kind, with the same explanation.
    assert_eq!(grpc.grpc_status, Some(3), "{grpc:?}");
    assert!(grpc.grpc_message.contains("zstd"), "{grpc:?}");
    // The same message with an ordinary window is stored, over both.
    let ok = call(
        &server,
        LOGS_EXPORT,
        &otlp2parquet_testkit::zstd(&good),
        Some("zstd"),
        None,
    );
    assert_eq!(ok.grpc_status, Some(0), "{ok:?}");
    server.stop();
    let rows = stored_rows(&server);
    assert_eq!(rows, 10);
}
