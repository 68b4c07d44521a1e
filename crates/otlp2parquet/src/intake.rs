//! The server's [`Sink`]: admitted requests go to the batcher (acknowledged once buffered, and
//! with the write-ahead log once synced to it) or, with `batch.enabled = false`, have their
//! files written before the answer. HTTP and gRPC both hand their exports here.

use std::sync::Arc;

use otlp2parquet_common::config::Config;
use otlp2parquet_handlers::{Failure, KeyTokens, Request, Sink, Stored, convert, store};
use otlp2parquet_wal::Entry;

use crate::batcher::Batcher;
use crate::store::Store;

/// Where the server's exports go.
pub struct Intake {
    /// The configuration in force.
    pub config: Config,
    /// Object storage.
    pub store: Arc<Store>,
    /// The batcher, unless batching is off.
    pub batcher: Option<Arc<Batcher>>,
    /// Key tokens for per-request files.
    pub tokens: Arc<KeyTokens>,
}

impl Sink for Intake {
    async fn take(&self, request: &Request<'_>, limit: usize) -> Result<Stored, Failure> {
        match &self.batcher {
            Some(batcher) => buffer(batcher, request, limit).await,
            None => {
                let seed = self.tokens.next(request.received_at_ns);
                store(request, &self.config, seed, self.store.as_ref()).await
            }
        }
    }
}

/// Converts a request and hands its rows to the batcher.
async fn buffer(
    batcher: &Arc<Batcher>,
    request: &Request<'_>,
    limit: usize,
) -> Result<Stored, Failure> {
    let signal = request.signal;
    // Refuse before decoding when the buffers are already full: converting a request only to
    // throw it away would spend the CPU the flushes need to make room.
    batcher.has_room().map_err(|error| Failure {
        format: request.response_format(),
        error,
    })?;
    if batcher.is_logged() {
        return batcher
            .ingest_logged(Entry::of(request, limit))
            .await
            .inspect_err(|f| {
                tracing::debug!(%signal, error = %f.error, "request refused");
            });
    }
    let converted = convert(request, limit).inspect_err(|f| {
        tracing::debug!(%signal, error = %f.error, "request rejected");
    })?;
    let (format, records) = (converted.format, converted.records);
    batcher.submit(converted.partitions).map_err(|error| {
        tracing::debug!(%signal, %error, "request refused: buffers full");
        Failure { format, error }
    })?;
    Ok(Stored { format, records })
}
