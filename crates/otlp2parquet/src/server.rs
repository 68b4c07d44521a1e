//! The axum front door: translates HTTP requests to `otlp2parquet_handlers` calls and back, and
//! hands converted rows to the batcher (or, with `batch.enabled = false`, writes them before
//! answering).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::extract::{DefaultBodyLimit, Request as HttpRequest, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use otlp2parquet_common::config::Config;
use otlp2parquet_handlers::{
    ErrorKind, Failure, Format, Request, Response, Route, Stored, allowed_method, authorize,
    convert, error_response, route, store, www_authenticate,
};
use otlp2parquet_writer::OpendalStorage;

use otlp2parquet_handlers::KeyTokens;

use crate::batcher::Batcher;
use crate::grpc;
use crate::metrics::Metrics;
use crate::recover;
use crate::store::Store;
use crate::wal::{self, Entry, Wal};

/// How long shutdown waits for buffered rows to be written (retries included) before giving up.
const SHUTDOWN_FLUSH_DEADLINE: Duration = Duration::from_secs(30);

pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) store: Arc<Store>,
    pub(crate) batcher: Option<Arc<Batcher>>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) tokens: Arc<KeyTokens>,
}

/// The current time in ns since the epoch (0 if the clock is before 1970).
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Runs the server until SIGINT/SIGTERM, then writes every buffered row before returning.
pub async fn serve(config: Config) -> Result<(), String> {
    let storage = OpendalStorage::from_config(&config.storage).map_err(|e| e.to_string())?;
    let store = Arc::new(Store::Opendal(Box::new(storage)));
    let listener = tokio::net::TcpListener::bind(&config.server.listen_addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen_addr))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("listener address: {e}"))?;
    let grpc_listener = match &config.server.grpc_listen_addr {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            format!(
                "cannot listen for OTLP/gRPC on {addr}: {e} (set \
                         server.grpc_listen_addr / OTLP2PARQUET_GRPC_LISTEN_ADDR to another \
                         address, or to off)"
            )
        })?),
        None => None,
    };
    let grpc_local = match &grpc_listener {
        Some(l) => Some(
            l.local_addr()
                .map_err(|e| format!("gRPC listener address: {e}"))?,
        ),
        None => None,
    };
    let metrics = Arc::new(Metrics::default());
    let tokens = Arc::new(KeyTokens::default());
    let wal_dir = config.wal_dir();
    let batcher = match (config.batch.enabled, &wal_dir) {
        (false, _) => None,
        (true, None) => Some(Batcher::new(
            &config,
            Arc::clone(&store),
            Arc::clone(&metrics),
            Arc::clone(&tokens),
            None,
        )),
        (true, Some(dir)) => {
            let replay = {
                let owned = dir.clone();
                tokio::task::spawn_blocking(move || recover::replay(&owned))
                    .await
                    .map_err(|e| format!("replaying the write-ahead log: {e}"))?
                    .map_err(|e| {
                        format!("cannot read the write-ahead log in {}: {e}", dir.display())
                    })?
            };
            let wal = Wal::start(dir, replay.resume, wal::SEGMENT_BYTES).map_err(|e| {
                format!(
                    "cannot open the write-ahead log in {}: {e} (set batch.wal_path / \
                     OTLP2PARQUET_BATCH_WAL_PATH to a writable directory, or \
                     batch.durability = \"memory\")",
                    dir.display()
                )
            })?;
            let s = replay.summary;
            if s.entries > 0 || s.corrupt_records > 0 || s.torn_bytes > 0 {
                tracing::info!(
                    segments = s.segments,
                    requests = s.entries,
                    rows = s.rows,
                    files_rewritten = s.files_rewritten,
                    files_already_stored = s.intents_done,
                    corrupt_records_skipped = s.corrupt_records,
                    torn_tail_bytes_skipped = s.torn_bytes,
                    refused_when_received = s.refused,
                    "replaying the write-ahead log: its rows are written before new traffic is taken"
                );
            }
            if s.corrupt_records > 0 {
                tracing::warn!(
                    corrupt_records = s.corrupt_records,
                    "the write-ahead log held corrupt records; they were skipped"
                );
            }
            let b = Batcher::new(
                &config,
                Arc::clone(&store),
                Arc::clone(&metrics),
                Arc::clone(&tokens),
                Some(Arc::new(wal)),
            );
            b.restore(replay.loose, replay.files);
            Some(b)
        }
    };
    let writes = match &batcher {
        Some(_) => format!(
            "batched: a file per service and hour every {} rows, {} MiB or {} s",
            config.batch.max_rows,
            config.batch.max_bytes >> 20,
            config.batch.max_age_secs
        ),
        None => "one file set per request".to_owned(),
    };
    let durability = match &wal_dir {
        Some(dir) => format!(
            "acknowledged once synced to the write-ahead log in {}",
            dir.display()
        ),
        None if batcher.is_some() => {
            "acknowledged from memory (batch.durability = memory: a crash loses buffered rows)"
                .to_owned()
        }
        None => "acknowledged once stored".to_owned(),
    };
    let grpc_text = grpc_local.map_or_else(String::new, |a| format!(" and OTLP/gRPC on {a}"));
    tracing::info!(
        listen = %local,
        grpc_listen = %grpc_local.map_or_else(|| "off".to_owned(), |a| a.to_string()),
        storage = %store.describe(),
        prefix = %config.storage.prefix,
        "otlp2parquet receiving OTLP/HTTP on http://{local}/v1/{{logs,traces,metrics}}{grpc_text}, writing Parquet to {} ({writes}; {durability})",
        store.describe()
    );
    if let Err(e) = store.ready().await {
        tracing::warn!(error = %e, "storage is not reachable yet: writes are retried until it is, and requests are answered 503 once the buffers fill (or at once with batching off)");
    }
    if let Some(b) = &batcher {
        b.spawn_age_timer();
    }
    let limit = config.request.max_payload_bytes;
    let state = Arc::new(AppState {
        config,
        store,
        batcher: batcher.clone(),
        metrics,
        tokens,
    });
    let grpc_state = Arc::clone(&state);
    let app = axum::Router::new()
        .fallback(dispatch)
        // The body is read by `dispatch` with its own bound (max_payload_bytes, answered 413
        // with an OTLP body); the framework's 2 MB default must not cut in first.
        .layer(DefaultBodyLimit::max(limit.saturating_add(1)))
        .with_state(state);
    // One shutdown signal stops both listeners; each drains its in-flight requests before the
    // final flush below.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let http = axum::serve(listener, app).with_graceful_shutdown(stopped(stop_rx.clone()));
    let grpc = async {
        match grpc_listener {
            Some(l) => axum::serve(l, grpc::router(grpc_state))
                .with_graceful_shutdown(stopped(stop_rx.clone()))
                .await
                .map_err(|e| format!("gRPC server error: {e}")),
            None => Ok(()),
        }
    };
    let (http, grpc) = tokio::join!(http, grpc);
    http.map_err(|e| format!("server error: {e}"))?;
    grpc?;
    if let Some(b) = batcher {
        tracing::info!("listener closed; writing buffered rows");
        let left = b.shutdown(SHUTDOWN_FLUSH_DEADLINE).await;
        b.wal_barrier().await;
        if left > 0 && wal_dir.is_some() {
            tracing::warn!(
                rows = left,
                "storage did not take the last buffered rows in time; they stay in the write-ahead log and are written at the next start"
            );
        } else if left > 0 {
            tracing::error!(
                rows = left,
                "storage did not take the last buffered rows in time; they are lost"
            );
            return Err(format!("{left} buffered rows could not be written"));
        }
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn dispatch(State(state): State<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let format = header_str(&parts.headers, header::CONTENT_TYPE)
        .and_then(otlp2parquet_handlers::body::format_of_content_type)
        .unwrap_or(Format::Json);
    let signal = match route(parts.method.as_str(), path) {
        Ok(Route::Export(signal)) => signal,
        Ok(Route::Health) => return to_http(Response::text(200, "ok\n")),
        Ok(Route::Ready) => {
            return to_http(match state.store.ready().await {
                Ok(()) => Response::text(200, "ready\n"),
                Err(e) => Response::text(503, format!("storage not reachable: {e}\n")),
            });
        }
        Ok(Route::Metrics) => {
            let mut resp = Response::text(200, state.metrics.render());
            resp.headers.retain(|(name, _)| *name != "content-type");
            resp.headers.push((
                "content-type",
                "text/plain; version=0.0.4; charset=utf-8".to_owned(),
            ));
            return to_http(resp);
        }
        Err(e) => {
            let mut resp = Response::error(format, &e);
            if e.kind() == ErrorKind::MethodNotAllowed {
                resp.headers
                    .push(("allow", allowed_method(path).to_owned()));
            }
            return to_http(resp);
        }
    };
    let started = Instant::now();
    let auth = &state.config.auth;
    if let Err(e) = authorize(header_str(&parts.headers, header::AUTHORIZATION), auth) {
        let mut resp = Response::error(format, &e);
        resp.headers
            .push(("www-authenticate", www_authenticate(auth).to_owned()));
        state
            .metrics
            .record_request(signal, resp.status, 0, 0, started.elapsed());
        return to_http(resp);
    }
    // Read the body without trusting Content-Length (chunked bodies have none), stopping one
    // byte past the limit so that the pipeline reports 413 with an OTLP body.
    let limit = state.config.request.max_payload_bytes;
    let bytes = match to_bytes(body, limit.saturating_add(1)).await {
        Ok(b) => b,
        Err(e) => {
            let kind = if std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit"))
            {
                ErrorKind::PayloadTooLarge
            } else {
                ErrorKind::InvalidRequest
            };
            let resp = error_response(format, kind, format!("reading request body: {e}"));
            state
                .metrics
                .record_request(signal, resp.status, 0, 0, started.elapsed());
            return to_http(resp);
        }
    };
    let request = Request {
        signal,
        content_type: header_str(&parts.headers, header::CONTENT_TYPE),
        content_encoding: header_str(&parts.headers, header::CONTENT_ENCODING),
        body: &bytes,
        received_at_ns: now_ns(),
    };
    let (resp, records) = match ingest(&state, &request).await {
        Ok(stored) => (
            Response::success(signal, stored.format, 0, ""),
            stored.records,
        ),
        Err(f) => (f.response(), 0),
    };
    state
        .metrics
        .record_request(signal, resp.status, bytes.len(), records, started.elapsed());
    to_http(resp)
}

/// Takes one export request, from HTTP or gRPC: hands its rows to the batcher (acknowledged
/// once buffered) or, with batching off, writes its files before returning.
pub(crate) async fn ingest(state: &AppState, request: &Request<'_>) -> Result<Stored, Failure> {
    match &state.batcher {
        Some(batcher) => buffer(batcher, request, state.config.request.max_payload_bytes).await,
        None => {
            let seed = state.tokens.next(request.received_at_ns);
            store(request, &state.config, seed, state.store.as_ref()).await
        }
    }
}

/// Converts a request and hands its rows to the batcher.
async fn buffer(
    batcher: &Arc<Batcher>,
    request: &Request<'_>,
    limit: usize,
) -> Result<Stored, Failure> {
    let signal = request.signal;
    // Refuse before decoding when the buffers are already full: converting a request only to
    // throw it away would spend the CPU the flushes need to make room.
    batcher.has_room().map_err(|error| Failure {
        format: request.response_format(),
        error,
    })?;
    if batcher.is_logged() {
        return batcher
            .ingest_logged(Entry::of(request, limit))
            .await
            .inspect_err(|f| {
                tracing::debug!(%signal, error = %f.error, "request refused");
            });
    }
    let converted = convert(request, limit).inspect_err(|f| {
        tracing::debug!(%signal, error = %f.error, "request rejected");
    })?;
    let (format, records) = (converted.format, converted.records);
    batcher.submit(converted.partitions).map_err(|error| {
        tracing::debug!(%signal, %error, "request refused: buffers full");
        Failure { format, error }
    })?;
    Ok(Stored { format, records })
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
