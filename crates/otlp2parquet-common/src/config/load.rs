//! Loading: merging the sources over the defaults, per field, and validating the result.

use std::fmt;

use super::fields::{FIELDS, Field};
use super::types::{Backend, Config, Durability};
use crate::platform::Platform;

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
        let tls = &self.server.tls;
        if tls.cert_file.is_some() != tls.key_file.is_some() {
            return Err(ConfigError::new(
                "server.tls.cert_file and server.tls.key_file must be set together \
                 (OTLP2PARQUET_TLS_CERT_FILE / OTLP2PARQUET_TLS_KEY_FILE)",
            ));
        }
        if tls.client_ca_file.is_some() && !tls.enabled() {
            return Err(ConfigError::new(
                "server.tls.client_ca_file (mutual TLS) needs server.tls.cert_file and \
                 server.tls.key_file (OTLP2PARQUET_TLS_CERT_FILE / OTLP2PARQUET_TLS_KEY_FILE)",
            ));
        }
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
            "server, request, storage, batch, parquet, auth, lambda, compact"
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
        let text = include_str!("../../../../config.example.toml");
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
}
