//! What the HTTP and gRPC listeners share: their state, the bounded body reader and the
//! per-request counters.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use otlp2parquet_handlers::body::Capped;
use otlp2parquet_handlers::{Export, Outcome};

use crate::clock::now_ns;
use crate::intake::Intake;
use crate::metrics::Metrics;

/// What both listeners share.
pub struct AppState {
    /// Where exports go.
    pub intake: Intake,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
}

/// Phase two for either listener: reads the admitted body (`declared`: its `Content-Length`,
/// if any) and ingests it, counting the request. A body that has not fully arrived within
/// `server.body_timeout_secs` is answered 408 (the HTTP/1 connection then closes).
pub async fn ingest(
    state: &AppState,
    export: &Export<'_>,
    body: Body,
    declared: Option<&str>,
    started: Instant,
) -> Outcome {
    let deadline = Duration::from_secs(state.intake.config.server.body_timeout_secs);
    let read = tokio::time::timeout(deadline, read_body(body, export.read_limit(), declared));
    match read.await {
        Err(_) => {
            let outcome = export.timed_out(deadline.as_secs());
            record(&state.metrics, &outcome, 0, started);
            outcome
        }
        Ok(Ok(bytes)) => {
            let outcome = export.ingest(&bytes, now_ns(), &state.intake).await;
            record(&state.metrics, &outcome, bytes.len(), started);
            outcome
        }
        Ok(Err(e)) => {
            let outcome = export.unreadable(&e);
            record(&state.metrics, &outcome, 0, started);
            outcome
        }
    }
}

/// Counts an answered export (requests that named no signal are not counted).
pub fn record(metrics: &Metrics, outcome: &Outcome, bytes: usize, started: Instant) {
    if let Some(signal) = outcome.signal() {
        metrics.record_request(
            signal,
            outcome.status(),
            bytes,
            outcome.records(),
            started.elapsed(),
        );
    }
}

/// Reads a body without trusting `Content-Length` (chunked bodies have none), keeping at most
/// `limit` bytes ([`Capped`]): past that the pipeline answers 413 without the rest.
/// `declared` is the `Content-Length`, if any: room for it is reserved up front.
pub async fn read_body(
    body: Body,
    limit: usize,
    declared: Option<&str>,
) -> Result<Vec<u8>, axum::Error> {
    let mut body = body;
    let mut out = Capped::with_expected(limit.saturating_sub(1), declared);
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data()
            && !out.push(&data)
        {
            break;
        }
    }
    Ok(out.into_bytes())
}
