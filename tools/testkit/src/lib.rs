//! Test support shared by the end-to-end tests of the server, the Lambda and the Worker: the
//! repo's fixtures and Python venv, free ports, one raw HTTP/1.1 exchange, compression, and a
//! real local S3 server (s3s-fs) read back through the S3 API.
//!
//! Every helper panics with context on failure: it only ever runs inside tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test support: a failure is a test failure, reported by panicking with context"
)]

mod keys;
mod s3fs;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use keys::{KeyParts, METRIC_KINDS, check_key, utc_hour};
pub use s3fs::S3Fs;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A request fixture: `testdata/otlp/<rel>` (a copy of the shared fixtures).
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = repo_root().join("testdata/otlp").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// The Python with pyarrow, DuckDB, chdb and the OpenTelemetry SDK: `$TEST_PYTHON`, else the
/// repo's `.venv` (both made by `make deps`).
pub fn python() -> PathBuf {
    let p = std::env::var_os("TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "{} not found: run `make deps` (or `make test`) to install the Python tools",
        p.display()
    );
    p
}

/// Runs a future that never waits on I/O (the in-memory store is always ready) to completion,
/// with a no-op waker; panics if it would wait.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the future waited: block_on only runs in-memory work"),
    }
}

/// A 127.0.0.1 port that was free a moment ago (the OS picks it; the listener is closed again).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `port`, or panics after `timeout` naming `what`.
pub fn wait_for_port(port: u16, timeout: Duration, what: &str) {
    let deadline = std::time::Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not listen on 127.0.0.1:{port} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP response.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// The status code; 0 when the connection failed or the answer was not HTTP.
    pub status: u16,
    /// Header names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Reply {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request to `127.0.0.1:port` with `Connection: close` and a `Content-Length`.
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Reply::default();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(600)));
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    // A server may answer (413) and close before reading the whole body: keep what it said.
    if s.write_all(head.as_bytes()).is_err() || s.write_all(body).is_err() {
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        return parse_reply(&out);
    }
    parse_reply(&read_reply(&mut s))
}

/// Reads one answer: up to its declared `Content-Length`, the last chunk of a chunked body, or
/// the end of the connection (a server may keep it open a while despite `Connection: close`).
fn read_reply(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if reply_complete(&out) {
            return out;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn reply_complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let body = raw.len() - end - 4;
    for line in head.split("\r\n").skip(1) {
        if let Some((k, v)) = line.split_once(':') {
            match (k.trim(), v.trim()) {
                ("content-length", n) => return n.parse::<usize>().is_ok_and(|n| body >= n),
                ("transfer-encoding", "chunked") => return raw.ends_with(b"\n0\r\n\r\n"),
                _ => {}
            }
        }
    }
    false
}

fn parse_reply(raw: &[u8]) -> Reply {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Reply::default();
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        body.extend_from_slice(&rest[start..start + size]);
        rest = &rest[start + size + 2..];
    }
    body
}

/// A fresh directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new directory `{name}-{pid}-{n}` under the system temp dir.
    pub fn new(name: &str) -> TempDir {
        TempDir::under(&std::env::temp_dir(), name)
    }

    /// A new directory `{name}-{pid}-{n}` under `parent` (created if missing).
    pub fn under(parent: &Path, name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = parent.join(format!("{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `body` gzip-compressed.
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body).unwrap();
    enc.finish().unwrap()
}

/// `body` zstd-compressed.
pub fn zstd(body: &[u8]) -> Vec<u8> {
    zstd::encode_all(body, 3).unwrap()
}

/// `body` zstd-compressed in a frame declaring a 128 MiB window (2^27) and no content size,
/// as a compression bomb aimed at the decoder's window allocation would be.
pub fn zstd_wide_window(body: &[u8]) -> Vec<u8> {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.include_contentsize(false).unwrap();
    enc.window_log(27).unwrap();
    enc.write_all(body).unwrap();
    enc.finish().unwrap()
}

/// Rows in a Parquet file, from its footer; panics naming `what` if it is not Parquet.
pub fn parquet_rows(bytes: Vec<u8>, what: &str) -> i64 {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))
        .unwrap_or_else(|e| panic!("{what} is not Parquet: {e}"));
    reader.metadata().file_metadata().num_rows()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_replies() {
        let plain = parse_reply(
            b"HTTP/1.1 413 Payload Too Large\r\nRetry-After: 5\r\nContent-Length: 2\r\n\r\nno",
        );
        assert_eq!(plain.status, 413);
        assert_eq!(plain.header("retry-after"), Some("5"));
        assert_eq!(plain.body, b"no");
        let chunked = parse_reply(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        );
        assert_eq!(chunked.status, 200);
        assert_eq!(chunked.text(), "abcde");
        assert_eq!(parse_reply(b"garbage").status, 0);
    }

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "checking our encoders with the plain decoders"
    )]
    fn compression_round_trips_through_the_decoders() {
        let body = b"hello hello hello".repeat(10);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&body)[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        assert_eq!(zstd::decode_all(&zstd(&body)[..]).unwrap(), body);
    }
}
