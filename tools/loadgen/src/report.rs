//! The end-of-run report: a human table, then one JSON line with the same figures (the line
//! `scripts/bench-load.sh` reads).

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use serde_json::json;

use crate::Signal;

/// CPU and memory of the server process over the run.
#[derive(Debug, Clone)]
pub struct ServerUsage {
    /// The watched process.
    pub pid: u32,
    /// User + system CPU time used during the measured window.
    pub cpu: Option<Duration>,
    /// The largest `VmRSS` seen by the 100 ms sampler, in bytes.
    pub peak_rss_sampled: u64,
    /// `VmHWM` (the kernel's own peak RSS) at the end of the run, in bytes.
    pub vm_hwm: Option<u64>,
}

/// Figures of one run; rates are over the measured window only.
#[derive(Debug, Clone)]
pub struct Report {
    /// Signal sent.
    pub signal: Signal,
    /// Concurrent connections.
    pub connections: usize,
    /// Whether the URL was `https://`.
    pub tls: bool,
    /// Whether every request opened a new connection.
    pub new_connection_per_request: bool,
    /// Whether a new TLS connection could resume an earlier session (no full handshake).
    pub tls_resumption: bool,
    /// Records per request.
    pub batch: u64,
    /// Distinct request bodies.
    pub payloads: usize,
    /// Whether bodies were gzip-compressed.
    pub gzip: bool,
    /// Mean body size as sent, and of the protobuf before compression, in bytes.
    pub avg_body_bytes: u64,
    /// Mean protobuf size before compression.
    pub avg_raw_bytes: u64,
    /// Length of the measured window (until the last in-flight request finished).
    pub elapsed: Duration,
    /// 200 responses in the measured window.
    pub ok_requests: u64,
    /// Records those responses acknowledged.
    pub ok_records: u64,
    /// Request body bytes (as sent, compressed if gzip) of those requests.
    pub ok_bytes: u64,
    /// Records acknowledged with 200 over the whole run, warm-up included: what the server must
    /// have written once it has flushed.
    pub acknowledged_records: u64,
    /// Records a 200 response listed as rejected (`partial_success`).
    pub rejected_records: u64,
    /// Non-200 outcomes by status code, or `connect` / `timeout` / `transport`.
    pub errors: BTreeMap<String, u64>,
    /// Latency percentiles and maximum of the 200 responses, microseconds.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Maximum.
    pub max_us: u64,
    /// The server's usage, when its PID was given.
    pub server: Option<ServerUsage>,
    /// The loadgen's own CPU time during the measured window.
    pub loadgen_cpu: Option<Duration>,
}

impl Report {
    fn per_sec(&self, n: u64) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { n as f64 / secs } else { 0.0 }
    }

    /// CPU time as a percentage of one core over the measured window.
    fn cpu_percent(&self, cpu: Option<Duration>) -> Option<f64> {
        let secs = self.elapsed.as_secs_f64();
        cpu.filter(|_| secs > 0.0)
            .map(|c| c.as_secs_f64() / secs * 100.0)
    }

    /// Errors other than back-pressure (429, 503): these fail a benchmark.
    pub fn hard_errors(&self) -> u64 {
        self.errors
            .iter()
            .filter(|(k, _)| k.as_str() != "429" && k.as_str() != "503")
            .map(|(_, v)| *v)
            .sum()
    }

    /// The one-line JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        let server = self.server.as_ref().map(|s| {
            json!({
                "pid": s.pid,
                "cpu_seconds": s.cpu.map(|c| c.as_secs_f64()),
                "cpu_percent": self.cpu_percent(s.cpu),
                "peak_rss_bytes": s.peak_rss_sampled,
                "vm_hwm_bytes": s.vm_hwm,
            })
        });
        json!({
            "signal": self.signal.path(),
            "connections": self.connections,
            "tls": self.tls,
            "new_connection_per_request": self.new_connection_per_request,
            "tls_resumption": self.tls && self.tls_resumption,
            "batch": self.batch,
            "payloads": self.payloads,
            "gzip": self.gzip,
            "avg_body_bytes": self.avg_body_bytes,
            "avg_raw_bytes": self.avg_raw_bytes,
            "elapsed_seconds": self.elapsed.as_secs_f64(),
            "requests_ok": self.ok_requests,
            "records_ok": self.ok_records,
            "body_bytes_ok": self.ok_bytes,
            "records_per_second": self.per_sec(self.ok_records),
            "requests_per_second": self.per_sec(self.ok_requests),
            "mb_per_second": self.per_sec(self.ok_bytes) / 1e6,
            "latency_ms": {
                "p50": ms(self.p50_us),
                "p90": ms(self.p90_us),
                "p99": ms(self.p99_us),
                "max": ms(self.max_us),
            },
            "errors": self.errors,
            "hard_errors": self.hard_errors(),
            "acknowledged_records": self.acknowledged_records,
            "rejected_records": self.rejected_records,
            "server": server,
            "loadgen_cpu_percent": self.cpu_percent(self.loadgen_cpu),
        })
    }

    /// Writes the table and the JSON line to `out`.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let unit = match self.signal {
            Signal::Logs => "log records",
            Signal::Traces => "spans",
            Signal::Metrics => "data points",
        };
        writeln!(
            out,
            "load: {} over {} {} connections ({}), {} {unit}/request, {} bodies of {:.0} KiB{}, {:.1} s measured",
            self.signal.path(),
            self.connections,
            if self.tls { "TLS" } else { "plain" },
            match (
                self.new_connection_per_request,
                self.tls,
                self.tls_resumption
            ) {
                (false, _, _) => "keep-alive",
                (true, false, _) => "a new connection per request",
                (true, true, false) => "a new connection per request, full TLS handshakes",
                (true, true, true) => "a new connection per request, TLS sessions resumed",
            },
            self.batch,
            self.payloads,
            self.avg_body_bytes as f64 / 1024.0,
            if self.gzip {
                format!(" (gzip of {:.0} KiB)", self.avg_raw_bytes as f64 / 1024.0)
            } else {
                String::new()
            },
            self.elapsed.as_secs_f64()
        )?;
        let row = |out: &mut dyn Write, k: &str, v: String| writeln!(out, "  {k:<26} {v}");
        row(
            out,
            &format!("{unit}/s"),
            format!("{:.0}", self.per_sec(self.ok_records)),
        )?;
        row(
            out,
            "requests/s",
            format!("{:.1}", self.per_sec(self.ok_requests)),
        )?;
        row(
            out,
            "MB/s (request bodies)",
            format!("{:.2}", self.per_sec(self.ok_bytes) / 1e6),
        )?;
        row(
            out,
            "latency p50/p90/p99 (200)",
            format!(
                "{:.2} / {:.2} / {:.2} ms",
                ms(self.p50_us),
                ms(self.p90_us),
                ms(self.p99_us)
            ),
        )?;
        row(
            out,
            "latency max (200)",
            format!("{:.2} ms", ms(self.max_us)),
        )?;
        let errors = if self.errors.is_empty() {
            "none".to_owned()
        } else {
            self.errors
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        row(out, "errors", errors)?;
        row(
            out,
            "acknowledged (total)",
            format!(
                "{} {unit} ({} rejected in partial success)",
                self.acknowledged_records, self.rejected_records
            ),
        )?;
        if let Some(s) = &self.server {
            row(
                out,
                "server CPU",
                self.cpu_percent(s.cpu).map_or("n/a".to_owned(), |p| {
                    format!("{p:.0} % of one core (pid {})", s.pid)
                }),
            )?;
            row(
                out,
                "server peak RSS",
                format!(
                    "{:.1} MiB sampled, VmHWM {}",
                    mib(s.peak_rss_sampled),
                    s.vm_hwm
                        .map_or("n/a".to_owned(), |h| format!("{:.1} MiB", mib(h)))
                ),
            )?;
        }
        row(
            out,
            "loadgen CPU",
            self.cpu_percent(self.loadgen_cpu)
                .map_or("n/a".to_owned(), |p| format!("{p:.0} % of one core")),
        )?;
        writeln!(out, "{}", self.to_json())
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
