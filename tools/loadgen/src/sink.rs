//! A receiver that does nothing: reads each body and answers 200 with an empty export response.
//! Running the load against it measures the generator's own ceiling on this machine.

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
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(Arc::clone(&counters));
    axum::serve(listener, app)
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
