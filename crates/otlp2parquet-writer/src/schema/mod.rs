//! The seven table schemas of SPEC §4 (helper-owned, in progress).
