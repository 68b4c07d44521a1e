//! Configuration: platform defaults → TOML file → `OTLP2PARQUET_*` env → CLI flags, merged
//! per field (docs/configuration.md#sources-and-precedence).
//!
//! Every setting is one row of [`FIELDS`]: its TOML key, its env variable and how to parse it.
//! The TOML file, the environment and command-line flags all go through the same parser, so a
//! bad value gets the same message wherever it came from, and that message names the key,
//! the source and the fix.
//!
//! The code is split into `types` (the configuration and each platform's defaults), `fields`
//! (the [`FIELDS`] table and its parsers) and `load` (merging the sources in
//! [`Config::load`], validation, and gathering a process's [`Sources`]).

mod fields;
mod load;
mod types;

pub use fields::{FIELDS, Field};
pub use load::{ConfigError, ENV_CONFIG_CONTENT, ENV_CONFIG_PATH, Source, Sources};
pub use types::{
    AuthConfig, Backend, BatchConfig, CompactConfig, Config, DEFAULT_R2_BINDING, Durability,
    FsConfig, LambdaConfig, LambdaMode, LogFormat, ParquetCompression, ParquetConfig, R2Config,
    RequestConfig, S3Config, ServerConfig, StorageConfig, TimestampUnit, TlsConfig,
};
