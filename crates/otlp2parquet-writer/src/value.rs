//! AnyValue → string (SPEC §4) (helper-owned, in progress).
use otlp2parquet_proto::AnyValue;

/// The SPEC §4 string form of `v`: borrowed for string values, else written into `scratch`.
pub fn stringify<'v>(_v: &'v AnyValue<'_>, _scratch: &'v mut String) -> &'v str {
    ""
}
