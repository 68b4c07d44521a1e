//! Local-disk storage: each object is written to a temporary file and renamed into place, so
//! a reader never sees a half-written Parquet file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use otlp2parquet_writer::{Storage, StorageError, StorageErrorKind};

/// Objects as files under a root directory.
#[derive(Debug)]
pub struct FsStorage {
    root: PathBuf,
    tmp_counter: AtomicU64,
}

impl FsStorage {
    /// Storage rooted at `root` (created if missing).
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self {
            root,
            tmp_counter: AtomicU64::new(0),
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the root is a writable directory (for `/ready`).
    pub async fn ready(&self) -> bool {
        let probe = self.root.join(".ready-probe");
        let ok = tokio::fs::write(&probe, b"ok").await.is_ok();
        let _ = tokio::fs::remove_file(&probe).await;
        ok
    }
}

impl Storage for FsStorage {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let err = |e: std::io::Error| StorageError {
            kind: match e.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                    StorageErrorKind::Permanent
                }
                _ => StorageErrorKind::Temporary,
            },
            key: key.to_owned(),
            message: e.to_string(),
        };
        // Keys come from writer::object_key, which never yields `..` segments or absolute paths.
        let path = self.root.join(key);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(err)?;
        }
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_extension(format!("parquet.tmp{n}"));
        tokio::fs::write(&tmp, &bytes).await.map_err(err)?;
        if let Err(e) = tokio::fs::rename(&tmp, &path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(err(e));
        }
        Ok(())
    }
}
