//! Untrusted request bodies, bounded in one place (docs/protocol.md#bodies): content-type negotiation
//! and the only decompressors in the codebase. Decompression stops at the payload limit, so a
//! compression bomb costs at most `max_payload_bytes` of memory.

use std::borrow::Cow;
use std::io::Read;

use crate::{Error, ErrorKind};

/// How the body (after decompression) is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/x-protobuf`, `application/protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
    /// `application/x-ndjson`, `application/jsonl`: one OTLP/JSON request per line.
    JsonLines,
}

impl Format {
    /// The `Content-Type` of responses to requests in this format (JSON Lines requests get
    /// JSON responses).
    pub fn response_content_type(self) -> &'static str {
        match self {
            Format::Protobuf => "application/x-protobuf",
            Format::Json | Format::JsonLines => "application/json",
        }
    }
}

/// The format named by a `Content-Type` header; parameters (`; charset=utf-8`) and case are
/// ignored. `None` when the type is unsupported.
pub fn format_of_content_type(content_type: &str) -> Option<Format> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let is = |t: &str| essence.eq_ignore_ascii_case(t);
    if is("application/x-protobuf") || is("application/protobuf") {
        Some(Format::Protobuf)
    } else if is("application/json") {
        Some(Format::Json)
    } else if is("application/x-ndjson") || is("application/jsonl") {
        Some(Format::JsonLines)
    } else {
        None
    }
}

/// The format of a request: from its `Content-Type`, or sniffed from the (decompressed) body
/// when the header is missing or empty (`{` first means JSON).
pub fn detect_format(content_type: Option<&str>, body: &[u8]) -> Result<Format, Error> {
    match content_type.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format_of_content_type(t).ok_or_else(|| {
            Error::new(
                ErrorKind::UnsupportedMediaType,
                format!(
                    "unsupported Content-Type {t:?}; use application/x-protobuf, \
                     application/json or application/x-ndjson"
                ),
            )
        }),
        None => Ok(match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Format::Json,
            _ => Format::Protobuf,
        }),
    }
}

/// The content encodings we decode (docs/protocol.md#bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
    Zstd,
    Deflate,
}

pub(crate) fn encoding_of(header: Option<&str>) -> Result<Encoding, Error> {
    let Some(raw) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(Encoding::Identity);
    };
    let e = raw.to_ascii_lowercase();
    match e.as_str() {
        "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        "zstd" => Ok(Encoding::Zstd),
        "deflate" => Ok(Encoding::Deflate),
        _ => Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            format!("unsupported Content-Encoding {raw:?}; use gzip, zstd, deflate or identity"),
        )),
    }
}

/// Largest zstd window accepted (2^27 = 128 MiB is zstd's own default cap; we go lower because
/// no OTLP client needs more than 8 MiB windows and the window is allocated up front).
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// Checks the compressed size and decompresses `body` per `Content-Encoding`, never producing
/// more than `limit` bytes.
#[allow(
    clippy::disallowed_methods,
    reason = "this is the one bounded place decoders are built"
)]
pub fn decode_body<'a>(
    content_encoding: Option<&str>,
    body: &'a [u8],
    limit: usize,
) -> Result<Cow<'a, [u8]>, Error> {
    if body.len() > limit {
        return Err(too_large(format!(
            "request body is {} bytes, over the limit of {limit} bytes",
            body.len()
        )));
    }
    let encoding = encoding_of(content_encoding)?;
    let name = match encoding {
        Encoding::Identity => return Ok(Cow::Borrowed(body)),
        Encoding::Gzip => "gzip",
        Encoding::Zstd => "zstd",
        Encoding::Deflate => "deflate",
    };
    let invalid = |e: std::io::Error| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("invalid {name} body: {e}"),
        )
    };
    let out = match encoding {
        Encoding::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(body), limit),
        Encoding::Zstd => {
            let mut d = zstd::stream::read::Decoder::new(body).map_err(invalid)?;
            d.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(invalid)?;
            read_bounded(d, limit)
        }
        Encoding::Deflate => {
            // HTTP `deflate` is zlib-wrapped (RFC 9110), but some clients send raw deflate.
            if body.len() >= 2 && zlib_header(body) {
                read_bounded(flate2::read::ZlibDecoder::new(body), limit)
            } else {
                read_bounded(flate2::read::DeflateDecoder::new(body), limit)
            }
        }
        Encoding::Identity => Ok(body.to_vec()),
    };
    match out {
        Ok(bytes) => Ok(Cow::Owned(bytes)),
        Err(BoundedError::TooLarge) => Err(too_large(format!(
            "decompressed {name} body is over the limit of {limit} bytes"
        ))),
        Err(BoundedError::Io(e)) => Err(invalid(e)),
    }
}

/// A body being read from the network, kept up to one byte past `limit`: enough for the
/// pipeline to answer 413 without reading (or holding) the rest of an oversized body.
#[derive(Debug)]
pub struct Capped {
    bytes: Vec<u8>,
    limit: usize,
}

impl Capped {
    /// An empty body bounded by `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Capped {
            bytes: Vec::new(),
            limit,
        }
    }

    /// [`Capped::new`], with room reserved for a body of `expected` bytes (a declared
    /// `Content-Length`; never more than the bound), so that reading it copies each byte once.
    pub fn with_expected(limit: usize, expected: Option<&str>) -> Self {
        let room = expected
            .and_then(|e| e.trim().parse::<usize>().ok())
            .map_or(0, |e| e.min(limit.saturating_add(1)));
        Capped {
            bytes: Vec::with_capacity(room),
            limit,
        }
    }

    /// Appends `chunk`; returns `false` once the body is over the limit and reading can stop
    /// (the bytes kept are then `limit + 1`).
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        let room = self
            .limit
            .saturating_add(1)
            .saturating_sub(self.bytes.len());
        let take = chunk.len().min(room);
        self.bytes
            .extend_from_slice(chunk.get(..take).unwrap_or_default());
        self.bytes.len() <= self.limit
    }

    /// The bytes collected.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

fn zlib_header(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

fn too_large(message: String) -> Error {
    Error::new(ErrorKind::PayloadTooLarge, message)
}

enum BoundedError {
    TooLarge,
    Io(std::io::Error),
}

fn read_bounded(reader: impl Read, limit: usize) -> Result<Vec<u8>, BoundedError> {
    let mut out = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it".
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(BoundedError::Io)?;
    if out.len() > limit {
        Err(BoundedError::TooLarge)
    } else {
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_keeps_one_byte_past_the_limit() {
        let mut c = Capped::new(5);
        assert!(c.push(b"abc"));
        assert!(c.push(b"de"));
        assert!(!c.push(b"fgh"));
        assert_eq!(c.into_bytes(), b"abcdef");
        let mut c = Capped::new(0);
        assert!(c.push(b""));
        assert!(!c.push(b"x"));
        assert_eq!(c.into_bytes(), b"x");
    }

    #[test]
    fn a_zstd_frame_whose_window_passes_the_cap_is_refused_as_invalid() {
        let body = zstd_wide_window(b"hello");
        let e = decode_body(Some("zstd"), &body, 1 << 20).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{e}");
        // The same bytes with a window under the cap decode.
        let narrow = zstd::bulk::compress(b"hello", 1).unwrap();
        assert_eq!(
            &*decode_body(Some("zstd"), &narrow, 1 << 20).unwrap(),
            b"hello"
        );
    }

    /// A zstd frame declaring a 128 MiB window (2^27, past [`ZSTD_WINDOW_LOG_MAX`]).
    pub(crate) fn zstd_wide_window(data: &[u8]) -> Vec<u8> {
        otlp2parquet_testkit::zstd_wide_window(data)
    }
}
