//! Owned prost message types (helper-owned, in progress).
