//! The request body bound (SPEC §3.3) as the Worker applies it before the pipeline sees the
//! bytes: a declared `Content-Length` over `max_payload_bytes` is refused without reading a
//! byte, and a body without one (chunked) is read only up to one byte past the limit, which the
//! pipeline then answers 413 exactly like the server does.

use otlp2parquet_handlers::body::format_of_content_type;
use otlp2parquet_handlers::{
    Config, ErrorKind, Format, Response, Route, authorize, error_response, route,
};

/// Whether the request's body will be looked at: only an authorised export reads it (the
/// pipeline answers health, 404, 405 and 401 without it, so those never pay for a body).
pub fn is_read(method: &str, path: &str, authorization: Option<&str>, config: &Config) -> bool {
    matches!(route(method, path), Ok(Route::Export(_)))
        && authorize(authorization, &config.auth).is_ok()
}

/// The 413 answer for a `Content-Length` over `limit`, or `None` when the declared length is
/// absent, unparsable (the read bound still applies) or within the limit.
pub fn refuse_declared(
    content_type: Option<&str>,
    content_length: Option<&str>,
    limit: usize,
) -> Option<Response> {
    let declared: u64 = content_length?.trim().parse().ok()?;
    if declared <= u64::try_from(limit).unwrap_or(u64::MAX) {
        return None;
    }
    let format = content_type
        .and_then(format_of_content_type)
        .unwrap_or(Format::Json);
    Some(error_response(
        format,
        ErrorKind::PayloadTooLarge,
        format!("request body of {declared} bytes exceeds max_payload_bytes ({limit})"),
    ))
}

/// Collects body chunks up to one byte past `limit`.
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

    /// Appends `chunk`; returns `false` once the body is over the limit and reading can stop
    /// (the bytes kept are then `limit + 1`, enough for the pipeline to answer 413).
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

#[cfg(test)]
mod tests {
    use super::*;
    use otlp2parquet_common::platform::Platform;

    #[test]
    fn only_authorised_exports_read_the_body() {
        let mut config = Config::defaults(Platform::Cloudflare);
        assert!(is_read("POST", "/v1/logs", None, &config));
        assert!(!is_read("GET", "/v1/logs", None, &config));
        assert!(!is_read("GET", "/health", None, &config));
        assert!(!is_read("POST", "/v1/nope", None, &config));
        config.auth.bearer_token = Some("t".to_owned());
        assert!(!is_read("POST", "/v1/logs", None, &config));
        assert!(!is_read("POST", "/v1/logs", Some("Bearer x"), &config));
        assert!(is_read("POST", "/v1/logs", Some("Bearer t"), &config));
    }

    #[test]
    fn declared_length_over_the_limit_is_413_in_the_request_encoding() {
        assert_eq!(refuse_declared(None, None, 10), None);
        assert_eq!(refuse_declared(None, Some("10"), 10), None);
        assert_eq!(refuse_declared(None, Some("junk"), 10), None);
        let r = refuse_declared(Some("application/x-protobuf"), Some("11"), 10).unwrap();
        assert_eq!(r.status, 413);
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        let r = refuse_declared(Some("application/json"), Some(" 11 "), 10).unwrap();
        assert_eq!(r.status, 413);
        let body = String::from_utf8(r.body).unwrap();
        assert!(body.contains("max_payload_bytes"), "{body}");
        assert!(body.contains("\"code\":"), "{body}");
    }

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
}
