//! Platform detection (in progress).
