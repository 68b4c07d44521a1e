//! Configuration (in progress).

/// Parquet page compression (`parquet.compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParquetCompression {
    /// zstd level 1 (default where built).
    #[default]
    Zstd,
    /// Snappy.
    Snappy,
    /// No compression.
    None,
}
