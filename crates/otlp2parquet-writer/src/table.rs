use otlp2parquet_common::{MetricKind, Signal};

/// One of the seven tables of docs/schema.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `logs` (docs/schema.md#logs).
    Logs,
    /// `traces` (docs/schema.md#traces).
    Traces,
    /// One of the five metric tables (docs/schema.md#metrics).
    Metrics(MetricKind),
}

impl Table {
    /// All seven tables.
    pub const ALL: [Table; 7] = [
        Table::Logs,
        Table::Traces,
        Table::Metrics(MetricKind::Gauge),
        Table::Metrics(MetricKind::Sum),
        Table::Metrics(MetricKind::Histogram),
        Table::Metrics(MetricKind::ExponentialHistogram),
        Table::Metrics(MetricKind::Summary),
    ];

    /// Table name: `logs`, `traces`, `gauge`, `sum`, `histogram`, `exponential_histogram`, `summary`.
    pub fn name(self) -> &'static str {
        match self {
            Table::Logs => "logs",
            Table::Traces => "traces",
            Table::Metrics(kind) => kind.as_str(),
        }
    }

    /// The key path segment(s) before the service: `logs`, `traces`, `metrics/<kind>`
    /// (docs/keys.md#layout).
    pub fn key_path(self) -> &'static str {
        match self {
            Table::Logs => "logs",
            Table::Traces => "traces",
            Table::Metrics(MetricKind::Gauge) => "metrics/gauge",
            Table::Metrics(MetricKind::Sum) => "metrics/sum",
            Table::Metrics(MetricKind::Histogram) => "metrics/histogram",
            Table::Metrics(MetricKind::ExponentialHistogram) => "metrics/exponential_histogram",
            Table::Metrics(MetricKind::Summary) => "metrics/summary",
        }
    }

    /// The signal whose requests fill this table.
    pub fn signal(self) -> Signal {
        match self {
            Table::Logs => Signal::Logs,
            Table::Traces => Signal::Traces,
            Table::Metrics(_) => Signal::Metrics,
        }
    }

    /// The footer metadata value `otlp2parquet.schema` (docs/schema.md#footer-metadata):
    /// `<table>/v1`.
    pub fn schema_id(self) -> &'static str {
        match self {
            Table::Logs => "logs/v1",
            Table::Traces => "traces/v1",
            Table::Metrics(MetricKind::Gauge) => "gauge/v1",
            Table::Metrics(MetricKind::Sum) => "sum/v1",
            Table::Metrics(MetricKind::Histogram) => "histogram/v1",
            Table::Metrics(MetricKind::ExponentialHistogram) => "exponential_histogram/v1",
            Table::Metrics(MetricKind::Summary) => "summary/v1",
        }
    }
}
