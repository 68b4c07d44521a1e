//! `otlp2parquet create cloudflare` (issue 5): a `wrangler.toml` that builds the Worker from the
//! `otlp2parquet-cloudflare` crate, binds its R2 bucket and sets its non-secret vars, and the
//! steps that deploy it.

use std::path::{Path, PathBuf};

use super::{ask, write_new};

/// The compatibility date written to `wrangler.toml`: the one the end-to-end tests run the
/// Worker with in workerd.
pub const COMPATIBILITY_DATE: &str = "2026-01-01";

/// How clients authenticate to the Worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Auth {
    /// `Authorization: Bearer <token>`, the token held as a Worker secret.
    Token,
    /// HTTP Basic, the username and password held as Worker secrets.
    Basic,
    /// No authentication (anyone who knows the URL can write).
    None,
}

/// Flags of `create cloudflare`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Worker name (its URL is `https://<name>.<subdomain>.workers.dev`) [default: otlp2parquet]
    #[arg(long)]
    pub name: Option<String>,
    /// R2 bucket the Worker writes to [default: otlp2parquet]
    #[arg(long)]
    pub bucket: Option<String>,
    /// Client authentication [default: token]
    #[arg(long, value_enum)]
    pub auth: Option<Auth>,
    /// Replace an existing file
    #[arg(long)]
    pub force: bool,
    /// Where to write the file
    #[arg(long, default_value = "./wrangler.toml")]
    pub output: PathBuf,
    /// The otlp2parquet-cloudflare crate to build [default: found from the output's directory,
    /// inside an otlp2parquet checkout]
    #[arg(long)]
    pub crate_dir: Option<PathBuf>,
}

/// What goes into the generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Worker name.
    pub name: String,
    /// R2 bucket name.
    pub bucket: String,
    /// Client authentication.
    pub auth: Auth,
    /// The crate directory as `wrangler.toml` should refer to it (relative to the file when
    /// the crate is below it).
    pub crate_dir: String,
}

/// Writes the `wrangler.toml` and returns the next steps to print.
pub fn run(args: &Args) -> Result<String, String> {
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| ask("Worker name", "otlp2parquet"));
    let bucket = args
        .bucket
        .clone()
        .unwrap_or_else(|| ask("R2 bucket", "otlp2parquet"));
    let auth = match args.auth {
        Some(auth) => auth,
        None => match ask("Auth (token, basic, none)", "token").as_str() {
            "token" => Auth::Token,
            "basic" => Auth::Basic,
            "none" => Auth::None,
            other => return Err(format!("unknown auth {other:?}; use token, basic or none")),
        },
    };
    for (what, value) in [("--name", &name), ("--bucket", &bucket)] {
        if !valid_name(value) {
            return Err(format!(
                "{what} {value:?} must be lowercase letters, digits and dashes (3-63 characters)"
            ));
        }
    }
    let out_dir = match args.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let out_dir = out_dir
        .canonicalize()
        .map_err(|e| format!("cannot use {}: {e}", out_dir.display()))?;
    let crate_dir = match &args.crate_dir {
        Some(dir) => dir
            .canonicalize()
            .map_err(|e| format!("--crate-dir {}: {e}", dir.display()))?,
        None => find_crate(&out_dir).ok_or_else(|| {
            format!(
                "cannot find the otlp2parquet-cloudflare crate from {}; write the file inside \
                 an otlp2parquet checkout or pass --crate-dir",
                out_dir.display()
            )
        })?,
    };
    let options = Options {
        name,
        bucket,
        auth,
        crate_dir: relative(&out_dir, &crate_dir),
    };
    write_new(&args.output, &wrangler_toml(&options), args.force)?;
    Ok(next_steps(&options, &args.output))
}

/// Worker and bucket names Cloudflare accepts.
fn valid_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The crate directory: `dir` itself, or `crates/otlp2parquet-cloudflare` below `dir` or one of
/// its ancestors.
fn find_crate(dir: &Path) -> Option<PathBuf> {
    let is_crate = |d: &Path| {
        std::fs::read_to_string(d.join("Cargo.toml"))
            .is_ok_and(|t| t.contains("name = \"otlp2parquet-cloudflare\""))
    };
    dir.ancestors().find_map(|a| {
        let below = a.join("crates/otlp2parquet-cloudflare");
        if is_crate(a) {
            Some(a.to_path_buf())
        } else if is_crate(&below) {
            Some(below)
        } else {
            None
        }
    })
}

/// `to` relative to `from` when it is `from` or below it, else `to` as it is.
fn relative(from: &Path, to: &Path) -> String {
    match to.strip_prefix(from) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => to.display().to_string(),
    }
}

/// The `wrangler.toml` text.
pub fn wrangler_toml(o: &Options) -> String {
    let dir = &o.crate_dir;
    let join = |rel: &str| {
        if dir == "." {
            rel.to_owned()
        } else {
            format!("{dir}/{rel}")
        }
    };
    let secrets = match o.auth {
        Auth::Token => {
            "# Secret (set with `wrangler secret put`): OTLP2PARQUET_AUTH_BEARER_TOKEN\n"
        }
        Auth::Basic => {
            "# Secrets (set with `wrangler secret put`): OTLP2PARQUET_AUTH_BASIC_USERNAME,\n\
             # OTLP2PARQUET_AUTH_BASIC_PASSWORD\n"
        }
        Auth::None => {
            "# No auth: anyone who knows the URL can write. Add a secret\n\
                       # OTLP2PARQUET_AUTH_BEARER_TOKEN to turn bearer auth on.\n"
        }
    };
    format!(
        r#"# The otlp2parquet Worker: OTLP/HTTP in, ClickHouse-compatible Parquet in R2 out.
# Generated by `otlp2parquet create cloudflare`; deploy with `npx wrangler deploy`.
name = "{name}"
main = "{main}"
compatibility_date = "{date}"

[build]
# Needs the wasm32-unknown-unknown target and worker-build 0.8.7
# (`cargo install --locked worker-build@0.8.7`). release-wasm is the workspace's size profile.
command = "worker-build --profile release-wasm"
cwd = "{dir}"
watch_dir = "{src}"

# The Worker writes the Parquet files through this binding.
[[r2_buckets]]
binding = "OTLP_BUCKET"
bucket_name = "{bucket}"

# Batching (docs/adr/0012-worker-spool.md): each request is spooled to the SQLite storage of a
# Durable Object per (table, service) before it is answered, and the object's alarm writes one
# merged file per hour and service. Without this binding (or with
# OTLP2PARQUET_BATCH_ENABLED = "false") every request is written as its own files.
[[durable_objects.bindings]]
name = "OTLP_SPOOL"
class_name = "Spool"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Spool"]

# Settings, by their OTLP2PARQUET_* names (see config.example.toml); values are strings.
{secrets}[vars]
OTLP2PARQUET_R2_BINDING = "OTLP_BUCKET"
OTLP2PARQUET_MAX_PAYLOAD_BYTES = "10485760"
OTLP2PARQUET_PARQUET_COMPRESSION = "zstd"
OTLP2PARQUET_LOG_LEVEL = "info"
# OTLP2PARQUET_STORAGE_PREFIX = "otel/"
# A file per (table, service, hour) at 200 000 rows, 48 MiB of Arrow memory or 300 s
# after its first rows arrived, whichever comes first.
OTLP2PARQUET_BATCH_MAX_AGE_SECS = "300"
"#,
        name = o.name,
        main = join("build/index.js"),
        date = COMPATIBILITY_DATE,
        src = join("src"),
        bucket = o.bucket,
    )
}

/// What to run after the file is written.
pub fn next_steps(o: &Options, output: &Path) -> String {
    let config = if output == Path::new("./wrangler.toml") || output == Path::new("wrangler.toml") {
        String::new()
    } else {
        format!(" -c {}", output.display())
    };
    let (secrets, header) = match o.auth {
        Auth::Token => (
            format!("  npx wrangler secret put OTLP2PARQUET_AUTH_BEARER_TOKEN{config}\n"),
            "  OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer%20<token>\"\n".to_owned(),
        ),
        Auth::Basic => (
            format!(
                "  npx wrangler secret put OTLP2PARQUET_AUTH_BASIC_USERNAME{config}\n  \
                 npx wrangler secret put OTLP2PARQUET_AUTH_BASIC_PASSWORD{config}\n"
            ),
            "  OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Basic%20<base64 of user:password>\"\n"
                .to_owned(),
        ),
        Auth::None => (
            "  (auth is off: anyone who knows the URL can write)\n".to_owned(),
            String::new(),
        ),
    };
    format!(
        "Wrote {output}. Next steps:\n\
         1. Create the bucket:\n  npx wrangler r2 bucket create {bucket}\n\
         2. Store the credentials as secrets (until they exist, the Worker accepts anyone):\n\
         {secrets}\
         3. Build and deploy (runs worker-build, then uploads the script):\n  \
         npx wrangler deploy{config}\n\
         4. Point an OTLP/HTTP exporter at the Worker's URL:\n  \
         OTEL_EXPORTER_OTLP_ENDPOINT=https://{name}.<your-subdomain>.workers.dev\n\
         {header}  \
         OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n\
         or print a collector config with: otlp2parquet connect otel-collector --url \
         https://{name}.<your-subdomain>.workers.dev\n",
        output = output.display(),
        bucket = o.bucket,
        name = o.name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(auth: Auth) -> Options {
        Options {
            name: "otel-sink".to_owned(),
            bucket: "otel-data".to_owned(),
            auth,
            crate_dir: "crates/otlp2parquet-cloudflare".to_owned(),
        }
    }

    #[test]
    fn wrangler_toml_builds_the_crate_and_binds_the_bucket() {
        let text = wrangler_toml(&options(Auth::Token));
        for line in [
            "name = \"otel-sink\"",
            "main = \"crates/otlp2parquet-cloudflare/build/index.js\"",
            "compatibility_date = \"2026-01-01\"",
            "command = \"worker-build --profile release-wasm\"",
            "cwd = \"crates/otlp2parquet-cloudflare\"",
            "watch_dir = \"crates/otlp2parquet-cloudflare/src\"",
            "binding = \"OTLP_BUCKET\"",
            "bucket_name = \"otel-data\"",
            "OTLP2PARQUET_R2_BINDING = \"OTLP_BUCKET\"",
            "OTLP2PARQUET_MAX_PAYLOAD_BYTES = \"10485760\"",
            "name = \"OTLP_SPOOL\"",
            "class_name = \"Spool\"",
            "new_sqlite_classes = [\"Spool\"]",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(text.contains("OTLP2PARQUET_AUTH_BEARER_TOKEN"));
        // Secrets never go into [vars].
        let vars = text.split("[vars]").nth(1).unwrap();
        assert!(!vars.contains("AUTH"), "{vars}");

        let here = wrangler_toml(&Options {
            crate_dir: ".".to_owned(),
            ..options(Auth::None)
        });
        assert!(
            here.lines().any(|l| l == "main = \"build/index.js\""),
            "{here}"
        );
        assert!(here.lines().any(|l| l == "watch_dir = \"src\""), "{here}");
        assert!(here.contains("anyone who knows the URL"));
    }

    #[test]
    fn next_steps_name_the_bucket_secrets_and_deploy() {
        let steps = next_steps(&options(Auth::Basic), Path::new("./wrangler.toml"));
        assert!(
            steps.contains("npx wrangler r2 bucket create otel-data\n"),
            "{steps}"
        );
        assert!(steps.contains("npx wrangler secret put OTLP2PARQUET_AUTH_BASIC_USERNAME\n"));
        assert!(steps.contains("npx wrangler secret put OTLP2PARQUET_AUTH_BASIC_PASSWORD\n"));
        assert!(steps.contains("npx wrangler deploy\n"), "{steps}");
        assert!(steps.contains("https://otel-sink.<your-subdomain>.workers.dev"));
        let steps = next_steps(&options(Auth::Token), Path::new("deploy/w.toml"));
        assert!(
            steps.contains(
                "npx wrangler secret put OTLP2PARQUET_AUTH_BEARER_TOKEN -c deploy/w.toml\n"
            ),
            "{steps}"
        );
        assert!(
            steps.contains("npx wrangler deploy -c deploy/w.toml\n"),
            "{steps}"
        );
    }

    #[test]
    fn writes_once_finds_the_crate_and_refuses_to_overwrite() {
        let dir = std::env::temp_dir().join(format!("o2p-create-cf-{}", std::process::id()));
        let crate_dir = dir.join("crates/otlp2parquet-cloudflare");
        std::fs::create_dir_all(&crate_dir).unwrap();
        std::fs::write(
            crate_dir.join("Cargo.toml"),
            "[package]\nname = \"otlp2parquet-cloudflare\"\n",
        )
        .unwrap();
        let args = Args {
            name: None,
            bucket: Some("my-bucket".to_owned()),
            auth: Some(Auth::Token),
            force: false,
            output: dir.join("wrangler.toml"),
            crate_dir: None,
        };
        let steps = run(&args).unwrap();
        assert!(steps.contains("bucket create my-bucket"), "{steps}");
        let text = std::fs::read_to_string(dir.join("wrangler.toml")).unwrap();
        // Not a terminal in tests: the defaults are taken.
        assert!(text.contains("name = \"otlp2parquet\"\n"), "{text}");
        assert!(
            text.contains("cwd = \"crates/otlp2parquet-cloudflare\"\n"),
            "{text}"
        );
        let again = run(&args).unwrap_err();
        assert!(again.contains("--force"), "{again}");
        assert!(
            run(&Args {
                force: true,
                ..args.clone()
            })
            .is_ok()
        );
        let bad = run(&Args {
            bucket: Some("Bad_Bucket".to_owned()),
            force: true,
            ..args.clone()
        })
        .unwrap_err();
        assert!(bad.contains("--bucket"), "{bad}");
        let nowhere =
            std::env::temp_dir().join(format!("o2p-create-cf-none-{}", std::process::id()));
        std::fs::create_dir_all(&nowhere).unwrap();
        let lost = run(&Args {
            output: nowhere.join("wrangler.toml"),
            ..args
        })
        .unwrap_err();
        assert!(lost.contains("--crate-dir"), "{lost}");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&nowhere).unwrap();
    }
}
