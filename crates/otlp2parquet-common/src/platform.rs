//! Platform detection (docs/configuration.md#platform-detection-and-defaults). The one place
//! that knows which target we run on.

use std::fmt;

/// The three ways otlp2parquet ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Native server / CLI.
    Server,
    /// AWS Lambda.
    Lambda,
    /// Cloudflare Worker (wasm32).
    Cloudflare,
}

impl Platform {
    /// Detects the platform from environment variables, looked up through `var`:
    /// `AWS_LAMBDA_FUNCTION_NAME` set → Lambda; `CF_WORKER` set or a wasm32 build → Cloudflare;
    /// otherwise Server.
    pub fn detect(var: impl Fn(&str) -> Option<String>) -> Platform {
        if cfg!(target_arch = "wasm32") || var("CF_WORKER").is_some() {
            Platform::Cloudflare
        } else if var("AWS_LAMBDA_FUNCTION_NAME").is_some() {
            Platform::Lambda
        } else {
            Platform::Server
        }
    }

    /// Detects the platform from this process's environment.
    pub fn from_process_env() -> Platform {
        Platform::detect(|k| std::env::var(k).ok())
    }

    /// Lowercase name: `server`, `lambda`, `cloudflare`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Server => "server",
            Platform::Lambda => "lambda",
            Platform::Cloudflare => "cloudflare",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn detection_follows_spec_order() {
        assert_eq!(Platform::detect(env(&[])), Platform::Server);
        assert_eq!(
            Platform::detect(env(&[("AWS_LAMBDA_FUNCTION_NAME", "f")])),
            Platform::Lambda
        );
        assert_eq!(
            Platform::detect(env(&[("CF_WORKER", "1")])),
            Platform::Cloudflare
        );
    }
}
