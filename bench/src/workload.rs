//! What every library is fed: the same bucket bounds, observed values, label values and
//! series counts, with any randomness generated ahead of time.

use core::cell::Cell;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The histogram bucket bounds every library gets: torchlight's `DEFAULT_BUCKETS`,
/// which are `prometheus_client`'s (Python) 14 defaults. Peers are given them
/// explicitly rather than their own defaults, so each scans the same buckets.
pub const BUCKETS: [f64; 14] = *torchlight::DEFAULT_BUCKETS.bounds();

/// The first label of the labelled-counter case (3 values).
pub const KINDS: [&str; 3] = ["user", "internal", "network"];

/// The second label of the labelled-counter case (6 values): 18 combinations in all,
/// as in `measured`'s counter benchmark.
pub const ROUTES: [&str; 6] = [
    "/api/v1/users",
    "/api/v1/users/:id",
    "/api/v1/products",
    "/api/v1/products/:id",
    "/api/v1/products/:id/owner",
    "/api/v1/products/:id/purchase",
];

/// The registry sizes of the encoding case (series per registry).
pub const SERIES_COUNTS: [usize; 4] = [100, 1_000, 10_000, 100_000];

/// How many pre-generated inputs each sequence holds before it repeats: a power of two
/// (cheap wrap-around) large enough that the branch predictor cannot learn it.
const SEQUENCE_LEN: usize = 1 << 14;

/// A small deterministic generator (xorshift64*), so every run and every library sees
/// the same sequence.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        // The top 53 bits fill an f64 mantissa exactly.
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        // n is tiny (3 or 6), so the modulo bias is far below measurement noise.
        (self.next() % n as u64) as usize
    }
}

/// Values to observe: log-uniform between 1 ms and 20 s, so every bucket of
/// [`BUCKETS`] (5 ms … 10 s) and `+Inf` is hit, and the bucket search is not always the
/// first or the last.
pub fn observations() -> &'static [f64] {
    static VALUES: LazyLock<Vec<f64>> = LazyLock::new(|| {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let (low, high) = (1e-3_f64.ln(), 20.0_f64.ln());
        (0..SEQUENCE_LEN)
            .map(|_| (low + rng.unit() * (high - low)).exp())
            .collect()
    });
    &VALUES
}

/// Random label combinations for the labelled-counter case: indices into [`KINDS`]
/// and [`ROUTES`], uniformly over the 18 combinations.
pub fn label_pairs() -> &'static [(usize, usize)] {
    static PAIRS: LazyLock<Vec<(usize, usize)>> = LazyLock::new(|| {
        let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
        (0..SEQUENCE_LEN)
            .map(|_| (rng.below(KINDS.len()), rng.below(ROUTES.len())))
            .collect()
    });
    &PAIRS
}

/// Where the next thread starts reading the sequences, so threads of a contended run
/// do not move in lockstep.
static NEXT_START: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static CURSOR: Cell<usize> = Cell::new(
        // Relaxed: only spreads start positions; nothing is published.
        NEXT_START.fetch_add(SEQUENCE_LEN / 7 + 1, Ordering::Relaxed),
    );
}

/// The calling thread's next position in a sequence of [`SEQUENCE_LEN`] inputs.
fn advance() -> usize {
    CURSOR.with(|cursor| {
        let position = cursor.get();
        cursor.set(position.wrapping_add(1));
        position % SEQUENCE_LEN
    })
}

/// The calling thread's next value to observe (see [`observations`]). Benches call it
/// in divan's input generator, outside the timed region.
pub fn next_observation() -> f64 {
    observations()[advance()]
}

/// The calling thread's next label combination (see [`label_pairs`]). Benches call it
/// in divan's input generator, outside the timed region.
pub fn next_label_pair() -> (usize, usize) {
    label_pairs()[advance()]
}

/// The label values of the encoding case: `"0"`, `"1"`, … as strings, shared by every
/// library, enough for the largest registry.
pub fn series_labels() -> &'static [String] {
    static LABELS: LazyLock<Vec<String>> = LazyLock::new(|| {
        let largest = SERIES_COUNTS.iter().copied().max().unwrap_or(0);
        (0..largest).map(|i| i.to_string()).collect()
    });
    &LABELS
}

/// `n` distinct label values for the new-child case: `user-000000`, `user-000001`, …
/// (a realistic length for a user or tenant id).
#[must_use]
pub fn child_labels(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user-{i:06}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_reach_every_bucket_and_inf() {
        let mut hits = [0_usize; BUCKETS.len() + 1];
        for &value in observations() {
            let bucket = BUCKETS.iter().position(|&le| value <= le);
            hits[bucket.unwrap_or(BUCKETS.len())] += 1;
        }
        assert!(hits.iter().all(|&n| n > 0), "{hits:?}");
    }

    #[test]
    fn label_pairs_cover_all_eighteen_combinations() {
        let mut seen = [[false; ROUTES.len()]; KINDS.len()];
        for &(kind, route) in label_pairs() {
            seen[kind][route] = true;
        }
        assert!(seen.iter().flatten().all(|&s| s));
    }

    #[test]
    fn sequences_are_deterministic() {
        let mut a = XorShift(1);
        let mut b = XorShift(1);
        assert!((0..100).all(|_| a.next() == b.next()));
        assert_eq!(series_labels()[12_345], "12345");
        assert_eq!(series_labels().len(), 100_000);
    }
}
