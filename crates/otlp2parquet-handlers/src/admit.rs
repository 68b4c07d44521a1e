//! The two-phase entry point every target calls (docs/protocol.md).
//!
//! [`admit`] looks at the request head alone — route, method, credentials, declared size,
//! content type and encoding — and either answers at once or hands back an [`Export`] saying
//! how many body bytes to read. [`Export::ingest`] then bounds, decodes and converts the body
//! and gives it to the caller's [`Sink`]: storage for the per-request targets (Lambda, Worker),
//! the batcher for the server. Every status a client can observe is decided in this module and
//! the pipeline below it; adapters only translate their platform's types.

use otlp2parquet_common::Signal;
use otlp2parquet_common::config::Config;
use otlp2parquet_writer::Storage;

use crate::body::{encoding_of, format_of_content_type};
use crate::grpc::{self, Frame};
use crate::{
    Error, ErrorKind, Failure, Format, Request, Response, Route, Stored, allowed_method, authorize,
    route, store, www_authenticate,
};

/// The head of an HTTP request: everything admission looks at before a body byte is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Head<'a> {
    /// The method as sent, e.g. `POST`.
    pub method: &'a str,
    /// The path without the query string, e.g. `/v1/logs`.
    pub path: &'a str,
    /// `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// `Content-Encoding`, if any.
    pub content_encoding: Option<&'a str>,
    /// `Content-Length`, if declared.
    pub content_length: Option<&'a str>,
    /// `Authorization`, if any.
    pub authorization: Option<&'a str>,
}

/// Whether the calling target answers `GET /ready` and `GET /metrics` itself (the server) or
/// not at all (the per-request targets answer 404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probes {
    /// [`admit`] returns [`Admission::Probe`] for them.
    Served,
    /// [`admit`] answers them 404.
    Unserved,
}

/// What [`admit`] decided.
#[derive(Debug)]
pub enum Admission<'a> {
    /// The answer, decided without the body (which need not be read).
    Answer(Outcome),
    /// `GET /ready` or `GET /metrics`, which the caller answers (only with [`Probes::Served`]).
    Probe(Route),
    /// An export to read and [`Export::ingest`].
    Export(Export<'a>),
}

/// What [`admit_grpc`] decided (there are no probes over gRPC).
#[derive(Debug)]
pub enum GrpcAdmission<'a> {
    /// The answer, decided without the message.
    Answer(Outcome),
    /// An export to read and [`Export::ingest`].
    Export(Export<'a>),
}

/// Where an export's rows go once decoded: the one thing that differs between targets.
// The futures are not required to be `Send`: the Worker's are not, and native adapters use
// concrete types whose futures are.
#[allow(async_fn_in_trait)]
pub trait Sink {
    /// Takes one admitted request (`limit` bounds its body, compressed and decompressed) and
    /// returns once its rows are as durable as the target promises a 200 to mean.
    async fn take(&self, request: &Request<'_>, limit: usize) -> Result<Stored, Failure>;
}

/// The per-request sink: every file of the request is written to `storage` before the answer.
#[derive(Debug)]
pub struct StoreEach<'a, S> {
    /// Where files go.
    pub storage: &'a S,
    /// Key prefix, Parquet options.
    pub config: &'a Config,
    /// This request's key-token seed (see [`crate::KeyTokens`]).
    pub token_seed: u128,
}

impl<S: Storage> Sink for StoreEach<'_, S> {
    async fn take(&self, request: &Request<'_>, _limit: usize) -> Result<Stored, Failure> {
        store(request, self.config, self.token_seed, self.storage).await
    }
}

/// How an admitted export's body is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// The body is the (possibly compressed) payload.
    Http,
    /// The body is one gRPC length-prefixed message.
    Grpc,
}

/// An admitted export: read at most [`Export::read_limit`] body bytes, then
/// [`Export::ingest`] them (or [`Export::unreadable`] if reading failed).
#[derive(Debug, Clone, Copy)]
pub struct Export<'a> {
    signal: Signal,
    content_type: Option<&'a str>,
    content_encoding: Option<&'a str>,
    limit: usize,
    transport: Transport,
}

impl<'a> Export<'a> {
    /// The export's signal.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// How many body bytes to read at most: one past what can be accepted, so that a body over
    /// the limit is told from one exactly at it without reading the rest.
    pub fn read_limit(&self) -> usize {
        let frame = match self.transport {
            Transport::Http => 0,
            Transport::Grpc => grpc::FRAME_HEADER,
        };
        self.limit.saturating_add(frame).saturating_add(1)
    }

    fn format(&self) -> Format {
        match self.transport {
            Transport::Grpc => Format::Protobuf,
            Transport::Http => reply_format(self.content_type),
        }
    }

    /// The answer when the body could not be read (the connection failed mid-body): 400.
    pub fn unreadable(&self, why: &dyn std::fmt::Display) -> Outcome {
        let error = Error::new(
            ErrorKind::InvalidRequest,
            format!("reading request body: {why}"),
        );
        Outcome::failed(Some(self.signal), self.format(), error)
    }

    /// The answer when the body did not arrive within `secs` seconds of the head: 408
    /// (`DEADLINE_EXCEEDED` over gRPC).
    pub fn timed_out(&self, secs: u64) -> Outcome {
        let error = Error::new(
            ErrorKind::Timeout,
            format!(
                "the request body did not arrive within {secs} s \
                 (server.body_timeout_secs / OTLP2PARQUET_BODY_TIMEOUT_SECS)"
            ),
        );
        Outcome::failed(Some(self.signal), self.format(), error)
    }

    /// Bounds, decodes and converts `body` (at most [`Export::read_limit`] bytes of it) and
    /// hands it to `sink`; answers 200 only once the sink took it. Never panics, whatever the
    /// input.
    pub async fn ingest<K: Sink>(&self, body: &[u8], received_at_ns: i64, sink: &K) -> Outcome {
        let (content_encoding, payload) = match self.transport {
            Transport::Http => (self.content_encoding, body),
            Transport::Grpc => match grpc::unwrap_frame(body, self.limit) {
                Ok(Frame::Plain(payload)) => (None, payload),
                Ok(Frame::Compressed(payload)) => match self.content_encoding {
                    Some(e) if !e.trim().eq_ignore_ascii_case("identity") => (Some(e), payload),
                    _ => {
                        let error = Error::new(
                            ErrorKind::InvalidRequest,
                            "the gRPC message is flagged compressed but the call names no \
                             grpc-encoding",
                        );
                        return Outcome::failed(Some(self.signal), Format::Protobuf, error);
                    }
                },
                Err(refusal) => return refusal.outcome(self.signal),
            },
        };
        let request = Request {
            signal: self.signal,
            content_type: self.content_type,
            content_encoding,
            body: payload,
            received_at_ns,
        };
        match sink.take(&request, self.limit).await {
            Ok(stored) => Outcome::stored(self.signal, stored),
            Err(f) => Outcome::failed(Some(self.signal), f.format, f.error),
        }
    }
}

/// The format answers use when the body has not been looked at: the `Content-Type`'s, else
/// JSON (a human with curl is the likeliest sender of a request that names none).
pub fn reply_format(content_type: Option<&str>) -> Format {
    content_type
        .and_then(format_of_content_type)
        .unwrap_or(Format::Json)
}

/// Phase one for OTLP/HTTP: answers every request that can be answered from its head, and
/// admits the rest as an [`Export`].
pub fn admit<'a>(head: &Head<'a>, config: &Config, probes: Probes) -> Admission<'a> {
    let format = reply_format(head.content_type);
    let signal = match route(head.method, head.path) {
        Ok(Route::Export(signal)) => signal,
        Ok(Route::Health) => {
            return Admission::Answer(Outcome::plain(Response::text(200, "ok\n")));
        }
        Ok(probe @ (Route::Ready | Route::Metrics)) => {
            if probes == Probes::Served {
                return Admission::Probe(probe);
            }
            let error = Error::new(
                ErrorKind::NotFound,
                format!(
                    "{} is served by the otlp2parquet server only; use GET /health",
                    head.path
                ),
            );
            return Admission::Answer(Outcome::failed(None, format, error));
        }
        Err(e) => {
            let mut outcome = Outcome::failed(None, format, e);
            if outcome.response.status == ErrorKind::MethodNotAllowed.http_status() {
                outcome
                    .response
                    .headers
                    .push(("allow", allowed_method(head.path).to_owned()));
            }
            return Admission::Answer(outcome);
        }
    };
    if let Err(e) = authorize(head.authorization, &config.auth) {
        let mut outcome = Outcome::failed(Some(signal), format, e);
        outcome.response.headers.push((
            "www-authenticate",
            www_authenticate(&config.auth).to_owned(),
        ));
        return Admission::Answer(outcome);
    }
    let limit = config.request.max_payload_bytes;
    if let Some(declared) = declared_length(head.content_length)
        && declared > u64::try_from(limit).unwrap_or(u64::MAX)
    {
        let error = Error::new(
            ErrorKind::PayloadTooLarge,
            format!("request body of {declared} bytes exceeds max_payload_bytes ({limit})"),
        );
        return Admission::Answer(Outcome::failed(Some(signal), format, error));
    }
    if let Some(t) = head.content_type.map(str::trim).filter(|t| !t.is_empty())
        && format_of_content_type(t).is_none()
    {
        let error = Error::new(
            ErrorKind::UnsupportedMediaType,
            format!(
                "unsupported Content-Type {t:?}; use application/x-protobuf, application/json \
                 or application/x-ndjson"
            ),
        );
        return Admission::Answer(Outcome::failed(Some(signal), format, error));
    }
    if let Err(e) = encoding_of(head.content_encoding) {
        return Admission::Answer(Outcome::failed(Some(signal), format, e));
    }
    Admission::Export(Export {
        signal,
        content_type: head.content_type,
        content_encoding: head.content_encoding,
        limit,
        transport: Transport::Http,
    })
}

/// Phase one for OTLP/gRPC: the method path picks the signal, the `authorization` metadata is
/// checked as the HTTP header is, and the `grpc-encoding` must be one we decode.
pub fn admit_grpc<'a>(
    path: &str,
    authorization: Option<&'a str>,
    grpc_encoding: Option<&'a str>,
    config: &Config,
) -> GrpcAdmission<'a> {
    let Some(signal) = grpc::signal_of_method(path) else {
        let error = Error::new(
            ErrorKind::MethodNotAllowed,
            format!(
                "{path} is not an OTLP export method; otlp2parquet serves the Export methods of \
                 LogsService, TraceService and MetricsService"
            ),
        );
        return GrpcAdmission::Answer(Outcome::failed(None, Format::Protobuf, error));
    };
    if let Err(e) = authorize(authorization, &config.auth) {
        return GrpcAdmission::Answer(Outcome::failed(Some(signal), Format::Protobuf, e));
    }
    if let Err(e) = encoding_of(grpc_encoding) {
        return GrpcAdmission::Answer(Outcome::failed(Some(signal), Format::Protobuf, e));
    }
    GrpcAdmission::Export(Export {
        signal,
        content_type: Some("application/x-protobuf"),
        content_encoding: grpc_encoding,
        limit: config.request.max_payload_bytes,
        transport: Transport::Grpc,
    })
}

fn declared_length(header: Option<&str>) -> Option<u64> {
    header?.trim().parse().ok()
}

/// How one request ended: the HTTP answer and, for gRPC, the error it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    signal: Option<Signal>,
    records: usize,
    response: Response,
    error: Option<Error>,
    /// Whether a gRPC answer carries `grpc-status-details-bin` (not for a message refused on
    /// its frame's declared length, as gRPC libraries refuse over-size messages).
    details: bool,
}

impl Outcome {
    fn plain(response: Response) -> Outcome {
        Outcome {
            signal: None,
            records: 0,
            response,
            error: None,
            details: true,
        }
    }

    pub(crate) fn stored(signal: Signal, stored: Stored) -> Outcome {
        Outcome {
            signal: Some(signal),
            records: stored.records,
            response: Response::success(signal, stored.format, 0, ""),
            error: None,
            details: true,
        }
    }

    pub(crate) fn failed(signal: Option<Signal>, format: Format, error: Error) -> Outcome {
        Outcome {
            signal,
            records: 0,
            response: Response::error(format, &error),
            error: Some(error),
            details: true,
        }
    }

    pub(crate) fn without_details(mut self) -> Outcome {
        self.details = false;
        self
    }

    /// The export's signal, once the route named one.
    pub fn signal(&self) -> Option<Signal> {
        self.signal
    }

    /// Records stored (0 unless the answer is 200).
    pub fn records(&self) -> usize {
        self.records
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// The HTTP answer.
    pub fn response(&self) -> &Response {
        &self.response
    }

    /// The HTTP answer, owned.
    pub fn into_response(self) -> Response {
        self.response
    }

    /// Why the request failed, if it did.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    pub(crate) fn has_details(&self) -> bool {
        self.details
    }
}

/// An HTTP request whose body is already in memory (the Lambda's events, fuzzing).
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The head.
    pub head: Head<'a>,
    /// The body as received (already base64-decoded where the platform encodes it).
    pub body: &'a [u8],
    /// When the request arrived, in ns since the epoch.
    pub received_at_ns: i64,
}

/// Both phases for a body already in memory, with per-request storage ([`Probes::Unserved`]).
pub async fn respond<K: Sink>(exchange: &Exchange<'_>, config: &Config, sink: &K) -> Outcome {
    match admit(&exchange.head, config, Probes::Unserved) {
        Admission::Answer(outcome) => outcome,
        // Not returned for `Probes::Unserved`; answered like any unknown route if it were.
        Admission::Probe(_) => Outcome::failed(
            None,
            Format::Json,
            Error::new(ErrorKind::NotFound, "no such route"),
        ),
        // The whole body is in memory already: the pipeline bounds it.
        Admission::Export(export) => {
            export
                .ingest(exchange.body, exchange.received_at_ns, sink)
                .await
        }
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
            head: Head {
                method,
                path,
                content_type: Some("application/json"),
                ..Head::default()
            },
            body,
            received_at_ns: 1_700_000_000_000_000_000,
        }
    }

    fn run(exchange: &Exchange<'_>, config: &Config, store: &MemoryStorage) -> Outcome {
        let sink = StoreEach {
            storage: store,
            config,
            token_seed: 1,
        };
        block_on(respond(exchange, config, &sink))
    }

    const LOGS: &[u8] = br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1705329000000000000","body":{"stringValue":"hi"}}]}]}]}"#;

    #[test]
    fn routes_health_exports_and_errors() {
        let config = Config::defaults(Platform::Lambda);
        let store = MemoryStorage::new();
        let ok = run(&exchange("POST", "/v1/logs", LOGS), &config, &store);
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.records(), 1);
        let keys: Vec<String> = store.objects().into_keys().collect();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].starts_with("logs/checkout/year=2024/month=01/day=15/hour=14/"));

        let health = run(&exchange("GET", "/health", b""), &config, &store);
        assert_eq!(health.status(), 200);
        for path in ["/ready", "/metrics", "/nope"] {
            let r = run(&exchange("GET", path, b""), &config, &store);
            assert_eq!(r.status(), 404, "{path}");
        }
        let wrong = run(&exchange("GET", "/v1/logs", b""), &config, &store);
        assert_eq!(wrong.status(), 405);
        assert_eq!(wrong.response().header("allow"), Some("POST"));
    }

    #[test]
    fn auth_is_checked_before_the_body() {
        let mut config = Config::defaults(Platform::Cloudflare);
        config.auth.bearer_token = Some("s3cret".to_owned());
        let store = MemoryStorage::new();
        let denied = run(&exchange("POST", "/v1/logs", b"{"), &config, &store);
        assert_eq!(denied.status(), 401);
        assert!(denied.response().header("www-authenticate").is_some());
        let mut req = exchange("POST", "/v1/logs", LOGS);
        req.head.authorization = Some("Bearer s3cret");
        assert_eq!(run(&req, &config, &store).status(), 200);
        // Health stays open.
        let health = run(&exchange("GET", "/health", b""), &config, &store);
        assert_eq!(health.status(), 200);
    }

    #[test]
    fn storage_failure_is_retryable_and_not_acknowledged() {
        let config = Config::defaults(Platform::Lambda);
        let store = MemoryStorage::new();
        store.fail_with(Some(StorageErrorKind::Temporary));
        let r = run(&exchange("POST", "/v1/logs", LOGS), &config, &store);
        assert_eq!(r.status(), 503);
        assert!(r.response().header("retry-after").is_some());
        assert_eq!(r.records(), 0);
        assert!(store.objects().is_empty());
    }

    fn is_export(admission: &Admission<'_>) -> bool {
        matches!(admission, Admission::Export(_))
    }

    #[test]
    fn only_authorised_exports_read_the_body() {
        let mut config = Config::defaults(Platform::Cloudflare);
        let head = |method, path, authorization| Head {
            method,
            path,
            authorization,
            ..Head::default()
        };
        let admitted = |h: Head<'_>, c: &Config| is_export(&admit(&h, c, Probes::Unserved));
        assert!(admitted(head("POST", "/v1/logs", None), &config));
        assert!(!admitted(head("GET", "/v1/logs", None), &config));
        assert!(!admitted(head("GET", "/health", None), &config));
        assert!(!admitted(head("POST", "/v1/nope", None), &config));
        config.auth.bearer_token = Some("t".to_owned());
        assert!(!admitted(head("POST", "/v1/logs", None), &config));
        assert!(!admitted(
            head("POST", "/v1/logs", Some("Bearer x")),
            &config
        ));
        assert!(admitted(
            head("POST", "/v1/logs", Some("Bearer t")),
            &config
        ));
    }

    #[test]
    fn declared_length_over_the_limit_is_413_in_the_request_encoding() {
        let mut config = Config::defaults(Platform::Cloudflare);
        config.request.max_payload_bytes = 10;
        let refused = |content_type, content_length| {
            let head = Head {
                method: "POST",
                path: "/v1/logs",
                content_type,
                content_length,
                ..Head::default()
            };
            match admit(&head, &config, Probes::Unserved) {
                Admission::Answer(outcome) => Some(outcome.into_response()),
                _ => None,
            }
        };
        assert_eq!(refused(None, None), None);
        assert_eq!(refused(None, Some("10")), None);
        assert_eq!(refused(None, Some("junk")), None);
        let r = refused(Some("application/x-protobuf"), Some("11")).unwrap();
        assert_eq!(r.status, 413);
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        let r = refused(Some("application/json"), Some(" 11 ")).unwrap();
        assert_eq!(r.status, 413);
        let body = String::from_utf8(r.body).unwrap();
        assert!(body.contains("max_payload_bytes"), "{body}");
        assert!(body.contains("\"code\":"), "{body}");
    }

    #[test]
    fn the_server_answers_its_probes_itself() {
        let config = Config::defaults(Platform::Server);
        for (path, route) in [("/ready", Route::Ready), ("/metrics", Route::Metrics)] {
            let head = Head {
                method: "GET",
                path,
                ..Head::default()
            };
            match admit(&head, &config, Probes::Served) {
                Admission::Probe(r) => assert_eq!(r, route),
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn unsupported_types_and_encodings_are_refused_before_the_body() {
        let config = Config::defaults(Platform::Server);
        for (content_type, content_encoding) in [
            (Some("text/plain"), None),
            (Some("application/json"), Some("br")),
        ] {
            let head = Head {
                method: "POST",
                path: "/v1/traces",
                content_type,
                content_encoding,
                ..Head::default()
            };
            match admit(&head, &config, Probes::Served) {
                Admission::Answer(o) => assert_eq!(o.status(), 415),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn grpc_calls_are_unwrapped_and_decoded_like_http_bodies() {
        let mut config = Config::defaults(Platform::Server);
        config.request.max_payload_bytes = 1 << 20;
        let store = MemoryStorage::new();
        let sink = StoreEach {
            storage: &store,
            config: &config,
            token_seed: 1,
        };
        let path = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
        let frame = |flag: u8, message: &[u8]| {
            let mut out = vec![flag];
            out.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
            out.extend_from_slice(message);
            out
        };
        let call = |encoding: Option<&'static str>, body: &[u8]| match admit_grpc(
            path, None, encoding, &config,
        ) {
            GrpcAdmission::Export(export) => block_on(export.ingest(body, 1, &sink)),
            GrpcAdmission::Answer(o) => o,
        };
        let message = otlp2parquet_testkit::zstd(b"\x0a\x00");
        let ok = call(Some("zstd"), &frame(1, &message));
        assert_eq!((ok.status(), grpc::reply(&ok).code()), (200, Some(0)));
        // The zstd window cap holds as for HTTP: the same body is refused the same way.
        let bomb = otlp2parquet_testkit::zstd_wide_window(b"\x0a\x00");
        let refused = call(Some("zstd"), &frame(1, &bomb));
        let http = crate::body::decode_body(Some("zstd"), &bomb, 1 << 20).unwrap_err();
        assert_eq!(refused.error().map(Error::kind), Some(http.kind()));
        assert_eq!(grpc::reply(&refused).code(), Some(3));
        // An encoding we do not decode, and a compressed flag without an encoding.
        assert_eq!(grpc::reply(&call(Some("snappy"), b"")).code(), Some(12));
        assert_eq!(grpc::reply(&call(None, &frame(1, b"x"))).code(), Some(3));
        match admit_grpc("/nope.Service/Export", None, None, &config) {
            GrpcAdmission::Answer(o) => assert_eq!(grpc::reply(&o).code(), Some(12)),
            other => panic!("{other:?}"),
        }
    }
}
