//! Object keys (SPEC §5) (helper-owned, in progress).
use std::borrow::Cow;

use crate::Table;

/// The service name made safe for every store (SPEC §5.3).
pub fn safe_service_name(name: &str) -> Cow<'_, str> {
    Cow::Borrowed(name)
}

/// The object key of a file (SPEC §5.1).
pub fn object_key(
    _prefix: &str,
    _table: Table,
    _service: &str,
    _earliest_ns: i64,
    _token: u128,
) -> String {
    String::new()
}
