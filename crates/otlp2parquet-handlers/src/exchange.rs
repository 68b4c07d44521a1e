//! One whole HTTP exchange for the per-request targets (Lambda, Worker): routing, auth,
//! `/health`, the export pipeline and every error answer, decided here once so that the
//! adapters only translate their platform's request and response types.

use otlp2parquet_common::config::Config;
use otlp2parquet_writer::Storage;

use crate::body::format_of_content_type;
use crate::{
    ErrorKind, Format, Request, Response, Route, allowed_method, authorize, error_response,
    handle_counted, route, www_authenticate,
};

/// An HTTP request as a per-request adapter received it.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The path without the query string, e.g. `/v1/logs`.
    pub path: &'a str,
    /// `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// `Content-Encoding`, if any.
    pub content_encoding: Option<&'a str>,
    /// `Authorization`, if any.
    pub authorization: Option<&'a str>,
    /// The body as received (already base64-decoded where the platform encodes it).
    pub body: &'a [u8],
    /// When the request arrived, in ns since the epoch.
    pub received_at_ns: i64,
}

/// What a per-request target answered, and how many records it stored.
#[derive(Debug)]
pub struct Answer {
    /// The response to send.
    pub response: Response,
    /// The export's signal, if the request was an export (for logs and metrics).
    pub signal: Option<otlp2parquet_common::Signal>,
    /// Records stored (0 unless the export was answered 200).
    pub records: usize,
}

/// Answers one request end to end: `GET /health` is open; `/ready` and `/metrics` exist only on
/// the server (404 here); exports are authorised, converted, written to `storage` and only then
/// answered 200. Never panics, whatever the input.
pub async fn respond<S: Storage>(
    req: &Exchange<'_>,
    config: &Config,
    token_seed: u128,
    storage: &S,
) -> Answer {
    let format = req
        .content_type
        .and_then(format_of_content_type)
        .unwrap_or(Format::Json);
    let answer = |response: Response| Answer {
        response,
        signal: None,
        records: 0,
    };
    let signal = match route(req.method, req.path) {
        Ok(Route::Export(signal)) => signal,
        Ok(Route::Health) => return answer(Response::text(200, "ok\n")),
        Ok(Route::Ready | Route::Metrics) => {
            return answer(error_response(
                format,
                ErrorKind::NotFound,
                format!(
                    "{} is served by the otlp2parquet server only; use GET /health",
                    req.path
                ),
            ));
        }
        Err(e) => {
            let mut response = Response::error(format, &e);
            if e.kind() == ErrorKind::MethodNotAllowed {
                response
                    .headers
                    .push(("allow", allowed_method(req.path).to_owned()));
            }
            return answer(response);
        }
    };
    if let Err(e) = authorize(req.authorization, &config.auth) {
        let mut response = Response::error(format, &e);
        response.headers.push((
            "www-authenticate",
            www_authenticate(&config.auth).to_owned(),
        ));
        return Answer {
            response,
            signal: Some(signal),
            records: 0,
        };
    }
    let request = Request {
        signal,
        content_type: req.content_type,
        content_encoding: req.content_encoding,
        body: req.body,
        received_at_ns: req.received_at_ns,
    };
    let (response, records) = handle_counted(&request, config, token_seed, storage).await;
    Answer {
        response,
        signal: Some(signal),
        records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp2parquet_common::platform::Platform;
    use otlp2parquet_testkit::block_on;
    use otlp2parquet_writer::{MemoryStorage, StorageErrorKind};

    fn exchange<'a>(method: &'a str, path: &'a str, body: &'a [u8]) -> Exchange<'a> {
        Exchange {
            method,
            path,
            content_type: Some("application/json"),
            content_encoding: None,
            authorization: None,
            body,
            received_at_ns: 1_700_000_000_000_000_000,
        }
    }

    const LOGS: &[u8] = br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1705329000000000000","body":{"stringValue":"hi"}}]}]}]}"#;

    #[test]
    fn routes_health_exports_and_errors() {
        let config = Config::defaults(Platform::Lambda);
        let store = MemoryStorage::new();
        let ok = block_on(respond(
            &exchange("POST", "/v1/logs", LOGS),
            &config,
            1,
            &store,
        ));
        assert_eq!(ok.response.status, 200);
        assert_eq!(ok.records, 1);
        let keys: Vec<String> = store.objects().into_keys().collect();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].starts_with("logs/checkout/year=2024/month=01/day=15/hour=14/"));

        let health = block_on(respond(
            &exchange("GET", "/health", b""),
            &config,
            1,
            &store,
        ));
        assert_eq!(health.response.status, 200);
        for path in ["/ready", "/metrics", "/nope"] {
            let r = block_on(respond(&exchange("GET", path, b""), &config, 1, &store));
            assert_eq!(r.response.status, 404, "{path}");
        }
        let wrong = block_on(respond(
            &exchange("GET", "/v1/logs", b""),
            &config,
            1,
            &store,
        ));
        assert_eq!(wrong.response.status, 405);
        assert_eq!(wrong.response.header("allow"), Some("POST"));
    }

    #[test]
    fn auth_is_checked_before_the_body() {
        let mut config = Config::defaults(Platform::Cloudflare);
        config.auth.bearer_token = Some("s3cret".to_owned());
        let store = MemoryStorage::new();
        let denied = block_on(respond(
            &exchange("POST", "/v1/logs", b"{"),
            &config,
            1,
            &store,
        ));
        assert_eq!(denied.response.status, 401);
        assert!(denied.response.header("www-authenticate").is_some());
        let mut req = exchange("POST", "/v1/logs", LOGS);
        req.authorization = Some("Bearer s3cret");
        assert_eq!(
            block_on(respond(&req, &config, 1, &store)).response.status,
            200
        );
        // Health stays open.
        let health = block_on(respond(
            &exchange("GET", "/health", b""),
            &config,
            1,
            &store,
        ));
        assert_eq!(health.response.status, 200);
    }

    #[test]
    fn storage_failure_is_retryable_and_not_acknowledged() {
        let config = Config::defaults(Platform::Lambda);
        let store = MemoryStorage::new();
        store.fail_with(Some(StorageErrorKind::Temporary));
        let r = block_on(respond(
            &exchange("POST", "/v1/logs", LOGS),
            &config,
            1,
            &store,
        ));
        assert_eq!(r.response.status, 503);
        assert!(r.response.header("retry-after").is_some());
        assert_eq!(r.records, 0);
        assert!(store.objects().is_empty());
    }
}
