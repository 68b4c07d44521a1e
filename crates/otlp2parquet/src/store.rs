//! The server's storage: OpenDAL (fs, S3, R2) in production; an in-memory store in unit tests.
//! One concrete type, so that flush tasks can be spawned (their futures are `Send`).

use otlp2parquet_writer::{OpendalStorage, Storage, StorageError};

/// Where the server writes files.
pub enum Store {
    /// fs, s3 or r2 through OpenDAL.
    Opendal(Box<OpendalStorage>),
    /// In memory (tests).
    #[cfg(test)]
    Memory(otlp2parquet_writer::MemoryStorage),
}

impl Store {
    /// Where data goes, for the startup line.
    pub fn describe(&self) -> String {
        match self {
            Store::Opendal(s) => s.describe().to_owned(),
            #[cfg(test)]
            Store::Memory(_) => "memory".to_owned(),
        }
    }

    /// Whether storage answers (`GET /ready`).
    pub async fn ready(&self) -> Result<(), StorageError> {
        match self {
            Store::Opendal(s) => s.check_ready().await,
            #[cfg(test)]
            Store::Memory(_) => Ok(()),
        }
    }
}

impl Storage for Store {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        match self {
            Store::Opendal(s) => s.put(key, bytes).await,
            #[cfg(test)]
            Store::Memory(s) => s.put(key, bytes).await,
        }
    }
}
