//! The Worker's log sink: a minimal `tracing` subscriber that formats each event as one line
//! and hands it to the platform console (Workers Logs and `wrangler tail` read `console.*`).
//!
//! The pipeline already logs through `tracing`; a full `tracing-subscriber` would cost wasm
//! size for span bookkeeping and formatting layers the Worker never uses, so this writes only
//! events, with their fields as `name=value`, filtered by `server.log_level`.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Where a formatted line goes, with its level (the Worker passes `console.log`/`warn`/`error`).
pub type Sink = fn(Level, &str);

/// Forwards events at or above a level to a [`Sink`].
#[derive(Debug, Clone, Copy)]
pub struct ConsoleSubscriber {
    max: Level,
    sink: Sink,
}

impl ConsoleSubscriber {
    /// Events at `max` or more severe go to `sink`.
    pub fn new(max: Level, sink: Sink) -> Self {
        ConsoleSubscriber { max, sink }
    }
}

/// The most verbose level named in `log_level` (`info`, `warn`, or an `EnvFilter`-style list
/// such as `otlp2parquet=debug,info`); `info` when it names none.
pub fn parse_level(log_level: &str) -> Level {
    log_level
        .split(',')
        .filter_map(|d| d.rsplit('=').next()?.trim().parse::<Level>().ok())
        .max()
        .unwrap_or(Level::INFO)
}

/// Formats one event as `LEVEL target: message key=value …`.
pub fn format_event(event: &Event<'_>) -> String {
    let meta = event.metadata();
    let mut line = format!("{} {}:", meta.level(), meta.target());
    event.record(&mut Line(&mut line));
    line
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value}");
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for ConsoleSubscriber {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // tracing orders levels by verbosity: ERROR < WARN < INFO < DEBUG < TRACE.
        *metadata.level() <= self.max
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::from_level(self.max))
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        // Spans are not recorded; every span shares one id.
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        (self.sink)(*event.metadata().level(), &format_event(event));
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    static LINES: Mutex<Vec<(Level, String)>> = Mutex::new(Vec::new());

    fn collect(level: Level, line: &str) {
        LINES.lock().unwrap().push((level, line.to_owned()));
    }

    #[test]
    fn levels_parse_like_the_server_filter() {
        assert_eq!(parse_level("warn"), Level::WARN);
        assert_eq!(parse_level("otlp2parquet=debug,info"), Level::DEBUG);
        assert_eq!(parse_level("ERROR"), Level::ERROR);
        assert_eq!(parse_level("loud"), Level::INFO);
    }

    #[test]
    fn events_at_or_above_the_level_reach_the_sink_with_their_fields() {
        let subscriber = ConsoleSubscriber::new(Level::WARN, collect);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("dropped");
            tracing::warn!(
                key = "logs/a.parquet",
                status = 503u16,
                "storage write failed"
            );
            tracing::error!(error = %"boom", "bad");
        });
        let lines = std::mem::take(&mut *LINES.lock().unwrap());
        assert_eq!(
            lines,
            vec![
                (
                    Level::WARN,
                    "WARN otlp2parquet_cloudflare::log::tests: storage write failed \
                     key=logs/a.parquet status=503"
                        .to_owned()
                ),
                (
                    Level::ERROR,
                    "ERROR otlp2parquet_cloudflare::log::tests: bad error=boom".to_owned()
                ),
            ]
        );
    }
}
