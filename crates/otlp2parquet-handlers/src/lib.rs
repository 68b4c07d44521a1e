//! The otlp2parquet pipeline (in progress).
