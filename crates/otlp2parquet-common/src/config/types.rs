//! The configuration types and the defaults of each platform.

use std::fmt;

use crate::platform::Platform;

const MIB: usize = 1024 * 1024;

/// The resolved configuration of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[request]`.
    pub request: RequestConfig,
    /// `[storage]`.
    pub storage: StorageConfig,
    /// `[batch]`.
    pub batch: BatchConfig,
    /// `[parquet]`.
    pub parquet: ParquetConfig,
    /// `[auth]`.
    pub auth: AuthConfig,
    /// `[lambda]`.
    pub lambda: LambdaConfig,
    /// `[compact]`.
    pub compact: CompactConfig,
}

/// `lambda.mode`: what the Lambda function does with an accepted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LambdaMode {
    /// Writes the request's Parquet files before answering (one file set per request).
    #[default]
    Direct,
    /// Stores the request's converted rows as one object under `{prefix}_spool/` before
    /// answering; the compactor merges the spool into large files.
    Spool,
}

/// `[lambda]` (the Lambda function only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LambdaConfig {
    /// `mode`, default `direct`.
    pub mode: LambdaMode,
}

/// `[compact]`: the compactor (the Lambda's scheduled run and `otlp2parquet compact`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactConfig {
    /// Stored bytes one run reads at most; the rest waits for the next run.
    pub max_run_bytes: usize,
    /// Seconds a compactor's lease lasts unless renewed (a crashed run blocks others this long).
    pub lease_secs: u64,
    /// `--sealed`: seconds after an hour ends before its files are merged.
    pub grace_secs: u64,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `listen_addr`, default `0.0.0.0:4318`.
    pub listen_addr: String,
    /// `grpc_listen_addr`, default `0.0.0.0:4317`; `None` when set to `off` (no gRPC listener).
    pub grpc_listen_addr: Option<String>,
    /// `log_level`, default `info`.
    pub log_level: String,
    /// `log_format`, default `text`.
    pub log_format: LogFormat,
    /// `[server.tls]`: TLS on both listeners when `cert_file` and `key_file` are set.
    pub tls: TlsConfig,
    /// `header_timeout_secs`, default 10: an HTTP/1 request head (and a TLS handshake) must
    /// arrive within it, counted from the connection's start or the previous answer.
    pub header_timeout_secs: u64,
    /// `body_timeout_secs`, default 30: a request body must arrive within it, counted from its
    /// head.
    pub body_timeout_secs: u64,
    /// `idle_timeout_secs`, default 60: a connection with no request in flight for this long is
    /// closed.
    pub idle_timeout_secs: u64,
    /// `max_connections`, default 4096 (lowered to fit the process's file limit): open
    /// connections of both listeners together.
    pub max_connections: usize,
}

/// `[server.tls]`: PEM files; TLS is on when both `cert_file` and `key_file` are set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConfig {
    /// `cert_file`: the certificate chain, leaf first.
    pub cert_file: Option<String>,
    /// `key_file`: the leaf's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<String>,
    /// `client_ca_file`: CA certificates a client's certificate must be signed by (mutual TLS).
    pub client_ca_file: Option<String>,
}

impl TlsConfig {
    /// Whether TLS is configured.
    pub fn enabled(&self) -> bool {
        self.cert_file.is_some() && self.key_file.is_some()
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[request]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestConfig {
    /// Upper bound of a request body, compressed and after decompression.
    pub max_payload_bytes: usize,
}

/// Storage backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Local directory.
    Fs,
    /// Amazon S3 or an S3-compatible server.
    S3,
    /// Cloudflare R2 (the S3 API, or the Worker binding).
    R2,
}

/// `[storage]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// `backend`.
    pub backend: Backend,
    /// `prefix`, prepended to every key (applies to every backend).
    pub prefix: String,
    /// `[storage.fs]`.
    pub fs: FsConfig,
    /// `[storage.s3]`.
    pub s3: S3Config,
    /// `[storage.r2]`.
    pub r2: R2Config,
}

/// `[storage.fs]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsConfig {
    /// Root directory, default `./data`.
    pub path: String,
}

/// `[storage.s3]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct S3Config {
    /// Bucket (required for the s3 backend).
    pub bucket: Option<String>,
    /// Region (else the AWS default chain).
    pub region: Option<String>,
    /// Endpoint of an S3-compatible server.
    pub endpoint: Option<String>,
}

/// `[storage.r2]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct R2Config {
    /// Bucket (required for the r2 backend, except in the Worker, which writes through
    /// [`binding`](Self::binding)).
    pub bucket: Option<String>,
    /// Cloudflare account id (the endpoint is derived from it unless `endpoint` is set).
    pub account_id: Option<String>,
    /// Explicit S3 API endpoint.
    pub endpoint: Option<String>,
    /// Name of the Worker's R2 bucket binding (Cloudflare only; default `OTLP_BUCKET`).
    pub binding: String,
}

/// The R2 binding name the Worker uses unless `storage.r2.binding` says otherwise.
pub const DEFAULT_R2_BINDING: &str = "OTLP_BUCKET";

impl Default for R2Config {
    fn default() -> Self {
        R2Config {
            bucket: None,
            account_id: None,
            endpoint: None,
            binding: DEFAULT_R2_BINDING.to_owned(),
        }
    }
}

/// `[batch]` (the server and the Worker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchConfig {
    /// Buffer and merge requests; `false` writes one file set per request.
    pub enabled: bool,
    /// Flush a buffer at this many rows.
    pub max_rows: usize,
    /// Flush a buffer at this many bytes of Arrow memory.
    pub max_bytes: usize,
    /// Flush a buffer this many seconds after its first row arrived.
    pub max_age_secs: u64,
    /// Bound on all buffered Arrow memory, flushes in progress included: past it, requests
    /// are answered 503 + `Retry-After` instead of queueing without limit.
    pub max_buffered_bytes: usize,
    /// Whether a request is acknowledged once its rows are in memory or once they are in the
    /// write-ahead log on disk.
    pub durability: Durability,
    /// The write-ahead log's directory; `None` means the default (see [`Config::wal_dir`]).
    pub wal_path: Option<String>,
    /// Worker only: spool objects per (table, service); each request picks one at random.
    pub shards: u32,
}

/// `batch.durability`: what a 200 promises while rows wait in the batcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Rows are appended to a write-ahead log and synced before the answer; a crash loses
    /// nothing acknowledged (the log is replayed on the next start).
    #[default]
    Wal,
    /// Rows live only in memory until their file is written; a crash loses them.
    Memory,
}

/// Parquet page compression (`parquet.compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParquetCompression {
    /// zstd level 1 (default where built).
    #[default]
    Zstd,
    /// Snappy.
    Snappy,
    /// No compression.
    None,
}

/// `parquet.timestamp_unit`: the unit of every time column in the files written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum TimestampUnit {
    /// Nanoseconds, the ClickHouse exporter's `DateTime64(9)` (default).
    #[default]
    Nanosecond,
    /// Microseconds, for readers that refuse nanoseconds (Apache Spark, Iceberg v2 tables).
    Microsecond,
}

/// `[parquet]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetConfig {
    /// Page compression.
    pub compression: ParquetCompression,
    /// Rows per row group.
    pub row_group_rows: usize,
    /// Bytes per row group (the rows' uncompressed size), so wide rows still make several.
    pub row_group_bytes: usize,
    /// Unit of the time columns.
    pub timestamp_unit: TimestampUnit,
    /// Bloom filters on the id columns (`TraceId`, `SpanId`).
    pub bloom_filters: bool,
}

/// `[auth]` (off unless configured).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AuthConfig {
    /// Accepted `Authorization: Bearer` token.
    pub bearer_token: Option<String>,
    /// Accepted Basic user name.
    pub basic_username: Option<String>,
    /// Accepted Basic password.
    pub basic_password: Option<String>,
}

impl fmt::Debug for AuthConfig {
    // Secrets never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |o: &Option<String>| if o.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("AuthConfig")
            .field("bearer_token", &set(&self.bearer_token))
            .field("basic_username", &self.basic_username)
            .field("basic_password", &set(&self.basic_password))
            .finish()
    }
}

impl AuthConfig {
    /// Whether any credential is configured.
    pub fn enabled(&self) -> bool {
        self.bearer_token.is_some() || self.basic_username.is_some()
    }
}

impl Config {
    /// The defaults of `platform` (docs/configuration.md#platform-detection-and-defaults lists
    /// those that differ by platform, docs/configuration.md#keys every key's default).
    pub fn defaults(platform: Platform) -> Config {
        let (max_payload_bytes, backend, batching) = match platform {
            Platform::Server => (8 * MIB, Backend::Fs, true),
            Platform::Lambda => (6 * MIB, Backend::S3, false),
            Platform::Cloudflare => (10 * MIB, Backend::R2, true),
        };
        Config {
            server: ServerConfig {
                listen_addr: "0.0.0.0:4318".to_owned(),
                grpc_listen_addr: Some("0.0.0.0:4317".to_owned()),
                log_level: "info".to_owned(),
                log_format: LogFormat::Text,
                tls: TlsConfig::default(),
                header_timeout_secs: 10,
                body_timeout_secs: 30,
                idle_timeout_secs: 60,
                max_connections: 4096,
            },
            request: RequestConfig { max_payload_bytes },
            storage: StorageConfig {
                backend,
                prefix: String::new(),
                fs: FsConfig {
                    path: "./data".to_owned(),
                },
                s3: S3Config::default(),
                r2: R2Config::default(),
            },
            batch: match platform {
                // A Durable Object spools to SQLite and flushes in a 128 MB isolate: a file
                // holds at most 48 MiB of Arrow memory, and since every flush is a billed
                // alarm and an R2 write, rows wait up to five minutes (docs/adr/0012).
                Platform::Cloudflare => BatchConfig {
                    enabled: batching,
                    max_rows: 200_000,
                    max_bytes: 48 * MIB,
                    max_age_secs: 300,
                    max_buffered_bytes: 1024 * MIB,
                    durability: Durability::Wal,
                    wal_path: None,
                    shards: 1,
                },
                Platform::Server | Platform::Lambda => BatchConfig {
                    enabled: batching,
                    max_rows: 200_000,
                    max_bytes: 128 * MIB,
                    max_age_secs: 10,
                    max_buffered_bytes: 192 * MIB,
                    durability: Durability::Wal,
                    wal_path: None,
                    shards: 1,
                },
            },
            parquet: ParquetConfig {
                compression: ParquetCompression::Zstd,
                row_group_rows: 122_880,
                row_group_bytes: 64 * MIB,
                timestamp_unit: TimestampUnit::Nanosecond,
                bloom_filters: true,
            },
            auth: AuthConfig::default(),
            lambda: LambdaConfig::default(),
            compact: CompactConfig {
                max_run_bytes: 64 * MIB,
                lease_secs: 900,
                grace_secs: 600,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_per_platform() {
        let s = Config::defaults(Platform::Server);
        assert_eq!(s.request.max_payload_bytes, 8 * MIB);
        assert_eq!(s.storage.backend, Backend::Fs);
        assert_eq!(s.batch.max_rows, 200_000);
        assert_eq!(s.parquet.row_group_rows, 122_880);
        assert_eq!(
            Config::defaults(Platform::Lambda).request.max_payload_bytes,
            6 * MIB
        );
        assert_eq!(
            Config::defaults(Platform::Lambda).storage.backend,
            Backend::S3
        );
        assert_eq!(
            Config::defaults(Platform::Cloudflare)
                .request
                .max_payload_bytes,
            10 * MIB
        );
        assert_eq!(
            Config::defaults(Platform::Cloudflare).storage.backend,
            Backend::R2
        );
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let mut c = Config::defaults(Platform::Server);
        c.auth.bearer_token = Some("s3cret".into());
        assert!(!format!("{:?}", c.auth).contains("s3cret"));
    }
}
