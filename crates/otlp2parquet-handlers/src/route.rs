//! Routing and authentication (docs/protocol.md#routes), shared by every adapter.

use base64::Engine as _;
use otlp2parquet_common::Signal;
use otlp2parquet_common::config::AuthConfig;

use crate::{Error, ErrorKind};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /v1/{logs,traces,metrics}`.
    Export(Signal),
    /// `GET /health`: alive.
    Health,
    /// `GET /ready`: storage reachable (server).
    Ready,
    /// `GET /metrics`: Prometheus text (server).
    Metrics,
}

/// Resolves `method` and `path` (without query string): unknown path → 404, known path with
/// the wrong method → 405.
pub fn route(method: &str, path: &str) -> Result<Route, Error> {
    let (route, allowed) = if let Some(signal) = Signal::from_path(path) {
        (Route::Export(signal), "POST")
    } else {
        match path {
            "/health" => (Route::Health, "GET"),
            "/ready" => (Route::Ready, "GET"),
            "/metrics" => (Route::Metrics, "GET"),
            _ => {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("no route for {path}; use POST /v1/logs, /v1/traces or /v1/metrics"),
                ));
            }
        }
    };
    if method.eq_ignore_ascii_case(allowed) || (allowed == "GET" && method == "HEAD") {
        Ok(route)
    } else {
        Err(Error::new(
            ErrorKind::MethodNotAllowed,
            format!("{path} accepts {allowed}, not {method}"),
        ))
    }
}

/// The `Allow` header value of a path's route (for 405 responses).
pub fn allowed_method(path: &str) -> &'static str {
    if Signal::from_path(path).is_some() {
        "POST"
    } else {
        "GET"
    }
}

/// Checks an `Authorization` header against the configured credentials (constant-time).
/// Health endpoints are open: adapters call this for exports only.
pub fn authorize(header: Option<&str>, auth: &AuthConfig) -> Result<(), Error> {
    if !auth.enabled() {
        return Ok(());
    }
    let denied = || Error::new(ErrorKind::Unauthorized, "missing or invalid credentials");
    let header = header.map(str::trim).ok_or_else(denied)?;
    let (scheme, value) = header.split_once(' ').ok_or_else(denied)?;
    let value = value.trim();
    let ok = if scheme.eq_ignore_ascii_case("bearer") {
        auth.bearer_token
            .as_ref()
            .is_some_and(|token| ct_eq(value.as_bytes(), token.as_bytes()))
    } else if scheme.eq_ignore_ascii_case("basic") {
        match (&auth.basic_username, &auth.basic_password) {
            (Some(user), Some(pass)) => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(value)
                    .unwrap_or_default();
                ct_eq(&decoded, format!("{user}:{pass}").as_bytes())
            }
            _ => false,
        }
    } else {
        false
    };
    if ok {
        return Ok(());
    }
    Err(denied())
}

/// The `WWW-Authenticate` challenge for 401 responses.
pub fn www_authenticate(auth: &AuthConfig) -> &'static str {
    if auth.bearer_token.is_none() && auth.basic_username.is_some() {
        "Basic realm=\"otlp2parquet\""
    } else {
        "Bearer realm=\"otlp2parquet\""
    }
}

/// Equality whose time depends only on the lengths, not on where the inputs differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_statuses() {
        assert_eq!(
            route("POST", "/v1/logs").unwrap(),
            Route::Export(Signal::Logs)
        );
        assert_eq!(
            route("POST", "/v1/traces").unwrap(),
            Route::Export(Signal::Traces)
        );
        assert_eq!(route("GET", "/health").unwrap(), Route::Health);
        assert_eq!(
            route("GET", "/v1/logs").unwrap_err().kind(),
            ErrorKind::MethodNotAllowed
        );
        assert_eq!(
            route("POST", "/health").unwrap_err().kind(),
            ErrorKind::MethodNotAllowed
        );
        assert_eq!(
            route("POST", "/v1/log").unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(allowed_method("/v1/metrics"), "POST");
    }

    #[test]
    fn auth_bearer_and_basic() {
        let mut auth = AuthConfig::default();
        assert!(authorize(None, &auth).is_ok());
        auth.bearer_token = Some("tok".into());
        assert!(authorize(Some("Bearer tok"), &auth).is_ok());
        assert!(authorize(Some("bearer tok"), &auth).is_ok());
        assert_eq!(
            authorize(Some("Bearer tok2"), &auth).unwrap_err().kind(),
            ErrorKind::Unauthorized
        );
        assert!(authorize(None, &auth).is_err());
        auth.basic_username = Some("u".into());
        auth.basic_password = Some("p".into());
        // "u:p"
        assert!(authorize(Some("Basic dTpw"), &auth).is_ok());
        assert!(authorize(Some("Basic dTpx"), &auth).is_err());
        assert!(authorize(Some("Basic !!!"), &auth).is_err());
    }

    #[test]
    fn ct_eq_matches_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(ct_eq(b"", b""));
    }
}
