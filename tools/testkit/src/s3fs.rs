//! A real local S3 server: `s3s-fs` (installed by `make deps`) over a directory, on a free
//! 127.0.0.1 port, read back through the S3 API with our own OpenDAL storage.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use otlp2parquet_common::config::{Backend, Config};
use otlp2parquet_common::platform::Platform;
use otlp2parquet_writer::OpendalStorage;

/// A running `s3s-fs`; it can be killed and restarted on the same port and directory. Killed
/// and reaped on drop.
pub struct S3Fs {
    child: Option<Child>,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    root: PathBuf,
    bucket: String,
}

impl S3Fs {
    /// The access key s3s-fs is started with.
    pub const ACCESS_KEY: &'static str = "AKIDOTLP2PARQUETTEST";
    /// The secret key s3s-fs is started with.
    pub const SECRET_KEY: &'static str = "SECRETOTLP2PARQUETTEST";
    /// The region clients should sign for.
    pub const REGION: &'static str = "us-east-1";

    /// Starts s3s-fs over `dir` (emptied first), holding the one bucket `bucket`.
    pub fn start(dir: &Path, bucket: &str) -> S3Fs {
        let _ = std::fs::remove_dir_all(dir);
        // s3s-fs serves every directory under its root as a bucket.
        std::fs::create_dir_all(dir.join(bucket)).unwrap();
        let mut s3 = S3Fs {
            child: None,
            port: crate::free_port(),
            root: dir.to_owned(),
            bucket: bucket.to_owned(),
        };
        s3.spawn();
        s3
    }

    /// Runs s3s-fs on `self.port` and waits until it accepts connections.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "s3s-fs is already running");
        let mut child = Command::new(binary())
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--access-key",
                Self::ACCESS_KEY,
                "--secret-key",
                Self::SECRET_KEY,
            ])
            .arg(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start s3s-fs ({e}): it must be on PATH or in ~/.cargo/bin; \
                     `make deps` installs it"
                )
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("s3s-fs exited before listening on {}: {status}", self.port);
            }
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    /// SIGKILL by PID, and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Where s3s-fs keeps the object `key` on disk.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.root.join(&self.bucket).join(key)
    }

    /// The environment that points an otlp2parquet `s3` backend here, with `prefix`.
    pub fn s3_env(&self, prefix: &str) -> Vec<(String, String)> {
        [
            ("OTLP2PARQUET_STORAGE_BACKEND", "s3"),
            ("OTLP2PARQUET_S3_BUCKET", self.bucket.as_str()),
            ("OTLP2PARQUET_S3_REGION", Self::REGION),
            ("OTLP2PARQUET_S3_ENDPOINT", &self.endpoint()),
            ("OTLP2PARQUET_STORAGE_PREFIX", prefix),
            ("AWS_ACCESS_KEY_ID", Self::ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", Self::SECRET_KEY),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    /// Every object of the bucket, listed and read through the S3 API: (key, bytes), sorted by
    /// key.
    pub fn read_all(&self) -> Vec<(String, Vec<u8>)> {
        let mut storage = Config::defaults(Platform::Server).storage;
        storage.backend = Backend::S3;
        storage.s3.bucket = Some(self.bucket.clone());
        storage.s3.region = Some(Self::REGION.to_owned());
        storage.s3.endpoint = Some(self.endpoint());
        let env = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some(Self::ACCESS_KEY.to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some(Self::SECRET_KEY.to_owned()),
            _ => None,
        };
        let store = OpendalStorage::from_config_with_env(&storage, &env).unwrap();
        let op = store.operator();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let entries = op.list_with("/").recursive(true).await.unwrap();
            let mut out = Vec::new();
            for entry in entries {
                let key = entry.path().to_owned();
                if key.ends_with('/') {
                    continue;
                }
                let body = op.read(&key).await.unwrap().to_vec();
                out.push((key, body));
            }
            out.sort();
            out
        })
    }

    /// Every `.parquet` object of the bucket with its row count (from the footer), sorted by
    /// key; read through the S3 API.
    pub fn objects(&self) -> Vec<(String, i64)> {
        self.read_all()
            .into_iter()
            .filter(|(key, _)| key.ends_with(".parquet"))
            .map(|(key, body)| {
                let rows = crate::parquet_rows(body, &key);
                (key, rows)
            })
            .collect()
    }
}

impl Drop for S3Fs {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `s3s-fs` from PATH, else from cargo's bin directory (where `make deps` installs it).
fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("s3s-fs").is_file()));
    if on_path {
        return PathBuf::from("s3s-fs");
    }
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
        .join("bin/s3s-fs")
}
