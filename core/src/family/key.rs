//! A family child's label values, packed into one shared string ([`Key`]): each value
//! after its length ([`Prefix`]), so a lookup compares lengths and bytes without
//! decoding, and a scrape reads the values straight out of it.

use std::string::String;
use std::sync::Arc;

use core::cmp::Ordering;

/// A child's label values, owned: one allocation for all of them.
///
/// Invariant: for each value in order, its byte length as a [`Prefix`], then the value.
/// The prefix bytes are ASCII, so the whole key is a `str`, and keys packed one after
/// another read as one sequence of values.
///
/// Shared (`Arc`) between the shard that finds the child and the sorted list a scrape
/// walks, so the list costs no copy of the values.
#[derive(Clone)]
pub(super) struct Key(Arc<str>);

/// Keys up to this many bytes are packed on the stack and copied into their `Arc` in
/// one allocation; longer ones go through a `String` first (two).
const STACK_KEY: usize = 256;

impl Key {
    pub(super) fn new(values: &[&str]) -> Self {
        let capacity: usize = values
            .iter()
            .map(|value| Prefix::new(value.len()).len() + value.len())
            .sum();
        if capacity <= STACK_KEY {
            let mut packed = [0u8; STACK_KEY];
            let mut len = 0;
            for value in values {
                let prefix = Prefix::new(value.len());
                for bytes in [&prefix.bytes[..prefix.len], value.as_bytes()] {
                    packed[len..len + bytes.len()].copy_from_slice(bytes);
                    len += bytes.len();
                }
            }
            // ASCII prefixes and whole `str`s: valid UTF-8.
            if let Ok(packed) = core::str::from_utf8(&packed[..len]) {
                return Self(Arc::from(packed));
            }
        }
        let mut packed = String::with_capacity(capacity);
        for value in values {
            Prefix::new(value.len()).push_to(&mut packed);
            packed.push_str(value);
        }
        Self(Arc::from(packed))
    }

    /// The values, in order, read straight from the packed bytes.
    #[inline]
    pub(super) fn values(&self) -> Values<'_> {
        Values(&self.0)
    }

    /// Whether `other` is this very key (one child's), not merely equal values.
    pub(super) fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Orders keys as their values, lexicographically, value by value, by bytes: the
    /// exposition order.
    pub(super) fn cmp_values(&self, other: &Self) -> Ordering {
        self.values().cmp(other.values())
    }

    /// Whether the key holds exactly `values`: lengths first, then bytes, value by
    /// value, without decoding into anything.
    #[inline]
    pub(super) fn holds(&self, values: &[&str]) -> bool {
        let mut rest = self.0.as_bytes();
        for value in values {
            let Some((len, tail)) = Prefix::read(rest) else {
                return false;
            };
            let Some((stored, tail)) = tail.split_at_checked(len) else {
                return false;
            };
            if stored != value.as_bytes() {
                return false;
            }
            rest = tail;
        }
        rest.is_empty()
    }
}

/// A value's byte length as it precedes the value in a [`Key`]: little-endian groups
/// of [`Prefix::BITS`] bits, one ASCII byte each, [`Prefix::MORE`] set on every byte
/// but the last. A value under 64 bytes (nearly all of them) takes one byte; a `usize`
/// takes at most 11.
struct Prefix {
    bytes: [u8; Prefix::MAX],
    len: usize,
}

impl Prefix {
    /// Length bits per byte: 6, leaving [`MORE`](Self::MORE) and a clear top bit, so
    /// every prefix byte is ASCII.
    const BITS: u32 = 6;
    /// Marks a byte that another one follows.
    const MORE: u8 = 0x40;
    /// The low [`BITS`](Self::BITS) bits.
    const MASK: u8 = 0x3f;
    /// Bytes for the largest `usize`: `ceil(64 / 6)`.
    const MAX: usize = usize::BITS.div_ceil(Self::BITS) as usize;

    fn new(mut len: usize) -> Self {
        let mut bytes = [0; Self::MAX];
        let mut used = 0;
        loop {
            // Masked to 6 bits: the cast cannot truncate.
            #[allow(clippy::cast_possible_truncation)]
            let group = (len as u8) & Self::MASK;
            len >>= Self::BITS;
            if len == 0 {
                bytes[used] = group;
                return Self {
                    bytes,
                    len: used + 1,
                };
            }
            bytes[used] = group | Self::MORE;
            used += 1;
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn push_to(&self, packed: &mut String) {
        // Every byte is below 0x80: one ASCII `char` each.
        packed.extend(self.bytes[..self.len].iter().copied().map(char::from));
    }

    /// Splits the first value off `packed`: `None` when `packed` is empty (or, which
    /// the invariant on [`Key`] rules out, malformed).
    fn split(packed: &str) -> Option<(&str, &str)> {
        let (len, rest) = Self::read(packed.as_bytes())?;
        let start = packed.len() - rest.len();
        let end = start.checked_add(len)?;
        Some((packed.get(start..end)?, packed.get(end..)?))
    }

    /// Reads a prefix off the front of `bytes`: the length and what follows it.
    #[inline]
    fn read(bytes: &[u8]) -> Option<(usize, &[u8])> {
        let (&first, mut rest) = bytes.split_first()?;
        if first & Self::MORE == 0 {
            return Some((usize::from(first), rest));
        }
        let mut len = usize::from(first & Self::MASK);
        let mut shift = Self::BITS;
        loop {
            let (&byte, tail) = rest.split_first()?;
            rest = tail;
            let group = usize::from(byte & Self::MASK);
            len |= group.checked_shl(shift)?;
            if byte & Self::MORE == 0 {
                return Some((len, rest));
            }
            shift += Self::BITS;
        }
    }
}

/// The values of a packed key, in order.
pub(super) struct Values<'a>(&'a str);

impl<'a> Iterator for Values<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (value, rest) = Prefix::split(self.0)?;
        self.0 = rest;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;

    fn packed(values: &[&str]) -> Key {
        Key::new(values)
    }

    fn decoded(key: &Key) -> Vec<&str> {
        key.values().collect()
    }

    #[test]
    fn keys_round_trip_any_value() {
        let long = "é".repeat(5_000);
        let values = [
            "",
            "ab",
            "ünï\"\\\n",
            "0000000000000003abc",
            "\u{0}\u{3f}\u{40}\u{7f}",
            &long[..62],
            &long[..64],
            &long[..4_094],
            &long[..4_096],
            &long,
            "x",
        ];
        let key = packed(&values);
        assert_eq!(decoded(&key), values);
        // Exactly the prefixes and the values: nothing allocated beyond them.
        // One byte under 64, two under 4096, three under 262 144.
        let prefixes = 7 + 2 * 2 + 2 * 3;
        let bytes: usize = values.iter().map(|v| v.len()).sum();
        assert_eq!(key.0.len(), prefixes + bytes);
        // Keys one after another read as one sequence.
        let both = [&*packed(&["a", "bc"]).0, &*key.0].concat();
        let decoded: Vec<&str> = Values(&both).collect();
        assert_eq!(decoded[..2], ["a", "bc"]);
        assert_eq!(decoded[2..], values);
    }

    #[test]
    fn prefixes_round_trip_every_length_class() {
        for len in [
            0,
            1,
            63,
            64,
            4_095,
            4_096,
            1 << 30,
            usize::MAX - 1,
            usize::MAX,
        ] {
            let prefix = Prefix::new(len);
            let bytes = &prefix.bytes[..prefix.len()];
            assert!(bytes.is_ascii(), "{len}: {bytes:?}");
            assert_eq!(Prefix::read(bytes), Some((len, &[][..])), "{len}");
        }
        assert_eq!(Prefix::new(63).len(), 1);
        assert_eq!(Prefix::new(64).len(), 2);
        assert_eq!(Prefix::new(usize::MAX).len(), Prefix::MAX);
        // A truncated or overlong prefix is rejected, not misread.
        assert_eq!(Prefix::read(&[Prefix::MORE]), None);
        assert_eq!(Prefix::read(&[Prefix::MORE | 1; 12]), None);
    }

    #[test]
    fn keys_compare_full_values() {
        // Same concatenation, different split: never the same key.
        let key = packed(&["a", "bc"]);
        assert!(key.holds(&["a", "bc"]));
        assert!(!key.holds(&["ab", "c"]));
        assert!(!packed(&["ab", "c"]).holds(&["a", "bc"]));
        // Fewer, more, shorter, longer, other values: all different.
        assert!(!key.holds(&["a"]));
        assert!(!packed(&["a"]).holds(&["a", ""]));
        assert!(!key.holds(&["a", "b"]));
        assert!(!packed(&["a", "b"]).holds(&["a", "bc"]));
        assert!(!key.holds(&["a", "bd"]));
    }

    #[test]
    fn keys_order_as_their_values() {
        // Not as their packed bytes: the length prefix would put "b" before "ab".
        let order = |a: &[&str], b: &[&str]| packed(a).cmp_values(&packed(b));
        assert_eq!(order(&["ab"], &["b"]), Ordering::Less);
        assert_eq!(order(&["a", "z"], &["ab", "a"]), Ordering::Less);
        assert_eq!(order(&["", "b"], &["", "a"]), Ordering::Greater);
        assert_eq!(order(&["x", "y"], &["x", "y"]), Ordering::Equal);
        let long = "z".repeat(300);
        assert_eq!(order(&[&long], &["zz"]), Ordering::Greater);
        assert!(packed(&[&long, "a"]).holds(&[&long, "a"]));
    }
}
