//! Configuration (SPEC §2): platform defaults → TOML file → `OTLP2PARQUET_*` env → CLI flags,
//! merged per field.
//!
//! Every setting is one row of [`FIELDS`]: its TOML key, its env variable and how to parse it.
//! The TOML file, the environment and command-line flags all go through the same parser, so a
//! bad value gets the same message wherever it came from, and that message names the key,
//! the source and the fix.

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

/// `[batch]` (server only).
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

/// `[parquet]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetConfig {
    /// Page compression.
    pub compression: ParquetCompression,
    /// Rows per row group.
    pub row_group_rows: usize,
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
    /// The defaults of `platform` (SPEC §2 table).
    pub fn defaults(platform: Platform) -> Config {
        let (max_payload_bytes, backend, batching) = match platform {
            Platform::Server => (8 * MIB, Backend::Fs, true),
            Platform::Lambda => (6 * MIB, Backend::S3, false),
            Platform::Cloudflare => (10 * MIB, Backend::R2, false),
        };
        Config {
            server: ServerConfig {
                listen_addr: "0.0.0.0:4318".to_owned(),
                grpc_listen_addr: Some("0.0.0.0:4317".to_owned()),
                log_level: "info".to_owned(),
                log_format: LogFormat::Text,
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
            batch: BatchConfig {
                enabled: batching,
                max_rows: 200_000,
                max_bytes: 128 * MIB,
                max_age_secs: 10,
                max_buffered_bytes: 192 * MIB,
                durability: Durability::Wal,
                wal_path: None,
            },
            parquet: ParquetConfig {
                compression: ParquetCompression::Zstd,
                row_group_rows: 122_880,
            },
            auth: AuthConfig::default(),
        }
    }
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A TOML file (its path, or `OTLP2PARQUET_CONFIG_CONTENT`).
    File(String),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "config file {p}"),
            Source::Env(v) => write!(f, "environment variable {v}"),
            Source::Flag(v) => write!(f, "flag {v}"),
        }
    }
}

/// A configuration that cannot be used: names the key, where it came from and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {message}")]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The explanation, without the `configuration error:` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

type Setter = fn(&mut Config, &str) -> Result<(), String>;

/// One configuration setting: its TOML key, env variable and parser.
pub struct Field {
    /// Dotted TOML key, e.g. `batch.max_rows`.
    pub key: &'static str,
    /// Environment variable, e.g. `OTLP2PARQUET_BATCH_MAX_ROWS`.
    pub env: &'static str,
    /// What a valid value looks like (used in error messages).
    pub expects: &'static str,
    set: Setter,
}

fn parse_usize(v: &str) -> Result<usize, String> {
    let v = v.trim().replace('_', "");
    v.parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| "not a positive integer".to_owned())
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("not a boolean".to_owned()),
    }
}

fn some(v: &str) -> Result<Option<String>, String> {
    if v.is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Ok(Some(v.to_owned()))
    }
}

/// Every setting, in documentation order.
pub const FIELDS: &[Field] = &[
    Field {
        key: "server.listen_addr",
        env: "OTLP2PARQUET_LISTEN_ADDR",
        expects: "a socket address such as 0.0.0.0:4318",
        set: |c, v| {
            if v.rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            {
                c.server.listen_addr = v.to_owned();
                Ok(())
            } else {
                Err("not HOST:PORT".to_owned())
            }
        },
    },
    Field {
        key: "server.grpc_listen_addr",
        env: "OTLP2PARQUET_GRPC_LISTEN_ADDR",
        expects: "a socket address such as 0.0.0.0:4317, or off",
        set: |c, v| {
            if ["off", "none", "disabled", "false"]
                .contains(&v.trim().to_ascii_lowercase().as_str())
            {
                c.server.grpc_listen_addr = None;
                Ok(())
            } else if v
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            {
                c.server.grpc_listen_addr = Some(v.to_owned());
                Ok(())
            } else {
                Err("not HOST:PORT or off".to_owned())
            }
        },
    },
    Field {
        key: "server.log_level",
        env: "OTLP2PARQUET_LOG_LEVEL",
        expects: "trace, debug, info, warn or error",
        set: |c, v| match v.to_ascii_lowercase().as_str() {
            l @ ("trace" | "debug" | "info" | "warn" | "error") => {
                c.server.log_level = l.to_owned();
                Ok(())
            }
            _ => Err("unknown level".to_owned()),
        },
    },
    Field {
        key: "server.log_format",
        env: "OTLP2PARQUET_LOG_FORMAT",
        expects: "text or json",
        set: |c, v| {
            c.server.log_format = match v.to_ascii_lowercase().as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err("unknown format".to_owned()),
            };
            Ok(())
        },
    },
    Field {
        key: "request.max_payload_bytes",
        env: "OTLP2PARQUET_MAX_PAYLOAD_BYTES",
        expects: "a positive number of bytes, e.g. 8388608",
        set: |c, v| {
            c.request.max_payload_bytes = parse_usize(v)?;
            Ok(())
        },
    },
    Field {
        key: "storage.backend",
        env: "OTLP2PARQUET_STORAGE_BACKEND",
        expects: "fs, s3 or r2",
        set: |c, v| {
            c.storage.backend = match v.to_ascii_lowercase().as_str() {
                "fs" => Backend::Fs,
                "s3" => Backend::S3,
                "r2" => Backend::R2,
                _ => return Err("unknown backend".to_owned()),
            };
            Ok(())
        },
    },
    Field {
        key: "storage.prefix",
        env: "OTLP2PARQUET_STORAGE_PREFIX",
        expects: "a relative key prefix such as `otel/` (no `..` segments, no leading `/`)",
        set: |c, v| {
            if v.starts_with('/') || v.split('/').any(|s| s == ".." || s == ".") {
                return Err("would escape the storage root".to_owned());
            }
            c.storage.prefix = v.to_owned();
            Ok(())
        },
    },
    Field {
        key: "storage.fs.path",
        env: "OTLP2PARQUET_STORAGE_PATH",
        expects: "a directory path",
        set: |c, v| {
            c.storage.fs.path = some(v)?.unwrap_or_default();
            Ok(())
        },
    },
    Field {
        key: "storage.s3.bucket",
        env: "OTLP2PARQUET_S3_BUCKET",
        expects: "a bucket name",
        set: |c, v| {
            c.storage.s3.bucket = some(v)?;
            Ok(())
        },
    },
    Field {
        key: "storage.s3.region",
        env: "OTLP2PARQUET_S3_REGION",
        expects: "a region such as us-east-1",
        set: |c, v| {
            c.storage.s3.region = some(v)?;
            Ok(())
        },
    },
    Field {
        key: "storage.s3.endpoint",
        env: "OTLP2PARQUET_S3_ENDPOINT",
        expects: "an http(s) URL",
        set: |c, v| {
            c.storage.s3.endpoint = Some(url(v)?);
            Ok(())
        },
    },
    Field {
        key: "storage.r2.bucket",
        env: "OTLP2PARQUET_R2_BUCKET",
        expects: "a bucket name",
        set: |c, v| {
            c.storage.r2.bucket = some(v)?;
            Ok(())
        },
    },
    Field {
        key: "storage.r2.account_id",
        env: "OTLP2PARQUET_R2_ACCOUNT_ID",
        expects: "a Cloudflare account id",
        set: |c, v| {
            c.storage.r2.account_id = some(v)?;
            Ok(())
        },
    },
    Field {
        key: "storage.r2.endpoint",
        env: "OTLP2PARQUET_R2_ENDPOINT",
        expects: "an http(s) URL",
        set: |c, v| {
            c.storage.r2.endpoint = Some(url(v)?);
            Ok(())
        },
    },
    Field {
        key: "storage.r2.binding",
        env: "OTLP2PARQUET_R2_BINDING",
        expects: "the name of the Worker's R2 bucket binding",
        set: |c, v| {
            c.storage.r2.binding = v.trim().to_owned();
            if c.storage.r2.binding.is_empty() {
                return Err("must not be empty".to_owned());
            }
            Ok(())
        },
    },
    Field {
        key: "batch.enabled",
        env: "OTLP2PARQUET_BATCH_ENABLED",
        expects: "true or false",
        set: |c, v| {
            c.batch.enabled = parse_bool(v)?;
            Ok(())
        },
    },
    Field {
        key: "batch.max_rows",
        env: "OTLP2PARQUET_BATCH_MAX_ROWS",
        expects: "a positive number of rows",
        set: |c, v| {
            c.batch.max_rows = parse_usize(v)?;
            Ok(())
        },
    },
    Field {
        key: "batch.max_bytes",
        env: "OTLP2PARQUET_BATCH_MAX_BYTES",
        expects: "a positive number of bytes",
        set: |c, v| {
            c.batch.max_bytes = parse_usize(v)?;
            Ok(())
        },
    },
    Field {
        key: "batch.max_age_secs",
        env: "OTLP2PARQUET_BATCH_MAX_AGE_SECS",
        expects: "a positive number of seconds",
        set: |c, v| {
            c.batch.max_age_secs = parse_usize(v)? as u64;
            Ok(())
        },
    },
    Field {
        key: "batch.max_buffered_bytes",
        env: "OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES",
        expects: "a positive number of bytes",
        set: |c, v| {
            c.batch.max_buffered_bytes = parse_usize(v)?;
            Ok(())
        },
    },
    Field {
        key: "batch.durability",
        env: "OTLP2PARQUET_BATCH_DURABILITY",
        expects: "wal or memory",
        set: |c, v| {
            c.batch.durability = match v.trim().to_ascii_lowercase().as_str() {
                "wal" => Durability::Wal,
                "memory" => Durability::Memory,
                _ => return Err("unknown durability".to_owned()),
            };
            Ok(())
        },
    },
    Field {
        key: "batch.wal_path",
        env: "OTLP2PARQUET_BATCH_WAL_PATH",
        expects: "a directory",
        set: |c, v| {
            c.batch.wal_path = some(v)?;
            Ok(())
        },
    },
    Field {
        key: "parquet.compression",
        env: "OTLP2PARQUET_PARQUET_COMPRESSION",
        expects: "zstd, snappy or none",
        set: |c, v| {
            c.parquet.compression = match v.to_ascii_lowercase().as_str() {
                "zstd" => ParquetCompression::Zstd,
                "snappy" => ParquetCompression::Snappy,
                "none" | "uncompressed" => ParquetCompression::None,
                _ => return Err("unknown codec".to_owned()),
            };
            Ok(())
        },
    },
    Field {
        key: "parquet.row_group_rows",
        env: "OTLP2PARQUET_PARQUET_ROW_GROUP_SIZE",
        expects: "a positive number of rows",
        set: |c, v| {
            c.parquet.row_group_rows = parse_usize(v)?;
            Ok(())
        },
    },
    Field {
        key: "auth.bearer_token",
        env: "OTLP2PARQUET_AUTH_BEARER_TOKEN",
        expects: "a non-empty token",
        set: |c, v| {
            c.auth.bearer_token = some(v)?;
            Ok(())
        },
    },
    Field {
        key: "auth.basic_username",
        env: "OTLP2PARQUET_AUTH_BASIC_USERNAME",
        expects: "a non-empty user name",
        set: |c, v| {
            c.auth.basic_username = some(v)?;
            Ok(())
        },
    },
    Field {
        key: "auth.basic_password",
        env: "OTLP2PARQUET_AUTH_BASIC_PASSWORD",
        expects: "a non-empty password",
        set: |c, v| {
            c.auth.basic_password = some(v)?;
            Ok(())
        },
    },
];

fn url(v: &str) -> Result<String, String> {
    if v.starts_with("http://") || v.starts_with("https://") {
        Ok(v.trim_end_matches('/').to_owned())
    } else {
        Err("not an http:// or https:// URL".to_owned())
    }
}

/// Env variables that select the file rather than set a field.
pub const ENV_CONFIG_PATH: &str = "OTLP2PARQUET_CONFIG";
/// Inline TOML content.
pub const ENV_CONFIG_CONTENT: &str = "OTLP2PARQUET_CONFIG_CONTENT";

/// The raw inputs of one configuration load; gathering them (reading files and the process
/// environment) is the adapter's job, so this stays pure and testable.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The TOML file: (where it came from, its text).
    pub file: Option<(String, String)>,
    /// Environment variables (all of them; only `OTLP2PARQUET_*` are read).
    pub env: Vec<(String, String)>,
    /// Command-line flags as (TOML key, flag name, value).
    pub flags: Vec<(&'static str, &'static str, String)>,
}

impl Config {
    /// Merges `sources` over the defaults of `platform`, per field, and validates the result.
    pub fn load(platform: Platform, sources: &Sources) -> Result<Config, ConfigError> {
        let mut config = Config::defaults(platform);
        if let Some((origin, text)) = &sources.file {
            apply_toml(&mut config, origin, text)?;
        }
        for (name, value) in &sources.env {
            if !name.starts_with("OTLP2PARQUET_")
                || name == ENV_CONFIG_PATH
                || name == ENV_CONFIG_CONTENT
            {
                continue;
            }
            let Some(field) = FIELDS.iter().find(|f| f.env == name) else {
                return Err(ConfigError::new(format!(
                    "unknown environment variable {name}; known variables: {}",
                    FIELDS.iter().map(|f| f.env).collect::<Vec<_>>().join(", ")
                )));
            };
            set(&mut config, field, value, &Source::Env(name.clone()))?;
        }
        for (key, flag, value) in &sources.flags {
            let field = FIELDS.iter().find(|f| f.key == *key).ok_or_else(|| {
                ConfigError::new(format!("flag {flag} maps to unknown key {key}"))
            })?;
            set(&mut config, field, value, &Source::Flag((*flag).to_owned()))?;
        }
        config.validate(platform)?;
        Ok(config)
    }

    /// Where the server's write-ahead log lives, or `None` when there is none (batching off,
    /// or `batch.durability = "memory"`). The default is `_wal` inside the data directory with
    /// the fs backend (Spark, Hive and Athena skip `_`-prefixed directories) and
    /// `./otlp2parquet-wal` with the object stores.
    pub fn wal_dir(&self) -> Option<std::path::PathBuf> {
        if !self.batch.enabled || self.batch.durability != Durability::Wal {
            return None;
        }
        Some(match (&self.batch.wal_path, self.storage.backend) {
            (Some(p), _) => std::path::PathBuf::from(p),
            (None, Backend::Fs) => std::path::Path::new(&self.storage.fs.path).join("_wal"),
            (None, _) => std::path::PathBuf::from("otlp2parquet-wal"),
        })
    }

    fn validate(&self, platform: Platform) -> Result<(), ConfigError> {
        let s = &self.storage;
        match s.backend {
            Backend::S3 if s.s3.bucket.is_none() => Err(ConfigError::new(
                "storage.backend = \"s3\" needs storage.s3.bucket; set it in the config file or \
                 with OTLP2PARQUET_S3_BUCKET",
            )),
            // In the Worker the binding is the bucket (wrangler.toml names it).
            Backend::R2 if s.r2.bucket.is_none() && platform != Platform::Cloudflare => {
                Err(ConfigError::new(
                    "storage.backend = \"r2\" needs storage.r2.bucket; set it in the config file or \
                 with OTLP2PARQUET_R2_BUCKET",
                ))
            }
            _ => Ok(()),
        }?;
        if self.auth.basic_username.is_some() != self.auth.basic_password.is_some() {
            return Err(ConfigError::new(
                "auth.basic_username and auth.basic_password must be set together \
                 (OTLP2PARQUET_AUTH_BASIC_USERNAME / OTLP2PARQUET_AUTH_BASIC_PASSWORD)",
            ));
        }
        Ok(())
    }
}

fn set(
    config: &mut Config,
    field: &Field,
    value: &str,
    source: &Source,
) -> Result<(), ConfigError> {
    (field.set)(config, value).map_err(|why| {
        ConfigError::new(format!(
            "{} = {value:?} (from {source}): {why}; expected {} (TOML key {}, env {})",
            field.key, field.expects, field.key, field.env
        ))
    })
}

fn apply_toml(config: &mut Config, origin: &str, text: &str) -> Result<(), ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e| ConfigError::new(format!("config file {origin} is not valid TOML: {e}")))?;
    let source = Source::File(origin.to_owned());
    walk(config, &table, "", &source)
}

fn walk(
    config: &mut Config,
    table: &toml::Table,
    prefix: &str,
    source: &Source,
) -> Result<(), ConfigError> {
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if let toml::Value::Table(inner) = value {
            let section = format!("{key}.");
            if !FIELDS.iter().any(|f| f.key.starts_with(&section)) {
                return Err(unknown_key(&key, source));
            }
            walk(config, inner, &key, source)?;
            continue;
        }
        let Some(field) = FIELDS.iter().find(|f| f.key == key) else {
            return Err(unknown_key(&key, source));
        };
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                return Err(ConfigError::new(format!(
                    "{key} (from {source}) is a {}; expected {}",
                    other.type_str(),
                    field.expects
                )));
            }
        };
        set(config, field, &text, source)?;
    }
    Ok(())
}

fn unknown_key(key: &str, source: &Source) -> ConfigError {
    let section = key.split('.').next().unwrap_or(key);
    let near: Vec<&str> = FIELDS
        .iter()
        .map(|f| f.key)
        .filter(|k| k.starts_with(section))
        .collect();
    let hint = if near.is_empty() {
        format!(
            "known sections: {}",
            "server, request, storage, batch, parquet, auth"
        )
    } else {
        format!("known keys there: {}", near.join(", "))
    };
    ConfigError::new(format!(
        "unknown key {key} in {source}; remove it or fix its spelling ({hint})"
    ))
}

impl Sources {
    /// Gathers the sources of a native process: the TOML file chosen by `--config FILE`
    /// (`config_flag`), else `$OTLP2PARQUET_CONFIG`, else `$OTLP2PARQUET_CONFIG_CONTENT`, else
    /// `./config.toml` if it exists; and this process's environment.
    pub fn from_process(config_flag: Option<&str>) -> Result<Sources, ConfigError> {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|text| Some((path.to_owned(), text)))
                .map_err(|e| ConfigError::new(format!("cannot read config file {path}: {e}")))
        };
        let file = if let Some(path) = config_flag {
            read(path)?
        } else if let Ok(path) = std::env::var(ENV_CONFIG_PATH) {
            read(&path)?
        } else if let Ok(text) = std::env::var(ENV_CONFIG_CONTENT) {
            Some((ENV_CONFIG_CONTENT.to_owned(), text))
        } else if std::path::Path::new("config.toml").is_file() {
            read("config.toml")?
        } else {
            None
        };
        Ok(Sources {
            file,
            env: std::env::vars().collect(),
            flags: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: Option<&str>, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let sources = Sources {
            file: file.map(|t| ("test.toml".to_owned(), t.to_owned())),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            flags: Vec::new(),
        };
        Config::load(Platform::Server, &sources)
    }

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
    fn worker_needs_no_r2_bucket_and_reads_its_binding_name() {
        let worker = |env: &[(&str, &str)]| {
            let sources = Sources {
                env: env
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                ..Sources::default()
            };
            Config::load(Platform::Cloudflare, &sources)
        };
        let c = worker(&[]).unwrap();
        assert_eq!(c.storage.r2.binding, "OTLP_BUCKET");
        assert_eq!(c.storage.r2.bucket, None);
        let c = worker(&[("OTLP2PARQUET_R2_BINDING", "LOGS")]).unwrap();
        assert_eq!(c.storage.r2.binding, "LOGS");
        let e = worker(&[("OTLP2PARQUET_R2_BINDING", " ")]).unwrap_err();
        assert!(e.message().contains("storage.r2.binding"), "{e}");
        // Elsewhere the r2 backend still goes through the S3 API and needs the bucket.
        let e = load(None, &[("OTLP2PARQUET_STORAGE_BACKEND", "r2")]).unwrap_err();
        assert!(e.message().contains("storage.r2.bucket"), "{e}");
    }

    #[test]
    fn file_sets_one_key_without_resetting_others() {
        let c = load(Some("[batch]\nmax_rows = 10\n"), &[]).unwrap();
        assert_eq!(c.batch.max_rows, 10);
        assert_eq!(c.batch.max_age_secs, 10);
        assert!(c.batch.enabled);
    }

    #[test]
    fn env_overrides_file_and_flags_override_env() {
        let sources = Sources {
            file: Some((
                "f".into(),
                "[batch]\nmax_rows = 10\nmax_age_secs = 3\n".into(),
            )),
            env: vec![("OTLP2PARQUET_BATCH_MAX_ROWS".into(), "20".into())],
            flags: vec![("storage.fs.path", "--output", "/tmp/x".into())],
        };
        let c = Config::load(Platform::Server, &sources).unwrap();
        assert_eq!(c.batch.max_rows, 20);
        assert_eq!(c.batch.max_age_secs, 3);
        assert_eq!(c.storage.fs.path, "/tmp/x");
    }

    #[test]
    fn unknown_key_is_named() {
        let e = load(Some("[batch]\nmax_rowz = 1\n"), &[]).unwrap_err();
        assert!(e.message().contains("batch.max_rowz"), "{e}");
        assert!(e.message().contains("batch.max_rows"), "{e}");
        let e = load(Some("[bogus]\nx = 1\n"), &[]).unwrap_err();
        assert!(e.message().contains("bogus"), "{e}");
        let e = load(None, &[("OTLP2PARQUET_BATCH_MAX_ROWZ", "1")]).unwrap_err();
        assert!(e.message().contains("OTLP2PARQUET_BATCH_MAX_ROWZ"), "{e}");
    }

    #[test]
    fn bad_value_names_key_source_and_fix() {
        let e = load(None, &[("OTLP2PARQUET_STORAGE_BACKEND", "ftp")]).unwrap_err();
        let m = e.message();
        assert!(m.contains("storage.backend"), "{m}");
        assert!(m.contains("OTLP2PARQUET_STORAGE_BACKEND"), "{m}");
        assert!(m.contains("fs, s3 or r2"), "{m}");
        let e = load(Some("[request]\nmax_payload_bytes = \"lots\"\n"), &[]).unwrap_err();
        assert!(e.message().contains("config file test.toml"), "{e}");
        let e = load(Some("[batch]\nenabled = [1]\n"), &[]).unwrap_err();
        assert!(e.message().contains("batch.enabled"), "{e}");
    }

    #[test]
    fn missing_required_bucket_is_an_error() {
        let e = load(None, &[("OTLP2PARQUET_STORAGE_BACKEND", "s3")]).unwrap_err();
        assert!(e.message().contains("storage.s3.bucket"), "{e}");
        let c = load(
            None,
            &[
                ("OTLP2PARQUET_STORAGE_BACKEND", "s3"),
                ("OTLP2PARQUET_S3_BUCKET", "b"),
            ],
        )
        .unwrap();
        assert_eq!(c.storage.s3.bucket.as_deref(), Some("b"));
    }

    #[test]
    fn prefix_cannot_escape_root() {
        assert!(load(None, &[("OTLP2PARQUET_STORAGE_PREFIX", "../x/")]).is_err());
        assert!(load(None, &[("OTLP2PARQUET_STORAGE_PREFIX", "/abs/")]).is_err());
        let c = load(None, &[("OTLP2PARQUET_STORAGE_PREFIX", "otel/")]).unwrap();
        assert_eq!(c.storage.prefix, "otel/");
    }

    #[test]
    fn invalid_toml_is_reported() {
        let e = load(Some("[batch\n"), &[]).unwrap_err();
        assert!(e.message().contains("not valid TOML"), "{e}");
    }

    /// `config.example.toml` is the documentation of every key: it must load, equal the
    /// defaults, and mention every key and env variable of [`FIELDS`].
    #[test]
    fn example_config_documents_every_key_and_loads_to_the_defaults() {
        let text = include_str!("../../../config.example.toml");
        let c = load(Some(text), &[]).unwrap();
        assert_eq!(c, Config::defaults(Platform::Server));
        for f in FIELDS {
            let leaf = f.key.rsplit('.').next().unwrap();
            assert!(
                text.contains(&format!("{leaf} = ")),
                "{} not documented",
                f.key
            );
            assert!(text.contains(f.env), "{} not documented", f.env);
        }
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let mut c = Config::defaults(Platform::Server);
        c.auth.bearer_token = Some("s3cret".into());
        assert!(!format!("{:?}", c.auth).contains("s3cret"));
    }
}
