//! The R2 binding: as [`Storage`] for the per-request writes, and the spool's flush writes
//! (one `put`, or a multipart upload for a file past [`PART_BYTES`]). Built for wasm32 only.

use otlp2parquet_writer::{Storage, StorageError, StorageErrorKind};
use worker::Bucket;

/// Size of every multipart part but the last (R2 wants them equal, 5 MiB at least). A file up
/// to this size is one `put`; a larger one is uploaded in parts of it, so that no more than
/// one part at a time is copied into the JavaScript heap beside the encoded file.
pub(crate) const PART_BYTES: usize = 8 * 1024 * 1024;

/// The R2 binding as object storage, or why it is missing.
pub(crate) struct R2 {
    pub(crate) bucket: Result<Bucket, String>,
}

fn failed(key: &str, kind: StorageErrorKind, message: String) -> StorageError {
    StorageError {
        kind,
        key: key.to_owned(),
        message,
    }
}

impl R2 {
    /// The bucket, or a permanent storage error (a missing binding is a deployment mistake,
    /// not an outage: still 503 to the client, whose data is fine, but logged as an error).
    pub(crate) fn bucket(&self, key: &str) -> Result<&Bucket, StorageError> {
        self.bucket
            .as_ref()
            .map_err(|e| failed(key, StorageErrorKind::Permanent, e.clone()))
    }
}

impl Storage for R2 {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        put_once(self.bucket(key)?, key, bytes).await
    }
}

/// One `put`; the binding's errors are R2 being unreachable or failing internally: retryable.
pub(crate) async fn put_once(
    bucket: &Bucket,
    key: &str,
    bytes: Vec<u8>,
) -> Result<(), StorageError> {
    match bucket.put(key, bytes).execute().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(failed(
            key,
            StorageErrorKind::Temporary,
            "R2 did not store the object".to_owned(),
        )),
        Err(e) => Err(failed(key, StorageErrorKind::Temporary, e.to_string())),
    }
}

/// Writes `file` under `key` as a multipart upload in parts of [`PART_BYTES`]; `started` is
/// told the upload id before the first part is sent (the spool records it, so that an upload
/// cut short is aborted by the next flush).
pub(crate) async fn put_in_parts(
    bucket: &Bucket,
    key: &str,
    file: &[u8],
    started: impl FnOnce(&str) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let temporary = |e: worker::Error| failed(key, StorageErrorKind::Temporary, e.to_string());
    let upload = bucket
        .create_multipart_upload(key)
        .execute()
        .await
        .map_err(temporary)?;
    started(&upload.upload_id().await)?;
    tracing::info!(%key, bytes = file.len(), parts = file.len().div_ceil(PART_BYTES), "spool: multipart upload");
    let mut parts = Vec::new();
    for (number, chunk) in (1u16..).zip(file.chunks(PART_BYTES)) {
        let part = upload
            .upload_part(number, chunk.to_vec())
            .await
            .map_err(temporary)?;
        parts.push(part);
    }
    upload.complete(parts).await.map_err(temporary)?;
    Ok(())
}

/// Aborts an upload a flush left unfinished; one that no longer exists (completed or aborted
/// already) is not an error.
pub(crate) async fn abort_upload(bucket: &Bucket, key: &str, upload_id: &str) {
    let aborted = match bucket.resume_multipart_upload(key, upload_id) {
        Ok(upload) => upload.abort().await,
        Err(e) => Err(e),
    };
    match aborted {
        Ok(()) => {
            tracing::info!(%key, upload_id, "aborted the multipart upload of an interrupted flush")
        }
        Err(e) => {
            tracing::info!(%key, upload_id, error = %e, "the interrupted flush's upload is already gone")
        }
    }
}
