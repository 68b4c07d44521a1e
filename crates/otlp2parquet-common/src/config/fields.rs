//! The field table: every setting's TOML key, environment variable and parser.

use super::types::{
    Backend, Config, Durability, LambdaMode, LogFormat, ParquetCompression, TimestampUnit,
};

type Setter = fn(&mut Config, &str) -> Result<(), String>;

/// One configuration setting: its TOML key, env variable and parser.
pub struct Field {
    /// Dotted TOML key, e.g. `batch.max_rows`.
    pub key: &'static str,
    /// Environment variable, e.g. `OTLP2PARQUET_BATCH_MAX_ROWS`.
    pub env: &'static str,
    /// What a valid value looks like (used in error messages).
    pub expects: &'static str,
    pub(super) set: Setter,
}

fn parse_usize(v: &str) -> Result<usize, String> {
    let v = v.trim().replace('_', "");
    v.parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| "not a positive integer".to_owned())
}

fn parse_secs(v: &str) -> Result<u64, String> {
    v.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=86_400).contains(n))
        .ok_or_else(|| "not a number of seconds from 1 to 86400".to_owned())
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
        key: "server.header_timeout_secs",
        env: "OTLP2PARQUET_HEADER_TIMEOUT_SECS",
        expects: "a positive number of seconds, e.g. 10",
        set: |c, v| {
            c.server.header_timeout_secs = parse_secs(v)?;
            Ok(())
        },
    },
    Field {
        key: "server.body_timeout_secs",
        env: "OTLP2PARQUET_BODY_TIMEOUT_SECS",
        expects: "a positive number of seconds, e.g. 30",
        set: |c, v| {
            c.server.body_timeout_secs = parse_secs(v)?;
            Ok(())
        },
    },
    Field {
        key: "server.idle_timeout_secs",
        env: "OTLP2PARQUET_IDLE_TIMEOUT_SECS",
        expects: "a positive number of seconds, e.g. 60",
        set: |c, v| {
            c.server.idle_timeout_secs = parse_secs(v)?;
            Ok(())
        },
    },
    Field {
        key: "server.max_connections",
        env: "OTLP2PARQUET_MAX_CONNECTIONS",
        expects: "a positive number of connections, e.g. 4096",
        set: |c, v| {
            c.server.max_connections = parse_usize(v)?;
            Ok(())
        },
    },
    Field {
        key: "server.tls.cert_file",
        env: "OTLP2PARQUET_TLS_CERT_FILE",
        expects: "the path of a PEM certificate chain",
        set: |c, v| {
            c.server.tls.cert_file = some(v)?;
            Ok(())
        },
    },
    Field {
        key: "server.tls.key_file",
        env: "OTLP2PARQUET_TLS_KEY_FILE",
        expects: "the path of a PEM private key",
        set: |c, v| {
            c.server.tls.key_file = some(v)?;
            Ok(())
        },
    },
    Field {
        key: "server.tls.client_ca_file",
        env: "OTLP2PARQUET_TLS_CLIENT_CA_FILE",
        expects: "the path of PEM CA certificates for client certificates (mutual TLS)",
        set: |c, v| {
            c.server.tls.client_ca_file = some(v)?;
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
        key: "batch.shards",
        env: "OTLP2PARQUET_BATCH_SHARDS",
        expects: "a number of spool objects from 1 to 1024",
        set: |c, v| {
            c.batch.shards = match parse_usize(v)? {
                n @ 1..=1024 => n as u32,
                _ => return Err("out of range".to_owned()),
            };
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
        key: "parquet.row_group_bytes",
        env: "OTLP2PARQUET_PARQUET_ROW_GROUP_BYTES",
        expects: "a positive number of bytes",
        set: |c, v| {
            c.parquet.row_group_bytes = parse_usize(v)?;
            Ok(())
        },
    },
    Field {
        key: "parquet.timestamp_unit",
        env: "OTLP2PARQUET_PARQUET_TIMESTAMP_UNIT",
        expects: "ns or us",
        set: |c, v| {
            c.parquet.timestamp_unit = match v.trim().to_ascii_lowercase().as_str() {
                "ns" => TimestampUnit::Nanosecond,
                "us" => TimestampUnit::Microsecond,
                _ => return Err("unknown timestamp unit".to_owned()),
            };
            Ok(())
        },
    },
    Field {
        key: "parquet.bloom_filters",
        env: "OTLP2PARQUET_PARQUET_BLOOM_FILTERS",
        expects: "true or false",
        set: |c, v| {
            c.parquet.bloom_filters = parse_bool(v)?;
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
    Field {
        key: "lambda.mode",
        env: "OTLP2PARQUET_LAMBDA_MODE",
        expects: "direct or spool",
        set: |c, v| {
            c.lambda.mode = match v.trim().to_ascii_lowercase().as_str() {
                "direct" => LambdaMode::Direct,
                "spool" => LambdaMode::Spool,
                _ => return Err("unknown mode".to_owned()),
            };
            Ok(())
        },
    },
    Field {
        key: "compact.max_run_bytes",
        env: "OTLP2PARQUET_COMPACT_MAX_RUN_BYTES",
        expects: "a positive number of bytes",
        set: |c, v| {
            c.compact.max_run_bytes = parse_usize(v)?;
            Ok(())
        },
    },
    Field {
        key: "compact.lease_secs",
        env: "OTLP2PARQUET_COMPACT_LEASE_SECS",
        expects: "a positive number of seconds",
        set: |c, v| {
            c.compact.lease_secs = parse_usize(v)? as u64;
            Ok(())
        },
    },
    Field {
        key: "compact.grace_secs",
        env: "OTLP2PARQUET_COMPACT_GRACE_SECS",
        expects: "a number of seconds (0 or more)",
        set: |c, v| {
            c.compact.grace_secs = v
                .trim()
                .replace('_', "")
                .parse::<u64>()
                .map_err(|_| "not a number of seconds".to_owned())?;
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
