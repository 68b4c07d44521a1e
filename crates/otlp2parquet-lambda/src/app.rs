//! What one Lambda execution environment builds once (configuration, storage client, key
//! tokens) and how it answers each request with them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use lambda_http::{Body, Request, http};
use otlp2parquet_batch::compact::{CompactError, Env, Settings};
use otlp2parquet_common::config::{Config, LambdaMode, Sources};
use otlp2parquet_common::platform::Platform;
use otlp2parquet_handlers::{Exchange, Head, KeyTokens, StoreEach, parquet_options, respond};
use otlp2parquet_writer::ObjectStore;

use crate::compactor::{self, Summary};
use crate::spool::SpoolEach;
use crate::{event, reply};

/// Environment variables the Lambda runtime client reads at start and panics without; checked
/// first so a process started outside Lambda exits with a log line instead.
pub const RUNTIME_ENV: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// The configuration of this process (docs/configuration.md): `$OTLP2PARQUET_CONFIG`,
/// `$OTLP2PARQUET_CONFIG_CONTENT` or `./config.toml`, then `OTLP2PARQUET_*` variables, over the
/// defaults of the detected platform (Lambda when `AWS_LAMBDA_FUNCTION_NAME` is set).
pub fn load_config() -> Result<Config, String> {
    #[cfg_attr(not(feature = "e2e"), allow(unused_mut))]
    let mut sources = Sources::from_process(None).map_err(|e| e.to_string())?;
    // The test build's fault-injection variables (`compactor::observer`) are not configuration;
    // any other unknown `OTLP2PARQUET_*` name stays an error.
    #[cfg(feature = "e2e")]
    sources
        .env
        .retain(|(name, _)| !name.starts_with("OTLP2PARQUET_FAULT_"));
    Config::load(Platform::from_process_env(), &sources).map_err(|e| e.to_string())
}

/// Checks that the Lambda runtime variables are present (and the memory size a number), looked
/// up through `var`.
pub fn check_runtime_env(var: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    let missing: Vec<&str> = RUNTIME_ENV
        .iter()
        .copied()
        .filter(|name| var(name).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "not running inside AWS Lambda (or its emulator): {} not set; deploy the bootstrap \
             zip to Lambda or run it with `cargo lambda watch`",
            missing.join(", ")
        ));
    }
    match var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").map(|v| v.parse::<i32>()) {
        Some(Ok(_)) => Ok(()),
        _ => Err("AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not a number".to_owned()),
    }
}

/// Nanoseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Milliseconds since the Unix epoch (the compactor's clock).
pub fn now_ms() -> i64 {
    now_ns().div_euclid(1_000_000)
}

/// `direct` or `spool`, for logs.
pub fn mode_name(mode: LambdaMode) -> &'static str {
    match mode {
        LambdaMode::Direct => "direct",
        LambdaMode::Spool => "spool",
    }
}

/// One execution environment: built at cold start, shared by every request it serves.
#[derive(Debug)]
pub struct App<S> {
    config: Config,
    storage: S,
    tokens: KeyTokens,
    started: Instant,
    answered: AtomicBool,
}

impl<S> App<S> {
    /// An environment writing to `storage`; `started` is when the process started, for the
    /// `cold_start_ms` of the first response.
    pub fn new(config: Config, storage: S, started: Instant) -> Self {
        App {
            config,
            storage,
            tokens: KeyTokens::default(),
            started,
            answered: AtomicBool::new(false),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store requests are written to.
    pub fn storage(&self) -> &S {
        &self.storage
    }
}

impl<S: ObjectStore> App<S> {
    /// Answers one request: translates it, runs the shared pipeline (which stores the
    /// request's Parquet files, or in spool mode its spool object, before it answers 200) and
    /// translates the answer back. Logs one line per request.
    pub async fn handle(&self, req: Request) -> http::Response<Body> {
        let begun = Instant::now();
        let received_at_ns = now_ns();
        let path = event::route_path(&req);
        let headers = event::Headers::of(&req);
        let exchange = Exchange {
            head: Head {
                method: req.method().as_str(),
                path: &path,
                content_type: headers.content_type.as_deref(),
                content_encoding: headers.content_encoding.as_deref(),
                // The event carries the whole body already: the pipeline bounds what it holds.
                content_length: None,
                authorization: headers.authorization.as_deref(),
            },
            body: event::body(&req),
            received_at_ns,
        };
        let token = self.tokens.next(received_at_ns);
        let answer = match self.config.lambda.mode {
            LambdaMode::Direct => {
                let sink = StoreEach {
                    storage: &self.storage,
                    config: &self.config,
                    token_seed: token,
                };
                respond(&exchange, &self.config, &sink).await
            }
            LambdaMode::Spool => {
                let sink = SpoolEach {
                    storage: &self.storage,
                    config: &self.config,
                    token,
                };
                respond(&exchange, &self.config, &sink).await
            }
        };
        let status = answer.status();
        let signal = answer.signal().map_or("-", |s| s.as_str());
        let ms = elapsed_ms(begun);
        // The first answer of this execution environment also says how long the cold start took.
        let cold_start_ms =
            (!self.answered.swap(true, Ordering::Relaxed)).then(|| elapsed_ms(self.started));
        tracing::info!(
            method = exchange.head.method,
            path = exchange.head.path,
            signal,
            status,
            records = answer.records(),
            ms,
            cold_start_ms,
            "request"
        );
        reply::to_lambda(answer.into_response())
    }

    /// One compactor invocation over the spool (see [`compactor::run_until`]): `owner` names
    /// it in the lease, `deadline_ms` is when Lambda stops it (ms since the epoch).
    pub async fn compact(&self, owner: &str, deadline_ms: i64) -> Result<Summary, CompactError> {
        let settings = Settings::from_config(&self.config, parquet_options(&self.config));
        let token = || self.tokens.next(now_ns());
        let observer = compactor::observer();
        let env = Env {
            now_ms: &now_ms,
            token: &token,
            owner,
            observer: &observer,
        };
        compactor::run_until(&self.storage, &settings, &env, deadline_ms).await
    }
}

/// Milliseconds since `since`, with microsecond resolution (a warm request is often under 1 ms).
pub(crate) fn elapsed_ms(since: Instant) -> f64 {
    (since.elapsed().as_micros() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::request::from_str;
    use otlp2parquet_testkit::block_on;
    use otlp2parquet_writer::{MemoryStorage, Storage, StorageErrorKind};

    const LOGS: &str = r#"{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}}]},\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"1705329000000000000\",\"body\":{\"stringValue\":\"hi\"}}]}]}]}"#;

    fn fn_url_event(method: &str, path: &str, body: &str) -> Request {
        from_str(&format!(
            r#"{{"version":"2.0","routeKey":"$default","rawPath":"{path}","rawQueryString":"",
            "headers":{{"content-type":"application/json"}},
            "requestContext":{{"http":{{"method":"{method}","path":"{path}","protocol":"HTTP/1.1",
              "sourceIp":"127.0.0.1","userAgent":"t"}},"routeKey":"$default","stage":"$default",
              "requestId":"r","timeEpoch":0,"domainName":"x","accountId":"1","apiId":"a"}},
            "body":"{body}","isBase64Encoded":false}}"#
        ))
        .unwrap()
    }

    #[test]
    fn exports_are_written_before_the_answer() {
        let app = App::new(
            Config::defaults(Platform::Lambda),
            MemoryStorage::new(),
            Instant::now(),
        );
        let out = block_on(app.handle(fn_url_event("POST", "/v1/logs", LOGS)));
        assert_eq!(out.status(), 200);
        assert_eq!(out.body(), &Body::Text("{}".to_owned()));
        let keys: Vec<String> = app.storage.objects().into_keys().collect();
        assert_eq!(keys.len(), 1);
        assert!(
            keys[0].starts_with("logs/checkout/year=2024/month=01/day=15/hour=14/"),
            "{keys:?}"
        );
        // The second request is a warm one and still answers.
        let health = block_on(app.handle(fn_url_event("GET", "/health", "")));
        assert_eq!(health.status(), 200);
        assert_eq!(health.body(), &Body::Text("ok\n".to_owned()));
    }

    #[test]
    fn storage_failure_is_a_retryable_503() {
        let storage = MemoryStorage::new();
        storage.fail_with(Some(StorageErrorKind::Temporary));
        let app = App::new(Config::defaults(Platform::Lambda), storage, Instant::now());
        let out = block_on(app.handle(fn_url_event("POST", "/v1/logs", LOGS)));
        assert_eq!(out.status(), 503);
        assert!(out.headers().contains_key("retry-after"));
        assert!(app.storage.objects().is_empty());
    }

    fn spool_app() -> App<MemoryStorage> {
        let mut config = Config::defaults(Platform::Lambda);
        config.lambda.mode = LambdaMode::Spool;
        App::new(config, MemoryStorage::new(), Instant::now())
    }

    fn env<'a>(now_ms: &'a dyn Fn() -> i64, token: &'a dyn Fn() -> u128) -> Env<'a> {
        Env {
            now_ms,
            token,
            owner: "test",
            observer: &otlp2parquet_batch::compact::Quiet,
        }
    }

    #[test]
    fn spool_mode_stores_one_spool_object_that_compacts_into_parquet() {
        let app = spool_app();
        let out = block_on(app.handle(fn_url_event("POST", "/v1/logs", LOGS)));
        assert_eq!(out.status(), 200);
        assert_eq!(out.body(), &Body::Text("{}".to_owned()));
        let objects = app.storage.objects();
        let keys: Vec<&String> = objects.keys().collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert!(keys[0].starts_with("_spool/logs/"), "{keys:?}");
        assert!(!keys[0].ends_with(".parquet"), "{keys:?}");

        let settings = Settings::from_config(app.config(), parquet_options(app.config()));
        let next = std::cell::Cell::new(0u128);
        let token = || {
            next.set(next.get() + 1);
            next.get()
        };
        let now = || 1_705_400_000_000;
        let report = block_on(otlp2parquet_batch::compact::run(
            &app.storage,
            &settings,
            otlp2parquet_batch::compact::Mode::Spool,
            &env(&now, &token),
        ))
        .unwrap();
        assert_eq!(report.outcome, otlp2parquet_batch::compact::Outcome::Done);
        assert_eq!(
            (report.inputs, report.rows, report.outputs.len()),
            (1, 1, 1)
        );
        assert!(!report.more);
        let objects = app.storage.objects();
        let keys: Vec<&String> = objects.keys().collect();
        assert_eq!(
            keys.len(),
            1,
            "the spool and the compactor's state are gone: {keys:?}"
        );
        assert!(
            keys[0].starts_with("logs/checkout/year=2024/month=01/day=15/hour=14/")
                && keys[0].ends_with(".parquet"),
            "{keys:?}"
        );
        let file = bytes::Bytes::from(objects[keys[0]].clone());
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        use parquet::file::reader::FileReader;
        assert_eq!(reader.metadata().file_metadata().num_rows(), 1);
    }

    #[test]
    fn spool_mode_refuses_bad_bodies_and_skips_empty_ones() {
        let app = spool_app();
        let out = block_on(app.handle(fn_url_event("POST", "/v1/logs", "{not json")));
        assert_eq!(out.status(), 400);
        assert!(app.storage.objects().is_empty());
        let empty =
            block_on(app.handle(fn_url_event("POST", "/v1/logs", r#"{\"resourceLogs\":[]}"#)));
        assert_eq!(empty.status(), 200);
        assert!(app.storage.objects().is_empty());
    }

    #[test]
    fn spool_storage_failure_is_a_retryable_503() {
        let app = spool_app();
        app.storage.fail_with(Some(StorageErrorKind::Temporary));
        let out = block_on(app.handle(fn_url_event("POST", "/v1/logs", LOGS)));
        assert_eq!(out.status(), 503);
        assert!(out.headers().contains_key("retry-after"));
        app.storage.fail_with(None);
        assert!(app.storage.objects().is_empty());
    }

    #[test]
    fn compaction_invocations_empty_the_spool() {
        let app = spool_app();
        for _ in 0..3 {
            let out = block_on(app.handle(fn_url_event("POST", "/v1/logs", LOGS)));
            assert_eq!(out.status(), 200);
        }
        assert_eq!(app.storage.objects().len(), 3);
        let summary = block_on(app.compact("lambda:f:r", i64::MAX)).unwrap();
        assert_eq!(summary.outcome(), "done");
        assert_eq!(
            (
                summary.runs(),
                summary.totals.inputs,
                summary.totals.outputs,
                summary.totals.rows
            ),
            (1, 3, 1, 3)
        );
        assert!(!summary.totals.more && !summary.totals.recovered);
        let keys: Vec<String> = app.storage.objects().into_keys().collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert!(keys[0].starts_with("logs/checkout/"), "{keys:?}");
        // Nothing left: a second invocation is a run that finds nothing.
        let again = block_on(app.compact("lambda:f:r2", i64::MAX)).unwrap();
        assert_eq!(
            (again.runs(), again.totals.inputs, again.totals.outputs),
            (1, 0, 0)
        );
    }

    #[test]
    fn compaction_runs_again_while_time_is_left() {
        let mut app = spool_app();
        // Every run takes a single spool object.
        app.config.compact.max_run_bytes = 1;
        for _ in 0..3 {
            let out = block_on(app.handle(fn_url_event("POST", "/v1/logs", LOGS)));
            assert_eq!(out.status(), 200);
        }
        let near = now_ms() + compactor::RESERVE_MS - 1_000;
        let summary = block_on(app.compact("a", near)).unwrap();
        assert_eq!(
            (summary.runs(), summary.totals.inputs, summary.totals.more),
            (1, 1, true)
        );
        let summary = block_on(app.compact("b", i64::MAX)).unwrap();
        assert_eq!(
            (summary.runs(), summary.totals.inputs, summary.totals.more),
            (2, 2, false)
        );
        assert_eq!(summary.totals.outputs, 2);
        let spooled = app
            .storage
            .objects()
            .into_keys()
            .filter(|k| k.starts_with("_spool/"))
            .count();
        assert_eq!(spooled, 0);
    }

    #[test]
    fn a_held_lease_makes_the_invocation_busy() {
        let app = spool_app();
        let out = block_on(app.handle(fn_url_event("POST", "/v1/logs", LOGS)));
        assert_eq!(out.status(), 200);
        // Another compactor's lease, far from expiry.
        let lease = otlp2parquet_batch::compact::lease_text("other", now_ms() + 600_000);
        block_on(app.storage.put("_compactor/lease", lease)).unwrap();
        let summary = block_on(app.compact("mine", i64::MAX)).unwrap();
        assert_eq!(summary.outcome(), "busy");
        assert_eq!(
            (
                summary.runs(),
                summary.totals.inputs,
                summary.totals.outputs
            ),
            (1, 0, 0)
        );
        assert_eq!(app.storage.objects().len(), 2, "nothing touched");
    }

    #[test]
    fn runtime_env_is_checked() {
        let full = |k: &str| match k {
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => Some("512".to_owned()),
            _ => Some("x".to_owned()),
        };
        assert_eq!(check_runtime_env(&full), Ok(()));
        let none = |_: &str| None;
        let err = check_runtime_env(&none).unwrap_err();
        assert!(err.contains("AWS_LAMBDA_RUNTIME_API"), "{err}");
        let bad_memory = |k: &str| {
            Some(
                if k.ends_with("MEMORY_SIZE") {
                    "lots"
                } else {
                    "x"
                }
                .to_owned(),
            )
        };
        assert!(check_runtime_env(&bad_memory).is_err());
    }
}
