//! The load loop: N connections, each its own keep-alive HTTP/1.1 client (or, with
//! `new_connection_per_request`, a client that opens a fresh connection for every request),
//! over plain HTTP or TLS, POSTing pre-built bodies back to back until the deadline, plus a
//! sampler of the server's memory.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use rustls::pki_types::CertificateDer;
use tokio::time::Instant;

use crate::Signal;
use crate::latency::Latencies;
use crate::payload::{self, Payloads};
use crate::procfs::Proc;
use crate::report::{Report, ServerUsage};

/// What to send, where, and for how long.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Base URL of the receiver, e.g. `http://127.0.0.1:4318` (`https://` for TLS).
    pub url: String,
    /// CA certificates to trust instead of the system's roots (a test server's own CA).
    pub ca_cert: Option<Vec<CertificateDer<'static>>>,
    /// With `ca_cert`: let new connections resume a TLS session rather than make a full
    /// handshake.
    pub tls_resumption: bool,
    /// Open a new connection (TCP + TLS) for every request instead of keeping it alive.
    pub new_connection_per_request: bool,
    /// Logs, traces or metrics.
    pub signal: Signal,
    /// Concurrent connections.
    pub connections: usize,
    /// Measured time, after the warm-up.
    pub duration: Duration,
    /// Time sent but not measured (still acknowledged and counted for `verify`).
    pub warmup: Duration,
    /// Server process to watch for CPU and memory.
    pub server_pid: Option<u32>,
    /// Send OTLP/gRPC (h2c) to `url` instead of OTLP/HTTP.
    pub grpc: bool,
}

/// A connection gives up after this many transport errors in a row: the server is gone.
const MAX_CONSECUTIVE_TRANSPORT_ERRORS: u32 = 50;

/// Tallies of one connection.
#[derive(Debug, Default)]
struct Tally {
    /// 200 responses completed inside the measured window, their records and body bytes.
    ok_requests: u64,
    ok_records: u64,
    ok_bytes: u64,
    /// Records acknowledged over the whole run, warm-up included, minus partial rejections.
    acknowledged: u64,
    rejected: u64,
    errors: BTreeMap<String, u64>,
    latencies: Latencies,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.ok_requests += other.ok_requests;
        self.ok_records += other.ok_records;
        self.ok_bytes += other.ok_bytes;
        self.acknowledged += other.acknowledged;
        self.rejected += other.rejected;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.latencies.merge(other.latencies);
    }
}

/// Runs the plan and returns the measured figures.
pub async fn run(plan: Plan, payloads: Payloads) -> Result<Report, String> {
    let endpoint = if plan.grpc {
        format!(
            "{}{}",
            plan.url.trim_end_matches('/'),
            grpc_method(plan.signal)
        )
    } else {
        format!(
            "{}/v1/{}",
            plan.url.trim_end_matches('/'),
            plan.signal.path()
        )
    };
    let payloads = Arc::new(payloads);
    // Clients first: building them takes time that must not eat into the measured window.
    let mut clients = Vec::with_capacity(plan.connections);
    for _ in 0..plan.connections.max(1) {
        // An idle pool of 0 disables hyper's pool: every request connects (and, on https://,
        // handshakes) anew, and the connection is closed once its response is read.
        let idle = usize::from(!plan.new_connection_per_request);
        let builder = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(idle)
            .tcp_nodelay(true);
        // gRPC: one HTTP/2 connection per client (h2c with prior knowledge, as exporters
        // configured `insecure` do; ALPN `h2` over TLS). OTLP/HTTP: HTTP/1.1 also over TLS,
        // where ALPN would otherwise pick HTTP/2 and change more than the encryption.
        let builder = if plan.grpc {
            builder.http2_prior_knowledge()
        } else {
            builder.http1_only()
        };
        let builder = match &plan.ca_cert {
            Some(roots) => builder.tls_backend_preconfigured(tls_config(
                roots,
                plan.tls_resumption,
                plan.grpc,
            )?),
            None => builder,
        };
        clients.push(
            builder
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))?,
        );
    }
    let measure_from = Instant::now() + plan.warmup;
    let deadline = measure_from + plan.duration;

    let stop_sampling = Arc::new(AtomicBool::new(false));
    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampler = plan.server_pid.map(|pid| {
        tokio::spawn(sample_rss(
            Proc::Pid(pid),
            Arc::clone(&stop_sampling),
            Arc::clone(&peak_rss),
        ))
    });

    let workers: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(index, client)| {
            tokio::spawn(connection(
                client,
                Target {
                    endpoint: endpoint.clone(),
                    signal: plan.signal,
                    grpc: plan.grpc,
                },
                Arc::clone(&payloads),
                index,
                measure_from,
                deadline,
            ))
        })
        .collect();

    tokio::time::sleep_until(measure_from).await;
    let server = plan.server_pid.map(Proc::Pid);
    let server_cpu_0 = server.and_then(Proc::cpu_time);
    let own_cpu_0 = Proc::Current.cpu_time();

    let mut total = Tally::default();
    for worker in workers {
        let tally = worker
            .await
            .map_err(|e| format!("connection task failed: {e}"))?;
        total.merge(tally);
    }
    let elapsed = measure_from.elapsed();
    let server_cpu_1 = server.and_then(Proc::cpu_time);
    let own_cpu_1 = Proc::Current.cpu_time();
    let hwm = server.and_then(Proc::memory).map(|(_, hwm)| hwm);
    stop_sampling.store(true, Ordering::Relaxed);
    if let Some(s) = sampler {
        let _ = s.await;
    }

    let server_usage = plan.server_pid.map(|pid| ServerUsage {
        pid,
        cpu: cpu_delta(server_cpu_0, server_cpu_1),
        peak_rss_sampled: peak_rss.load(Ordering::Relaxed),
        vm_hwm: hwm,
    });
    let mut latencies = total.latencies;
    Ok(Report {
        signal: plan.signal,
        connections: plan.connections,
        tls: plan
            .url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")),
        new_connection_per_request: plan.new_connection_per_request,
        // reqwest's own TLS client (no --ca-cert) keeps a session cache.
        tls_resumption: plan.tls_resumption || plan.ca_cert.is_none(),
        batch: payloads.items.first().map_or(0, |p| p.records),
        payloads: payloads.items.len(),
        gzip: payloads.gzip,
        avg_body_bytes: payloads
            .items
            .iter()
            .map(|p| p.body.len() as u64)
            .sum::<u64>()
            / (payloads.items.len().max(1) as u64),
        avg_raw_bytes: payloads.raw_bytes / (payloads.items.len().max(1) as u64),
        elapsed,
        ok_requests: total.ok_requests,
        ok_records: total.ok_records,
        ok_bytes: total.ok_bytes,
        acknowledged_records: total.acknowledged,
        rejected_records: total.rejected,
        errors: total.errors,
        p50_us: latencies.quantile(0.50),
        p90_us: latencies.quantile(0.90),
        p99_us: latencies.quantile(0.99),
        max_us: latencies.max(),
        server: server_usage,
        loadgen_cpu: cpu_delta(own_cpu_0, own_cpu_1),
    })
}

/// The TLS client of a connection when the server's CA is given: rustls with aws-lc-rs, as
/// reqwest builds it, trusting only `roots`. Without `resumption` no session is remembered, so
/// every new connection makes a full handshake (certificate chain checked, server signature,
/// key exchange), as clients without a session cache do. ALPN offers only the protocol the
/// transport speaks (`h2` for gRPC, `http/1.1` for OTLP/HTTP).
fn tls_config(
    roots: &[CertificateDer<'static>],
    resumption: bool,
    grpc: bool,
) -> Result<rustls::ClientConfig, String> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store
            .add(root.clone())
            .map_err(|e| format!("the --ca-cert certificate is not a usable CA: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS protocol versions: {e}"))?
        .with_root_certificates(store)
        .with_no_client_auth();
    if !resumption {
        config.resumption = rustls::client::Resumption::disabled();
    }
    config.alpn_protocols = vec![if grpc {
        b"h2".to_vec()
    } else {
        b"http/1.1".to_vec()
    }];
    Ok(config)
}

fn cpu_delta(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    Some(b?.saturating_sub(a?))
}

/// Where a connection sends, and how.
#[derive(Debug, Clone)]
struct Target {
    endpoint: String,
    signal: Signal,
    grpc: bool,
}

/// One connection (kept alive, or a new one per request) sending until `deadline`. Bodies
/// rotate, each connection starting at a different one, so that concurrent requests differ.
async fn connection(
    client: reqwest::Client,
    target: Target,
    payloads: Arc<Payloads>,
    offset: usize,
    measure_from: Instant,
    deadline: Instant,
) -> Tally {
    let Target {
        endpoint,
        signal,
        grpc,
    } = target;
    let mut tally = Tally::default();
    let mut transport_errors = 0u32;
    let items = &payloads.items;
    for i in offset.. {
        let sent = Instant::now();
        if sent >= deadline {
            break;
        }
        let Some(p) = items.get(i % items.len().max(1)) else {
            break;
        };
        let body = if p.times.is_empty() {
            p.body.clone()
        } else {
            payload::freshen(p, now_ns())
        };
        let outcome = if grpc {
            grpc_call(&client, &endpoint, body, payloads.gzip).await
        } else {
            let mut req = client
                .post(&endpoint)
                .header(CONTENT_TYPE, "application/x-protobuf")
                .body(body);
            if payloads.gzip {
                req = req.header(CONTENT_ENCODING, "gzip");
            }
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    // Read the body to the end so that the connection goes back to the pool.
                    resp.bytes().await.map(|body| (status, body))
                }
                Err(e) => Err(e),
            }
        };
        let done = Instant::now();
        let measured = done >= measure_from;
        match outcome {
            Ok((200, body)) => {
                transport_errors = 0;
                let rejected = payload::rejected_in_response(signal, &body).min(p.records);
                tally.acknowledged += p.records - rejected;
                tally.rejected += rejected;
                if measured {
                    tally.ok_requests += 1;
                    tally.ok_records += p.records - rejected;
                    tally.ok_bytes += p.body.len() as u64;
                    tally.latencies.record(done - sent);
                }
            }
            Ok((status, _)) => {
                transport_errors = 0;
                // Latency is time to acknowledge: fast refusals would flatter the percentiles.
                *tally.errors.entry(status.to_string()).or_default() += 1;
                if status == 429 || status == 503 {
                    // Back-pressure: back off like an OTLP exporter would, briefly.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Err(e) => {
                let kind = if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connect"
                } else {
                    "transport"
                };
                *tally.errors.entry(kind.to_owned()).or_default() += 1;
                transport_errors += 1;
                if transport_errors >= MAX_CONSECUTIVE_TRANSPORT_ERRORS {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    tally
}

/// The gRPC method of a signal's `Export`.
fn grpc_method(signal: Signal) -> &'static str {
    match signal {
        Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    }
}

/// One unary gRPC call carrying `message` (already gzip-compressed when `gzip`). Returns the
/// HTTP status the call is equivalent to and the response message: the otlp2parquet server
/// answers every failure trailers-only (`grpc-status` in the headers), so a 200 without one is
/// a success whose body is the framed response message. `UNAVAILABLE` counts as 503 and
/// `RESOURCE_EXHAUSTED` as 429 (back-pressure); other codes as `grpc-<code>`.
async fn grpc_call(
    client: &reqwest::Client,
    endpoint: &str,
    message: bytes::Bytes,
    gzip: bool,
) -> Result<(u16, bytes::Bytes), reqwest::Error> {
    let mut framed = Vec::with_capacity(message.len() + 5);
    framed.push(u8::from(gzip));
    framed.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    framed.extend_from_slice(&message);
    let mut req = client
        .post(endpoint)
        .header(CONTENT_TYPE, "application/grpc")
        .header("te", "trailers")
        .body(framed);
    if gzip {
        req = req.header("grpc-encoding", "gzip");
    }
    let resp = req.send().await?;
    let http = resp.status().as_u16();
    let code = resp
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u16>().ok());
    let body = resp.bytes().await?;
    let status = match (http, code) {
        (200, None | Some(0)) => 200,
        (200, Some(14)) => 503,
        (200, Some(8)) => 429,
        (200, Some(c)) => 1000 + c,
        (other, _) => other,
    };
    Ok((status, body.slice(body.len().min(5)..)))
}

/// Samples `VmRSS` every 100 ms into `peak` until `stop` is set or the process is gone.
async fn sample_rss(proc: Proc, stop: Arc<AtomicBool>, peak: Arc<AtomicU64>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let Some((rss, _)) = proc.memory() else {
            return;
        };
        peak.fetch_max(rss, Ordering::Relaxed);
    }
}

/// Nanoseconds since the epoch.
fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
