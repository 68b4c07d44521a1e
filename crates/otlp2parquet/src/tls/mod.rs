//! TLS on both listeners (`server.tls.*`, docs/configuration.md#tls): loading the PEM files into
//! rustls configurations (ALPN `h2` and `http/1.1` on the OTLP/HTTP port, `h2` on the gRPC port,
//! a client-certificate verifier for mutual TLS), and reloading them when the files change or on
//! SIGHUP. A reload only affects new handshakes: open connections keep the session they have. A
//! new set of files that does not load keeps the previous one, and the log says why.

mod x509;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use otlp2parquet_common::config::TlsConfig;

pub use x509::format_time;

/// How often the certificate files are checked for changes.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// The first byte of a TLS record carrying a handshake: anything else on a TLS port is not TLS.
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// Why the TLS files did not load; each names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {what} {path}: {source} (server.tls.{key} / OTLP2PARQUET_TLS_{env})")]
    Read {
        what: &'static str,
        path: PathBuf,
        key: &'static str,
        env: &'static str,
        source: std::io::Error,
    },
    /// A file held no usable PEM section of the expected kind.
    #[error("{path} holds no {what} (PEM `{expected}`){detail}")]
    Pem {
        what: &'static str,
        path: PathBuf,
        expected: &'static str,
        detail: String,
    },
    /// The key does not belong to the certificate, or is of an unsupported kind.
    #[error("the key in {key_path} does not match the certificate in {cert_path}: {why}")]
    Mismatch {
        key_path: PathBuf,
        cert_path: PathBuf,
        why: String,
    },
    /// The certificate is outside its validity period.
    #[error("the certificate in {path} (serial {serial}) {why}: clients would refuse it")]
    Validity {
        path: PathBuf,
        serial: String,
        why: String,
    },
    /// rustls refused the configuration (e.g. an unusable client CA), in its words.
    #[error("{what}: {why}")]
    Refused { what: String, why: String },
}

/// The configured files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

impl TlsFiles {
    /// The files of `server.tls`, or `None` when TLS is off.
    pub fn from_config(tls: &TlsConfig) -> Option<TlsFiles> {
        Some(TlsFiles {
            cert: PathBuf::from(tls.cert_file.as_ref()?),
            key: PathBuf::from(tls.key_file.as_ref()?),
            client_ca: tls.client_ca_file.as_ref().map(PathBuf::from),
        })
    }

    fn paths(&self) -> impl Iterator<Item = &Path> {
        [
            Some(self.cert.as_path()),
            Some(self.key.as_path()),
            self.client_ca.as_deref(),
        ]
        .into_iter()
        .flatten()
    }

    /// What identifies the files' current contents without reading them: size, modification
    /// time and inode of each (a rename over the file changes the inode).
    fn fingerprint(&self) -> Vec<Option<(u64, SystemTime, u64)>> {
        self.paths()
            .map(|p| {
                let m = std::fs::metadata(p).ok()?;
                Some((m.len(), m.modified().ok()?, inode(&m)))
            })
            .collect()
    }
}

#[cfg(unix)]
fn inode(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(m)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

/// Which listener a configuration is for (their ALPN lists differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// OTLP/HTTP: `h2` and `http/1.1`.
    Http,
    /// OTLP/gRPC: `h2`.
    Grpc,
}

/// One loaded set of files: a rustls configuration per listener.
struct Loaded {
    http: Arc<ServerConfig>,
    grpc: Arc<ServerConfig>,
    facts: x509::CertFacts,
}

/// The current configurations, swapped whole by a reload.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<Loaded>>,
}

impl Tls {
    /// Loads the files; the error is a startup error.
    pub fn load(files: TlsFiles) -> Result<Tls, TlsError> {
        let loaded = load(&files, now_secs())?;
        tracing::info!(
            cert = %files.cert.display(),
            serial = %loaded.facts.serial,
            valid_until = %format_time(loaded.facts.not_after),
            mutual_tls = files.client_ca.is_some(),
            "TLS on: certificate loaded"
        );
        Ok(Tls {
            files,
            current: RwLock::new(Arc::new(loaded)),
        })
    }

    /// The configuration new handshakes on `port` use.
    pub fn config(&self, port: Port) -> Arc<ServerConfig> {
        let loaded = self.current.read().map_or_else(
            |poisoned| Arc::clone(&poisoned.into_inner()),
            |l| Arc::clone(&l),
        );
        match port {
            Port::Http => Arc::clone(&loaded.http),
            Port::Grpc => Arc::clone(&loaded.grpc),
        }
    }

    /// Whether clients must present a certificate.
    pub fn mutual(&self) -> bool {
        self.files.client_ca.is_some()
    }

    /// Loads the files again; on failure the previous configuration stays.
    fn reload(&self) -> Result<String, TlsError> {
        let loaded = load(&self.files, now_secs())?;
        let serial = loaded.facts.serial.clone();
        let until = format_time(loaded.facts.not_after);
        match self.current.write() {
            Ok(mut c) => *c = Arc::new(loaded),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(loaded),
        }
        Ok(format!("serial {serial}, valid until {until}"))
    }

    /// Reloads whenever the files change (checked every [`WATCH_INTERVAL`]) or SIGHUP arrives,
    /// until the process ends.
    pub fn spawn_watcher(self: &Arc<Self>) {
        let tls = Arc::clone(self);
        tokio::spawn(async move {
            let mut hup = hangups();
            let mut loaded = tls.files.fingerprint();
            let mut warned = None;
            let mut tick = tokio::time::interval(WATCH_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let forced = tokio::select! {
                    _ = tick.tick() => false,
                    Some(()) = hup.recv() => true,
                };
                let now = tls.files.fingerprint();
                if !forced && now == loaded {
                    continue;
                }
                match tls.reload() {
                    Ok(what) => {
                        tracing::info!(
                            cause = if forced { "SIGHUP" } else { "files changed" },
                            "TLS certificate reloaded ({what}); new connections use it"
                        );
                        loaded = now;
                        warned = None;
                    }
                    // A half-written set of files fails once and loads at the next check; say
                    // so once per state of the files (and at every SIGHUP), not every 2 s.
                    Err(e) if forced || warned.as_ref() != Some(&now) => {
                        tracing::warn!(error = %e, "TLS files not reloaded: keeping the previous certificate");
                        warned = Some(now);
                    }
                    Err(_) => {}
                }
            }
        });
    }
}

/// SIGHUP as a stream of `()` (never on non-Unix platforms, or when the handler cannot be set).
fn hangups() -> tokio::sync::mpsc::Receiver<()> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut s) => {
            tokio::spawn(async move {
                while s.recv().await.is_some() {
                    let _ = tx.try_send(());
                }
            });
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot handle SIGHUP: TLS files are reloaded only when they change");
        }
    }
    #[cfg(not(unix))]
    drop(tx);
    rx
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn read(
    path: &Path,
    what: &'static str,
    key: &'static str,
    env: &'static str,
) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        key,
        env,
        source,
    })
}

fn certificates(
    path: &Path,
    what: &'static str,
    key: &'static str,
    env: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path, what, key, env)?;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&pem).collect();
    let pem_error = |detail: String| TlsError::Pem {
        what,
        path: path.to_owned(),
        expected: "BEGIN CERTIFICATE",
        detail,
    };
    match certs {
        Ok(c) if c.is_empty() => Err(pem_error(String::new())),
        Ok(c) => Ok(c),
        Err(e) => Err(pem_error(pem_detail(&e))),
    }
}

/// A PEM parse error as a sentence (the library's own text prints markers as byte lists).
fn pem_detail(e: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error;
    match e {
        Error::MissingSectionEnd { end_marker } => format!(
            ": a section has no `{}` line",
            String::from_utf8_lossy(end_marker)
        ),
        Error::IllegalSectionStart { line } => format!(
            ": malformed section start `{}`",
            String::from_utf8_lossy(line)
        ),
        Error::Base64Decode(why) => format!(": bad base64 ({why})"),
        Error::NoItemsFound => String::new(),
        other => format!(": {other}"),
    }
}

fn load(files: &TlsFiles, now: i64) -> Result<Loaded, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain = certificates(&files.cert, "certificate", "cert_file", "CERT_FILE")?;
    let key_pem = read(&files.key, "private key", "key_file", "KEY_FILE")?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Pem {
        what: "private key",
        path: files.key.clone(),
        expected: "BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY",
        detail: pem_detail(&e),
    })?;
    let leaf = chain.first().map(|c| c.as_ref()).unwrap_or_default();
    let facts = x509::facts(leaf).ok_or_else(|| TlsError::Pem {
        what: "certificate",
        path: files.cert.clone(),
        expected: "BEGIN CERTIFICATE",
        detail: ": the first certificate is not valid X.509 DER".to_owned(),
    })?;
    check_validity(&files.cert, &facts, now)?;
    let certified = certified_key(chain, key, &provider, files)?;
    let resolver = Arc::new(SingleCertAndKey::from(certified));
    let verifier = match &files.client_ca {
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for ca in certificates(
                path,
                "client CA certificate",
                "client_ca_file",
                "CLIENT_CA_FILE",
            )? {
                roots.add(ca).map_err(|e| TlsError::Refused {
                    what: format!("a certificate in {} is not a usable CA", path.display()),
                    why: e.to_string(),
                })?;
            }
            Some(
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                    .build()
                    .map_err(|e| TlsError::Refused {
                        what: format!("the client CA in {}", path.display()),
                        why: e.to_string(),
                    })?,
            )
        }
        None => None,
    };
    let config = |alpn: &[&[u8]]| -> Result<Arc<ServerConfig>, TlsError> {
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Refused {
                what: "TLS protocol versions".to_owned(),
                why: e.to_string(),
            })?;
        let builder = match &verifier {
            Some(v) => builder.with_client_cert_verifier(Arc::clone(v)),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(resolver.clone());
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    };
    Ok(Loaded {
        http: config(&[b"h2", b"http/1.1"])?,
        grpc: config(&[b"h2"])?,
        facts,
    })
}

fn check_validity(path: &Path, facts: &x509::CertFacts, now: i64) -> Result<(), TlsError> {
    let why = if now > facts.not_after {
        format!("expired at {}", format_time(facts.not_after))
    } else if now < facts.not_before {
        format!("is not valid before {}", format_time(facts.not_before))
    } else {
        return Ok(());
    };
    Err(TlsError::Validity {
        path: path.to_owned(),
        serial: facts.serial.clone(),
        why,
    })
}

fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
    files: &TlsFiles,
) -> Result<CertifiedKey, TlsError> {
    let mismatch = |why: String| TlsError::Mismatch {
        key_path: files.key.clone(),
        cert_path: files.cert.clone(),
        why,
    };
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| mismatch(format!("unsupported key: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        Ok(()) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(mismatch("it belongs to another certificate".to_owned()))
        }
        Err(rustls::Error::InconsistentKeys(_)) => Ok(certified),
        Err(e) => Err(mismatch(e.to_string())),
    }
}

/// What a plaintext HTTP client sent to the TLS port of OTLP/HTTP gets back before the
/// connection closes.
pub fn plaintext_answer() -> Vec<u8> {
    let body = "this port speaks TLS: send to https:// (server.tls is set on this server)\n";
    format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
