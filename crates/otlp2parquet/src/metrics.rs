//! The server's own counters, served as Prometheus text on `GET /metrics`.
//!
//! Plain atomics: every request touches a few of them, so they must cost nothing next to
//! decoding; the text is rendered only when scraped.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use otlp2parquet_common::Signal;

/// Response statuses counted one by one; anything else is counted as `other`.
const STATUSES: [u16; 12] = [200, 400, 401, 404, 405, 408, 413, 415, 429, 500, 503, 0];

/// Upper bounds (seconds) of the request latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct PerSignal {
    /// By index in [`STATUSES`].
    requests: [AtomicU64; STATUSES.len()],
    records: AtomicU64,
    bytes: AtomicU64,
    /// Requests refused without storing anything (any non-200).
    rejected: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
}

/// Every counter and gauge the server exposes.
#[derive(Debug, Default)]
pub struct Metrics {
    signals: [PerSignal; 3],
    /// Files written to storage.
    pub flushes: AtomicU64,
    /// Rows in the files written.
    pub rows_written: AtomicU64,
    /// Bytes of the files written.
    pub bytes_written: AtomicU64,
    /// Failed storage writes (each retry that fails counts).
    pub flush_failures: AtomicU64,
    /// Rows accepted but not yet in storage (buffered, being encoded or awaiting a retry).
    pub buffered_rows: AtomicU64,
    /// Arrow bytes held for those rows (encoded bytes once a file awaits a retry).
    pub buffered_bytes: AtomicU64,
    /// Requests answered 503 because the buffer bound was reached.
    pub overload_rejections: AtomicU64,
    /// Write-ahead log appends that failed (requests refused, intents retried).
    pub wal_failures: AtomicU64,
    /// Open connections, both listeners.
    pub connections_open: AtomicU64,
    /// Connections the server closed or refused, by [`ConnectionEnd`].
    connections_ended: [AtomicU64; ConnectionEnd::ALL.len()],
}

/// Why the server ended a connection itself (a client closing is not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionEnd {
    /// Its first bytes, TLS handshake or an HTTP/1 request head did not arrive in time.
    HeaderTimeout,
    /// No request in flight for `server.idle_timeout_secs`.
    Idle,
    /// Closed at the connection cap to make room (it was the longest idle).
    Evicted,
    /// The TLS handshake failed (bad or missing client certificate, client refused ours…).
    TlsHandshake,
    /// Plaintext sent to a TLS port.
    Plaintext,
    /// `accept` failed because the process ran out of file descriptors.
    OutOfFds,
}

impl ConnectionEnd {
    const ALL: [ConnectionEnd; 6] = [
        ConnectionEnd::HeaderTimeout,
        ConnectionEnd::Idle,
        ConnectionEnd::Evicted,
        ConnectionEnd::TlsHandshake,
        ConnectionEnd::Plaintext,
        ConnectionEnd::OutOfFds,
    ];

    fn label(self) -> &'static str {
        match self {
            ConnectionEnd::HeaderTimeout => "header_timeout",
            ConnectionEnd::Idle => "idle",
            ConnectionEnd::Evicted => "evicted",
            ConnectionEnd::TlsHandshake => "tls_handshake",
            ConnectionEnd::Plaintext => "plaintext_on_tls",
            ConnectionEnd::OutOfFds => "out_of_fds",
        }
    }
}

fn signal_index(signal: Signal) -> usize {
    match signal {
        Signal::Logs => 0,
        Signal::Traces => 1,
        Signal::Metrics => 2,
    }
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    /// Counts a connection the server ended, and why.
    pub fn connection_ended(&self, why: ConnectionEnd) {
        if let Some(i) = ConnectionEnd::ALL.iter().position(|w| *w == why)
            && let Some(c) = self.connections_ended.get(i)
        {
            add(c, 1);
        }
    }

    /// Counts one answered export request: its status, body size, records stored (0 unless
    /// 200) and how long it took.
    pub fn record_request(
        &self,
        signal: Signal,
        status: u16,
        body_bytes: usize,
        records: usize,
        elapsed: Duration,
    ) {
        let Some(s) = self.signals.get(signal_index(signal)) else {
            return;
        };
        let slot = STATUSES
            .iter()
            .position(|&c| c == status)
            .unwrap_or(STATUSES.len() - 1);
        if let Some(c) = s.requests.get(slot) {
            add(c, 1);
        }
        add(&s.bytes, body_bytes as u64);
        if status == 200 {
            add(&s.records, records as u64);
        } else {
            add(&s.rejected, 1);
        }
        let secs = elapsed.as_secs_f64();
        if let Some(b) = LATENCY_BUCKETS.iter().position(|&le| secs <= le)
            && let Some(c) = s.latency_buckets.get(b)
        {
            add(c, 1);
        }
        add(&s.latency_count, 1);
        add(
            &s.latency_micros,
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        );
    }

    /// Records stored (answered 200) for `signal` so far.
    #[cfg(test)]
    pub fn records(&self, signal: Signal) -> u64 {
        self.signals
            .get(signal_index(signal))
            .map_or(0, |s| s.records.load(Ordering::Relaxed))
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut family = |name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP otlp2parquet_{name} {help}");
            let _ = writeln!(out, "# TYPE otlp2parquet_{name} {kind}");
        };
        family(
            "requests_total",
            "counter",
            "Export requests answered, by signal and HTTP status.",
        );
        let mut lines = String::new();
        for signal in Signal::ALL {
            let Some(s) = self.signals.get(signal_index(signal)) else {
                continue;
            };
            for (code, c) in STATUSES.iter().zip(&s.requests) {
                let n = get(c);
                if n > 0 {
                    let code = if *code == 0 {
                        "other".to_owned()
                    } else {
                        code.to_string()
                    };
                    let _ = writeln!(
                        lines,
                        "otlp2parquet_requests_total{{signal=\"{signal}\",code=\"{code}\"}} {n}"
                    );
                }
            }
        }
        out.push_str(&lines);
        type Field = fn(&PerSignal) -> &AtomicU64;
        let per_signal: [(&str, &str, Field); 3] = [
            (
                "records_total",
                "Records (log records, spans, data points) accepted.",
                |s| &s.records,
            ),
            (
                "request_bytes_total",
                "Request body bytes received, as sent (compressed).",
                |s| &s.bytes,
            ),
            (
                "rejected_requests_total",
                "Export requests answered with an error status.",
                |s| &s.rejected,
            ),
        ];
        for (name, help, field) in per_signal {
            let _ = writeln!(out, "# HELP otlp2parquet_{name} {help}");
            let _ = writeln!(out, "# TYPE otlp2parquet_{name} counter");
            for signal in Signal::ALL {
                if let Some(s) = self.signals.get(signal_index(signal)) {
                    let _ = writeln!(
                        out,
                        "otlp2parquet_{name}{{signal=\"{signal}\"}} {}",
                        get(field(s))
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP otlp2parquet_request_duration_seconds Time from request to response."
        );
        let _ = writeln!(
            out,
            "# TYPE otlp2parquet_request_duration_seconds histogram"
        );
        for signal in Signal::ALL {
            let Some(s) = self.signals.get(signal_index(signal)) else {
                continue;
            };
            let mut cumulative = 0;
            for (le, c) in LATENCY_BUCKETS.iter().zip(&s.latency_buckets) {
                cumulative += get(c);
                let _ = writeln!(
                    out,
                    "otlp2parquet_request_duration_seconds_bucket{{signal=\"{signal}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let count = get(&s.latency_count);
            let _ = writeln!(
                out,
                "otlp2parquet_request_duration_seconds_bucket{{signal=\"{signal}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "otlp2parquet_request_duration_seconds_sum{{signal=\"{signal}\"}} {}",
                get(&s.latency_micros) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "otlp2parquet_request_duration_seconds_count{{signal=\"{signal}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP otlp2parquet_connections_ended_total Connections the server closed or refused, by reason."
        );
        let _ = writeln!(out, "# TYPE otlp2parquet_connections_ended_total counter");
        for (why, c) in ConnectionEnd::ALL.iter().zip(&self.connections_ended) {
            let _ = writeln!(
                out,
                "otlp2parquet_connections_ended_total{{reason=\"{}\"}} {}",
                why.label(),
                get(c)
            );
        }
        let scalars: [(&str, &str, &str, &AtomicU64); 9] = [
            (
                "flushes_total",
                "counter",
                "Parquet files written to storage.",
                &self.flushes,
            ),
            (
                "rows_written_total",
                "counter",
                "Rows in the Parquet files written.",
                &self.rows_written,
            ),
            (
                "bytes_written_total",
                "counter",
                "Bytes of the Parquet files written.",
                &self.bytes_written,
            ),
            (
                "flush_failures_total",
                "counter",
                "Storage writes that failed (each failed retry counts; the rows stay buffered).",
                &self.flush_failures,
            ),
            (
                "overload_rejections_total",
                "counter",
                "Requests answered 503 because buffered memory reached batch.max_buffered_bytes.",
                &self.overload_rejections,
            ),
            (
                "wal_failures_total",
                "counter",
                "Write-ahead log appends that failed (a refused request, or a file intent retried).",
                &self.wal_failures,
            ),
            (
                "connections_open",
                "gauge",
                "Open connections of both listeners.",
                &self.connections_open,
            ),
            (
                "buffered_rows",
                "gauge",
                "Rows accepted and not yet written to storage.",
                &self.buffered_rows,
            ),
            (
                "buffered_bytes",
                "gauge",
                "Memory held for rows not yet written to storage.",
                &self.buffered_bytes,
            ),
        ];
        for (name, kind, help, c) in scalars {
            let _ = writeln!(out, "# HELP otlp2parquet_{name} {help}");
            let _ = writeln!(out, "# TYPE otlp2parquet_{name} {kind}");
            let _ = writeln!(out, "otlp2parquet_{name} {}", get(c));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histogram_and_gauges() {
        let m = Metrics::default();
        m.record_request(Signal::Logs, 200, 100, 7, Duration::from_millis(3));
        m.record_request(Signal::Logs, 400, 10, 0, Duration::from_micros(200));
        m.record_request(Signal::Traces, 418, 1, 0, Duration::from_secs(9));
        add(&m.buffered_rows, 42);
        let text = m.render();
        for want in [
            "otlp2parquet_requests_total{signal=\"logs\",code=\"200\"} 1",
            "otlp2parquet_requests_total{signal=\"logs\",code=\"400\"} 1",
            "otlp2parquet_requests_total{signal=\"traces\",code=\"other\"} 1",
            "otlp2parquet_records_total{signal=\"logs\"} 7",
            "otlp2parquet_request_bytes_total{signal=\"logs\"} 110",
            "otlp2parquet_rejected_requests_total{signal=\"logs\"} 1",
            "otlp2parquet_request_duration_seconds_bucket{signal=\"logs\",le=\"0.0005\"} 1",
            "otlp2parquet_request_duration_seconds_bucket{signal=\"logs\",le=\"0.005\"} 2",
            "otlp2parquet_request_duration_seconds_bucket{signal=\"traces\",le=\"5\"} 0",
            "otlp2parquet_request_duration_seconds_bucket{signal=\"traces\",le=\"+Inf\"} 1",
            "otlp2parquet_request_duration_seconds_count{signal=\"logs\"} 2",
            "otlp2parquet_buffered_rows 42",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert_eq!(m.records(Signal::Logs), 7);
    }
}
