//! The Worker entry point: `fetch` → [`Head`] → [`admit`] → body read up to the admitted
//! bound → [`Export::ingest`](otlp2parquet_handlers::Export::ingest) → Worker `Response`, with
//! the R2 binding as the [`Storage`] behind [`StoreEach`]. Built for wasm32 only.
//!
//! Nothing here returns `Err` to the runtime (which would surface as a thrown exception and a
//! bare 500): a bad configuration, an unreadable body or a failing R2 write all become OTLP
//! answers.

use std::future::poll_fn;
use std::pin::pin;
use std::sync::OnceLock;

use futures_core::Stream;
use otlp2parquet_handlers::body::Capped;
use otlp2parquet_handlers::{
    Admission, Config, ErrorKind, Head, KeyTokens, Probes, StoreEach, admit, error_response,
    reply_format,
};
use otlp2parquet_writer::{Storage, StorageError, StorageErrorKind};
use worker::js_sys::{self, Function, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{Bucket, Context, Env, Headers, Request, Response, event};

use crate::log::{ConsoleSubscriber, parse_level};

/// What one isolate keeps between requests: the configuration (or why it is unusable) and the
/// key-token source, both built on the first request (bindings are only reachable from one).
struct Isolate {
    config: Result<Config, String>,
    tokens: KeyTokens,
}

static ISOLATE: OnceLock<Isolate> = OnceLock::new();

fn isolate(env: &Env) -> &'static Isolate {
    ISOLATE.get_or_init(|| {
        let config = crate::env::load(&binding_names(env), |name| {
            env.var(name)
                .or_else(|_| env.secret(name))
                .ok()
                .map(|v| v.to_string())
        });
        let level = config
            .as_ref()
            .map_or(tracing::Level::INFO, |c| parse_level(&c.server.log_level));
        // Fails only if a subscriber is already set, which cannot happen before this runs.
        let _ = tracing::subscriber::set_global_default(ConsoleSubscriber::new(level, console));
        match &config {
            Ok(c) => tracing::info!(
                binding = %c.storage.r2.binding,
                prefix = %c.storage.prefix,
                max_payload_bytes = c.request.max_payload_bytes,
                auth = c.auth.enabled(),
                "otlp2parquet worker configured"
            ),
            Err(e) => tracing::error!(error = %e, "otlp2parquet worker configuration is invalid"),
        }
        Isolate {
            config,
            tokens: KeyTokens::with_entropy(entropy()),
        }
    })
}

/// The names of every binding (vars and secrets included), so that an `OTLP2PARQUET_*` name
/// that is not a setting is reported instead of silently ignored.
fn binding_names(env: &Env) -> Vec<String> {
    js_sys::Object::keys(env.unchecked_ref::<js_sys::Object>())
        .iter()
        .filter_map(|k| k.as_string())
        .collect()
}

fn console(level: tracing::Level, line: &str) {
    let line = JsValue::from_str(line);
    match level {
        tracing::Level::ERROR => worker::web_sys::console::error_1(&line),
        tracing::Level::WARN => worker::web_sys::console::warn_1(&line),
        _ => worker::web_sys::console::log_1(&line),
    }
}

/// 128 random bits from `crypto.getRandomValues` (wasm32's `RandomState` is a constant), or
/// from `Math.random` if the runtime had no Web Crypto.
fn entropy() -> u128 {
    let bytes = Uint8Array::new_with_length(16);
    let filled = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .ok()
        .and_then(|crypto| {
            let get = Reflect::get(&crypto, &JsValue::from_str("getRandomValues")).ok()?;
            get.dyn_into::<Function>().ok()?.call1(&crypto, &bytes).ok()
        })
        .is_some();
    if filled {
        let mut out = [0u8; 16];
        bytes.copy_to(&mut out);
        return u128::from_le_bytes(out);
    }
    (0..3).fold(0u128, |acc, _| {
        (acc << 52) ^ (js_sys::Math::random() * 4_503_599_627_370_496.0) as u128
    })
}

/// The R2 binding as object storage.
struct R2 {
    bucket: Result<Bucket, String>,
}

impl Storage for R2 {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let failed = |kind, message: String| StorageError {
            kind,
            key: key.to_owned(),
            message,
        };
        // A missing binding is a deployment mistake, not an outage: still 503 to the client
        // (its data is fine), logged by the pipeline with this message.
        let bucket = self
            .bucket
            .as_ref()
            .map_err(|e| failed(StorageErrorKind::Permanent, e.clone()))?;
        // The binding's errors are R2 being unreachable or failing internally: retryable.
        match bucket.put(key, bytes).execute().await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(failed(
                StorageErrorKind::Temporary,
                "R2 did not store the object".to_owned(),
            )),
            Err(e) => Err(failed(StorageErrorKind::Temporary, e.to_string())),
        }
    }
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    into_worker(answer(req, &env).await)
}

async fn answer(mut req: Request, env: &Env) -> otlp2parquet_handlers::Response {
    let received_at_ns = (js_sys::Date::now() * 1e6) as i64;
    let headers = req.headers().clone();
    let header = |name: &str| headers.get(name).ok().flatten();
    let (content_type, content_encoding, content_length, authorization) = (
        header("content-type"),
        header("content-encoding"),
        header("content-length"),
        header("authorization"),
    );
    let config = match &isolate(env).config {
        Ok(config) => config,
        Err(e) => {
            return error_response(
                reply_format(content_type.as_deref()),
                ErrorKind::Internal,
                format!("otlp2parquet worker configuration is invalid: {e}"),
            );
        }
    };
    // `web_sys` keeps the method as sent; `worker::Method` maps unknown ones to GET.
    let method = req.inner().method();
    let path = req.path();
    let head = Head {
        method: &method,
        path: &path,
        content_type: content_type.as_deref(),
        content_encoding: content_encoding.as_deref(),
        content_length: content_length.as_deref(),
        authorization: authorization.as_deref(),
    };
    let export = match admit(&head, config, Probes::Unserved) {
        Admission::Export(export) => export,
        Admission::Answer(outcome) => return outcome.into_response(),
        // Not returned for `Probes::Unserved`.
        Admission::Probe(_) => {
            return error_response(
                reply_format(head.content_type),
                ErrorKind::NotFound,
                "no such route",
            );
        }
    };
    let body = match read_body(&mut req, export.read_limit()).await {
        Ok(body) => body,
        Err(e) => return export.unreadable(&e).into_response(),
    };
    let storage = R2 {
        bucket: env.bucket(&config.storage.r2.binding).map_err(|e| {
            format!(
                "R2 binding {:?} is missing ({e}); add an [[r2_buckets]] entry with that \
                 binding to wrangler.toml or set OTLP2PARQUET_R2_BINDING",
                config.storage.r2.binding
            )
        }),
    };
    let sink = StoreEach {
        storage: &storage,
        config,
        token_seed: isolate(env).tokens.next(received_at_ns),
    };
    export
        .ingest(&body, received_at_ns, &sink)
        .await
        .into_response()
}

/// Reads at most `limit` body bytes (see [`Capped`]); a request without a body reads as
/// empty.
async fn read_body(req: &mut Request, limit: usize) -> worker::Result<Vec<u8>> {
    let Ok(stream) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut stream = pin!(stream);
    let mut body = Capped::new(limit.saturating_sub(1));
    while let Some(chunk) = poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        if !body.push(&chunk?) {
            break;
        }
    }
    Ok(body.into_bytes())
}

fn into_worker(answer: otlp2parquet_handlers::Response) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in &answer.headers {
        headers.set(name, value)?;
    }
    Ok(Response::from_bytes(answer.body)?
        .with_status(answer.status)
        .with_headers(headers))
}
