//! The pipeline's [`Response`] → a `lambda_http` response.
//!
//! `lambda_http` base64-encodes a [`Body::Binary`] (`isBase64Encoded: true`) and sends a
//! [`Body::Text`] as is, so protobuf answers go out as binary and JSON or text as text.

use lambda_http::Body;
use lambda_http::http::header::{HeaderName, HeaderValue};
use lambda_http::http::{self, StatusCode};
use otlp2parquet_handlers::Response;

/// Whether a body of this content type travels as text in the Lambda response event.
pub fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/") || mime == "application/json" || mime.ends_with("+json")
}

/// Converts the pipeline's answer. Never fails: a status or header the `http` crate refuses
/// (none of ours are) becomes a 500 or is dropped, with an error log line.
pub fn to_lambda(response: Response) -> http::Response<Body> {
    let text = is_text(response.header("content-type"));
    let body = if text {
        match String::from_utf8(response.body) {
            Ok(s) => Body::Text(s),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    } else {
        Body::Binary(response.body)
    };
    let mut out = http::Response::new(body);
    *out.status_mut() = StatusCode::from_u16(response.status).unwrap_or_else(|_| {
        tracing::error!(status = response.status, "invalid status from the pipeline");
        StatusCode::INTERNAL_SERVER_ERROR
    });
    for (name, value) in response.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                out.headers_mut().append(name, value);
            }
            _ => tracing::error!(header = name, "invalid header from the pipeline, dropped"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types() {
        assert!(is_text(Some("application/json")));
        assert!(is_text(Some("Application/JSON; charset=utf-8")));
        assert!(is_text(Some("text/plain; charset=utf-8")));
        assert!(is_text(Some("application/problem+json")));
        assert!(!is_text(Some("application/x-protobuf")));
        assert!(!is_text(None));
    }

    #[test]
    fn protobuf_goes_out_binary_and_json_as_text() {
        let pb = Response {
            status: 503,
            headers: vec![
                ("content-type", "application/x-protobuf".to_owned()),
                ("retry-after", "5".to_owned()),
            ],
            body: vec![8, 14, 0xff],
        };
        let out = to_lambda(pb);
        assert_eq!(out.status(), 503);
        assert_eq!(out.headers()["retry-after"], "5");
        assert_eq!(out.body(), &Body::Binary(vec![8, 14, 0xff]));

        let json = Response {
            status: 200,
            headers: vec![("content-type", "application/json".to_owned())],
            body: b"{}".to_vec(),
        };
        let out = to_lambda(json);
        assert_eq!(out.status(), 200);
        assert_eq!(out.body(), &Body::Text("{}".to_owned()));
    }

    #[test]
    fn bad_status_or_header_never_panics() {
        let weird = Response {
            status: 1000,
            headers: vec![("x-bad", "line\nbreak".to_owned())],
            body: Vec::new(),
        };
        let out = to_lambda(weird);
        assert_eq!(out.status(), 500);
        assert!(out.headers().get("x-bad").is_none());
    }
}
