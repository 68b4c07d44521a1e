//! Unique, random-looking tokens for object keys (the `{token}` of docs/keys.md), shared by every target.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out a fresh 128-bit seed per request (files of one request derive theirs with
/// [`file_token`](crate::file_token)).
#[derive(Debug)]
pub struct KeyTokens {
    seeds: RandomState,
    entropy: u128,
    counter: AtomicU64,
}

impl Default for KeyTokens {
    fn default() -> Self {
        KeyTokens::with_entropy(0)
    }
}

impl KeyTokens {
    /// Tokens keyed by the process-random SipHash keys of `RandomState` and by `entropy`.
    /// Targets where `RandomState` is not random (wasm32-unknown-unknown) must pass real
    /// randomness here (the Worker uses `crypto.getRandomValues`); elsewhere 0 is fine.
    pub fn with_entropy(entropy: u128) -> Self {
        KeyTokens {
            seeds: RandomState::new(),
            entropy,
            counter: AtomicU64::new(0),
        }
    }

    /// A fresh 128-bit token: the keyed hash of a counter, the clock and the entropy, so tokens
    /// differ across files, requests and restarts.
    pub fn next(&self, now_ns: i64) -> u128 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut a = self.seeds.build_hasher();
        a.write_u64(n);
        a.write_i64(now_ns);
        a.write_u128(self.entropy);
        let hi = a.finish();
        let mut b = self.seeds.build_hasher();
        b.write_u64(hi);
        b.write_u64(n.rotate_left(17));
        b.write_u128(self.entropy.rotate_left(64));
        (u128::from(hi) << 64) | u128::from(b.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_depend_on_entropy() {
        let t = KeyTokens::with_entropy(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            assert!(seen.insert(t.next(1)));
        }
        // Same RandomState keys are not reachable from outside, but two entropies must differ
        // in what they produce for the same counter and clock.
        let a = KeyTokens::with_entropy(1);
        let b = KeyTokens {
            seeds: a.seeds.clone(),
            entropy: 2,
            counter: AtomicU64::new(0),
        };
        assert_ne!(a.next(5), b.next(5));
    }
}
