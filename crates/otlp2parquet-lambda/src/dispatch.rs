//! What an invocation is, and where it goes: an EventBridge schedule (or a manual
//! `{"otlp2parquet":"compact"}`) runs the compactor; an API Gateway, Function URL or ALB event
//! is answered through `lambda_http`, exactly as `lambda_http::run` would; anything else is a
//! function error.
//!
//! The payload stays the text the runtime received ([`RawValue`]): it is classified by its
//! top-level fields alone and handed to `lambda_http` unchanged, and the answer is the text
//! `lambda_http` encodes, so HTTP events behave byte for byte as they did before the compactor
//! shared the function.

use std::collections::BTreeMap;
use std::future::Future;

use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, Body, Error, LambdaEvent, Request, Service, http};
use otlp2parquet_writer::ObjectStore;
use serde_json::value::{RawValue, to_raw_value};

use crate::App;

/// What started a compaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// An EventBridge schedule (`"source": "aws.events"`, `"detail-type": "Scheduled Event"`).
    Scheduled,
    /// A manual invocation with the payload `{"otlp2parquet": "compact"}`.
    Manual,
}

impl Trigger {
    /// `scheduled` or `manual`, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Scheduled => "scheduled",
            Trigger::Manual => "manual",
        }
    }
}

/// One invocation's payload, classified.
#[derive(Debug)]
pub enum Invocation {
    /// Run the compactor.
    Compact(Trigger),
    /// An HTTP request (API Gateway REST or HTTP API, Function URL, ALB).
    Http(Box<LambdaRequest>),
    /// Neither: why `lambda_http` refused it.
    Unknown(String),
}

/// Classifies a payload (the event's JSON text). Never panics, whatever the input.
pub fn classify(payload: &str) -> Invocation {
    if let Some(trigger) = compaction_trigger(payload) {
        return Invocation::Compact(trigger);
    }
    match serde_json::from_str::<LambdaRequest>(payload) {
        Ok(request) => Invocation::Http(Box::new(request)),
        Err(e) => Invocation::Unknown(e.to_string()),
    }
}

/// The compaction a payload asks for, judged by its top-level string fields (the rest of the
/// payload, an HTTP body included, is skipped over without being copied).
fn compaction_trigger(payload: &str) -> Option<Trigger> {
    let fields: BTreeMap<String, &RawValue> = serde_json::from_str(payload).ok()?;
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
    };
    if text("source").as_deref() == Some("aws.events")
        && text("detail-type").as_deref() == Some("Scheduled Event")
    {
        return Some(Trigger::Scheduled);
    }
    (text("otlp2parquet").as_deref() == Some("compact")).then_some(Trigger::Manual)
}

/// Answers one invocation: compacts (the answer is the [`Summary`](crate::compactor::Summary)
/// as JSON), or hands an HTTP event to `http` (see [`through_adapter`]), or fails with a
/// function error.
///
/// `http` is given by the caller because `lambda_http` needs the request future to be `Send`,
/// which only a concrete storage type can show.
pub async fn invoke<S, H, F>(
    app: &App<S>,
    event: LambdaEvent<Box<RawValue>>,
    http: H,
) -> Result<Box<RawValue>, Error>
where
    S: ObjectStore,
    H: FnOnce(LambdaEvent<LambdaRequest>) -> F,
    F: Future<Output = Result<Box<RawValue>, Error>>,
{
    let LambdaEvent { payload, context } = event;
    match classify(payload.get()) {
        Invocation::Compact(trigger) => {
            let owner = format!(
                "lambda:{}:{}",
                context.env_config.function_name, context.request_id
            );
            let deadline_ms = i64::try_from(context.deadline).unwrap_or(i64::MAX);
            tracing::debug!(
                trigger = trigger.as_str(),
                owner,
                deadline_ms,
                "compaction invoked"
            );
            // The error is logged by `run_until`; the runtime reports it as a function error.
            let summary = app.compact(&owner, deadline_ms).await?;
            Ok(to_raw_value(&summary.to_json())?)
        }
        Invocation::Http(request) => {
            drop(payload);
            http(LambdaEvent::new(*request, context)).await
        }
        Invocation::Unknown(why) => {
            tracing::error!(
                error = why,
                bytes = payload.get().len(),
                "unknown event: neither an HTTP request (API Gateway, Function URL, ALB) nor a \
                 compactor schedule"
            );
            Err(format!(
                "otlp2parquet: unknown event (expected an API Gateway, Function URL or ALB \
                 request, an EventBridge Scheduled Event, or {{\"otlp2parquet\":\"compact\"}}): \
                 {why}"
            )
            .into())
        }
    }
}

/// Answers an HTTP event with `service` the way `lambda_http::run` does: its `Adapter` turns
/// the event into a [`Request`] and the response into the event's origin's response format.
pub async fn through_adapter<V>(
    service: V,
    event: LambdaEvent<LambdaRequest>,
) -> Result<Box<RawValue>, Error>
where
    V: Service<Request, Response = http::Response<Body>, Error = Error>,
    V::Future: Send + 'static,
{
    let response = Adapter::from(service).oneshot(event).await?;
    Ok(to_raw_value(&response)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    use lambda_http::{Context, service_fn};
    use otlp2parquet_common::config::{Config, LambdaMode};
    use otlp2parquet_common::platform::Platform;
    use otlp2parquet_testkit::block_on;
    use otlp2parquet_writer::MemoryStorage;

    const FN_URL_LOGS: &str = r#"{"version":"2.0","routeKey":"$default","rawPath":"/v1/logs",
        "rawQueryString":"","headers":{"content-type":"application/json"},
        "requestContext":{"http":{"method":"POST","path":"/v1/logs","protocol":"HTTP/1.1",
          "sourceIp":"127.0.0.1","userAgent":"t"},"routeKey":"$default","stage":"$default",
          "requestId":"r","timeEpoch":0,"domainName":"x","accountId":"1","apiId":"a"},
        "body":"{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}}]},\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"1705329000000000000\",\"body\":{\"stringValue\":\"hi\"}}]}]}]}",
        "isBase64Encoded":false}"#;

    /// `invoke` as `main` wires it, over the memory store.
    fn run(app: &Arc<App<MemoryStorage>>, payload: &str) -> Result<serde_json::Value, Error> {
        let mut context = Context::default();
        context.request_id = "req-1".to_owned();
        context.deadline = u64::MAX / 2;
        let event = LambdaEvent::new(RawValue::from_string(payload.to_owned())?, context);
        let for_http = Arc::clone(app);
        let out = block_on(invoke(app, event, move |event| {
            let service = service_fn(move |req: Request| {
                let app = Arc::clone(&for_http);
                async move { Ok::<_, Error>(app.handle(req).await) }
            });
            through_adapter(service, event)
        }))?;
        Ok(serde_json::from_str(out.get())?)
    }

    #[test]
    fn invocations_are_answered_by_kind() {
        let mut config = Config::defaults(Platform::Lambda);
        config.lambda.mode = LambdaMode::Spool;
        let app = Arc::new(App::new(config, MemoryStorage::new(), Instant::now()));

        // A Function URL request: lambda_http's response event for its origin.
        let answer = run(&app, FN_URL_LOGS).unwrap();
        assert_eq!(answer["statusCode"], 200, "{answer}");
        assert_eq!(answer["body"], "{}", "{answer}");
        assert_eq!(answer["isBase64Encoded"], false, "{answer}");
        assert_eq!(app.storage().objects().len(), 1);

        // The schedule: the compactor's summary.
        let answer = run(
            &app,
            r#"{"source":"aws.events","detail-type":"Scheduled Event"}"#,
        )
        .unwrap();
        assert_eq!(answer["outcome"], "done", "{answer}");
        assert_eq!(answer["runs"], 1, "{answer}");
        assert_eq!(answer["inputs"], 1, "{answer}");
        assert_eq!(answer["outputs"], 1, "{answer}");
        assert_eq!(answer["rows"], 1, "{answer}");
        assert_eq!(answer["more"], false, "{answer}");
        assert!(answer["ms"].is_f64(), "{answer}");
        let keys: Vec<String> = app.storage().objects().into_keys().collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert!(keys[0].starts_with("logs/checkout/"), "{keys:?}");

        // Anything else: a function error, nothing touched.
        let err = run(&app, r#"{"Records":[]}"#).unwrap_err();
        assert!(err.to_string().contains("unknown event"), "{err}");
        assert_eq!(app.storage().objects().len(), 1);
    }

    #[test]
    fn schedules_and_manual_runs_compact() {
        let scheduled = r#"{"version":"0","id":"5c1d","detail-type":"Scheduled Event",
            "source":"aws.events","account":"123456789012","time":"2024-01-15T14:00:00Z",
            "region":"us-east-1","resources":["arn:aws:events:us-east-1:1:rule/r"],"detail":{}}"#;
        assert!(matches!(
            classify(scheduled),
            Invocation::Compact(Trigger::Scheduled)
        ));
        assert!(matches!(
            classify(r#"{"otlp2parquet":"compact"}"#),
            Invocation::Compact(Trigger::Manual)
        ));
        assert!(matches!(
            classify(r#" { "otlp2parquet" : "compact" , "extra": [1, {"a": null}] } "#),
            Invocation::Compact(Trigger::Manual)
        ));
    }

    #[test]
    fn http_events_go_to_lambda_http() {
        let fn_url = r#"{"version":"2.0","routeKey":"$default","rawPath":"/v1/logs",
            "rawQueryString":"","headers":{"content-type":"application/json"},
            "requestContext":{"http":{"method":"POST","path":"/v1/logs","protocol":"HTTP/1.1",
              "sourceIp":"127.0.0.1","userAgent":"t"},"routeKey":"$default","stage":"$default",
              "requestId":"r","timeEpoch":0,"domainName":"x","accountId":"1","apiId":"a"},
            "body":"{\"source\":\"aws.events\"}","isBase64Encoded":false}"#;
        assert!(matches!(classify(fn_url), Invocation::Http(_)));
        let alb = r#"{"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1"}},
            "httpMethod":"GET","path":"/health","queryStringParameters":{},
            "headers":{"host":"x"},"body":"","isBase64Encoded":false}"#;
        assert!(matches!(classify(alb), Invocation::Http(_)));
    }

    #[test]
    fn anything_else_is_unknown() {
        for payload in [
            "",
            "not json",
            "[]",
            "42",
            r#"{"otlp2parquet":"flush"}"#,
            r#"{"otlp2parquet":true}"#,
            r#"{"source":"aws.events","detail-type":"Object Created","detail":{}}"#,
            r#"{"Records":[{"eventSource":"aws:s3"}]}"#,
        ] {
            assert!(
                matches!(classify(payload), Invocation::Unknown(_)),
                "{payload:?}"
            );
        }
    }
}
