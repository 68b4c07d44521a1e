//! `otlp2parquet` — server and CLI (issue 3).

fn main() {}
