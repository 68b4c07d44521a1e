//! OTLP/gRPC on the server's second listener (`server.grpc_listen_addr`): the `Export`
//! methods of the three collector services, feeding the same intake as OTLP/HTTP.
//!
//! axum serves HTTP/2; `otlp2parquet_handlers` admits the call, unwraps its one
//! length-prefixed message and decodes it with the same bounded decompressors as an HTTP body,
//! so both transports limit and answer identically (docs/protocol.md#otlpgrpc). What is left
//! here is putting the answer on the wire: headers, the framed response message and the
//! `grpc-status` trailer (errors are trailers-only).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request as HttpRequest, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response as HttpResponse;
use http_body::Frame;
use otlp2parquet_handlers::grpc::{GrpcReply, reply};
use otlp2parquet_handlers::{GrpcAdmission, Outcome, admit_grpc};

use crate::front::{AppState, ingest, record};

/// The gRPC router: every path goes through admission (unknown methods are `UNIMPLEMENTED`).
pub fn router(state: Arc<AppState>) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(state)
}

async fn dispatch(State(state): State<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let metadata = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let admission = admit_grpc(
        parts.uri.path(),
        metadata("authorization"),
        metadata("grpc-encoding"),
        &state.intake.config,
    );
    let outcome: Outcome = match admission {
        GrpcAdmission::Export(export) => {
            ingest(&state, &export, body, metadata("content-length"), started).await
        }
        GrpcAdmission::Answer(outcome) => {
            record(&state.metrics, &outcome, 0, started);
            outcome
        }
    };
    to_http(reply(&outcome))
}

fn header_map(fields: Vec<(&'static str, String)>) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(fields.len());
    for (name, value) in fields {
        if let Ok(v) = HeaderValue::from_str(&value) {
            map.insert(HeaderName::from_static(name), v);
        }
    }
    map
}

fn to_http(reply: GrpcReply) -> HttpResponse {
    let body = GrpcBody {
        message: reply.message.map(Bytes::from),
        trailers: (!reply.trailers.is_empty()).then(|| header_map(reply.trailers)),
    };
    let mut out = HttpResponse::new(Body::new(body));
    *out.status_mut() = StatusCode::OK;
    *out.headers_mut() = header_map(reply.headers);
    out
}

/// A gRPC response body: the message frame, if any, then the trailers, if any.
struct GrpcBody {
    message: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for GrpcBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(message) = self.message.take() {
            return Poll::Ready(Some(Ok(Frame::data(message))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.message.is_none() && self.trailers.is_none()
    }
}
