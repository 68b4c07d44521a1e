//! Request latencies: every sample kept (microseconds), sorted once for percentiles. A 20 s run
//! makes at most a few hundred thousand requests, so exact percentiles cost a few MB at most.

use std::time::Duration;

/// Latency samples of one or more connections.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    micros: Vec<u64>,
    sorted: bool,
}

impl Latencies {
    /// Adds one request's latency.
    pub fn record(&mut self, d: Duration) {
        self.micros
            .push(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        self.sorted = false;
    }

    /// Moves the samples of `other` into `self`.
    pub fn merge(&mut self, mut other: Latencies) {
        self.micros.append(&mut other.micros);
        self.sorted = false;
    }

    /// Number of samples.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.micros.len()
    }

    /// The `q`-quantile (`0.0..=1.0`) by the nearest-rank method, in microseconds; 0 when empty.
    pub fn quantile(&mut self, q: f64) -> u64 {
        if !self.sorted {
            self.micros.sort_unstable();
            self.sorted = true;
        }
        let n = self.micros.len();
        if n == 0 {
            return 0;
        }
        // Nearest rank: the smallest sample with at least q·n samples at or below it.
        let rank = (q.clamp(0.0, 1.0) * n as f64).ceil() as usize;
        let index = rank.clamp(1, n) - 1;
        self.micros.get(index).copied().unwrap_or(0)
    }

    /// The largest sample in microseconds; 0 when empty.
    pub fn max(&self) -> u64 {
        self.micros.iter().copied().max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        // 1..=100 ms in shuffled order.
        for i in (1..=100u64).rev().step_by(2).chain((1..=100u64).step_by(2)) {
            l.record(Duration::from_millis(i));
        }
        assert_eq!(l.len(), 100);
        assert_eq!(l.quantile(0.5), 50_000);
        assert_eq!(l.quantile(0.9), 90_000);
        assert_eq!(l.quantile(0.99), 99_000);
        assert_eq!(l.quantile(0.0), 1_000);
        assert_eq!(l.quantile(1.0), 100_000);
        assert_eq!(l.max(), 100_000);
    }

    #[test]
    fn merge_and_empty() {
        let mut a = Latencies::default();
        assert_eq!(a.quantile(0.99), 0);
        assert_eq!(a.max(), 0);
        let mut b = Latencies::default();
        b.record(Duration::from_micros(7));
        a.record(Duration::from_micros(3));
        a.merge(b);
        assert_eq!(a.len(), 2);
        assert_eq!(a.quantile(0.5), 3);
        assert_eq!(a.quantile(0.51), 7);
    }
}
