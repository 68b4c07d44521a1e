//! The spool sink (`lambda.mode = "spool"`, docs/adr/0013-lambda-spool.md): an accepted request
//! is stored as one spool object under `{prefix}_spool/` before the answer, and the scheduled
//! compactor merges the spool into large Parquet files later.
//!
//! Everything a client sees up to the write is the direct mode's: the same admission, the same
//! decoding and conversion ([`convert`]), so a bad body is the same 400 with nothing written and
//! a storage failure the same 503 + `Retry-After`.

use otlp2parquet_batch::spool::{encode_request, spool_key};
use otlp2parquet_common::config::Config;
use otlp2parquet_handlers::{Error, Failure, Request, Sink, Stored, convert, log_storage_error};
use otlp2parquet_writer::{ObjectStore, PutNew};

/// The per-request spool sink: one create-only write of the request's spool object to
/// `storage` before the answer.
#[derive(Debug)]
pub struct SpoolEach<'a, S> {
    /// Where the spool object goes.
    pub storage: &'a S,
    /// Key prefix.
    pub config: &'a Config,
    /// This request's random 128-bit key token (from [`otlp2parquet_handlers::KeyTokens`]).
    pub token: u128,
}

impl<S: ObjectStore> Sink for SpoolEach<'_, S> {
    async fn take(&self, request: &Request<'_>, limit: usize) -> Result<Stored, Failure> {
        let converted = convert(request, limit).inspect_err(|f| {
            tracing::debug!(signal = %request.signal, error = %f.error, "request rejected");
        })?;
        let format = converted.format;
        let stored = Stored {
            format,
            records: converted.records,
        };
        // Nothing to keep (an export with no records): a spool object would only cost the
        // compactor a read.
        if converted.partitions.is_empty() {
            return Ok(stored);
        }
        let rows: usize = converted.partitions.iter().map(|p| p.num_rows()).sum();
        let bytes = encode_request(&converted.partitions, request.received_at_ns).map_err(|e| {
            tracing::error!(signal = %request.signal, error = %e, "spool encoding failed");
            Failure {
                format,
                error: Error::from(e),
            }
        })?;
        // The Arrow batches are not needed once encoded: free them before the write waits on S3.
        drop(converted);
        let size = bytes.len();
        let key = spool_key(
            &self.config.storage.prefix,
            request.signal,
            request.received_at_ns,
            self.token,
        );
        match self.storage.put_new(&key, bytes).await {
            Ok(PutNew::Created) => {}
            // The key holds a fresh random 128-bit token, so an object already under it can only
            // be an earlier attempt of this same write (retried by the store client after its
            // answer was lost) that landed: the rows are stored.
            Ok(PutNew::Exists) => {
                tracing::debug!(%key, "spool object already stored by an earlier attempt");
            }
            Err(e) => {
                log_storage_error(request.signal, &key, &e);
                return Err(Failure {
                    format,
                    error: Error::from(e),
                });
            }
        }
        tracing::debug!(%key, rows, bytes = size, "spooled");
        Ok(stored)
    }
}
