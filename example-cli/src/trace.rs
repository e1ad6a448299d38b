//! [`TraceId`]: a W3C-style trace id for the examples' requests, standing in for the one
//! a real tracer (OpenTelemetry, `tracing` with a trace-context layer) would give each
//! request, so the examples' exemplars link to something.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// 32 lowercase hex digits, as W3C Trace Context (`traceparent`) writes a trace id.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceId {
    /// Invariant: ASCII hex digits.
    hex: [u8; 32],
}

impl TraceId {
    /// A new id: distinct for every call in this process (a counter) and, with high
    /// probability, across processes (the start time is mixed in).
    #[must_use]
    pub fn generate() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        // Relaxed: only uniqueness matters, which the atomic increment gives.
        let sequence = NEXT.fetch_add(1, Ordering::Relaxed);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos() as u64);
        let high = splitmix64(now ^ u64::from(std::process::id()).rotate_left(32));
        let low = splitmix64(high ^ sequence);
        let mut hex = [0u8; 32];
        for (i, digit) in hex.iter_mut().enumerate() {
            let word = if i < 16 { high } else { low };
            let nibble = (word >> (60 - 4 * (i % 16))) & 0xf;
            *digit = b"0123456789abcdef"[nibble as usize];
        }
        Self { hex }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII hex digits (the invariant), so this never falls back.
        std::str::from_utf8(&self.hex).unwrap_or_default()
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({})", self.as_str())
    }
}

/// SplitMix64's output function (Steele, Lea and Flood, "Fast splittable pseudorandom
/// number generators", OOPSLA 2014): a bijective mix of 64 bits.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_and_distinct() {
        let a = TraceId::generate();
        let b = TraceId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert!(
            a.as_str()
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
}
