//! The object-store boundary. Adapters implement [`Storage`] over OpenDAL (server, Lambda) or
//! the R2 binding (Worker); the pipeline only ever calls `put`. The compactor
//! (docs/adr/0013-lambda-spool.md) needs more of the store — create-only and conditional writes,
//! reads, listing, deletes — and asks for it through [`ObjectStore`].

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
#[error("storage request for {key} failed: {message}")]
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

/// What a create-only write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutNew {
    /// The object did not exist and now holds the bytes.
    Created,
    /// An object was there already and is unchanged.
    Exists,
}

/// An object read back, with the version tag a conditional [`ObjectStore::replace`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The object's content.
    pub bytes: Vec<u8>,
    /// Its entity tag (or, where the store keeps none, a digest of the content).
    pub etag: String,
}

/// One object a listing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The full key.
    pub key: String,
    /// Its size in bytes (0 where the listing does not say).
    pub size: u64,
}

/// The store operations the compactor needs besides [`Storage::put`].
#[allow(async_fn_in_trait)]
pub trait ObjectStore: Storage {
    /// Stores `bytes` under `key` only if nothing is there (S3 `If-None-Match: *`).
    async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<PutNew, StorageError>;

    /// The object under `key`, or `None` when there is none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// [`ObjectStore::get`] with the object's version tag (one more request on S3).
    async fn get_tagged(&self, key: &str) -> Result<Option<Fetched>, StorageError>;

    /// Replaces the object under `key` only if it still has the version `etag` (S3
    /// `If-Match`); `Ok(false)` when it changed or vanished meanwhile.
    async fn replace(&self, key: &str, bytes: Vec<u8>, etag: &str) -> Result<bool, StorageError>;

    /// The objects whose keys start with `prefix`, at every depth, in key order, at most
    /// `limit` of them.
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<Listed>, StorageError>;

    /// Removes the object under `key`; removing one that is not there succeeds.
    async fn delete(&self, key: &str) -> Result<(), StorageError>;

    /// Removes the objects under `keys` (S3: one `DeleteObjects` request per 1 000 keys); on an
    /// error some may be gone and others not.
    async fn delete_many(&self, keys: &[String]) -> Result<(), StorageError> {
        for key in keys {
            self.delete(key).await?;
        }
        Ok(())
    }
}

/// The version tag of `bytes` in stores that keep none (a local directory, the memory store).
pub fn content_tag(bytes: &[u8]) -> String {
    format!("crc32-{:08x}-{}", crc32fast::hash(bytes), bytes.len())
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

impl MemoryStorage {
    /// The objects, unless a failure is injected.
    fn open(
        &self,
        key: &str,
    ) -> Result<std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>>, StorageError> {
        let failure = self.fail_with.lock().ok().and_then(|f| *f);
        if let Some(kind) = failure {
            return Err(StorageError {
                kind,
                key: key.to_owned(),
                message: "injected failure".to_owned(),
            });
        }
        self.objects.lock().map_err(|_| StorageError {
            kind: StorageErrorKind::Temporary,
            key: key.to_owned(),
            message: "store lock poisoned".to_owned(),
        })
    }
}

impl Storage for MemoryStorage {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        self.open(key)?.insert(key.to_owned(), bytes);
        Ok(())
    }
}

impl ObjectStore for MemoryStorage {
    async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<PutNew, StorageError> {
        let mut objects = self.open(key)?;
        if objects.contains_key(key) {
            return Ok(PutNew::Exists);
        }
        objects.insert(key.to_owned(), bytes);
        Ok(PutNew::Created)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.open(key)?.get(key).cloned())
    }

    async fn get_tagged(&self, key: &str) -> Result<Option<Fetched>, StorageError> {
        Ok(self.open(key)?.get(key).map(|bytes| Fetched {
            etag: content_tag(bytes),
            bytes: bytes.clone(),
        }))
    }

    async fn replace(&self, key: &str, bytes: Vec<u8>, etag: &str) -> Result<bool, StorageError> {
        let mut objects = self.open(key)?;
        match objects.get_mut(key) {
            Some(current) if content_tag(current) == etag => {
                *current = bytes;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<Listed>, StorageError> {
        Ok(self
            .open(prefix)?
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| Listed {
                key: k.clone(),
                size: v.len() as u64,
            })
            .collect())
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.open(key)?.remove(key);
        Ok(())
    }
}
