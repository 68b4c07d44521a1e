//! OTLP/HTTP on the server's first listener: axum's request is turned into a
//! [`Head`] and body bytes for `otlp2parquet_handlers`, and its answer back into axum's; the
//! server answers only its own probes (`/ready`, `/metrics`).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request as HttpRequest, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use otlp2parquet_handlers::{Admission, Head, Probes, Response, Route, admit};

use crate::front::{AppState, ingest, record};

/// The HTTP router: every path goes through admission.
pub fn router(state: Arc<AppState>) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(state)
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn dispatch(State(state): State<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let head = Head {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        content_type: header_str(headers, header::CONTENT_TYPE),
        content_encoding: header_str(headers, header::CONTENT_ENCODING),
        content_length: header_str(headers, header::CONTENT_LENGTH),
        authorization: header_str(headers, header::AUTHORIZATION),
    };
    let export = match admit(&head, &state.intake.config, Probes::Served) {
        Admission::Export(export) => export,
        Admission::Answer(outcome) => {
            record(&state.metrics, &outcome, 0, started);
            return to_http(outcome.into_response());
        }
        Admission::Probe(Route::Ready) => {
            return to_http(match state.intake.store.ready().await {
                Ok(()) => Response::text(200, "ready\n"),
                Err(e) => Response::text(503, format!("storage not reachable: {e}\n")),
            });
        }
        Admission::Probe(_) => {
            let mut resp = Response::text(200, state.metrics.render());
            resp.headers.retain(|(name, _)| *name != "content-type");
            resp.headers.push((
                "content-type",
                "text/plain; version=0.0.4; charset=utf-8".to_owned(),
            ));
            return to_http(resp);
        }
    };
    let http1 = parts.version < axum::http::Version::HTTP_2;
    let outcome = ingest(&state, &export, body, head.content_length, started).await;
    let timed_out = outcome.status() == StatusCode::REQUEST_TIMEOUT.as_u16();
    let mut answer = to_http(outcome.into_response());
    if timed_out && http1 {
        // The rest of the body may still trickle in: the connection is not reused.
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    answer
}

fn to_http(resp: Response) -> HttpResponse {
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = (status, Body::from(resp.body)).into_response();
    for (name, value) in resp.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            out.headers_mut().insert(name, v);
        }
    }
    out
}
