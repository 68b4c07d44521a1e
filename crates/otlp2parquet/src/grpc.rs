//! OTLP/gRPC: the `Export` methods of the three collector services on their own listener
//! (`server.grpc_listen_addr`), feeding the same batcher and storage as OTLP/HTTP.
//!
//! tonic does the gRPC framing, the request decompression (gzip, zstd; bounded by
//! `request.max_payload_bytes` after decompression) and the status trailers. The message bytes
//! go, undecoded, to the same pipeline as an HTTP protobuf body, so both transports decode,
//! limit and answer identically. Errors become gRPC statuses with the codes SPEC §3 maps
//! (`ErrorKind::grpc_code`) and, for the retryable ones, a `google.rpc.RetryInfo` detail.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request as HttpRequest, State};
use axum::response::{IntoResponse, Response as HttpResponse};
use bytes::{Buf, BufMut, Bytes};
use otlp2parquet_common::Signal;
use otlp2parquet_handlers::{
    Error, ErrorKind, Format, Request, Response, authorize, grpc_status_details,
};
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, UnaryService};
use tonic::{Code, Status};

use crate::server::{AppState, ingest, now_ns};

/// The gRPC method paths, by signal.
const METHODS: [(&str, Signal); 3] = [
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

/// The gRPC router: the three `Export` methods; any other method is `UNIMPLEMENTED`.
pub fn router(state: Arc<AppState>) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(state)
}

async fn dispatch(State(state): State<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    let path = req.uri().path();
    let Some(signal) = METHODS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, signal)| *signal)
    else {
        let status = Status::unimplemented(format!(
            "{path} is not an OTLP export method; otlp2parquet serves the Export methods of \
             LogsService, TraceService and MetricsService"
        ));
        return status.into_http::<axum::body::Body>().into_response();
    };
    let limit = state.config.request.max_payload_bytes;
    let mut grpc = Grpc::new(RawCodec)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd)
        .max_decoding_message_size(limit)
        .max_encoding_message_size(usize::MAX);
    let mut response = grpc.unary(Export { state, signal }, req).await;
    client_faults_as_such(response.headers_mut());
    response.map(axum::body::Body::new)
}

/// tonic answers framing faults before our service runs: a message over the size limit as
/// `OUT_OF_RANGE` and a body that does not decompress as `INTERNAL`. Both are the client's
/// fault; SPEC §3 maps them to `RESOURCE_EXHAUSTED` (413) and `INVALID_ARGUMENT` (400), as for
/// HTTP. Those answers are trailers-only, so the status is in the headers.
fn client_faults_as_such(headers: &mut axum::http::HeaderMap) {
    let status = headers.get("grpc-status").and_then(|v| v.to_str().ok());
    let message = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let code = match status {
        Some("11") => Code::ResourceExhausted,
        Some("13")
            if message.starts_with("Error%20decompressing")
                || message.starts_with("Error decompressing") =>
        {
            Code::InvalidArgument
        }
        _ => return,
    };
    headers.insert("grpc-status", axum::http::HeaderValue::from(code as i32));
}

/// One `Export` call.
struct Export {
    state: Arc<AppState>,
    signal: Signal,
}

impl UnaryService<Bytes> for Export {
    type Response = Bytes;
    type Future = Pin<Box<dyn Future<Output = Result<tonic::Response<Bytes>, Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let state = Arc::clone(&self.state);
        let signal = self.signal;
        Box::pin(async move { export(&state, signal, request).await })
    }
}

async fn export(
    state: &AppState,
    signal: Signal,
    request: tonic::Request<Bytes>,
) -> Result<tonic::Response<Bytes>, Status> {
    let started = Instant::now();
    let authorization = request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = authorize(authorization, &state.config.auth) {
        state
            .metrics
            .record_request(signal, e.kind().http_status(), 0, 0, started.elapsed());
        return Err(status_of(&e));
    }
    let body = request.into_inner();
    let req = Request {
        signal,
        content_type: Some("application/x-protobuf"),
        content_encoding: None,
        body: &body,
        received_at_ns: now_ns(),
    };
    let result = ingest(state, &req).await;
    let (status, records) = match &result {
        Ok(stored) => (200, stored.records),
        Err(f) => (f.error.kind().http_status(), 0),
    };
    state
        .metrics
        .record_request(signal, status, body.len(), records, started.elapsed());
    match result {
        Ok(_) => Ok(tonic::Response::new(Bytes::from(
            Response::success(signal, Format::Protobuf, 0, "").body,
        ))),
        Err(f) => Err(status_of(&f.error)),
    }
}

/// The gRPC status of a pipeline error: SPEC §3's code, the message, and the
/// `google.rpc.Status` details (with `RetryInfo` when retryable).
fn status_of(error: &Error) -> Status {
    let code = match error.kind() {
        ErrorKind::InvalidRequest => Code::InvalidArgument,
        ErrorKind::Unauthorized => Code::Unauthenticated,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::MethodNotAllowed | ErrorKind::UnsupportedMediaType => Code::Unimplemented,
        ErrorKind::PayloadTooLarge | ErrorKind::Overloaded => Code::ResourceExhausted,
        ErrorKind::Unavailable => Code::Unavailable,
        _ => Code::Internal,
    };
    Status::with_details(
        code,
        error.message().to_owned(),
        Bytes::from(grpc_status_details(error)),
    )
}

/// Passes message bytes through untouched: the pipeline decodes them itself.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

#[derive(Debug)]
struct RawEncoder;

#[derive(Debug)]
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_error_kinds() {
        let cases = [
            (ErrorKind::InvalidRequest, Code::InvalidArgument),
            (ErrorKind::Unauthorized, Code::Unauthenticated),
            (ErrorKind::PayloadTooLarge, Code::ResourceExhausted),
            (ErrorKind::Overloaded, Code::ResourceExhausted),
            (ErrorKind::Unavailable, Code::Unavailable),
            (ErrorKind::Internal, Code::Internal),
        ];
        for (kind, code) in cases {
            let status = status_of(&Error::new(kind, "why"));
            assert_eq!(status.code(), code, "{kind:?}");
            assert_eq!(status.message(), "why");
            assert!(!status.details().is_empty());
        }
    }
}
