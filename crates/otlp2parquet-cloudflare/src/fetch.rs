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

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use futures_core::Stream;
use otlp2parquet_handlers::body::Capped;
use otlp2parquet_handlers::{
    Admission, Config, Error, ErrorKind, Failure, Head, KeyTokens, Probes,
    Request as HandlerRequest, Sink, StoreEach, Stored, admit, convert, error_response,
    reply_format,
};
use otlp2parquet_writer::key::hour_bucket;
use otlp2parquet_writer::part::encode_part as encode_ipc;
use otlp2parquet_writer::{Table, WriterError, time_column};
use worker::js_sys::{self, Function, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{
    Context, Env, Headers, Method, ObjectNamespace, Request, RequestInit, Response, event,
};

use crate::log::{ConsoleSubscriber, parse_level};
use crate::r2::R2;
use crate::spool::{Append, MAX_PART_BYTES, Part as SpoolPart, object_name, shard_of};

/// What one isolate keeps between requests: the configuration (or why it is unusable) and the
/// key-token source, both built on the first request (bindings are only reachable from one).
pub(crate) struct Isolate {
    pub(crate) config: Result<Config, String>,
    tokens: KeyTokens,
    /// Whether `OTLP2PARQUET_BATCH_ENABLED` (or the inline TOML) asked for batching, as
    /// opposed to the Worker's default.
    batch_explicit: bool,
}

static ISOLATE: OnceLock<Isolate> = OnceLock::new();

pub(crate) fn isolate(env: &Env) -> &'static Isolate {
    ISOLATE.get_or_init(|| {
        let names = binding_names(env);
        let lookup = |name: &str| {
            env.var(name)
                .or_else(|_| env.secret(name))
                .ok()
                .map(|v| v.to_string())
        };
        let batch_explicit = lookup("OTLP2PARQUET_BATCH_ENABLED").is_some()
            || lookup("OTLP2PARQUET_CONFIG_CONTENT").is_some_and(|t| t.contains("enabled"));
        let config = crate::env::load(&names, lookup);
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
                batch = c.batch.enabled,
                spool = env.durable_object(SPOOL_BINDING).is_ok(),
                "otlp2parquet worker configured"
            ),
            Err(e) => tracing::error!(error = %e, "otlp2parquet worker configuration is invalid"),
        }
        Isolate {
            config,
            tokens: KeyTokens::with_entropy(entropy()),
            batch_explicit,
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
    let token_seed = isolate(env).tokens.next(received_at_ns);
    if config.batch.enabled {
        match env.durable_object(SPOOL_BINDING) {
            Ok(namespace) => {
                let sink = Spooler {
                    namespace,
                    config,
                    token_seed,
                };
                return export
                    .ingest(&body, received_at_ns, &sink)
                    .await
                    .into_response();
            }
            Err(_) if isolate(env).batch_explicit => {
                return error_response(
                    reply_format(head.content_type),
                    ErrorKind::Internal,
                    format!(
                        "batch.enabled is true but the Worker has no {SPOOL_BINDING} Durable \
                         Object binding; add it to wrangler.toml (otlp2parquet create cloudflare \
                         writes it) or set OTLP2PARQUET_BATCH_ENABLED=false"
                    ),
                );
            }
            // Batching is the default only where the binding exists.
            Err(_) => {}
        }
    }
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
        token_seed,
    };
    export
        .ingest(&body, received_at_ns, &sink)
        .await
        .into_response()
}

/// The Durable Object binding of the spool (docs/adr/0012-worker-spool.md).
pub(crate) const SPOOL_BINDING: &str = "OTLP_SPOOL";

/// The batching sink: converts the request, splits it by (table, service) and appends each
/// share to its spool object; answers 200 only once every share is spooled.
struct Spooler<'a> {
    namespace: ObjectNamespace,
    config: &'a Config,
    token_seed: u128,
}

impl Sink for Spooler<'_> {
    async fn take(&self, request: &HandlerRequest<'_>, limit: usize) -> Result<Stored, Failure> {
        let converted = convert(request, limit)?;
        let format = converted.format;
        let unavailable = |message: String| Failure {
            format,
            error: Error::new(ErrorKind::Unavailable, message),
        };
        // (table, service) → the encoded parts, in conversion order.
        let mut shares: Vec<(Table, &str, Vec<Encoded>)> = Vec::new();
        for p in &converted.partitions {
            let encoded = encode_part(p.table, &p.batch).map_err(|e| Failure {
                format,
                error: e.into(),
            })?;
            let at = match shares
                .iter()
                .position(|(t, s, _)| *t == p.table && *s == p.service.as_str())
            {
                Some(at) => at,
                None => {
                    shares.push((p.table, p.service.as_str(), Vec::new()));
                    shares.len() - 1
                }
            };
            if let Some((_, _, parts)) = shares.get_mut(at) {
                parts.extend(encoded);
            }
        }
        let shard = shard_of(self.token_seed, self.config.batch.shards);
        for (table, service, parts) in &shares {
            let message = Append {
                table: *table,
                service,
                parts: parts
                    .iter()
                    .map(|(meta, data)| SpoolPart {
                        data,
                        ..meta.clone()
                    })
                    .collect(),
            }
            .encode();
            let name = object_name(*table, service, shard);
            let status = append(&self.namespace, &name, message)
                .await
                .map_err(|e| unavailable(format!("spool {name} unreachable: {e}")))?;
            match status {
                200 => {}
                503 => {
                    return Err(unavailable(format!(
                        "spool {name} is full (batch.max_buffered_bytes); retry later"
                    )));
                }
                other => {
                    return Err(unavailable(format!("spool {name} answered {other}")));
                }
            }
        }
        Ok(Stored {
            format,
            records: converted.records,
        })
    }
}

/// Sends one append message to the named spool object; its HTTP status.
async fn append(namespace: &ObjectNamespace, name: &str, message: Vec<u8>) -> worker::Result<u16> {
    let stub = namespace.id_from_name(name)?.get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(Uint8Array::from(message.as_slice()).into()));
    let req = Request::new_with_init("https://spool/append", &init)?;
    let resp = stub.fetch_with_request(req).await?;
    Ok(resp.status_code())
}

/// A spool part's fields and its Parquet file.
type Encoded = (SpoolPart<'static>, Vec<u8>);

/// One partition as spool parts: one compressed IPC stream, or halves of the rows
/// (recursively) while a stream would pass [`MAX_PART_BYTES`].
fn encode_part(table: Table, batch: &RecordBatch) -> Result<Vec<Encoded>, WriterError> {
    let data = encode_ipc(table, batch)?;
    let rows = batch.num_rows();
    if data.len() > MAX_PART_BYTES && rows > 1 {
        let mut out = encode_part(table, &batch.slice(0, rows / 2))?;
        out.extend(encode_part(table, &batch.slice(rows / 2, rows - rows / 2))?);
        return Ok(out);
    }
    let min_time_ns = first_time(table, batch);
    let meta = SpoolPart {
        hour: hour_bucket(min_time_ns),
        min_time_ns,
        rows: u32::try_from(rows).unwrap_or(u32::MAX),
        arrow_bytes: batch.get_array_memory_size() as u64,
        data: &[],
    };
    Ok(vec![(meta, data)])
}

/// The time of a batch's first row (rows are ordered by time), 0 if it has none.
fn first_time(table: Table, batch: &RecordBatch) -> i64 {
    batch
        .column_by_name(time_column(table))
        .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
        .and_then(|c| c.values().first().copied())
        .unwrap_or(0)
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
