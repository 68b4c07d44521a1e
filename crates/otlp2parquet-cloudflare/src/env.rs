//! Configuration from Worker vars and secrets (docs/configuration.md#sources-and-precedence).
//! A Worker has no process environment and no file system: every `OTLP2PARQUET_*` binding (a
//! `[vars]` entry or a secret) plays the role of an environment variable, and
//! `OTLP2PARQUET_CONFIG_CONTENT` that of the TOML file.

use otlp2parquet_common::config::{
    Backend, Config, ENV_CONFIG_CONTENT, ENV_CONFIG_PATH, FIELDS, Sources,
};
use otlp2parquet_common::platform::Platform;

/// Gathers the configuration sources from the Worker's bindings: `names` are the binding names
/// the runtime lists, `lookup` reads one binding as a string (a var or a secret). Every
/// [`FIELDS`] variable is looked up as well, so a secret the runtime does not list is still
/// read.
pub fn sources(names: &[String], lookup: impl Fn(&str) -> Option<String>) -> Sources {
    let mut wanted: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| n.starts_with("OTLP2PARQUET_"))
        .chain(FIELDS.iter().map(|f| f.env))
        .chain([ENV_CONFIG_PATH, ENV_CONFIG_CONTENT])
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut sources = Sources::default();
    for name in wanted {
        let Some(value) = lookup(name) else { continue };
        if name == ENV_CONFIG_CONTENT {
            sources.file = Some((ENV_CONFIG_CONTENT.to_owned(), value));
        } else {
            sources.env.push((name.to_owned(), value));
        }
    }
    sources
}

/// Loads the Worker's configuration: Cloudflare defaults (r2 backend, 10 MiB payloads) under
/// the bindings of [`sources`]. The message of an error names the key and the fix.
pub fn load(names: &[String], lookup: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
    let sources = sources(names, lookup);
    if sources.env.iter().any(|(n, _)| n == ENV_CONFIG_PATH) {
        return Err(format!(
            "{ENV_CONFIG_PATH} names a file, and a Worker has no file system; put the TOML in \
             {ENV_CONFIG_CONTENT} or set OTLP2PARQUET_* vars instead"
        ));
    }
    let config =
        Config::load(Platform::Cloudflare, &sources).map_err(|e| e.message().to_owned())?;
    if config.storage.backend != Backend::R2 {
        return Err(
            "storage.backend must be \"r2\" in the Worker, which writes through its R2 \
             binding; remove OTLP2PARQUET_STORAGE_BACKEND (or set it to r2)"
                .to_owned(),
        );
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> (Vec<String>, impl Fn(&str) -> Option<String>) {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let names = owned.iter().map(|(k, _)| k.clone()).collect();
        let lookup = move |name: &str| {
            owned
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        (names, lookup)
    }

    #[test]
    fn defaults_are_the_cloudflare_ones() {
        let (names, lookup) = vars(&[("OTHER_BINDING", "x")]);
        let c = load(&names, lookup).unwrap();
        assert_eq!(c.request.max_payload_bytes, 10 * 1024 * 1024);
        assert_eq!(c.storage.backend, Backend::R2);
        assert_eq!(c.storage.r2.binding, "OTLP_BUCKET");
        assert!(!c.auth.enabled());
        // The spool's defaults (docs/adr/0012-worker-spool.md).
        assert!(c.batch.enabled);
        assert_eq!(c.batch.max_age_secs, 300);
        assert_eq!(c.batch.max_bytes, 48 * 1024 * 1024);
        assert_eq!(c.batch.max_buffered_bytes, 1024 * 1024 * 1024);
        assert_eq!(c.batch.shards, 1);
    }

    #[test]
    fn shards_are_bounded() {
        let (names, lookup) = vars(&[("OTLP2PARQUET_BATCH_SHARDS", "8")]);
        assert_eq!(load(&names, lookup).unwrap().batch.shards, 8);
        for bad in ["0", "1025", "many"] {
            let pairs = [("OTLP2PARQUET_BATCH_SHARDS", bad)];
            let (names, lookup) = vars(&pairs);
            let e = load(&names, lookup).unwrap_err();
            assert!(e.contains("batch.shards"), "{bad}: {e}");
        }
    }

    #[test]
    fn vars_secrets_and_inline_toml_merge_per_field() {
        let (names, lookup) = vars(&[
            (
                "OTLP2PARQUET_CONFIG_CONTENT",
                "[storage]\nprefix = \"otel/\"\n[request]\nmax_payload_bytes = 1000\n",
            ),
            ("OTLP2PARQUET_MAX_PAYLOAD_BYTES", "2000"),
            ("OTLP2PARQUET_R2_BINDING", "LOGS"),
        ]);
        // A secret the runtime does not list by name is still found through FIELDS.
        let secret = |n: &str| match n {
            "OTLP2PARQUET_AUTH_BEARER_TOKEN" => Some("t0ken".to_owned()),
            _ => lookup(n),
        };
        let c = load(&names, secret).unwrap();
        assert_eq!(c.storage.prefix, "otel/");
        assert_eq!(c.request.max_payload_bytes, 2000);
        assert_eq!(c.storage.r2.binding, "LOGS");
        assert_eq!(c.auth.bearer_token.as_deref(), Some("t0ken"));
    }

    #[test]
    fn bad_values_name_the_key() {
        let (names, lookup) = vars(&[("OTLP2PARQUET_MAX_PAYLOAD_BYTES", "lots")]);
        let e = load(&names, lookup).unwrap_err();
        assert!(e.contains("request.max_payload_bytes"), "{e}");
        assert!(e.contains("OTLP2PARQUET_MAX_PAYLOAD_BYTES"), "{e}");

        let (names, lookup) = vars(&[("OTLP2PARQUET_MAX_PAYLOD_BYTES", "1")]);
        let e = load(&names, lookup).unwrap_err();
        assert!(e.contains("OTLP2PARQUET_MAX_PAYLOD_BYTES"), "{e}");

        let (names, lookup) = vars(&[("OTLP2PARQUET_STORAGE_BACKEND", "fs")]);
        let e = load(&names, lookup).unwrap_err();
        assert!(e.contains("storage.backend"), "{e}");

        let (names, lookup) = vars(&[("OTLP2PARQUET_CONFIG", "/etc/x.toml")]);
        let e = load(&names, lookup).unwrap_err();
        assert!(e.contains("OTLP2PARQUET_CONFIG_CONTENT"), "{e}");

        let (names, lookup) = vars(&[("OTLP2PARQUET_AUTH_BASIC_USERNAME", "u")]);
        let e = load(&names, lookup).unwrap_err();
        assert!(e.contains("auth.basic_password"), "{e}");
    }
}
