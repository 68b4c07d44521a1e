//! `otlp2parquet-loadgen`: drives an OTLP/HTTP (or OTLP/gRPC) receiver with logs, traces or
//! metrics over concurrent keep-alive connections (or a new connection per request), over plain
//! HTTP or TLS, and reports throughput, latency and the server's CPU and memory (`run`); a
//! do-nothing receiver to measure the generator's own ceiling (`sink`); and a row count of what
//! the server wrote (`verify`).
//! `scripts/bench-load.sh` ties them together.

mod latency;
mod payload;
mod procfs;
mod report;
mod run;
mod sink;
mod verify;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Load generator and checker for the otlp2parquet server.
#[derive(Debug, Parser)]
#[command(name = "otlp2parquet-loadgen", about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send OTLP/HTTP protobuf exports over N connections and report what came back.
    Run(RunArgs),
    /// Answer every request with 200 and an empty export response (generator ceiling).
    Sink {
        /// Port to listen on, on 127.0.0.1.
        #[arg(long)]
        port: u16,
    },
    /// Sum the rows of every Parquet file under DIR/SIGNAL/ (logs, traces, or metrics: all five
    /// metric tables, `metrics/<kind>/`) and compare with --expect-rows.
    Verify {
        /// The server's output directory.
        #[arg(long)]
        dir: PathBuf,
        /// Rows that must be there (the run's acknowledged records).
        #[arg(long)]
        expect_rows: u64,
        /// Which signal's files to count.
        #[arg(long, value_enum)]
        signal: Signal,
    },
    /// Print a free TCP port on 127.0.0.1 (for scripts).
    FreePort,
}

#[derive(Debug, Clone, clap::Args)]
struct RunArgs {
    /// Base URL of the receiver; `https://` for a server with TLS (see --ca-cert).
    #[arg(long, default_value = "http://127.0.0.1:4318")]
    url: String,
    /// PEM file of the CA that signed the server's certificate: the only root the clients
    /// trust on an `https://` --url (without it, the system's roots).
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Open a new connection (TCP, plus the TLS handshake on `https://`) for every request
    /// instead of keeping connections alive, so that each request pays the handshake.
    #[arg(long)]
    new_connection_per_request: bool,
    /// Let a new TLS connection resume an earlier session (TLS 1.3 tickets, kept in memory by
    /// each connection's client) instead of making a full handshake (certificate chain,
    /// signature, key exchange). Needs --ca-cert; without this flag every new connection makes
    /// a full handshake.
    #[arg(long, requires = "ca_cert")]
    tls_resumption: bool,
    /// Signal to send.
    #[arg(long, value_enum, default_value = "logs")]
    signal: Signal,
    /// Concurrent keep-alive connections (concurrent requests with
    /// --new-connection-per-request).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Measured duration, e.g. 20s, 500ms, 2m.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before the measured window (its records still count as acknowledged).
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    warmup: Duration,
    /// Records per request: log records, spans, or metric data points (gauge, sum and histogram
    /// metrics of up to ten points each).
    #[arg(long, default_value_t = 512)]
    batch: usize,
    /// Services (resources) per request.
    #[arg(long, default_value_t = 4)]
    services: usize,
    /// Distinct request bodies to cycle through.
    #[arg(long, default_value_t = 64)]
    payloads: usize,
    /// Send gzip-compressed bodies (their record times are fixed: `--times replay`).
    #[arg(long)]
    gzip: bool,
    /// Record times: `fresh` stamps each request's records within the second before it is sent,
    /// as an SDK's batch processor does; `replay` sends every body with the same five minutes
    /// of times, so concurrent requests overlap completely (the batcher's worst case).
    #[arg(long, value_enum, default_value = "fresh")]
    times: Times,
    /// Server process whose CPU time and memory to report.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Send OTLP/gRPC (HTTP/2: h2c with prior knowledge on `http://`, ALPN `h2` on `https://`)
    /// to --url, the server's gRPC address, instead of OTLP/HTTP.
    #[arg(long)]
    grpc: bool,
    /// Runtime worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

/// How record times are set (see `run --times`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Times {
    /// Rewritten for every request to the last second.
    Fresh,
    /// Fixed when the bodies are built.
    Replay,
}

/// The signals the load generator can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Signal {
    /// Log records to `/v1/logs`.
    Logs,
    /// Spans to `/v1/traces`.
    Traces,
    /// Metric data points (gauge, sum and histogram) to `/v1/metrics`.
    Metrics,
}

impl Signal {
    /// The URL path segment and the output directory name.
    pub fn path(self) -> &'static str {
        match self {
            Signal::Logs => "logs",
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
        }
    }
}

/// Parses `20s`, `500ms`, `2m` or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.');
    let (number, unit) = split.map_or((s, ""), |i| s.split_at(i));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?}: expected a duration such as 20s, 500ms or 2m"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

fn runtime(threads: Option<usize>) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n.max(1));
    }
    builder
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn run(args: RunArgs) -> Result<ExitCode, String> {
    let payloads = payload::generate(
        args.signal,
        args.payloads,
        args.batch,
        args.services,
        args.gzip,
        args.times == Times::Fresh && !args.gzip,
    )
    .map_err(|e| format!("cannot build payloads: {e}"))?;
    let ca_cert = args.ca_cert.as_deref().map(read_ca).transpose()?;
    let plan = run::Plan {
        url: args.url,
        ca_cert,
        tls_resumption: args.tls_resumption,
        new_connection_per_request: args.new_connection_per_request,
        signal: args.signal,
        connections: args.connections,
        duration: args.duration,
        warmup: args.warmup,
        server_pid: args.server_pid,
        grpc: args.grpc,
    };
    let report = runtime(args.threads)?.block_on(run::run(plan, payloads))?;
    report
        .write_to(&mut std::io::stdout().lock())
        .map_err(|e| e.to_string())?;
    // Back-pressure (429/503) is an answer; anything else means a broken run.
    Ok(if report.hard_errors() > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads the PEM CA certificate(s) that `run --ca-cert` trusts.
fn read_ca(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no BEGIN CERTIFICATE block in the file",
            path.display()
        ));
    }
    Ok(certs)
}

fn free_port() -> Result<ExitCode, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    writeln!(std::io::stdout().lock(), "{port}").map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Run(args) => run(args),
        Command::Sink { port } => {
            runtime(None).and_then(|rt| rt.block_on(sink::serve(port)).map(|()| ExitCode::SUCCESS))
        }
        Command::Verify {
            dir,
            expect_rows,
            signal,
        } => verify::verify(&dir, signal.path(), expect_rows).map(|ok| {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }),
        Command::FreePort => free_port(),
    };
    result.unwrap_or_else(|e| {
        let _ = writeln!(std::io::stderr().lock(), "otlp2parquet-loadgen: {e}");
        ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20s").unwrap(), Duration::from_secs(20));
        assert_eq!(parse_duration("20").unwrap(), Duration::from_secs(20));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5m").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("s").is_err());
    }
}
