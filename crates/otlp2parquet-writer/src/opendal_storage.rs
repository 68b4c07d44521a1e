//! [`Storage`] over OpenDAL for the native adapters (server, Lambda): a local directory, Amazon
//! S3 or an S3-compatible server, or Cloudflare R2 through its S3 API (ADR 0005).
//!
//! Every backend gets the same layers: a per-attempt [`TimeoutLayer`] inside a [`RetryLayer`] with
//! jittered exponential backoff, so a hung request is cut short and then retried. OpenDAL's errors
//! are classified here, at the storage boundary, into [`StorageErrorKind`]s (STYLE §8).

use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;
use opendal::layers::{RetryLayer, TimeoutLayer};
use opendal::services::{Fs, S3};
use opendal::{ErrorKind, Operator};
use otlp2parquet_common::config::{Backend, StorageConfig};

use crate::storage::{
    Fetched, Listed, ObjectStore, PutNew, Storage, StorageError, StorageErrorKind, content_tag,
};

/// Retries after the first attempt of an operation that failed temporarily.
pub const RETRY_MAX_TIMES: usize = 3;
/// Delay before the first retry; it doubles each time (plus up to this much random jitter).
pub const RETRY_MIN_DELAY: Duration = Duration::from_millis(200);
/// Upper bound of one backoff delay.
pub const RETRY_MAX_DELAY: Duration = Duration::from_secs(2);
/// Limit of one metadata operation (stat, list, delete) per attempt.
pub const OP_TIMEOUT: Duration = Duration::from_secs(20);
/// Limit of one I/O step per attempt: a whole-object PUT is one step, so this bounds how long a
/// file of a batch may take to upload.
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one write may take, attempts and backoff included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Limit of one metadata operation per attempt.
    pub op: Duration,
    /// Limit of one I/O step (a whole-object PUT) per attempt.
    pub io: Duration,
    /// Retries after the first attempt.
    pub retries: usize,
}

impl Timeouts {
    /// The server's: generous, since its batcher retries a failed flush anyway and nobody waits
    /// on a single write ([`OP_TIMEOUT`], [`IO_TIMEOUT`], [`RETRY_MAX_TIMES`]).
    pub const SERVER: Timeouts = Timeouts {
        op: OP_TIMEOUT,
        io: IO_TIMEOUT,
        retries: RETRY_MAX_TIMES,
    };

    /// The Lambda's: a client waits on every write, and the function has a deadline of its own
    /// (60 s in `otlp2parquet create aws`). A hung store must end in a 503 the client retries,
    /// not in the platform killing the invocation.
    pub const PER_REQUEST: Timeouts = Timeouts {
        op: Duration::from_secs(10),
        io: Duration::from_secs(10),
        retries: 2,
    };

    /// The longest one write can take: every attempt timing out, with the longest backoffs.
    pub fn worst_case(&self) -> Duration {
        let attempts = u32::try_from(self.retries.saturating_add(1)).unwrap_or(u32::MAX);
        let mut backoff = Duration::ZERO;
        let mut delay = RETRY_MIN_DELAY;
        for _ in 0..self.retries {
            // Each delay plus up to as much jitter, capped.
            backoff += (delay * 2).min(RETRY_MAX_DELAY);
            delay = (delay * 2).min(RETRY_MAX_DELAY);
        }
        self.io.max(self.op) * attempts + backoff
    }
}

/// Limit of the readiness probe, which is not retried: an orchestrator probes again anyway.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Region used for the s3 backend when neither the config nor `AWS_REGION` /
/// `AWS_DEFAULT_REGION` names one.
pub const DEFAULT_S3_REGION: &str = "us-east-1";
/// Directory, under the fs root, where files are written before being renamed into place.
///
/// Inside the root so the rename never crosses file systems; temp names are `<name>.<random>`, so
/// they never end in `.parquet` and a `**/*.parquet` glob over the root never sees them.
pub const FS_ATOMIC_WRITE_DIR: &str = ".tmp";

/// Object storage through an OpenDAL [`Operator`] (fs, s3 or r2, from `[storage]`).
#[derive(Debug, Clone)]
pub struct OpendalStorage {
    /// With timeout and retry layers; used for writes.
    op: Operator,
    /// With a short timeout and no retries; used by [`OpendalStorage::check_ready`].
    probe: Operator,
    /// Directory part of `storage.prefix`, listed by the readiness probe.
    probe_dir: String,
    description: String,
}

impl OpendalStorage {
    /// Builds the operator for `storage.backend`, reading AWS settings from the process
    /// environment (see [`OpendalStorage::from_config_with_env`]).
    pub fn from_config(storage: &StorageConfig) -> Result<Self, StorageError> {
        Self::from_config_with_env(storage, &|name| std::env::var(name).ok())
    }

    /// Builds the operator for `storage.backend`, reading `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` and `AWS_DEFAULT_REGION`
    /// through `env` (tests pass a map; [`OpendalStorage::from_config`] passes the process
    /// environment).
    ///
    /// - `fs`: root `storage.fs.path` (created if missing); writes go to a temp file under
    ///   [`FS_ATOMIC_WRITE_DIR`] and are renamed into place, so readers never see half a file.
    /// - `s3`: `storage.s3.bucket` is required. Region: the config, else `AWS_REGION`, else
    ///   `AWS_DEFAULT_REGION`, else [`DEFAULT_S3_REGION`]. With `endpoint` set (an
    ///   S3-compatible server, path-style requests) the EC2 metadata service is not asked for
    ///   credentials. Keys given by `env` come first; behind them OpenDAL's default AWS chain
    ///   (process environment, profile files, web identity, IMDS) stays in place.
    /// - `r2`: `storage.r2.bucket` and `storage.r2.account_id` are required; endpoint
    ///   `https://{account_id}.r2.cloudflarestorage.com` unless set, region `auto`, and
    ///   credentials only from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (both required).
    ///
    /// Keys passed to `put` already carry `storage.prefix`, so the prefix is not the root.
    /// Errors are [`StorageErrorKind::Permanent`] with an empty `key` and name the setting.
    pub fn from_config_with_env(
        storage: &StorageConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StorageError> {
        Self::from_config_with(storage, env, Timeouts::SERVER)
    }

    /// [`OpendalStorage::from_config_with_env`] with the given time limits (the Lambda passes
    /// [`Timeouts::PER_REQUEST`]).
    pub fn from_config_with(
        storage: &StorageConfig,
        env: &dyn Fn(&str) -> Option<String>,
        timeouts: Timeouts,
    ) -> Result<Self, StorageError> {
        // The S3 service sends through OpenDAL's process-wide HTTP transport, which only its
        // `auto-register-services` constructor would install; installing is idempotent.
        opendal::install_default();
        let (base, description) = match storage.backend {
            Backend::Fs => fs_operator(&storage.fs.path)?,
            Backend::S3 => s3_operator(storage, env)?,
            Backend::R2 => r2_operator(storage, env)?,
        };
        let op = base
            .clone()
            // Timeout inside retry: each attempt gets its own deadline, and the retry layer
            // never has a body dropped under it (OpenDAL RetryLayer docs).
            .layer(
                TimeoutLayer::new()
                    .with_timeout(timeouts.op)
                    .with_io_timeout(timeouts.io),
            )
            .layer(
                RetryLayer::new()
                    .with_max_times(timeouts.retries)
                    .with_min_delay(RETRY_MIN_DELAY)
                    .with_max_delay(RETRY_MAX_DELAY)
                    .with_factor(2.0)
                    .with_jitter(),
            );
        let probe = base.layer(
            TimeoutLayer::new()
                .with_timeout(PROBE_TIMEOUT)
                .with_io_timeout(PROBE_TIMEOUT),
        );
        let probe_dir = match storage.prefix.rfind('/') {
            Some(end) => storage.prefix.get(..=end).unwrap_or("/").to_owned(),
            None => "/".to_owned(),
        };
        Ok(Self {
            op,
            probe,
            probe_dir,
            description,
        })
    }

    /// Where files go, for the startup log line: the absolute fs root, or
    /// `s3://bucket (endpoint …, region …)`.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Whether the store answers: lists at most one entry under the prefix's directory
    /// (an empty or missing directory is fine). One attempt, at most [`PROBE_TIMEOUT`].
    ///
    /// On S3 this needs `s3:ListBucket` on the prefix.
    pub async fn check_ready(&self) -> Result<(), StorageError> {
        let probe = async {
            let mut lister = self.probe.lister_with(&self.probe_dir).limit(1).await?;
            // The first page is enough to know the store answered.
            match next_entry(&mut lister).await {
                Some(Err(e)) => Err(e),
                _ => Ok(()),
            }
        };
        match probe.await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(storage_error(&self.probe_dir, &e)),
        }
    }

    /// The underlying operator (with the timeout and retry layers).
    pub fn operator(&self) -> &Operator {
        &self.op
    }
}

impl Storage for OpendalStorage {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        self.op
            .write(key, bytes)
            .await
            .map(|_| ())
            .map_err(|e| storage_error(key, &e))
    }
}

impl ObjectStore for OpendalStorage {
    async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<PutNew, StorageError> {
        match self.op.write_with(key, bytes).if_not_exists(true).await {
            Ok(_) => Ok(PutNew::Created),
            // S3 answers 412 (and a local directory says so) when the key is taken — also when
            // an earlier attempt of this same write landed and only its answer was lost.
            Err(e) if e.kind() == ErrorKind::ConditionNotMatch => Ok(PutNew::Exists),
            Err(e) => Err(storage_error(key, &e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match self.op.read(key).await {
            Ok(buffer) => Ok(Some(buffer.to_vec())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(storage_error(key, &e)),
        }
    }

    async fn get_tagged(&self, key: &str) -> Result<Option<Fetched>, StorageError> {
        if !self.op.info().capability().write_with_if_match {
            // No entity tags (a local directory): the content names its version.
            return Ok(self.get(key).await?.map(|bytes| Fetched {
                etag: content_tag(&bytes),
                bytes,
            }));
        }
        let etag = match self.op.stat(key).await {
            Ok(meta) => meta.etag().map(str::to_owned),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(storage_error(key, &e)),
        };
        let Some(etag) = etag else {
            return Err(StorageError {
                kind: StorageErrorKind::Permanent,
                key: key.to_owned(),
                message: "the store gave no ETag for a conditional update".to_owned(),
            });
        };
        // Read exactly the version stat saw; a change in between reads as gone for now.
        match self.op.read_with(key).if_match(&etag).await {
            Ok(buffer) => Ok(Some(Fetched {
                bytes: buffer.to_vec(),
                etag,
            })),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConditionNotMatch) => {
                Ok(None)
            }
            Err(e) => Err(storage_error(key, &e)),
        }
    }

    async fn replace(&self, key: &str, bytes: Vec<u8>, etag: &str) -> Result<bool, StorageError> {
        if !self.op.info().capability().write_with_if_match {
            // A local directory has no conditional write: compare, then write. Only one host
            // sees a directory, and `otlp2parquet compact` on it is one process at a time
            // in practice (docs/adr/0013-lambda-spool.md).
            return match self.get(key).await? {
                Some(current) if content_tag(&current) == etag => {
                    self.put(key, bytes).await?;
                    Ok(true)
                }
                _ => Ok(false),
            };
        }
        match self.op.write_with(key, bytes).if_match(etag).await {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.kind(), ErrorKind::ConditionNotMatch | ErrorKind::NotFound) => {
                Ok(false)
            }
            Err(e) => Err(storage_error(key, &e)),
        }
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<Listed>, StorageError> {
        // S3 lists in key order, so the first `limit` are the oldest; a directory lists in no
        // order, so all of it is read and sorted.
        let sorted = self.op.info().scheme() != "fs";
        let mut lister = match self.op.lister_with(prefix).recursive(true).await {
            Ok(lister) => lister,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(storage_error(prefix, &e)),
        };
        let mut out = Vec::new();
        while let Some(entry) = next_entry(&mut lister).await {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) if e.kind() == ErrorKind::NotFound => break,
                Err(e) => return Err(storage_error(prefix, &e)),
            };
            if !entry.metadata().is_file() {
                continue;
            }
            out.push(Listed {
                key: entry.path().to_owned(),
                size: entry.metadata().content_length(),
            });
            if sorted && out.len() >= limit {
                break;
            }
        }
        out.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        out.truncate(limit);
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.op.delete(key).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(storage_error(key, &e)),
        }
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StorageError> {
        let Some(first) = keys.first() else {
            return Ok(());
        };
        match self.op.delete_iter(keys.iter().map(String::as_str)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(storage_error(first, &e)),
        }
    }
}

/// Classifies an OpenDAL error: what may pass by retrying later is `Temporary`, the rest
/// (configuration, credentials, missing bucket) `Permanent`.
fn storage_error(key: &str, err: &opendal::Error) -> StorageError {
    let temporary = match err.kind() {
        ErrorKind::RateLimited => true,
        // Network failures, timeouts and 5xx answers all arrive as `Unexpected`. RetryLayer
        // marks every error it finally returns `Persistent`, whatever it was, so for this kind
        // "temporary before the retries" can no longer be told from "permanent": treat it as
        // temporary (the client gets a 503 either way; ADR 0005).
        ErrorKind::Unexpected | ErrorKind::Conflict => !err.is_permanent(),
        // Credentials, configuration (including a missing bucket), unsupported operations.
        _ => false,
    };
    StorageError {
        kind: if temporary {
            StorageErrorKind::Temporary
        } else {
            StorageErrorKind::Permanent
        },
        key: key.to_owned(),
        message: describe_error(err),
    }
}

/// OpenDAL's Display (kind, status, operation, context, the direct source) plus the deeper
/// causes, which say what actually went wrong ("error sending request" → "connection refused",
/// a TLS alert, …).
fn describe_error(err: &opendal::Error) -> String {
    let mut message = err.to_string();
    let mut cause = std::error::Error::source(err).and_then(std::error::Error::source);
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    message
}

fn config_error(message: String) -> StorageError {
    StorageError {
        kind: StorageErrorKind::Permanent,
        key: String::new(),
        message,
    }
}

fn build(result: opendal::Result<Operator>, what: &str) -> Result<Operator, StorageError> {
    result.map_err(|e| {
        config_error(format!(
            "cannot set up {what} storage: {}",
            describe_error(&e)
        ))
    })
}

fn fs_operator(path: &str) -> Result<(Operator, String), StorageError> {
    let root = Path::new(path);
    std::fs::create_dir_all(root).map_err(|e| {
        config_error(format!(
            "cannot create storage.fs.path (OTLP2PARQUET_STORAGE_PATH) {path:?}: {e}"
        ))
    })?;
    let root = root.canonicalize().map_err(|e| {
        config_error(format!(
            "cannot resolve storage.fs.path (OTLP2PARQUET_STORAGE_PATH) {path:?}: {e}"
        ))
    })?;
    let root_text = root.to_string_lossy().into_owned();
    let atomic = root.join(FS_ATOMIC_WRITE_DIR);
    let builder = Fs::default()
        .root(&root_text)
        .atomic_write_dir(&atomic.to_string_lossy());
    Ok((build(Operator::new(builder), "fs")?, root_text))
}

fn required(
    value: Option<&String>,
    key: &str,
    env: &str,
    backend: &str,
) -> Result<String, StorageError> {
    match value.map(|v| v.trim()).filter(|v| !v.is_empty()) {
        Some(v) => Ok(v.to_owned()),
        None => Err(config_error(format!(
            "{key} is required for the {backend} backend (set it in the config file or with {env})"
        ))),
    }
}

fn s3_operator(
    storage: &StorageConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Operator, String), StorageError> {
    let s3 = &storage.s3;
    let bucket = required(
        s3.bucket.as_ref(),
        "storage.s3.bucket",
        "OTLP2PARQUET_S3_BUCKET",
        "s3",
    )?;
    let region = s3
        .region
        .clone()
        .filter(|r| !r.is_empty())
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_S3_REGION.to_owned());
    let mut builder = S3::default().bucket(&bucket).region(&region);
    let description = match s3.endpoint.as_deref().filter(|e| !e.is_empty()) {
        Some(endpoint) => {
            // Not on EC2 (or not talking to AWS): asking IMDS would only add a timeout.
            builder = builder.endpoint(endpoint).disable_ec2_metadata();
            format!("s3://{bucket} (endpoint {endpoint}, region {region})")
        }
        None => format!("s3://{bucket} (region {region})"),
    };
    builder = with_env_keys(builder, env);
    Ok((build(Operator::new(builder), "s3")?, description))
}

fn r2_operator(
    storage: &StorageConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Operator, String), StorageError> {
    let r2 = &storage.r2;
    let bucket = required(
        r2.bucket.as_ref(),
        "storage.r2.bucket",
        "OTLP2PARQUET_R2_BUCKET",
        "r2",
    )?;
    let account_id = required(
        r2.account_id.as_ref(),
        "storage.r2.account_id",
        "OTLP2PARQUET_R2_ACCOUNT_ID",
        "r2",
    )?;
    let endpoint = r2
        .endpoint
        .clone()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| format!("https://{account_id}.r2.cloudflarestorage.com"));
    let (Some(access_key), Some(secret_key)) = (
        env("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty()),
        env("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty()),
    ) else {
        return Err(config_error(
            "the r2 backend needs an R2 API token in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                .to_owned(),
        ));
    };
    // R2 credentials are an API token, never an AWS profile or instance role.
    let builder = S3::default()
        .bucket(&bucket)
        .region("auto")
        .endpoint(&endpoint)
        .access_key_id(&access_key)
        .secret_access_key(&secret_key)
        .disable_config_load()
        .disable_ec2_metadata();
    let description = format!("r2://{bucket} (endpoint {endpoint})");
    Ok((build(Operator::new(builder), "r2")?, description))
}

/// Puts keys from `env` in front of OpenDAL's default credential chain.
fn with_env_keys(mut builder: S3, env: &dyn Fn(&str) -> Option<String>) -> S3 {
    let access_key = env("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty());
    let secret_key = env("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty());
    if let (Some(access_key), Some(secret_key)) = (access_key, secret_key) {
        builder = builder
            .access_key_id(&access_key)
            .secret_access_key(&secret_key);
        if let Some(token) = env("AWS_SESSION_TOKEN").filter(|v| !v.is_empty()) {
            builder = builder.session_token(&token);
        }
    }
    builder
}

/// The next entry of a lister (the one `Stream` call we need, without `futures-util`).
async fn next_entry(lister: &mut opendal::Lister) -> Option<opendal::Result<opendal::Entry>> {
    std::future::poll_fn(|cx| Pin::new(&mut *lister).poll_next(cx)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lambda_write_gives_up_before_the_function_deadline() {
        // `otlp2parquet create aws` gives the function 60 s; the 503 must come before that.
        let worst = Timeouts::PER_REQUEST.worst_case();
        assert!(worst < Duration::from_secs(45), "{worst:?}");
        assert!(worst >= Duration::from_secs(30), "{worst:?}");
        // The server's writes may take far longer: its batcher keeps the rows meanwhile.
        assert!(Timeouts::SERVER.worst_case() > Duration::from_secs(240));
    }
}
