//! The object-store boundary. Adapters implement [`Storage`] over OpenDAL (server, Lambda) or
//! the R2 binding (Worker); the pipeline only ever calls `put`.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Whether retrying a failed write may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageErrorKind {
    /// The store is unreachable, throttling or failing for now (the client should retry: 503).
    Temporary,
    /// The write cannot succeed as configured (bad credentials, missing bucket); still a 503 to
    /// the client, since its data is fine, but logged as a configuration problem.
    Permanent,
}

/// A failed write, classified at the storage boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage write of {key} failed: {message}")]
pub struct StorageError {
    /// What retrying would do.
    pub kind: StorageErrorKind,
    /// The object key being written.
    pub key: String,
    /// The store's explanation.
    pub message: String,
}

/// An object store that files are written to.
// The futures are not required to be `Send`: the Worker's are not, and native adapters use
// concrete types whose futures are.
#[allow(async_fn_in_trait)]
pub trait Storage {
    /// Stores `bytes` under `key`, replacing any object there. Returns only once the object is
    /// durable in the store.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError>;
}

/// An in-memory store, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    fail_with: Mutex<Option<StorageErrorKind>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every following `put` fail with `kind` (or succeed again with `None`).
    pub fn fail_with(&self, kind: Option<StorageErrorKind>) {
        if let Ok(mut f) = self.fail_with.lock() {
            *f = kind;
        }
    }

    /// A copy of every stored object, by key.
    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.objects.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

impl Storage for MemoryStorage {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let failure = self.fail_with.lock().ok().and_then(|f| *f);
        if let Some(kind) = failure {
            return Err(StorageError {
                kind,
                key: key.to_owned(),
                message: "injected failure".to_owned(),
            });
        }
        let mut objects = self.objects.lock().map_err(|_| StorageError {
            kind: StorageErrorKind::Temporary,
            key: key.to_owned(),
            message: "store lock poisoned".to_owned(),
        })?;
        objects.insert(key.to_owned(), bytes);
        Ok(())
    }
}
