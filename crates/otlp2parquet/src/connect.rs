//! `otlp2parquet connect <client>`: ready-to-paste configuration that points a client at this
//! receiver. Pure text generation, so every snippet is unit-tested.

/// Clients `connect` knows how to configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Client {
    /// An OpenTelemetry Collector (otlphttp exporter).
    OtelCollector,
    /// Anthropic's Claude Code (its OpenTelemetry settings).
    ClaudeCode,
    /// OpenAI's Codex CLI (~/.codex/config.toml).
    Codex,
}

/// The receiver URL to use when `--url` is not given.
pub const DEFAULT_URL: &str = "http://127.0.0.1:4318";

/// Checks `--url`: an http(s) URL without a trailing slash or a `/v1/...` path (clients add
/// the signal path themselves). Returns the normalised base URL.
pub fn base_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("--url {url:?}: expected http://host:port or https://host"))?;
    let trimmed = url.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("--url {url:?}: the host is missing"));
    }
    for signal in ["/v1/logs", "/v1/traces", "/v1/metrics"] {
        if let Some(base) = trimmed.strip_suffix(signal) {
            return Ok(base.to_owned());
        }
    }
    Ok(trimmed.to_owned())
}

/// The configuration text for `client`, sending to `base` (from [`base_url`]).
pub fn snippet(client: Client, base: &str) -> String {
    match client {
        Client::OtelCollector => collector(base),
        Client::ClaudeCode => claude_code(base),
        Client::Codex => codex(base),
    }
}

fn collector(base: &str) -> String {
    // A collector on the same host as otlp2parquet cannot also listen on 4318.
    let local_4318 = ["://127.0.0.1:4318", "://localhost:4318", "://[::1]:4318"]
        .iter()
        .any(|h| base.ends_with(h));
    let http_port = if local_4318 { 4319 } else { 4318 };
    let tls = collector_tls(base);
    format!(
        "# OpenTelemetry Collector configuration: everything the collector receives is written
# to Parquet by otlp2parquet at {base}.
# Run: otelcol-contrib --config collector.yaml
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:{http_port}

processors:
  # Larger requests make larger Parquet files and fewer round trips.
  batch:
    send_batch_size: 8192
    timeout: 5s

exporters:
  otlphttp/otlp2parquet:
    endpoint: {base}
    encoding: proto
    compression: gzip
{tls}    # headers:
    #   Authorization: \"Bearer ${{env:OTLP2PARQUET_TOKEN}}\"
    retry_on_failure:
      enabled: true
    sending_queue:
      enabled: true

service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlphttp/otlp2parquet]
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlphttp/otlp2parquet]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlphttp/otlp2parquet]
"
    )
}

/// The exporter's `tls:` block for an `https` receiver (nothing for `http`): the CA that signed
/// the receiver's certificate, and the client certificate that mutual TLS asks for.
fn collector_tls(base: &str) -> &'static str {
    if !base.starts_with("https://") {
        return "";
    }
    "    tls:
      # The CA that signed otlp2parquet's certificate; leave it out for a publicly trusted one.
      ca_file: /etc/otelcol/otlp2parquet-ca.pem
      # With mutual TLS, the certificate this collector presents:
      # cert_file: /etc/otelcol/client.pem
      # key_file: /etc/otelcol/client-key.pem
"
}

fn claude_code(base: &str) -> String {
    format!(
        "# Claude Code: export its metrics and events (logs) to otlp2parquet at {base}.
# Either export these in the shell that starts `claude`:
export CLAUDE_CODE_ENABLE_TELEMETRY=1
export OTEL_METRICS_EXPORTER=otlp
export OTEL_LOGS_EXPORTER=otlp
export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
export OTEL_EXPORTER_OTLP_ENDPOINT={base}
# export OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer <token>\"   # when auth is on

# or put them in ~/.claude/settings.json:
{{
  \"env\": {{
    \"CLAUDE_CODE_ENABLE_TELEMETRY\": \"1\",
    \"OTEL_METRICS_EXPORTER\": \"otlp\",
    \"OTEL_LOGS_EXPORTER\": \"otlp\",
    \"OTEL_EXPORTER_OTLP_PROTOCOL\": \"http/protobuf\",
    \"OTEL_EXPORTER_OTLP_ENDPOINT\": \"{base}\"
  }}
}}
"
    )
}

fn codex(base: &str) -> String {
    format!(
        "# Codex CLI: add to ~/.codex/config.toml to send its events (logs) to otlp2parquet at {base}.
[otel]
environment = \"dev\"
log_user_prompt = false

[otel.exporter.\"otlp-http\"]
endpoint = \"{base}/v1/logs\"
protocol = \"binary\"

# when auth is on:
# [otel.exporter.\"otlp-http\".headers]
# \"Authorization\" = \"Bearer <token>\"
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_normalised() {
        assert_eq!(
            base_url("http://host:4318/").unwrap(),
            "http://host:4318".to_owned()
        );
        assert_eq!(
            base_url("https://otlp.example.com/v1/logs").unwrap(),
            "https://otlp.example.com".to_owned()
        );
        assert!(base_url("host:4318").unwrap_err().contains("expected http"));
        assert!(base_url("http://").unwrap_err().contains("host is missing"));
    }

    #[test]
    fn collector_points_its_exporter_at_us_and_avoids_our_port() {
        let local = snippet(Client::OtelCollector, DEFAULT_URL);
        assert!(
            local.contains("endpoint: http://127.0.0.1:4318\n"),
            "{local}"
        );
        assert!(local.contains("endpoint: 0.0.0.0:4319"), "{local}");
        for signal in ["logs:", "traces:", "metrics:"] {
            assert!(local.contains(signal), "{signal} pipeline missing");
        }
        let remote = snippet(Client::OtelCollector, "http://parquet.internal:4318");
        assert!(remote.contains("endpoint: 0.0.0.0:4318"), "{remote}");
        assert!(!remote.contains("tls:"), "{remote}");
    }

    #[test]
    fn an_https_receiver_gets_the_exporters_tls_settings() {
        let text = snippet(Client::OtelCollector, "https://parquet.example.com:4318");
        let exporter = text
            .split("otlphttp/otlp2parquet:\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap_or_default();
        assert!(
            exporter.contains("    endpoint: https://parquet.example.com:4318\n"),
            "{text}"
        );
        assert!(exporter.contains("    tls:\n      # "), "{exporter}");
        assert!(exporter.contains("      ca_file: "), "{exporter}");
        assert!(exporter.contains("      # cert_file: "), "{exporter}");
        assert!(exporter.contains("      # key_file: "), "{exporter}");
    }

    #[test]
    fn coding_agents_get_their_own_settings() {
        let claude = snippet(Client::ClaudeCode, "http://h:1");
        assert!(claude.contains("export OTEL_EXPORTER_OTLP_ENDPOINT=http://h:1\n"));
        assert!(claude.contains("CLAUDE_CODE_ENABLE_TELEMETRY=1"));
        let codex = snippet(Client::Codex, "http://h:1");
        assert!(codex.contains("endpoint = \"http://h:1/v1/logs\""));
        assert!(codex.contains("protocol = \"binary\""));
    }
}
