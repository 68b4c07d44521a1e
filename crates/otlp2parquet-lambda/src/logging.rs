//! Structured logs: one JSON object per line on stdout, where Lambda sends them to CloudWatch
//! (fields at the top level so Logs Insights can filter on `status` or `signal`).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber: `RUST_LOG` if set and valid, else `level`
/// (`server.log_level`), else `info`.
pub fn init(level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
    if installed.is_err() {
        // Only a second call gets here; the first subscriber keeps logging.
        tracing::debug!("log subscriber already installed");
    }
}
