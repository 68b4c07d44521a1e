//! `bootstrap`: the otlp2parquet AWS Lambda function (provided.al2023 runtime).
//!
//! Cold start does the least it can: read the configuration, install the JSON logger, build the
//! S3 client (no network call), then hand invocations to the runtime loop. A bad configuration
//! is one JSON error line and a non-zero exit, never a panic.
//!
//! One binary serves both functions of a spool deployment: HTTP events are requests to ingest,
//! EventBridge schedules run the compactor ([`otlp2parquet_lambda::dispatch`]).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use lambda_http::{Error, LambdaEvent, Request, service_fn};
use otlp2parquet_lambda::{App, app, dispatch, logging};
use otlp2parquet_writer::OpendalStorage;
use otlp2parquet_writer::opendal_storage::Timeouts;
use serde_json::value::RawValue;

fn main() -> ExitCode {
    let started = Instant::now();
    let config = match app::load_config() {
        Ok(config) => config,
        Err(e) => {
            logging::init("info");
            tracing::error!(error = %e, "invalid configuration");
            return ExitCode::from(2);
        }
    };
    logging::init(&config.server.log_level);
    if let Err(e) = app::check_runtime_env(&|name| std::env::var(name).ok()) {
        tracing::error!(error = %e, "cannot start");
        return ExitCode::from(2);
    }
    // Per-request limits: a hung S3 must end in a retryable 503 well before the function times
    // out (ADR 0007). The compactor's requests are bounded the same way: a hung one fails the
    // run, and the next run finishes it.
    let storage = match OpendalStorage::from_config_with(
        &config.storage,
        &|name| std::env::var(name).ok(),
        Timeouts::PER_REQUEST,
    ) {
        Ok(storage) => storage,
        Err(e) => {
            tracing::error!(error = %e, "cannot set up storage");
            return ExitCode::from(2);
        }
    };
    // One request at a time per execution environment: a current-thread runtime is enough.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        storage = storage.describe(),
        mode = app::mode_name(config.lambda.mode),
        prefix = config.storage.prefix,
        max_payload_bytes = config.request.max_payload_bytes,
        auth = config.auth.enabled(),
        init_ms = started.elapsed().as_micros() as f64 / 1000.0,
        "otlp2parquet lambda ready"
    );
    let app = Arc::new(App::new(config, storage, started));
    let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let app = Arc::clone(&app);
        async move {
            let for_http = Arc::clone(&app);
            dispatch::invoke(&app, event, move |event| {
                // Written out for the concrete storage type: lambda_http needs the request
                // future to be `Send`, which a generic one cannot show.
                let service = service_fn(move |req: Request| {
                    let app = Arc::clone(&for_http);
                    async move { Ok::<_, Error>(app.handle(req).await) }
                });
                dispatch::through_adapter(service, event)
            })
            .await
        }
    });
    match runtime.block_on(lambda_http::lambda_runtime::run(handler)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the Lambda runtime loop stopped");
            ExitCode::FAILURE
        }
    }
}
