/// What went wrong turning records into Parquet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriterError {
    /// The request holds a value that no column can store (e.g. a time past 2262 in a
    /// nanosecond timestamp). The caller answers 400.
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// Arrow refused a batch: a bug in a builder (caller answers 500).
    #[error("building Arrow batch for {table}: {source}")]
    Arrow {
        /// Table being built.
        table: &'static str,
        /// The Arrow error.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// The Parquet encoder failed (caller answers 500).
    #[error("encoding Parquet for {table}: {source}")]
    Parquet {
        /// Table being encoded.
        table: &'static str,
        /// The Parquet error.
        #[source]
        source: ::parquet::errors::ParquetError,
    },
}
