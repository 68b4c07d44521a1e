//! OTLP/HTTP responses (docs/protocol.md#statuses): the export response with its partial success, or a
//! `google.rpc.Status` error body, encoded like the request.

use otlp2parquet_common::Signal;
use otlp2parquet_proto::pb;
use prost::Message as _;

use crate::body::Format;
use crate::{Error, ErrorKind};

/// What an adapter sends back: status, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Headers, `Content-Type` first.
    pub headers: Vec<(&'static str, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// The value of header `name` (case-insensitive), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A plain-text response (health endpoints).
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: vec![("content-type", "text/plain; charset=utf-8".to_owned())],
            body: body.into().into_bytes(),
        }
    }

    /// 200 with the signal's `Export*ServiceResponse`; `rejected` records (with `message`) go
    /// into `partial_success`, which is omitted when nothing was rejected.
    pub fn success(signal: Signal, format: Format, rejected: u64, message: &str) -> Response {
        let rejected = i64::try_from(rejected).unwrap_or(i64::MAX);
        let body = match format {
            Format::Protobuf => success_protobuf(signal, rejected, message),
            Format::Json | Format::JsonLines => success_json(signal, rejected, message),
        };
        Response {
            status: 200,
            headers: vec![("content-type", format.response_content_type().to_owned())],
            body,
        }
    }

    /// The error response of `error`: its status, a `google.rpc.Status` body in `format`, and
    /// `Retry-After` for retryable kinds.
    pub fn error(format: Format, error: &Error) -> Response {
        let kind = error.kind();
        let status = pb::rpc::Status {
            code: kind.grpc_code(),
            message: error.message().to_owned(),
            details: Vec::new(),
        };
        let body = match format {
            Format::Protobuf => status.encode_to_vec(),
            Format::Json | Format::JsonLines => serde_json::json!({
                "code": status.code,
                "message": status.message,
            })
            .to_string()
            .into_bytes(),
        };
        let mut headers = vec![("content-type", format.response_content_type().to_owned())];
        if let Some(secs) = kind.retry_after_secs() {
            headers.push(("retry-after", secs.to_string()));
        }
        Response {
            status: kind.http_status(),
            headers,
            body,
        }
    }
}

fn success_protobuf(signal: Signal, rejected: i64, message: &str) -> Vec<u8> {
    let partial = rejected > 0;
    match signal {
        Signal::Logs => pb::ExportLogsServiceResponse {
            partial_success: partial.then(|| pb::ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message: message.to_owned(),
            }),
        }
        .encode_to_vec(),
        Signal::Traces => pb::ExportTraceServiceResponse {
            partial_success: partial.then(|| pb::ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: message.to_owned(),
            }),
        }
        .encode_to_vec(),
        Signal::Metrics => pb::ExportMetricsServiceResponse {
            partial_success: partial.then(|| pb::ExportMetricsPartialSuccess {
                rejected_data_points: rejected,
                error_message: message.to_owned(),
            }),
        }
        .encode_to_vec(),
    }
}

fn success_json(signal: Signal, rejected: i64, message: &str) -> Vec<u8> {
    if rejected == 0 {
        return b"{}".to_vec();
    }
    let field = match signal {
        Signal::Logs => "rejectedLogRecords",
        Signal::Traces => "rejectedSpans",
        Signal::Metrics => "rejectedDataPoints",
    };
    // proto3 JSON writes int64 as a string.
    let mut partial = serde_json::Map::new();
    partial.insert(field.to_owned(), rejected.to_string().into());
    partial.insert("errorMessage".to_owned(), message.into());
    serde_json::json!({ "partialSuccess": partial })
        .to_string()
        .into_bytes()
}

/// The `google.rpc.Status` of `error` for gRPC's `grpc-status-details-bin`: its code and
/// message, with a `google.rpc.RetryInfo` detail for the retryable kinds (OTLP/gRPC clients retry
/// `UNAVAILABLE`/`RESOURCE_EXHAUSTED` only when it is present).
pub fn grpc_status_details(error: &Error) -> Vec<u8> {
    let kind = error.kind();
    let details = kind
        .retry_after_secs()
        .map(|secs| pb::rpc::Any {
            type_url: "type.googleapis.com/google.rpc.RetryInfo".to_owned(),
            value: pb::rpc::RetryInfo {
                retry_delay: Some(pb::rpc::Duration {
                    seconds: i64::from(secs),
                    nanos: 0,
                }),
            }
            .encode_to_vec(),
        })
        .into_iter()
        .collect();
    pb::rpc::Status {
        code: kind.grpc_code(),
        message: error.message().to_owned(),
        details,
    }
    .encode_to_vec()
}

/// A request-level error for the given kind and message, as a response.
pub fn error_response(format: Format, kind: ErrorKind, message: impl Into<String>) -> Response {
    Response::error(format, &Error::new(kind, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_bodies() {
        let r = Response::success(Signal::Logs, Format::Json, 0, "");
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"{}");
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let r = Response::success(Signal::Traces, Format::Json, 3, "bad");
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            r#"{"partialSuccess":{"errorMessage":"bad","rejectedSpans":"3"}}"#
        );
        let r = Response::success(Signal::Metrics, Format::Protobuf, 0, "");
        assert!(r.body.is_empty());
        let r = Response::success(Signal::Metrics, Format::Protobuf, 2, "x");
        let decoded = pb::ExportMetricsServiceResponse::decode(r.body.as_slice()).unwrap();
        assert_eq!(decoded.partial_success.unwrap().rejected_data_points, 2);
    }

    #[test]
    fn grpc_details_carry_retry_info_only_when_retryable() {
        let st = pb::rpc::Status::decode(
            grpc_status_details(&Error::new(ErrorKind::Unavailable, "s3 down")).as_slice(),
        )
        .unwrap();
        assert_eq!((st.code, st.message.as_str()), (14, "s3 down"));
        assert_eq!(st.details.len(), 1);
        assert_eq!(
            st.details[0].type_url,
            "type.googleapis.com/google.rpc.RetryInfo"
        );
        let info = pb::rpc::RetryInfo::decode(st.details[0].value.as_slice()).unwrap();
        assert_eq!(info.retry_delay.unwrap().seconds, 5);
        let st = pb::rpc::Status::decode(
            grpc_status_details(&Error::new(ErrorKind::InvalidRequest, "bad")).as_slice(),
        )
        .unwrap();
        assert_eq!(st.code, 3);
        assert!(st.details.is_empty());
    }

    #[test]
    fn error_bodies_and_retry_after() {
        let r = error_response(Format::Protobuf, ErrorKind::Unavailable, "s3 down");
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("5"));
        let st = pb::rpc::Status::decode(r.body.as_slice()).unwrap();
        assert_eq!((st.code, st.message.as_str()), (14, "s3 down"));
        let r = error_response(Format::Json, ErrorKind::InvalidRequest, "bad \"id\"");
        assert_eq!(r.status, 400);
        assert!(r.header("retry-after").is_none());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["message"], "bad \"id\"");
        assert_eq!(v["code"], 3);
    }
}
