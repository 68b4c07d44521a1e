//! A receiver that does nothing: reads each body and answers 200 with an empty export response,
//! on every path (`/v1/logs`, `/v1/traces`, `/v1/metrics`, `/health`). Running the load against
//! it measures the generator's own ceiling on this machine.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
}

/// Serves on `127.0.0.1:port` until SIGINT/SIGTERM, then prints what it received.
pub async fn serve(port: u16) -> Result<(), String> {
    let addr = format!("127.0.0.1:{port}");
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let counters = Arc::new(Counters::default());
    axum::serve(listener, router(Arc::clone(&counters)))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("sink server error: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "sink: {} requests, {} body bytes",
        counters.requests.load(Ordering::Relaxed),
        counters.bytes.load(Ordering::Relaxed)
    )
    .map_err(|e| e.to_string())
}

/// Every path, every method: [`answer`].
fn router(counters: Arc<Counters>) -> axum::Router {
    axum::Router::new().fallback(answer).with_state(counters)
}

async fn answer(State(counters): State<Arc<Counters>>, req: Request) -> Response {
    let bytes = match to_bytes(req.into_body(), usize::MAX).await {
        Ok(b) => b,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    counters.requests.fetch_add(1, Ordering::Relaxed);
    counters
        .bytes
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    // An empty protobuf message is zero bytes: an `Export*ServiceResponse` with no
    // partial_success, for every signal.
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        Body::empty(),
    )
        .into_response()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp2parquet_proto::pb;
    use prost::Message;

    #[tokio::test]
    async fn answers_every_signal_with_an_empty_export_response() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let counters = Arc::new(Counters::default());
        tokio::spawn(axum::serve(listener, router(Arc::clone(&counters))).into_future());
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let body = pb::ExportMetricsServiceRequest {
            resource_metrics: vec![pb::ResourceMetrics::default()],
        }
        .encode_to_vec();
        for path in ["v1/logs", "v1/traces", "v1/metrics"] {
            let resp = client
                .post(format!("http://{addr}/{path}"))
                .header("content-type", "application/x-protobuf")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            let answer = resp.bytes().await.unwrap();
            let decoded = pb::ExportMetricsServiceResponse::decode(answer.as_ref()).unwrap();
            assert!(decoded.partial_success.is_none());
        }
        assert_eq!(counters.requests.load(Ordering::Relaxed), 3);
        assert_eq!(
            counters.bytes.load(Ordering::Relaxed),
            3 * body.len() as u64
        );
    }
}
