//! Bad input against the live server (docs/protocol.md#limits, docs/protocol.md#statuses):
//! every malformed, oversized, mislabelled or hostile request gets its 4xx with a
//! `google.rpc.Status` body, the process stays up, and valid requests sent afterwards are still
//! answered 200 and stored.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otlp2parquet_proto::pb;
use otlp2parquet_proto::testing::{logs_request, traces_request};
use otlp2parquet_proto::{ExportRequest, LogsRequest};
use prost::Message;

use crate::batching::{post_ok, rows_under};
use crate::util::{Server, fixture};

const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");
const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A whole HTTP response, headers included (the harness returns status and body only).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `raw` (a complete HTTP/1.1 request) on a fresh connection and reads the response until
/// the server closes. A write cut short by an early answer (e.g. 413 before the body is read)
/// is not an error: the response is what counts. Status 0 when no response came.
fn exchange(port: u16, raw: &[u8]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(raw);
    let mut out = Vec::new();
    let read = s.read_to_end(&mut out);
    parse_reply(&out).unwrap_or_else(|| {
        assert!(
            out.is_empty(),
            "unparsable response ({read:?}): {}",
            String::from_utf8_lossy(&out)
        );
        Reply {
            status: 0,
            headers: Vec::new(),
            body: Vec::new(),
        }
    })
}

fn parse_reply(out: &[u8]) -> Option<Reply> {
    let end = out.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&out[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Some(Reply {
        status,
        headers,
        body: out[end + 4..].to_vec(),
    })
}

/// A request with `Content-Length`, as raw bytes.
fn raw_request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    raw
}

pub fn send(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    exchange(server.port, &raw_request(method, path, headers, body))
}

/// Asserts an error reply: `status` with a `google.rpc.Status` body encoded like the request
/// (`json`: a JSON object with `code` and a non-empty `message`; else protobuf).
pub fn assert_rpc_status(reply: &Reply, status: u16, json: bool, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.text());
    if json {
        let text = reply.text();
        assert!(
            text.starts_with('{') && text.ends_with('}') && text.contains("\"code\":"),
            "{what}: not a JSON google.rpc.Status: {text}"
        );
        let message = text.split("\"message\":\"").nth(1).unwrap_or("");
        assert!(
            !message.is_empty() && !message.starts_with('"'),
            "{what}: no message in {text}"
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{what}"
        );
    } else {
        let st = pb::rpc::Status::decode(reply.body.as_slice())
            .unwrap_or_else(|e| panic!("{what}: not a protobuf google.rpc.Status ({e})"));
        assert_ne!(st.code, 0, "{what}: status code OK in an error");
        assert!(!st.message.is_empty(), "{what}: empty message");
        assert_eq!(
            reply.header("content-type"),
            Some("application/x-protobuf"),
            "{what}"
        );
    }
}

/// The check after each group of bad requests: the server is alive and still stores valid
/// requests. Each call sends 25 log records of service `alive`; returns the rows sent.
fn still_serving(server: &Server, seed: u64) -> i64 {
    assert_eq!(
        server.request("GET", "/health", &[], b"").0,
        200,
        "health after bad input\n{}",
        server.log_tail()
    );
    let body = format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"alive"}}}}]}},"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        (0..25)
            .map(|i| format!(
                r#"{{"timeUnixNano":"{}","body":{{"stringValue":"still here {seed}/{i}"}}}}"#,
                1_736_935_200_000_000_000_u64 + i
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    post_ok(server, "/v1/logs", JSON, body.as_bytes());
    25
}

/// The path a fixture of `testdata/otlp/invalid/` is posted to, from its name.
fn signal_path(name: &str) -> &'static str {
    if name.starts_with("trace") {
        "/v1/traces"
    } else if name.starts_with("metrics") {
        "/v1/metrics"
    } else {
        "/v1/logs"
    }
}

/// A valid one-service protobuf logs request: every proper prefix of it is malformed (its one
/// top-level field is cut).
fn valid_pb(records: usize, seed: u64) -> Vec<u8> {
    logs_request(records, 1, seed).encode_to_vec()
}

#[test]
fn malformed_and_mislabelled_bodies_get_4xx_with_an_rpc_status() {
    let mut server = Server::start("bad-input-malformed");
    let mut alive = 0;

    // Every invalid fixture: 400 (testdata/otlp/README.md), JSON body with a message.
    let dir = crate::util::repo_root().join("testdata/otlp/invalid");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 6,
        "fixtures missing in {}: {names:?}",
        dir.display()
    );
    for name in &names {
        let body = fixture(&format!("invalid/{name}"));
        let reply = send(&server, "POST", signal_path(name), &[JSON], &body);
        assert_rpc_status(&reply, 400, true, name);
    }
    alive += still_serving(&server, 1);

    // A valid protobuf cut anywhere inside: 400 with a protobuf Status.
    let whole = valid_pb(60, 3);
    for cut in [1, 2, whole.len() / 3, whole.len() / 2, whole.len() - 1] {
        let reply = send(&server, "POST", "/v1/logs", &[PROTOBUF], &whole[..cut]);
        assert_rpc_status(
            &reply,
            400,
            false,
            &format!("protobuf cut at {cut}/{}", whole.len()),
        );
    }
    alive += still_serving(&server, 2);

    // Content-Type and Content-Encoding.
    let reply = send(
        &server,
        "POST",
        "/v1/logs",
        &[("Content-Type", "text/plain")],
        b"hello",
    );
    assert_rpc_status(&reply, 415, true, "text/plain");
    let reply = send(
        &server,
        "POST",
        "/v1/logs",
        &[PROTOBUF, ("Content-Encoding", "br")],
        &whole,
    );
    assert_rpc_status(&reply, 415, false, "Content-Encoding: br");
    let reply = send(
        &server,
        "POST",
        "/v1/logs",
        &[PROTOBUF, ("Content-Encoding", "gzip")],
        &whole,
    );
    assert_rpc_status(&reply, 400, false, "gzip header, plain body");
    // The same body really gzipped is fine (the 400 above is about the encoding, not the body).
    let reply = send(
        &server,
        "POST",
        "/v1/logs",
        &[PROTOBUF, ("Content-Encoding", "gzip")],
        &gzip(&whole),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    alive += still_serving(&server, 3);

    // Routing: wrong method names the right one; unknown path.
    let reply = send(&server, "GET", "/v1/logs", &[], b"");
    assert_eq!(reply.status, 405, "{}", reply.text());
    assert_eq!(reply.header("allow"), Some("POST"), "{:?}", reply.headers);
    let reply = send(&server, "PUT", "/v1/traces", &[JSON], b"{}");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"), "{:?}", reply.headers);
    let reply = send(&server, "POST", "/health", &[], b"");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET"), "{:?}", reply.headers);
    for path in ["/v1/log", "/v2/logs", "/", "/v1/logs/extra"] {
        assert_eq!(
            send(&server, "POST", path, &[JSON], b"{}").status,
            404,
            "{path}"
        );
    }
    alive += still_serving(&server, 4);

    server.stop();
    assert_eq!(rows_under(&server, "logs/alive/"), alive);
    assert_eq!(
        rows_under(&server, "logs/checkout/"),
        60,
        "the gzipped request"
    );
}

/// `body` gzipped by the system's `gzip` (no compression crate in this crate's dev-deps).
fn gzip(body: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .args(["-c", "-9"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = body.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// The PID of the test's server process, found by its `--output` directory in /proc (the
/// harness keeps its `Child` private).
fn server_pid(server: &Server) -> Option<u32> {
    let want = server.data_dir();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let mut args = cmdline.split(|b| *b == 0);
        let exe = args.next()?;
        let found = exe.ends_with(b"otlp2parquet")
            && args.any(|a| Path::new(std::str::from_utf8(a).unwrap_or("")) == want);
        found.then_some(pid)
    })
}

/// Peak resident memory (VmHWM) of `pid`, in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn oversized_and_compression_bomb_bodies_get_413_cheaply() {
    let mut server = Server::start("bad-input-sizes");
    let mut alive = still_serving(&server, 1);
    let pid = server_pid(&server);
    let before = pid.and_then(peak_rss);

    // 64 MiB of zeros, gzipped to ~64 KiB: decompression must stop at max_payload_bytes (8 MiB).
    let bomb = gzip(&vec![0_u8; 64 << 20]);
    assert!(bomb.len() < 256 << 10, "bomb is {} bytes", bomb.len());
    let started = Instant::now();
    let reply = send(
        &server,
        "POST",
        "/v1/logs",
        &[PROTOBUF, ("Content-Encoding", "gzip")],
        &bomb,
    );
    assert_rpc_status(&reply, 413, false, "gzip bomb");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the bomb took {:?}",
        started.elapsed()
    );
    if cfg!(target_os = "linux") {
        let (Some(before), Some(after)) = (before, pid.and_then(peak_rss)) else {
            panic!("no VmHWM for the server (pid {pid:?}) in /proc");
        };
        assert!(
            after.saturating_sub(before) < 40 << 20,
            "peak RSS grew by {} MiB on a 64 MiB bomb (limit 8 MiB)",
            after.saturating_sub(before) >> 20
        );
    }
    alive += still_serving(&server, 2);

    // No hidden framework cap below max_payload_bytes: a ~3 MiB valid JSON request is stored.
    let big_records = 3_000;
    let filler = "x".repeat(1_000);
    let body = format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"big"}}}}]}},"scopeLogs":[{{"logRecords":[{}]}}]}}]}}"#,
        (0..big_records)
            .map(|i| format!(
                r#"{{"timeUnixNano":"{}","body":{{"stringValue":"{i} {filler}"}}}}"#,
                1_736_935_200_000_000_000_u64 + i
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!((3 << 20..4 << 20).contains(&body.len()), "{}", body.len());
    let reply = send(&server, "POST", "/v1/logs", &[JSON], body.as_bytes());
    assert_eq!(
        reply.status,
        200,
        "3 MiB under an 8 MiB limit: {}",
        reply.text()
    );
    alive += still_serving(&server, 3);

    server.stop();
    assert_eq!(rows_under(&server, "logs/alive/"), alive);
    assert_eq!(rows_under(&server, "logs/big/"), big_records as i64);

    // A lowered limit is enforced on the body as sent.
    let mut small = Server::start_with(
        "bad-input-small-limit",
        &[("OTLP2PARQUET_MAX_PAYLOAD_BYTES", "1048576")],
    );
    let reply = send(&small, "POST", "/v1/logs", &[JSON], &vec![b' '; 2 << 20]);
    assert_rpc_status(&reply, 413, true, "2 MiB body over a 1 MiB limit");
    let reply = send(
        &small,
        "POST",
        "/v1/logs",
        &[PROTOBUF],
        &vec![0_u8; 2 << 20],
    );
    assert_rpc_status(&reply, 413, false, "2 MiB protobuf body over a 1 MiB limit");
    let alive = still_serving(&small, 4);
    small.stop();
    assert_eq!(rows_under(&small, "logs/alive/"), alive);
}

#[test]
fn a_chunked_body_without_content_length_is_stored() {
    let mut server = Server::start("bad-input-chunked");
    let body = traces_request(90, 1, 5).encode_to_vec();
    let mut raw = b"POST /v1/traces HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
        Content-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    for chunk in body.chunks(1_000) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    assert!(body.len() > 3_000, "several chunks");
    let reply = exchange(server.port, &raw);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let alive = still_serving(&server, 1);
    server.stop();
    assert_eq!(rows_under(&server, "traces/"), 90);
    assert_eq!(rows_under(&server, "logs/alive/"), alive);
}

/// Junk generator: the proto crate's test PRNG, with `usize` ranges.
struct Rng(otlp2parquet_proto::testing::Prng);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(otlp2parquet_proto::testing::Prng::new(seed))
    }

    fn next(&mut self) -> u64 {
        self.0.next()
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }
}

/// Junk request number `i`: (path, headers, body); never a valid export.
fn junk(
    rng: &mut Rng,
    i: usize,
    valid: &[u8],
) -> (&'static str, Vec<(&'static str, &'static str)>, Vec<u8>) {
    const WRONG_TYPES: [&str; 6] = [
        r#"{"resourceLogs":5}"#,
        r#"{"resourceLogs":[{"scopeLogs":"no"}]}"#,
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]}"#,
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"LOUD"}]}]}]}"#,
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}"#,
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":true}]}]}]}"#,
    ];
    match i % 5 {
        // Random bytes as protobuf, kept only when the decoder rejects them (a random string can
        // be a valid, empty request).
        0 => loop {
            let len = 1 + rng.below(400);
            let body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if LogsRequest::decode_protobuf(&body).is_err() {
                return ("/v1/logs", vec![PROTOBUF], body);
            }
        },
        1 => {
            let cut = 1 + rng.below(valid.len() - 1);
            ("/v1/logs", vec![PROTOBUF], valid[..cut].to_vec())
        }
        2 => {
            let cut = 1 + rng.below(60);
            let json = r#"{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"spans":[{"name":"x"}]}]}]}"#;
            ("/v1/traces", vec![JSON], json.as_bytes()[..cut].to_vec())
        }
        3 => {
            let body = WRONG_TYPES[rng.below(WRONG_TYPES.len())];
            ("/v1/logs", vec![JSON], body.as_bytes().to_vec())
        }
        _ => match rng.below(3) {
            0 => (
                "/v1/metrics",
                vec![("Content-Type", "text/csv")],
                b"a,b".to_vec(),
            ),
            1 => (
                "/v1/metrics",
                vec![PROTOBUF, ("Content-Encoding", "snappy")],
                valid.to_vec(),
            ),
            _ => (
                "/v1/metrics",
                vec![PROTOBUF, ("Content-Encoding", "deflate")],
                b"not deflate".to_vec(),
            ),
        },
    }
}

#[test]
fn a_thousand_concurrent_junk_requests_get_4xx_and_nothing_breaks() {
    let mut server = Server::start("bad-input-junk");
    let valid = valid_pb(20, 9);
    const THREADS: usize = 25;
    const EACH: usize = 40;
    let port = server.port;
    let answers: Vec<Vec<(u16, String)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let valid = &valid;
                scope.spawn(move || {
                    let mut rng = Rng::new(t as u64 * 7_919 + 1);
                    (0..EACH)
                        .map(|i| {
                            let (path, headers, body) = junk(&mut rng, t + i, valid);
                            let reply = exchange(port, &raw_request("POST", path, &headers, &body));
                            (
                                reply.status,
                                format!("{path} {headers:?} -> {}", reply.text()),
                            )
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let answers: Vec<(u16, String)> = answers.into_iter().flatten().collect();
    assert_eq!(answers.len(), THREADS * EACH);
    let bad: Vec<&(u16, String)> = answers
        .iter()
        .filter(|(status, _)| !matches!(status, 400 | 413 | 415))
        .take(5)
        .collect();
    assert!(
        bad.is_empty(),
        "answers other than 400/413/415 (0 = no response): {bad:?}\n{}",
        server.log_tail()
    );
    for code in [400, 415] {
        assert!(
            answers.iter().any(|(s, _)| *s == code),
            "the mix has no {code}"
        );
    }
    let alive = still_serving(&server, 1);
    server.stop();
    let files = crate::batching::files_under(&server, "");
    assert_eq!(rows_under(&server, "logs/alive/"), alive);
    assert_eq!(files.len(), 1, "junk stored nothing: {files:?}");
}
