//! Clients that hold connections without finishing them: 600 trickling request heads and one
//! trickling body are dropped within their timeouts while normal exports are answered in under
//! a second; 1 500 idle connections opened at once against a server whose file limit is 1 024
//! leave it answering, with the cap logged once rather than a storm of errors.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::batching::metric;
use crate::util::{Launch, Server, fixture};

const HEADER_TIMEOUT_SECS: u64 = 3;
const BODY_TIMEOUT_SECS: u64 = 4;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Sends `head` then `trickle` one byte every 500 ms; returns how long after connecting the
/// server closed the connection (`None`: still open after 20 s) and what it answered.
async fn trickle(port: u16, head: Vec<u8>, trickle: Vec<u8>) -> (Option<Duration>, Vec<u8>) {
    let started = Instant::now();
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        if wr.write_all(&head).await.is_err() {
            return;
        }
        for b in trickle.iter().cycle() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if wr.write_all(&[*b]).await.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 4096];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    writer.abort();
    (closed.ok().map(|()| started.elapsed()), answer)
}

/// One normal export on a new connection: (status, how long it took).
async fn export(port: u16) -> (u16, Duration) {
    let body = fixture("log.json");
    let started = Instant::now();
    let reply = tokio::task::spawn_blocking(move || {
        otlp2parquet_testkit::http(
            port,
            "POST",
            "/v1/logs",
            &[("content-type", "application/json")],
            &body,
        )
    })
    .await
    .unwrap();
    (reply.status, started.elapsed())
}

#[test]
fn slow_heads_and_a_trickling_body_are_dropped_while_exports_are_answered() {
    let header = HEADER_TIMEOUT_SECS.to_string();
    let body = BODY_TIMEOUT_SECS.to_string();
    let mut server = Server::start_with(
        "hostile-slow",
        &[
            ("OTLP2PARQUET_HEADER_TIMEOUT_SECS", &header),
            ("OTLP2PARQUET_BODY_TIMEOUT_SECS", &body),
        ],
    );
    let port = server.port;
    let (heads, trickled_body, exports) = runtime().block_on(async move {
        let mut heads = Vec::new();
        for _ in 0..600 {
            heads.push(tokio::spawn(trickle(
                port,
                b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_vec(),
                b"X-Slow: abcdefghijklmnopqrstuvwxyz\r\n".to_vec(),
            )));
        }
        let slow_body = tokio::spawn(trickle(
            port,
            b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
              Content-Length: 100000\r\n\r\n"
                .to_vec(),
            b"{\"resourceLogs\":[]".to_vec(),
        ));
        // Normal exports throughout, until every slow client is gone and a little after.
        let mut exports = Vec::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(BODY_TIMEOUT_SECS + 3) {
            exports.push(export(port).await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut closed = Vec::new();
        for h in heads {
            closed.push(h.await.unwrap().0);
        }
        (closed, slow_body.await.unwrap(), exports)
    });

    let limit = Duration::from_secs(HEADER_TIMEOUT_SECS) + Duration::from_millis(1500);
    let open: Vec<_> = heads
        .iter()
        .filter(|c| c.is_none_or(|d| d > limit))
        .collect();
    assert!(
        open.is_empty(),
        "{} of 600 slow heads outlived {limit:?}: {:?}\n{}",
        open.len(),
        open.iter().take(5).collect::<Vec<_>>(),
        server.log_tail()
    );
    let earliest = heads.iter().flatten().min().unwrap();
    assert!(
        *earliest >= Duration::from_secs(HEADER_TIMEOUT_SECS) - Duration::from_millis(600),
        "slow heads are dropped by the timeout, not before it: {earliest:?}"
    );
    let (body_closed, answer) = trickled_body;
    let body_closed = body_closed.expect("the trickling body's connection is closed");
    assert!(
        body_closed <= Duration::from_secs(BODY_TIMEOUT_SECS) + Duration::from_millis(1500)
            && body_closed >= Duration::from_secs(BODY_TIMEOUT_SECS) - Duration::from_millis(600),
        "trickling body dropped after {body_closed:?}"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408") && answer.contains("did not arrive within 4 s"),
        "{answer}"
    );
    assert!(exports.len() >= 20, "{} exports", exports.len());
    for (status, took) in &exports {
        assert_eq!(*status, 200, "{exports:?}\n{}", server.log_tail());
        assert!(
            *took < Duration::from_secs(1),
            "an export took {took:?}: {exports:?}"
        );
    }
    let timed_out = metric(
        &server,
        "otlp2parquet_connections_ended_total{reason=\"header_timeout\"}",
    );
    assert!(timed_out >= Some(600.0), "{timed_out:?}");
    let code_408 = metric(
        &server,
        "otlp2parquet_requests_total{signal=\"logs\",code=\"408\"}",
    );
    assert_eq!(code_408, Some(1.0));
    server.stop();
}

#[test]
fn fifteen_hundred_idle_connections_with_a_file_limit_of_1024_leave_the_server_answering() {
    let mut server = Server::start_launch(
        "hostile-idle",
        &[],
        Launch {
            open_files: Some(1024),
            ..Launch::default()
        },
    );
    let port = server.port;
    let (opened, exports) = runtime().block_on(async move {
        let connects: Vec<_> = (0..1500)
            .map(|_| tokio::spawn(TcpStream::connect(("127.0.0.1", port))))
            .collect();
        let mut idle = Vec::new();
        for c in connects {
            if let Ok(s) = c.await.unwrap() {
                idle.push(s);
            }
        }
        let mut exports = Vec::new();
        for _ in 0..20 {
            exports.push(export(port).await);
        }
        (idle.len(), exports)
    });
    assert_eq!(opened, 1500, "every idle connection was opened");
    for (status, took) in &exports {
        assert_eq!(*status, 200, "{exports:?}\n{}", server.log_tail());
        assert!(
            *took < Duration::from_secs(1),
            "an export took {took:?}: {exports:?}"
        );
    }
    let log = std::fs::read_to_string(server.dir.join("server.log")).unwrap();
    assert!(
        log.contains("server.max_connections lowered to fit the open-file limit")
            && log.contains("max_connections=896"),
        "the cap is fitted under the file limit (1024 - 128 reserved):\n{}",
        server.log_tail()
    );
    let cap_lines = log.matches("connection cap reached").count();
    assert!(
        (1..=3).contains(&cap_lines),
        "the cap is logged, once per 10 s: {cap_lines} lines\n{}",
        server.log_tail()
    );
    let evicted = metric(
        &server,
        "otlp2parquet_connections_ended_total{reason=\"evicted\"}",
    )
    .unwrap();
    assert!(
        (604.0..=700.0).contains(&evicted),
        "1 500 idle + 20 exports past a cap of 896: about 604 evicted, got {evicted}"
    );
    assert!(
        log.lines().count() < 30,
        "no storm of errors:\n{}",
        server.log_tail()
    );
    server.stop();
}
