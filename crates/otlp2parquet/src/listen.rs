//! The accept loop of both listeners, built for clients the server does not control
//! (docs/configuration.md#connections):
//!
//! - **Slow heads.** A new connection's first bytes (a TLS handshake included) and every
//!   HTTP/1 request head must arrive within `server.header_timeout_secs`, counted from the
//!   connection's start or the previous answer; so an HTTP/1.1 connection kept alive waits that
//!   long for its next request. The body has its own deadline, applied where it is read
//!   ([`crate::front`]).
//! - **Idle connections** (no request in flight; HTTP/2 ones in practice, HTTP/1 ones meet the
//!   header timeout first) are closed after `server.idle_timeout_secs`.
//! - **A cap** on open connections, both listeners together. At the cap the longest-idle
//!   connection is closed to make room; when every connection has a request in flight, new ones
//!   wait in the kernel's queue. The cap is kept below the open-file limit, and running out of
//!   file descriptors anyway backs off instead of spinning on `accept`. Both are logged at most
//!   once per [`LOG_EVERY`], with how often they happened meanwhile.
//! - **TLS**, when configured ([`crate::tls`]); plaintext HTTP sent to a TLS port is answered
//!   400 with the reason.
//!
//! Shutdown stops accepting, lets each connection finish its requests (HTTP/2 gets GOAWAY), and
//! returns once every connection has closed or [`DRAIN_DEADLINE`] has passed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};

use crate::metrics::{ConnectionEnd, Metrics};
use crate::tls::{self, Port, Tls};

/// How long shutdown waits for open connections to finish their requests.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// The most often a repeated condition (cap reached, out of file descriptors, failed handshakes)
/// is logged.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// File descriptors kept free of connections: log segments, stored files, storage requests.
const RESERVED_FDS: u64 = 128;

/// How long `accept` rests after the process ran out of file descriptors.
const FD_BACKOFF: Duration = Duration::from_millis(100);

/// The kernel's queue of connections not yet accepted (capped by `net.core.somaxconn`): deep
/// enough that a burst of new connections waits there instead of having its SYNs dropped
/// (a dropped SYN costs the client a one-second retry).
const BACKLOG: u32 = 4096;

/// Binds `addr` (`HOST:PORT`, names resolved) with a [`BACKLOG`]-deep accept queue.
pub async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

/// What bounds a connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `server.header_timeout_secs`.
    pub header_timeout: Duration,
    /// `server.idle_timeout_secs`.
    pub idle_timeout: Duration,
    /// The connection cap, after [`fit_connection_cap`].
    pub max_connections: usize,
}

/// Raises the soft open-file limit to the hard one (as Go and nginx do) and returns the largest
/// connection cap that fits under it, at most `wanted`.
pub fn fit_connection_cap(wanted: usize) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let soft = match (limit.current, limit.maximum) {
        (Some(cur), Some(max)) if max > cur => {
            let raised = Rlimit {
                current: Some(max),
                maximum: Some(max),
            };
            if setrlimit(Resource::Nofile, raised).is_ok() {
                max
            } else {
                cur
            }
        }
        (Some(cur), _) => cur,
        (None, _) => return wanted,
    };
    let fits = usize::try_from(soft.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX);
    if fits < wanted {
        tracing::info!(
            max_connections = fits,
            configured = wanted,
            open_file_limit = soft,
            "server.max_connections lowered to fit the open-file limit (raise it with ulimit -n)"
        );
    }
    wanted.min(fits)
}

/// Logs a repeated condition at most once per [`LOG_EVERY`], with how often it happened since.
struct Throttle {
    last: Mutex<Option<Instant>>,
    since: AtomicU64,
}

impl Throttle {
    const fn new() -> Self {
        Throttle {
            last: Mutex::new(None),
            since: AtomicU64::new(0),
        }
    }

    /// `Some(times since the last report)` when this occurrence should be logged.
    fn hit(&self) -> Option<u64> {
        let count = self.since.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last.lock().ok()?;
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            return None;
        }
        *last = Some(now);
        self.since.fetch_sub(count, Ordering::Relaxed);
        Some(count)
    }
}

/// One open connection, as the accept loop sees it.
struct Conn {
    /// Requests being handled.
    in_flight: AtomicUsize,
    /// Milliseconds after [`Connections::epoch`] when the connection last became idle.
    idle_since_ms: AtomicU64,
    /// Closes the connection now (it is the longest idle at the cap).
    evict: Notify,
}

/// The open connections of both listeners and the cap on them.
pub struct Connections {
    limits: Limits,
    metrics: Arc<Metrics>,
    permits: Arc<Semaphore>,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    epoch: Instant,
    at_cap: Throttle,
    out_of_fds: Throttle,
    handshakes: Throttle,
    plaintext: Throttle,
}

impl Connections {
    /// No connections yet.
    pub fn new(limits: Limits, metrics: Arc<Metrics>) -> Arc<Connections> {
        Arc::new(Connections {
            limits,
            metrics,
            permits: Arc::new(Semaphore::new(limits.max_connections)),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            epoch: Instant::now(),
            at_cap: Throttle::new(),
            out_of_fds: Throttle::new(),
            handshakes: Throttle::new(),
            plaintext: Throttle::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn register(self: &Arc<Self>) -> Registered {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(self.now_ms()),
            evict: Notify::new(),
        });
        if let Ok(mut open) = self.open.lock() {
            open.insert(id, Arc::clone(&conn));
        }
        self.metrics
            .connections_open
            .fetch_add(1, Ordering::Relaxed);
        Registered {
            id,
            conn,
            all: Arc::clone(self),
        }
    }

    /// Closes the connection that has been idle longest (taking it off the open list, so the
    /// next call picks another); false when every one is busy.
    fn evict_longest_idle(&self) -> bool {
        let victim = self.open.lock().ok().and_then(|mut open| {
            let id = open
                .iter()
                .filter(|(_, c)| c.in_flight.load(Ordering::Acquire) == 0)
                .min_by_key(|(_, c)| c.idle_since_ms.load(Ordering::Relaxed))
                .map(|(id, _)| *id)?;
            open.remove(&id)
        });
        match victim {
            Some(c) => {
                self.metrics.connection_ended(ConnectionEnd::Evicted);
                c.evict.notify_one();
                true
            }
            None => false,
        }
    }

    /// A slot for a new connection: at the cap, the longest-idle connection makes room; when
    /// all are busy, this waits for one to finish.
    async fn slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if let Ok(p) = Arc::clone(&self.permits).try_acquire_owned() {
            return Some(p);
        }
        let evicted = self.evict_longest_idle();
        if let Some(times) = self.at_cap.hit() {
            tracing::warn!(
                max_connections = self.limits.max_connections,
                times,
                "connection cap reached: {}",
                if evicted {
                    "closing the longest-idle connections to make room"
                } else {
                    "every connection has a request in flight; new connections wait"
                }
            );
        }
        Arc::clone(&self.permits).acquire_owned().await.ok()
    }

    /// Waits until every connection has closed, at most `deadline`.
    pub async fn drained(&self, deadline: Duration) {
        let all = u32::try_from(self.limits.max_connections).unwrap_or(u32::MAX);
        if tokio::time::timeout(deadline, self.permits.acquire_many(all))
            .await
            .is_err()
        {
            let open = self.open.lock().map_or(0, |o| o.len());
            tracing::warn!(
                connections = open,
                "connections still open after {} s of shutdown: closing them",
                deadline.as_secs()
            );
        }
    }
}

/// A connection's entry, removed when the connection ends.
struct Registered {
    id: u64,
    conn: Arc<Conn>,
    all: Arc<Connections>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut open) = self.all.open.lock() {
            open.remove(&self.id);
        }
        self.all
            .metrics
            .connections_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Marks a request in flight on its connection until dropped.
struct Busy {
    conn: Arc<Conn>,
    all: Arc<Connections>,
}

impl Busy {
    fn new(conn: &Arc<Conn>, all: &Arc<Connections>) -> Busy {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy {
            conn: Arc::clone(conn),
            all: Arc::clone(all),
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.conn
            .idle_since_ms
            .store(self.all.now_ms(), Ordering::Relaxed);
        self.conn.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One listener: its socket, what it serves, and TLS if on.
pub struct Listener {
    /// The bound socket.
    pub tcp: TcpListener,
    /// The requests' router.
    pub router: axum::Router,
    /// TLS, when `server.tls` is set.
    pub tls: Option<Arc<Tls>>,
    /// Which port this is (its ALPN list).
    pub port: Port,
}

/// Accepts connections until `stop` turns true, then waits for them to drain.
pub async fn run(listener: Listener, all: Arc<Connections>, stop: watch::Receiver<bool>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(all.limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let shared = Arc::new(Shared {
        builder,
        router: listener.router,
        tls: listener.tls,
        port: listener.port,
    });
    let mut stop_accept = stop.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.tcp.accept() => a,
            _ = stop_accept.wait_for(|s| *s) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) if out_of_fds(&e) => {
                // Make room and rest: retrying at once would only fail again.
                all.metrics.connection_ended(ConnectionEnd::OutOfFds);
                all.evict_longest_idle();
                if let Some(times) = all.out_of_fds.hit() {
                    tracing::warn!(error = %e, times, "out of file descriptors: accepting paused {} ms and the longest-idle connection closed (lower server.max_connections or raise ulimit -n)", FD_BACKOFF.as_millis());
                }
                tokio::time::sleep(FD_BACKOFF).await;
                continue;
            }
            // The peer reset before accept() took it, and the like: that connection only.
            Err(e) => {
                tracing::debug!(error = %e, "accept failed");
                continue;
            }
        };
        let permit = tokio::select! {
            p = all.slot() => p,
            _ = stop_accept.wait_for(|s| *s) => break,
        };
        let Some(permit) = permit else { break };
        let _ = stream.set_nodelay(true);
        let conn = all.register();
        let shared = Arc::clone(&shared);
        let all = Arc::clone(&all);
        let stop = stop.clone();
        tokio::spawn(async move {
            serve(stream, peer, &shared, &all, &conn, stop).await;
            drop(conn);
            drop(permit);
        });
    }
}

fn out_of_fds(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    matches!(
        Errno::from_io_error(e),
        Some(Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)
    )
}

/// What every connection of one listener shares.
struct Shared {
    builder: auto::Builder<TokioExecutor>,
    router: axum::Router,
    tls: Option<Arc<Tls>>,
    port: Port,
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    all: &Arc<Connections>,
    reg: &Registered,
    stop: watch::Receiver<bool>,
) {
    let header_timeout = all.limits.header_timeout;
    let Some(tls) = &shared.tls else {
        // A new connection's first bytes count against the header timeout too (hyper's own
        // timer starts once it knows HTTP/1 from HTTP/2, which takes bytes).
        let mut first = [0u8; 1];
        let started = tokio::select! {
            r = tokio::time::timeout(header_timeout, stream.peek(&mut first)) => matches!(r, Ok(Ok(1))),
            () = reg.conn.evict.notified() => false,
        };
        if started {
            serve_http(stream, shared, all, reg, stop).await;
        } else {
            all.metrics.connection_ended(ConnectionEnd::HeaderTimeout);
        }
        return;
    };
    let handshake = async {
        let mut first = [0u8; 1];
        match stream.peek(&mut first).await {
            Ok(1) if first[0] == tls::HANDSHAKE_RECORD => {}
            Ok(1) => return Err(Refused::Plaintext(stream)),
            _ => return Err(Refused::Gone),
        }
        tokio_rustls::TlsAcceptor::from(tls.config(shared.port))
            .accept(stream)
            .await
            .map_err(Refused::Handshake)
    };
    let refused = tokio::select! {
        r = tokio::time::timeout(header_timeout, handshake) => match r {
            Ok(Ok(tls_stream)) => return serve_http(tls_stream, shared, all, reg, stop).await,
            Ok(Err(refused)) => refused,
            Err(_) => Refused::Slow,
        },
        () = reg.conn.evict.notified() => return,
    };
    let ended = match refused {
        Refused::Plaintext(_) => Some(ConnectionEnd::Plaintext),
        Refused::Handshake(_) => Some(ConnectionEnd::TlsHandshake),
        Refused::Slow => Some(ConnectionEnd::HeaderTimeout),
        // The client left before sending anything (a TCP health check, a port scan).
        Refused::Gone => None,
    };
    if let Some(why) = ended {
        all.metrics.connection_ended(why);
    }
    match refused {
        Refused::Plaintext(mut stream) => {
            if let Some(times) = all.plaintext.hit() {
                tracing::warn!(%peer, times, "plaintext request on a TLS port: the client must use https:// and trust the server's certificate");
            }
            if shared.port == Port::Http {
                let answer = tls::plaintext_answer();
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    let _ = stream.write_all(&answer).await;
                    let _ = stream.shutdown().await;
                })
                .await;
            }
        }
        Refused::Handshake(e) => {
            if let Some(times) = all.handshakes.hit() {
                tracing::warn!(%peer, error = %e, times, "TLS handshake failed{}", if tls.mutual() { " (mutual TLS: the client needs a certificate signed by server.tls.client_ca_file)" } else { "" });
            }
        }
        Refused::Slow => {
            tracing::debug!(%peer, "TLS handshake not finished within the header timeout");
        }
        Refused::Gone => {}
    }
}

/// Why a TLS connection never reached HTTP.
enum Refused {
    Plaintext(TcpStream),
    Handshake(std::io::Error),
    Slow,
    Gone,
}

async fn serve_http<I>(
    io: I,
    shared: &Shared,
    all: &Arc<Connections>,
    reg: &Registered,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let inner = TowerToHyperService::new(shared.router.clone());
    let (conn_state, all_state) = (Arc::clone(&reg.conn), Arc::clone(all));
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let busy = Busy::new(&conn_state, &all_state);
        let answer = inner.call(req);
        async move {
            let response = answer.await;
            drop(busy);
            response
        }
    });
    let conn = shared.builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let idle_timeout = all.limits.idle_timeout;
    let mut closing_by: Option<tokio::time::Instant> = None;
    loop {
        let idle_check = idle_deadline(&reg.conn, all, idle_timeout);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    if e.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout) {
                        all.metrics.connection_ended(ConnectionEnd::HeaderTimeout);
                    }
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = reg.conn.evict.notified() => return,
            () = tokio::time::sleep_until(idle_check), if closing_by.is_none() => {
                if reg.conn.in_flight.load(Ordering::Acquire) == 0
                    && idle_deadline(&reg.conn, all, idle_timeout) <= tokio::time::Instant::now()
                {
                    all.metrics.connection_ended(ConnectionEnd::Idle);
                    conn.as_mut().graceful_shutdown();
                    closing_by = Some(tokio::time::Instant::now() + Duration::from_secs(5));
                }
            }
            _ = stop.wait_for(|s| *s), if closing_by.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing_by = Some(tokio::time::Instant::now() + DRAIN_DEADLINE);
            }
            () = sleep_until_opt(closing_by) => return,
        }
    }
}

/// When the connection will have been idle for `idle_timeout` (a busy one is checked again a
/// full timeout later).
fn idle_deadline(conn: &Conn, all: &Connections, idle_timeout: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    if conn.in_flight.load(Ordering::Acquire) > 0 {
        return now + idle_timeout;
    }
    let idle_for = all
        .now_ms()
        .saturating_sub(conn.idle_since_ms.load(Ordering::Relaxed));
    now + idle_timeout.saturating_sub(Duration::from_millis(idle_for))
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_reports_the_first_hit_then_counts_the_rest() {
        let t = Throttle::new();
        assert_eq!(t.hit(), Some(1));
        assert_eq!(t.hit(), None);
        assert_eq!(t.hit(), None);
        assert_eq!(t.since.load(Ordering::Relaxed), 2);
        *t.last.lock().unwrap() = Some(Instant::now() - LOG_EVERY);
        assert_eq!(t.hit(), Some(3));
        assert_eq!(t.since.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn running_out_of_descriptors_is_told_from_a_failed_connection() {
        use rustix::io::Errno;
        for errno in [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM] {
            assert!(out_of_fds(&std::io::Error::from_raw_os_error(
                errno.raw_os_error()
            )));
        }
        for errno in [Errno::CONNABORTED, Errno::CONNRESET, Errno::INTR] {
            assert!(!out_of_fds(&std::io::Error::from_raw_os_error(
                errno.raw_os_error()
            )));
        }
    }

    #[tokio::test]
    async fn at_the_cap_the_longest_idle_connection_is_evicted_and_busy_ones_are_not() {
        let all = Connections::new(
            Limits {
                header_timeout: Duration::from_secs(1),
                idle_timeout: Duration::from_secs(60),
                max_connections: 2,
            },
            Arc::new(Metrics::default()),
        );
        let first = all.register();
        first.conn.idle_since_ms.store(5, Ordering::Relaxed);
        let second = all.register();
        second.conn.idle_since_ms.store(10, Ordering::Relaxed);
        let busy = Busy::new(&first.conn, &all);
        assert!(all.evict_longest_idle());
        // the idle one (second) was told, not the busy one
        tokio::time::timeout(Duration::from_millis(100), second.conn.evict.notified())
            .await
            .unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), first.conn.evict.notified())
                .await
                .is_err()
        );
        assert_eq!(
            all.open.lock().unwrap().len(),
            1,
            "the evicted one is off the list"
        );
        assert!(!all.evict_longest_idle(), "the only one left is busy");
        drop(second);
        drop(busy);
        assert_eq!(all.open.lock().unwrap().len(), 1);
        assert!(all.evict_longest_idle(), "the first is idle again");
        drop(first);
        assert!(!all.evict_longest_idle(), "nothing open");
    }
}
