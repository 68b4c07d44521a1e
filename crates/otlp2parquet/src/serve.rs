//! Starting and stopping the server: storage, the write-ahead log and its replay, the batcher,
//! both listeners, and the final flush at SIGINT/SIGTERM. Requests themselves are handled by
//! [`crate::http`] and [`crate::grpc`].

use std::sync::Arc;
use std::time::Duration;

use otlp2parquet_common::config::Config;
use otlp2parquet_handlers::KeyTokens;
use otlp2parquet_wal::{self as wal, Wal};
use otlp2parquet_writer::OpendalStorage;

use crate::batcher::Batcher;
use crate::front::AppState;
use crate::intake::Intake;
use crate::listen::{self, Connections, Limits, Listener};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::tls::{Port, Tls, TlsFiles};
use crate::{grpc, http};

/// How long shutdown waits for buffered rows to be written (retries included) before giving up.
const SHUTDOWN_FLUSH_DEADLINE: Duration = Duration::from_secs(30);

/// Runs the server until SIGINT/SIGTERM, then writes every buffered row before returning.
pub async fn serve(config: Config) -> Result<(), String> {
    let wal_dir = config.wal_dir();
    // Before anything else, and held until this function returns (after the final flush): a
    // second server on the same log would replay and delete segments this one still writes.
    let _wal_lock = match &wal_dir {
        Some(dir) => Some(wal::DirLock::acquire(dir).map_err(|e| e.to_string())?),
        None => None,
    };
    // TLS files are checked before a port is taken: a bad certificate is a startup error.
    let tls = match TlsFiles::from_config(&config.server.tls) {
        Some(files) => Some(Arc::new(Tls::load(files).map_err(|e| e.to_string())?)),
        None => None,
    };
    let limits = Limits {
        header_timeout: Duration::from_secs(config.server.header_timeout_secs),
        idle_timeout: Duration::from_secs(config.server.idle_timeout_secs),
        max_connections: listen::fit_connection_cap(config.server.max_connections),
    };
    let storage = OpendalStorage::from_config(&config.storage).map_err(|e| e.to_string())?;
    let store = Arc::new(Store::new(storage));
    let listener = listen::bind(&config.server.listen_addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen_addr))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("listener address: {e}"))?;
    let grpc_listener = match &config.server.grpc_listen_addr {
        Some(addr) => Some(listen::bind(addr).await.map_err(|e| {
            format!(
                "cannot listen for OTLP/gRPC on {addr}: {e} (set \
                         server.grpc_listen_addr / OTLP2PARQUET_GRPC_LISTEN_ADDR to another \
                         address, or to off)"
            )
        })?),
        None => None,
    };
    let grpc_local = match &grpc_listener {
        Some(l) => Some(
            l.local_addr()
                .map_err(|e| format!("gRPC listener address: {e}"))?,
        ),
        None => None,
    };
    let metrics = Arc::new(Metrics::default());
    let connections = Connections::new(limits, Arc::clone(&metrics));
    let tokens = Arc::new(KeyTokens::default());
    let batcher = match (config.batch.enabled, &wal_dir) {
        (false, _) => None,
        (true, None) => Some(Batcher::new(
            &config,
            Arc::clone(&store),
            Arc::clone(&metrics),
            Arc::clone(&tokens),
            None,
        )),
        (true, Some(dir)) => {
            let replay = {
                let owned = dir.clone();
                tokio::task::spawn_blocking(move || wal::replay(&owned))
                    .await
                    .map_err(|e| format!("replaying the write-ahead log: {e}"))?
                    .map_err(|e| {
                        format!("cannot read the write-ahead log in {}: {e}", dir.display())
                    })?
            };
            let wal = Wal::start(dir, replay.resume, wal::SEGMENT_BYTES).map_err(|e| {
                format!(
                    "cannot open the write-ahead log in {}: {e} (set batch.wal_path / \
                     OTLP2PARQUET_BATCH_WAL_PATH to a writable directory, or \
                     batch.durability = \"memory\")",
                    dir.display()
                )
            })?;
            let s = replay.summary;
            if s.entries > 0 || s.corrupt_records > 0 || s.torn_bytes > 0 {
                tracing::info!(
                    segments = s.segments,
                    requests = s.entries,
                    rows = s.rows,
                    files_rewritten = s.files_rewritten,
                    files_already_stored = s.intents_done,
                    corrupt_records_skipped = s.corrupt_records,
                    torn_tail_bytes_skipped = s.torn_bytes,
                    refused_when_received = s.refused,
                    "replaying the write-ahead log: its rows are written before new traffic is taken"
                );
            }
            if s.corrupt_records > 0 {
                tracing::warn!(
                    corrupt_records = s.corrupt_records,
                    "the write-ahead log held corrupt records; they were skipped"
                );
            }
            let b = Batcher::new(
                &config,
                Arc::clone(&store),
                Arc::clone(&metrics),
                Arc::clone(&tokens),
                Some(Arc::new(wal)),
            );
            b.restore(replay.loose, replay.files);
            Some(b)
        }
    };
    let writes = match &batcher {
        Some(_) => format!(
            "batched: a file per service and hour every {} rows, {} MiB or {} s",
            config.batch.max_rows,
            config.batch.max_bytes >> 20,
            config.batch.max_age_secs
        ),
        None => "one file set per request".to_owned(),
    };
    let durability = match &wal_dir {
        Some(dir) => format!(
            "acknowledged once synced to the write-ahead log in {}",
            dir.display()
        ),
        None if batcher.is_some() => {
            "acknowledged from memory (batch.durability = memory: a crash loses buffered rows)"
                .to_owned()
        }
        None => "acknowledged once stored".to_owned(),
    };
    let (scheme, with_tls) = match &tls {
        Some(t) if t.mutual() => ("https", " (TLS, client certificates required)"),
        Some(_) => ("https", " (TLS)"),
        None => ("http", ""),
    };
    let grpc_text =
        grpc_local.map_or_else(String::new, |a| format!(" and OTLP/gRPC on {a}{with_tls}"));
    tracing::info!(
        listen = %local,
        grpc_listen = %grpc_local.map_or_else(|| "off".to_owned(), |a| a.to_string()),
        storage = %store.describe(),
        prefix = %config.storage.prefix,
        max_connections = limits.max_connections,
        header_timeout_secs = limits.header_timeout.as_secs(),
        body_timeout_secs = config.server.body_timeout_secs,
        idle_timeout_secs = limits.idle_timeout.as_secs(),
        "otlp2parquet receiving OTLP/HTTP on {scheme}://{local}/v1/{{logs,traces,metrics}}{grpc_text}, writing Parquet to {} ({writes}; {durability})",
        store.describe()
    );
    if let Some(t) = &tls {
        t.spawn_watcher();
    }
    if let Err(e) = store.ready().await {
        tracing::warn!(error = %e, "storage is not reachable yet: writes are retried until it is, and requests are answered 503 once the buffers fill (or at once with batching off)");
    }
    if let Some(b) = &batcher {
        b.spawn_age_timer();
    }
    let state = Arc::new(AppState {
        intake: Intake {
            config,
            store,
            batcher: batcher.clone(),
            tokens,
        },
        metrics,
    });
    let grpc_state = Arc::clone(&state);
    // One shutdown signal stops both listeners; each drains its in-flight requests before the
    // final flush below.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let http = listen::run(
        Listener {
            tcp: listener,
            router: http::router(state),
            tls: tls.clone(),
            port: Port::Http,
        },
        Arc::clone(&connections),
        stop_rx.clone(),
    );
    let grpc = async {
        if let Some(l) = grpc_listener {
            let grpc = Listener {
                tcp: l,
                router: grpc::router(grpc_state),
                tls: tls.clone(),
                port: Port::Grpc,
            };
            listen::run(grpc, Arc::clone(&connections), stop_rx.clone()).await;
        }
    };
    tokio::join!(http, grpc);
    connections.drained(listen::DRAIN_DEADLINE).await;
    if let Some(b) = batcher {
        tracing::info!("listener closed; writing buffered rows");
        let left = b.shutdown(SHUTDOWN_FLUSH_DEADLINE).await;
        b.wal_barrier().await;
        if left > 0 && wal_dir.is_some() {
            tracing::warn!(
                rows = left,
                "storage did not take the last buffered rows in time; they stay in the write-ahead log and are written at the next start"
            );
        } else if left > 0 {
            tracing::error!(
                rows = left,
                "storage did not take the last buffered rows in time; they are lost"
            );
            return Err(format!("{left} buffered rows could not be written"));
        }
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
