//! The axum front door: translates HTTP requests to `otlp2parquet_handlers` calls and back.
//! Requests are written per request (merged batching arrives with the batcher, issue 3).

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::extract::{Request as HttpRequest, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use otlp2parquet_common::config::{Backend, Config};
use otlp2parquet_handlers::{
    ErrorKind, Format, Request, Response, Route, allowed_method, authorize, error_response, handle,
    route, www_authenticate,
};

use crate::fs_storage::FsStorage;

struct AppState {
    config: Config,
    storage: FsStorage,
    requests: AtomicU64,
    seeds: std::collections::hash_map::RandomState,
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn serve(config: Config) -> Result<(), String> {
    if config.storage.backend != Backend::Fs {
        return Err(format!(
            "storage.backend = {:?} is not available in this build yet; use fs",
            config.storage.backend
        ));
    }
    let storage = FsStorage::new(&config.storage.fs.path)
        .map_err(|e| format!("cannot create {}: {e}", config.storage.fs.path))?;
    let listener = tokio::net::TcpListener::bind(&config.server.listen_addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen_addr))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("listener address: {e}"))?;
    tracing::info!(
        listen = %local,
        data = %storage.root().display(),
        prefix = %config.storage.prefix,
        "otlp2parquet receiving OTLP/HTTP on http://{local}/v1/{{logs,traces,metrics}}, writing Parquet under {}",
        storage.root().display()
    );
    let state = Arc::new(AppState {
        config,
        storage,
        requests: AtomicU64::new(0),
        seeds: std::collections::hash_map::RandomState::new(),
    });
    let app = axum::Router::new().fallback(dispatch).with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
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
    let path = parts.uri.path().to_owned();
    let format = header_str(&parts.headers, header::CONTENT_TYPE)
        .and_then(otlp2parquet_handlers::body::format_of_content_type)
        .unwrap_or(Format::Json);
    let signal = match route(parts.method.as_str(), &path) {
        Ok(Route::Export(signal)) => signal,
        Ok(Route::Health) => return to_http(Response::text(200, "ok\n")),
        Ok(Route::Ready) => {
            return to_http(if state.storage.ready().await {
                Response::text(200, "ready\n")
            } else {
                Response::text(503, "storage not writable\n")
            });
        }
        Ok(Route::Metrics) => {
            let n = state.requests.load(Ordering::Relaxed);
            return to_http(Response::text(
                200,
                format!(
                    "# TYPE otlp2parquet_requests_total counter\notlp2parquet_requests_total {n}\n"
                ),
            ));
        }
        Err(e) => {
            let mut resp = Response::error(format, &e);
            if e.kind() == ErrorKind::MethodNotAllowed {
                resp.headers
                    .push(("allow", allowed_method(&path).to_owned()));
            }
            return to_http(resp);
        }
    };
    let auth = &state.config.auth;
    if let Err(e) = authorize(header_str(&parts.headers, header::AUTHORIZATION), auth) {
        let mut resp = Response::error(format, &e);
        resp.headers
            .push(("www-authenticate", www_authenticate(auth).to_owned()));
        return to_http(resp);
    }
    state.requests.fetch_add(1, Ordering::Relaxed);
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
            return to_http(error_response(
                format,
                kind,
                format!("reading request body: {e}"),
            ));
        }
    };
    let received_at_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let request = Request {
        signal,
        content_type: header_str(&parts.headers, header::CONTENT_TYPE),
        content_encoding: header_str(&parts.headers, header::CONTENT_ENCODING),
        body: &bytes,
        received_at_ns,
    };
    let seed = token_seed(&state, received_at_ns);
    to_http(handle(&request, &state.config, seed, &state.storage).await)
}

/// A per-request random seed for object-key uuids: the process-random SipHash keys of
/// `RandomState` over a counter and the clock.
fn token_seed(state: &AppState, now: i64) -> u128 {
    let n = state.requests.load(Ordering::Relaxed);
    let mut a = state.seeds.build_hasher();
    a.write_u64(n);
    a.write_i64(now);
    let hi = a.finish();
    let mut b = state.seeds.build_hasher();
    b.write_u64(hi);
    b.write_u64(n.rotate_left(17));
    (u128::from(hi) << 64) | u128::from(b.finish())
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
