//! `lambda_http` request → the parts of an [`Exchange`](otlp2parquet_handlers::Exchange): method, the path the client asked for,
//! the three headers the pipeline reads, and the body bytes.
//!
//! `lambda_http` has already base64-decoded the body (`isBase64Encoded`) and merged the event's
//! single- and multi-value headers. What it does not settle is the path: each event kind says
//! where the request went differently (ADR 0007).

use std::borrow::Cow;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};

/// The request headers the pipeline reads, as text (a value that is not UTF-8 is converted
/// lossily, so it still fails the content-type or auth check instead of vanishing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers<'a> {
    /// `Content-Type`.
    pub content_type: Option<Cow<'a, str>>,
    /// `Content-Encoding`.
    pub content_encoding: Option<Cow<'a, str>>,
    /// `Authorization`.
    pub authorization: Option<Cow<'a, str>>,
}

impl<'a> Headers<'a> {
    /// The first value of each header the pipeline reads.
    pub fn of(req: &'a Request) -> Self {
        let get = |name: &str| {
            req.headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()))
        };
        Headers {
            content_type: get("content-type"),
            content_encoding: get("content-encoding"),
            authorization: get("authorization"),
        }
    }
}

/// The body bytes (already base64-decoded by `lambda_http`).
pub fn body(req: &Request) -> &[u8] {
    match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// The path the client asked for, relative to the API: what the pipeline routes on.
///
/// - API Gateway REST (v1): `path` is what the client sent to the custom domain or stage URL,
///   which may carry a base-path mapping; `resource` (`/{proxy+}`, `/v1/logs`) is relative to
///   the API's root. The resource with its path parameters filled in is therefore used; the
///   raw path only when the resource is missing or a parameter is not given.
/// - API Gateway HTTP (v2) and Function URLs: `rawPath` starts with the stage name when the stage
///   is not `$default`, so `/{stage}` is removed; a route such as `ANY /{proxy+}` is filled in
///   from the path parameters like a REST resource.
/// - ALB: the path as received.
///
/// `lambda_http`'s own `uri()` is not used: it prepends the stage to v1 and v2 paths.
pub fn route_path(req: &Request) -> Cow<'_, str> {
    let raw = req.raw_http_path();
    let params = |name: &str| {
        req.path_parameters_ref()
            .and_then(|p| p.first(name))
            .map(str::to_owned)
    };
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx
            .resource_path
            .as_deref()
            .and_then(|resource| fill_template(resource, &params))
            .map_or(Cow::Borrowed(raw), Cow::Owned),
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            let template = ctx
                .route_key
                .as_deref()
                .and_then(|key| key.split_once(' ').map(|(_, path)| path))
                .and_then(|resource| fill_template(resource, &params));
            match template {
                Some(path) => Cow::Owned(path),
                None => Cow::Borrowed(strip_stage(raw, ctx.stage.as_deref())),
            }
        }
        _ => Cow::Borrowed(raw),
    }
}

/// `path` without a leading `/{stage}` (HTTP APIs put a named stage in `rawPath`).
pub fn strip_stage<'p>(path: &'p str, stage: Option<&str>) -> &'p str {
    let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") else {
        return path;
    };
    match path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// A resource template (`/v1/{proxy+}`, `/{signal}`) with each `{name}` / `{name+}` replaced by
/// its path parameter; `None` when a parameter is missing or the template is malformed.
pub fn fill_template(template: &str, param: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if !template.starts_with('/') {
        return None;
    }
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        let close = after.find('}')?;
        let name = after.get(1..close)?;
        let name = name.strip_suffix('+').unwrap_or(name);
        out.push_str(&param(name)?);
        rest = after.get(close + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::request::from_str;

    fn params<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn templates_are_filled_from_path_parameters() {
        let p = params(&[("proxy", "v1/logs"), ("signal", "traces")]);
        assert_eq!(fill_template("/{proxy+}", &p).as_deref(), Some("/v1/logs"));
        assert_eq!(
            fill_template("/v1/{signal}", &p).as_deref(),
            Some("/v1/traces")
        );
        assert_eq!(fill_template("/v1/logs", &p).as_deref(), Some("/v1/logs"));
        assert_eq!(fill_template("/{missing}", &p), None);
        assert_eq!(fill_template("/{broken", &p), None);
        assert_eq!(fill_template("$default", &p), None);
    }

    #[test]
    fn named_stages_are_stripped() {
        assert_eq!(strip_stage("/prod/v1/logs", Some("prod")), "/v1/logs");
        assert_eq!(strip_stage("/prod", Some("prod")), "/");
        assert_eq!(
            strip_stage("/production/v1", Some("prod")),
            "/production/v1"
        );
        assert_eq!(strip_stage("/v1/logs", Some("$default")), "/v1/logs");
        assert_eq!(strip_stage("/v1/logs", None), "/v1/logs");
        // A stage named like the first path segment: only a real prefix goes.
        assert_eq!(strip_stage("/v1/v1/logs", Some("v1")), "/v1/logs");
    }

    const V1: &str = r#"{
      "resource": "/{proxy+}", "path": "/otlp/v1/logs", "httpMethod": "POST",
      "headers": {"Content-Type": "application/json", "Authorization": "Bearer t"},
      "multiValueHeaders": {"Content-Type": ["application/json"], "Authorization": ["Bearer t"]},
      "pathParameters": {"proxy": "v1/logs"},
      "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": "POST", "stage": "prod",
        "path": "/prod/otlp/v1/logs", "requestId": "r", "accountId": "1", "apiId": "a",
        "identity": {}, "requestTimeEpoch": 0},
      "body": "{}", "isBase64Encoded": false
    }"#;

    #[test]
    fn rest_events_route_on_the_resource_not_the_base_path() {
        let req = from_str(V1).unwrap();
        assert_eq!(route_path(&req), "/v1/logs");
        assert_eq!(req.method(), "POST");
        let h = Headers::of(&req);
        assert_eq!(h.content_type.as_deref(), Some("application/json"));
        assert_eq!(h.authorization.as_deref(), Some("Bearer t"));
        assert_eq!(h.content_encoding, None);
        assert_eq!(body(&req), b"{}");
    }

    const V2_STAGE: &str = r#"{
      "version": "2.0", "routeKey": "$default", "rawPath": "/prod/v1/traces", "rawQueryString": "",
      "headers": {"content-type": "application/x-protobuf", "content-encoding": "gzip"},
      "requestContext": {"http": {"method": "POST", "path": "/prod/v1/traces", "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1", "userAgent": "t"}, "routeKey": "$default", "stage": "prod",
        "requestId": "r", "timeEpoch": 0, "domainName": "x", "accountId": "1", "apiId": "a"},
      "body": "AAEC", "isBase64Encoded": true
    }"#;

    #[test]
    fn http_api_events_drop_the_stage_and_decode_base64() {
        let req = from_str(V2_STAGE).unwrap();
        assert_eq!(route_path(&req), "/v1/traces");
        assert_eq!(body(&req), [0u8, 1, 2]);
        let h = Headers::of(&req);
        assert_eq!(h.content_encoding.as_deref(), Some("gzip"));
        let proxied = V2_STAGE
            .replace(
                r#""routeKey": "$default""#,
                r#""routeKey": "POST /{proxy+}""#,
            )
            .replace(
                r#""rawQueryString": """#,
                r#""rawQueryString": "", "pathParameters": {"proxy": "v1/metrics"}"#,
            );
        assert_eq!(route_path(&from_str(&proxied).unwrap()), "/v1/metrics");
    }

    #[test]
    fn alb_events_keep_their_path() {
        let alb = r#"{
          "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1"}},
          "httpMethod": "GET", "path": "/health", "queryStringParameters": {},
          "headers": {"host": "x"}, "body": "", "isBase64Encoded": false
        }"#;
        let req = from_str(alb).unwrap();
        assert_eq!(route_path(&req), "/health");
        assert_eq!(req.method(), "GET");
        assert!(body(&req).is_empty());
    }
}
