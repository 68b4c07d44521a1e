//! OTLP/gRPC framing, platform-neutral (docs/protocol.md#otlpgrpc).
//!
//! A unary call's body is one length-prefixed message: a compressed flag, a big-endian `u32`
//! length, then the message bytes. Unwrapping it here, rather than in a gRPC library, lets the
//! message go through [`crate::body`] like an HTTP body: one set of decompressors, one zstd
//! window cap, one payload limit, and statuses decided by error kind rather than by another
//! library's message text.

use base64::Engine as _;
use otlp2parquet_common::Signal;

use crate::{Error, ErrorKind, Format, Outcome, grpc_status_details};

/// Bytes before the message in a gRPC frame: the compressed flag and the length.
pub const FRAME_HEADER: usize = 5;

/// The `Export` method path of each collector service.
pub const METHODS: [(&str, Signal); 3] = [
    (
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        Signal::Logs,
    ),
    (
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        Signal::Traces,
    ),
    (
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        Signal::Metrics,
    ),
];

/// The signal of an `Export` method path.
pub fn signal_of_method(path: &str) -> Option<Signal> {
    METHODS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, signal)| *signal)
}

/// One unwrapped message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// Flag 0: the message as is.
    Plain(&'a [u8]),
    /// Flag 1: compressed with the call's `grpc-encoding`.
    Compressed(&'a [u8]),
}

/// Why a body is not one acceptable frame.
#[derive(Debug)]
pub(crate) struct Refusal {
    error: Error,
    /// Refused on the declared length alone.
    declared: bool,
}

impl Refusal {
    pub(crate) fn outcome(self, signal: Signal) -> Outcome {
        let outcome = Outcome::failed(Some(signal), Format::Protobuf, self.error);
        if self.declared {
            outcome.without_details()
        } else {
            outcome
        }
    }
}

/// The one message of a unary call's `body`; its declared length may not pass `limit`.
pub(crate) fn unwrap_frame(body: &[u8], limit: usize) -> Result<Frame<'_>, Refusal> {
    let invalid = |message: String| Refusal {
        error: Error::new(ErrorKind::InvalidRequest, message),
        declared: false,
    };
    let Some((header, message)) = body.split_first_chunk::<FRAME_HEADER>() else {
        return Err(invalid(format!(
            "the call's body is {} bytes, shorter than a gRPC message header",
            body.len()
        )));
    };
    let [flag, length @ ..] = *header;
    let declared = u32::from_be_bytes(length);
    if usize::try_from(declared).map_or(true, |d| d > limit) {
        return Err(Refusal {
            error: Error::new(
                ErrorKind::PayloadTooLarge,
                format!("gRPC message of {declared} bytes exceeds max_payload_bytes ({limit})"),
            ),
            declared: true,
        });
    }
    let declared = declared as usize;
    if message.len() != declared {
        return Err(invalid(if message.len() < declared {
            format!(
                "the gRPC message is cut short: {} of its {declared} bytes arrived",
                message.len()
            )
        } else {
            "a unary OTLP call carries exactly one gRPC message; more bytes followed it".to_owned()
        }));
    }
    match flag {
        0 => Ok(Frame::Plain(message)),
        1 => Ok(Frame::Compressed(message)),
        other => Err(invalid(format!(
            "gRPC message flag {other} is neither 0 (plain) nor 1 (compressed)"
        ))),
    }
}

/// A gRPC answer as HTTP/2 parts: the headers, the framed response message (success only)
/// and the trailers. Errors are trailers-only: their status is in `headers` and `trailers` is
/// empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcReply {
    /// Response headers (`content-type` first).
    pub headers: Vec<(&'static str, String)>,
    /// The framed response message, if any.
    pub message: Option<Vec<u8>>,
    /// Trailers, after the message.
    pub trailers: Vec<(&'static str, String)>,
}

impl GrpcReply {
    /// The `grpc-status` code of this reply.
    pub fn code(&self) -> Option<i32> {
        self.headers
            .iter()
            .chain(&self.trailers)
            .find(|(n, _)| *n == "grpc-status")
            .and_then(|(_, v)| v.parse().ok())
    }
}

/// The gRPC answer of an outcome: status 0 with the framed `Export…ServiceResponse`, or the
/// error kind's code ([`ErrorKind::grpc_code`]), its message and `google.rpc.Status` details
/// (with `RetryInfo` for retryable kinds).
pub fn reply(outcome: &Outcome) -> GrpcReply {
    let content_type = ("content-type", "application/grpc".to_owned());
    match outcome.error() {
        None => {
            let body = &outcome.response().body;
            let mut framed = Vec::with_capacity(FRAME_HEADER + body.len());
            framed.push(0);
            framed.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes());
            framed.extend_from_slice(body);
            GrpcReply {
                headers: vec![content_type],
                message: Some(framed),
                trailers: vec![("grpc-status", "0".to_owned())],
            }
        }
        Some(error) => {
            let mut headers = vec![
                content_type,
                ("grpc-status", error.kind().grpc_code().to_string()),
                ("grpc-message", percent_encode(error.message())),
            ];
            if outcome.has_details() {
                headers.push((
                    "grpc-status-details-bin",
                    base64::engine::general_purpose::STANDARD_NO_PAD
                        .encode(grpc_status_details(error)),
                ));
            }
            GrpcReply {
                headers,
                message: None,
                trailers: Vec::new(),
            }
        }
    }
}

/// `grpc-message` encoding: printable ASCII other than `%` as is, every other byte as `%XX`.
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for &b in message.as_bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(flag: u8, message: &[u8]) -> Vec<u8> {
        let mut out = vec![flag];
        out.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
        out.extend_from_slice(message);
        out
    }

    #[test]
    fn frames_unwrap_or_say_what_is_wrong() {
        assert_eq!(
            unwrap_frame(&framed(0, b"abc"), 10).unwrap(),
            Frame::Plain(b"abc")
        );
        assert_eq!(
            unwrap_frame(&framed(1, b"abc"), 10).unwrap(),
            Frame::Compressed(b"abc")
        );
        let short = unwrap_frame(&[0, 0, 0], 10).unwrap_err();
        assert_eq!(short.error.kind(), ErrorKind::InvalidRequest);
        let mut cut = framed(0, b"abcdef");
        cut.truncate(8);
        let cut = unwrap_frame(&cut, 10).unwrap_err();
        assert!(cut.error.message().contains("cut short"), "{}", cut.error);
        let mut two = framed(0, b"ab");
        two.extend_from_slice(&framed(0, b"cd"));
        let two = unwrap_frame(&two, 10).unwrap_err();
        assert!(two.error.message().contains("exactly one"), "{}", two.error);
        let flag = unwrap_frame(&framed(7, b"ab"), 10).unwrap_err();
        assert_eq!(flag.error.kind(), ErrorKind::InvalidRequest);
        let big = unwrap_frame(&framed(0, &[0; 11]), 10).unwrap_err();
        assert_eq!(big.error.kind(), ErrorKind::PayloadTooLarge);
        assert!(big.declared);
        // The declared length alone decides, before any message byte arrived.
        let announced = unwrap_frame(&[0, 0xff, 0xff, 0xff, 0xff], 10).unwrap_err();
        assert_eq!(announced.error.kind(), ErrorKind::PayloadTooLarge);
    }

    #[test]
    fn replies_carry_the_kind_code_and_percent_encoded_message() {
        let stored = crate::Stored {
            format: Format::Protobuf,
            records: 3,
        };
        let ok = reply(&Outcome::stored(Signal::Logs, stored));
        assert_eq!(ok.code(), Some(0));
        // An empty ExportLogsServiceResponse, framed.
        assert_eq!(ok.message.as_deref(), Some(&[0u8, 0, 0, 0, 0][..]));
        let err = Outcome::failed(
            Some(Signal::Logs),
            Format::Protobuf,
            Error::new(ErrorKind::Unavailable, "100% down\n"),
        );
        let r = reply(&err);
        assert_eq!(r.code(), Some(14));
        assert!(r.message.is_none() && r.trailers.is_empty());
        let message = r
            .headers
            .iter()
            .find(|(n, _)| *n == "grpc-message")
            .unwrap();
        assert_eq!(message.1, "100%25 down%0A");
        assert!(
            r.headers
                .iter()
                .any(|(n, _)| *n == "grpc-status-details-bin")
        );
        let bare = reply(&err.without_details());
        assert!(
            !bare
                .headers
                .iter()
                .any(|(n, _)| *n == "grpc-status-details-bin")
        );
        for (path, signal) in METHODS {
            assert_eq!(signal_of_method(path), Some(signal));
        }
        assert_eq!(signal_of_method("/x.Service/Export"), None);
    }
}
