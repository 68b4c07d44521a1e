//! `OpendalStorage` (docs/adr/0005-object-storage.md) against a real directory and a real local
//! S3 server (s3s-fs, installed by `make deps`): round trips, atomic fs writes, error
//! classification, the R2 code path and the TLS stack.
#![cfg(feature = "opendal")]
// clippy.toml exempts `#[test]` bodies only; the helpers here (server guard, temp dirs) fail the
// test the same way, by panicking.
#![allow(clippy::unwrap_used, clippy::panic, reason = "test helpers")]

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use otlp2parquet_common::config::{Backend, Config, StorageConfig};
use otlp2parquet_common::platform::Platform;
use otlp2parquet_writer::opendal_storage::FS_ATOMIC_WRITE_DIR;
use otlp2parquet_writer::{OpendalStorage, Storage, StorageError, StorageErrorKind};

const ACCESS_KEY: &str = "AKIDOTLP2PARQUET";
const SECRET_KEY: &str = "SECRETOTLP2PARQUET";
const BUCKET: &str = "otlp";
const KEY: &str = "otel/logs/service_name=svc/year=2025/month=01/day=01/hour=00/a.parquet";

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "otlp2parquet-{tag}-{}-{nanos}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `s3s-fs` on a free 127.0.0.1 port, killed and reaped on drop.
struct S3Server {
    child: Option<Child>,
    port: u16,
    data: TempDir,
}

impl S3Server {
    /// Starts s3s-fs over a fresh directory holding the bucket [`BUCKET`].
    fn start() -> S3Server {
        let data = TempDir::new("s3s");
        // s3s-fs serves every directory under its root as a bucket.
        std::fs::create_dir_all(data.0.join(BUCKET)).unwrap();
        let port = free_port();
        let child = Command::new(s3s_fs_binary())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&data.0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start s3s-fs ({e}): it must be on PATH or in ~/.cargo/bin; \
                     `make deps` (scripts/install-deps.sh) installs it"
                )
            });
        let mut server = S3Server {
            child: Some(child),
            port,
            data,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("s3s-fs exited before listening: {status}");
            }
            assert!(Instant::now() < deadline, "s3s-fs did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `s3s-fs` from PATH, else from cargo's bin directory (where `make deps` installs it).
fn s3s_fs_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("s3s-fs").is_file()))
        .unwrap_or(false);
    if on_path {
        return PathBuf::from("s3s-fs");
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    cargo_home.join("bin").join("s3s-fs")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn storage_config(backend: Backend) -> StorageConfig {
    let mut storage = Config::defaults(Platform::Server).storage;
    storage.backend = backend;
    storage.prefix = "otel/".to_owned();
    storage
}

fn s3_config(endpoint: &str) -> StorageConfig {
    let mut storage = storage_config(Backend::S3);
    storage.s3.bucket = Some(BUCKET.to_owned());
    storage.s3.endpoint = Some(endpoint.to_owned());
    storage
}

/// An environment holding only `vars`.
fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn keys(secret: &str) -> impl Fn(&str) -> Option<String> + use<> {
    env_of(&[
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", secret),
    ])
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(
                    path.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn config_error(storage: &StorageConfig, env: &[(&str, &str)]) -> StorageError {
    match OpendalStorage::from_config_with_env(storage, &env_of(env)) {
        Ok(s) => panic!("expected a config error, built {}", s.describe()),
        Err(e) => e,
    }
}

#[tokio::test]
async fn fs_put_creates_nested_dirs_reads_back_and_leaves_no_temp_file() {
    let tmp = TempDir::new("fs");
    let mut storage = storage_config(Backend::Fs);
    // A root that does not exist yet, given with a `.` component.
    storage.fs.path = format!("{}/./data", tmp.0.display());
    let store = OpendalStorage::from_config(&storage).unwrap();
    let root = tmp.0.canonicalize().unwrap().join("data");
    assert_eq!(store.describe(), root.to_string_lossy());
    assert!(root.is_dir());

    let body = b"PAR1 not really parquet PAR1".to_vec();
    store.put(KEY, body.clone()).await.unwrap();

    assert_eq!(std::fs::read(root.join(KEY)).unwrap(), body);
    let back = store.operator().read(KEY).await.unwrap().to_vec();
    assert_eq!(back, body);
    // Only the object itself: the temp file was renamed, not copied, and the temp dir is empty.
    assert_eq!(files_under(&root), vec![KEY.to_owned()]);
    assert!(root.join(FS_ATOMIC_WRITE_DIR).is_dir());

    // Overwrite replaces the object.
    store.put(KEY, b"second".to_vec()).await.unwrap();
    assert_eq!(std::fs::read(root.join(KEY)).unwrap(), b"second");
    assert_eq!(files_under(&root), vec![KEY.to_owned()]);
    store.check_ready().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_readers_never_see_a_partial_file() {
    let tmp = TempDir::new("fs-atomic");
    let mut storage = storage_config(Backend::Fs);
    storage.fs.path = tmp.0.display().to_string();
    let store = OpendalStorage::from_config(&storage).unwrap();
    let target = tmp.0.canonicalize().unwrap().join(KEY);
    let size = 32 << 20;

    // A reader polling the target and any *.parquet under the root while the write runs.
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (done, target, root) = (done.clone(), target.clone(), tmp.0.clone());
        std::thread::spawn(move || {
            let (mut seen_sizes, mut polls) = (Vec::new(), 0u64);
            while !done.load(Ordering::Acquire) {
                polls += 1;
                if let Ok(meta) = std::fs::metadata(&target) {
                    seen_sizes.push(meta.len());
                }
                for f in files_under(&root) {
                    assert!(
                        !f.ends_with(".parquet") || f == KEY,
                        "a temp file matches *.parquet: {f}"
                    );
                }
            }
            (seen_sizes, polls)
        })
    };
    store.put(KEY, vec![7u8; size]).await.unwrap();
    done.store(true, Ordering::Release);
    let (seen_sizes, polls) = watcher.join().unwrap();
    assert!(polls > 1, "the watcher never ran during the write");
    assert!(
        seen_sizes.iter().all(|&s| s == size as u64),
        "a reader saw a partial file: sizes {:?}",
        seen_sizes
            .iter()
            .filter(|&&s| s != size as u64)
            .collect::<Vec<_>>()
    );
    assert_eq!(std::fs::metadata(&target).unwrap().len(), size as u64);
}

#[tokio::test]
async fn s3_put_reads_back_and_lands_under_the_bucket_dir() {
    let server = S3Server::start();
    let storage = s3_config(&server.endpoint());
    let store = OpendalStorage::from_config_with_env(&storage, &keys(SECRET_KEY)).unwrap();
    assert_eq!(
        store.describe(),
        format!(
            "s3://{BUCKET} (endpoint {}, region us-east-1)",
            server.endpoint()
        )
    );
    store.check_ready().await.unwrap();

    let body: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    store.put(KEY, body.clone()).await.unwrap();

    let back = store.operator().read(KEY).await.unwrap().to_vec();
    assert_eq!(back, body);
    let on_disk = server.data.0.join(BUCKET).join(KEY);
    assert_eq!(std::fs::read(on_disk).unwrap(), body);
}

#[tokio::test]
async fn s3_region_comes_from_config_then_env_then_default() {
    let mut storage = s3_config("http://127.0.0.1:9");
    let described = |storage: &StorageConfig, env: &[(&str, &str)]| {
        OpendalStorage::from_config_with_env(storage, &env_of(env))
            .unwrap()
            .describe()
            .to_owned()
    };
    assert!(described(&storage, &[]).ends_with("region us-east-1)"));
    assert!(
        described(&storage, &[("AWS_DEFAULT_REGION", "eu-west-3")]).ends_with("region eu-west-3)")
    );
    assert!(
        described(
            &storage,
            &[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_DEFAULT_REGION", "eu-west-3")
            ]
        )
        .ends_with("region eu-west-1)")
    );
    storage.s3.region = Some("ap-south-1".to_owned());
    assert!(described(&storage, &[("AWS_REGION", "eu-west-1")]).ends_with("region ap-south-1)"));
    storage.s3.endpoint = None;
    assert_eq!(described(&storage, &[]), "s3://otlp (region ap-south-1)");
}

#[tokio::test]
async fn s3_wrong_secret_is_permanent() {
    let server = S3Server::start();
    let storage = s3_config(&server.endpoint());
    let store = OpendalStorage::from_config_with_env(&storage, &keys("not-the-secret")).unwrap();
    let started = Instant::now();
    let err = store.put(KEY, b"x".to_vec()).await.unwrap_err();
    assert_eq!(err.kind, StorageErrorKind::Permanent, "{err}");
    assert_eq!(err.key, KEY);
    assert!(err.message.contains("PermissionDenied"), "{err}");
    // Not retried.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(files_under(&server.data.0.join(BUCKET)).is_empty());
    let ready = store.check_ready().await.unwrap_err();
    assert_eq!(ready.kind, StorageErrorKind::Permanent, "{ready}");
}

#[tokio::test]
async fn s3_stopped_server_is_temporary_within_seconds() {
    let mut server = S3Server::start();
    let storage = s3_config(&server.endpoint());
    let store = OpendalStorage::from_config_with_env(&storage, &keys(SECRET_KEY)).unwrap();
    store.put(KEY, b"before".to_vec()).await.unwrap();
    server.stop();

    let started = Instant::now();
    let err = store.put(KEY, b"after".to_vec()).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind, StorageErrorKind::Temporary, "{err}");
    // Three retries with 0.2 s, 0.4 s, 0.8 s backoff (+ jitter < 0.2 s each).
    assert!(
        took >= Duration::from_millis(1_400),
        "not retried: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "too slow: {took:?}");

    let started = Instant::now();
    let ready = store.check_ready().await.unwrap_err();
    assert_eq!(ready.kind, StorageErrorKind::Temporary, "{ready}");
    assert!(started.elapsed() < Duration::from_secs(1), "probe retried");
}

#[tokio::test]
async fn r2_with_a_local_endpoint_writes_and_reads() {
    let server = S3Server::start();
    let mut storage = storage_config(Backend::R2);
    storage.r2.bucket = Some(BUCKET.to_owned());
    storage.r2.account_id = Some("0123456789abcdef".to_owned());
    storage.r2.endpoint = Some(server.endpoint());
    let store = OpendalStorage::from_config_with_env(&storage, &keys(SECRET_KEY)).unwrap();
    assert_eq!(
        store.describe(),
        format!("r2://{BUCKET} (endpoint {})", server.endpoint())
    );
    store.put(KEY, b"r2 body".to_vec()).await.unwrap();
    assert_eq!(
        store.operator().read(KEY).await.unwrap().to_vec(),
        b"r2 body"
    );
    assert_eq!(
        std::fs::read(server.data.0.join(BUCKET).join(KEY)).unwrap(),
        b"r2 body"
    );
}

#[test]
fn r2_endpoint_defaults_to_the_account() {
    let mut storage = storage_config(Backend::R2);
    storage.r2.bucket = Some("b".to_owned());
    storage.r2.account_id = Some("acct".to_owned());
    let store = OpendalStorage::from_config_with_env(&storage, &keys(SECRET_KEY)).unwrap();
    assert_eq!(
        store.describe(),
        "r2://b (endpoint https://acct.r2.cloudflarestorage.com)"
    );
}

#[tokio::test]
async fn https_endpoint_reaches_the_tls_handshake() {
    // s3s-fs speaks plain HTTP, so a TLS client fails in the handshake: proof that a TLS stack
    // is compiled in (without one, reqwest refuses the https scheme before connecting).
    let server = S3Server::start();
    let storage = s3_config(&format!("https://127.0.0.1:{}", server.port));
    let store = OpendalStorage::from_config_with_env(&storage, &keys(SECRET_KEY)).unwrap();
    let err = store.put(KEY, b"x".to_vec()).await.unwrap_err();
    assert_eq!(err.kind, StorageErrorKind::Temporary, "{err}");
    let message = err.message.to_lowercase();
    assert!(
        message.contains("corrupt message") || message.contains("tls"),
        "not a TLS handshake failure: {err}"
    );
    assert!(!message.contains("scheme"), "{err}");
}

#[test]
fn missing_settings_are_named() {
    let s3 = storage_config(Backend::S3);
    let err = config_error(&s3, &[]);
    assert_eq!(err.kind, StorageErrorKind::Permanent);
    assert!(err.message.contains("storage.s3.bucket"), "{err}");
    assert!(err.message.contains("OTLP2PARQUET_S3_BUCKET"), "{err}");

    let mut r2 = storage_config(Backend::R2);
    r2.r2.account_id = Some("acct".to_owned());
    let err = config_error(&r2, &[]);
    assert!(err.message.contains("storage.r2.bucket"), "{err}");
    assert!(err.message.contains("OTLP2PARQUET_R2_BUCKET"), "{err}");

    r2.r2.bucket = Some("b".to_owned());
    r2.r2.account_id = Some(String::new());
    let err = config_error(&r2, &[]);
    assert!(err.message.contains("storage.r2.account_id"), "{err}");
    assert!(err.message.contains("OTLP2PARQUET_R2_ACCOUNT_ID"), "{err}");

    r2.r2.account_id = Some("acct".to_owned());
    let err = config_error(&r2, &[("AWS_ACCESS_KEY_ID", ACCESS_KEY)]);
    assert!(err.message.contains("AWS_SECRET_ACCESS_KEY"), "{err}");
    assert_eq!(err.kind, StorageErrorKind::Permanent);
}
