//! The server's storage: OpenDAL (fs, S3, R2). A trait object rather than a generic, so that
//! flush tasks can be spawned (their futures are `Send`) and unit tests can put an in-memory
//! store behind the same type without a test-only variant in the production code.

use std::future::Future;
use std::pin::Pin;

use otlp2parquet_writer::{OpendalStorage, Storage, StorageError};

/// A boxed, `Send` storage future.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StorageError>> + Send + 'a>>;

/// What the server needs of an object store.
pub trait Backend: Send + Sync {
    /// Stores `bytes` under `key`, replacing any object there.
    fn put<'a>(&'a self, key: &'a str, bytes: Vec<u8>) -> StoreFuture<'a, ()>;
    /// Whether storage answers (`GET /ready`).
    fn ready(&self) -> StoreFuture<'_, ()>;
    /// Where data goes, for the startup line.
    fn describe(&self) -> String;
}

impl Backend for OpendalStorage {
    fn put<'a>(&'a self, key: &'a str, bytes: Vec<u8>) -> StoreFuture<'a, ()> {
        Box::pin(Storage::put(self, key, bytes))
    }

    fn ready(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.check_ready())
    }

    fn describe(&self) -> String {
        OpendalStorage::describe(self).to_owned()
    }
}

/// Where the server writes files.
pub struct Store(Box<dyn Backend>);

impl Store {
    /// A store over `backend`.
    pub fn new(backend: impl Backend + 'static) -> Store {
        Store(Box::new(backend))
    }

    /// Where data goes, for the startup line.
    pub fn describe(&self) -> String {
        self.0.describe()
    }

    /// Whether storage answers (`GET /ready`).
    pub async fn ready(&self) -> Result<(), StorageError> {
        self.0.ready().await
    }
}

impl Storage for Store {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        self.0.put(key, bytes).await
    }
}

#[cfg(test)]
pub(crate) mod memory {
    //! The in-memory store of the writer crate behind the server's [`Backend`].

    use std::sync::Arc;

    use otlp2parquet_writer::{MemoryStorage, Storage};

    use super::{Backend, StoreFuture};

    /// Shares one [`MemoryStorage`] between a [`super::Store`] and the test reading it.
    pub(crate) struct Shared(pub(crate) Arc<MemoryStorage>);

    impl Backend for Shared {
        fn put<'a>(&'a self, key: &'a str, bytes: Vec<u8>) -> StoreFuture<'a, ()> {
            Box::pin(async move { self.0.put(key, bytes).await })
        }

        fn ready(&self) -> StoreFuture<'_, ()> {
            Box::pin(async { Ok(()) })
        }

        fn describe(&self) -> String {
            "memory".to_owned()
        }
    }
}
