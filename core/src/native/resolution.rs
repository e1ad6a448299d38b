//! Which schema a native histogram's buckets are exposed at, and how wide its zero
//! bucket is, when they no longer fit its bound: [`fit`].
//!
//! client_golang (`prometheus/histogram.go`, `limitBuckets`) answers an observation
//! that takes a histogram past `NativeHistogramMaxBucketNumber` by first widening the
//! zero bucket over the bucket closest to zero (`maybeWidenZeroBucket`, while the new
//! threshold stays within `NativeHistogramMaxZeroThreshold`), and otherwise halving the
//! resolution (`doubleBucketWidth`: schema − 1, bucket `i` merged into `ceil(i / 2)`),
//! one step per observation over the limit. Once the observations stop adding buckets,
//! it has reached the finest schema at which every bucket fits, with the zero bucket
//! widened as far as that needs. [`fit`] computes that fixed point from the buckets
//! themselves, so the native histogram can keep them at a finer schema and decide at
//! read time.

use super::COARSEST;
use super::bounds::BOUNDS;

/// One populated bucket: its sign, its index at `schema`, and its count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Bucket {
    pub(super) schema: i8,
    pub(super) negative: bool,
    pub(super) index: i32,
    pub(super) count: u64,
}

impl Bucket {
    /// A placeholder for buffers.
    pub(super) const EMPTY: Self = Self {
        schema: 0,
        negative: false,
        index: 0,
        count: 0,
    };
}

/// What [`fit`] chose.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Fit {
    /// The schema every bucket was coarsened to.
    pub(super) schema: i8,
    /// Buckets left at the front of the slice, merged and ordered by index then sign.
    pub(super) len: usize,
    /// How many of those (the first ones) the widened zero bucket took.
    pub(super) widened: usize,
    /// The zero bucket's threshold: the configured one, or the upper bound of the
    /// last bucket it took.
    pub(super) zero_threshold: f64,
}

/// A bucket index at `schema`, moved to the coarser `to`: the bucket that contains it
/// (`ceil(index / 2^(schema - to))`, client_golang's `(key + 1) / 2` per step).
pub(super) const fn coarsen(index: i32, schema: i8, to: i8) -> i32 {
    let shift = (schema - to) as u32;
    // ceil(index / 2^shift), also for negative indices (arithmetic shift floors).
    // In i64: an index near i32::MAX must not overflow on the way.
    #[allow(clippy::cast_possible_truncation)]
    let coarse = ((index as i64 + (1 << shift) - 1) >> shift) as i32;
    coarse
}

/// Coarsens `buckets` in place to the finest schema, at most `ceiling` and at most
/// each bucket's own, at which no more than `bound` remain once the zero bucket has
/// widened over the lowest of them (up to `max_zero`; never when `max_zero` is below
/// every bucket); at schema −4, whatever remains. The buckets are merged and ordered
/// by index, then sign, in `buckets[..fit.len]`.
pub(super) fn fit(
    buckets: &mut [Bucket],
    ceiling: i8,
    bound: usize,
    zero_threshold: f64,
    max_zero: f64,
) -> Fit {
    let mut schema = buckets
        .iter()
        .map(|bucket| bucket.schema)
        .fold(ceiling, i8::min);
    let mut len = buckets.len();
    loop {
        for bucket in &mut buckets[..len] {
            bucket.index = coarsen(bucket.index, bucket.schema, schema);
            bucket.schema = schema;
        }
        buckets[..len].sort_unstable_by_key(|bucket| (bucket.index, bucket.negative));
        len = merge(&mut buckets[..len]);
        let (widened, threshold) = widen(&buckets[..len], schema, bound, zero_threshold, max_zero);
        if len - widened <= bound || schema <= COARSEST {
            return Fit {
                schema,
                len,
                widened,
                zero_threshold: threshold,
            };
        }
        schema -= 1;
    }
}

/// Merges neighbours with the same sign and index; returns how many remain.
fn merge(buckets: &mut [Bucket]) -> usize {
    let mut len = 0usize;
    for i in 0..buckets.len() {
        let bucket = buckets[i];
        match len.checked_sub(1).map(|last| &mut buckets[last]) {
            Some(last) if (last.index, last.negative) == (bucket.index, bucket.negative) => {
                last.count += bucket.count;
            }
            _ => {
                buckets[len] = bucket;
                len += 1;
            }
        }
    }
    len
}

/// How many of `sorted`'s first buckets the zero bucket takes, and its new threshold:
/// while more than `bound` remain, the bucket(s) of the lowest index, both signs, as
/// long as their upper bound is at most `max_zero` (client_golang's
/// `maybeWidenZeroBucket`).
fn widen(
    sorted: &[Bucket],
    schema: i8,
    bound: usize,
    zero_threshold: f64,
    max_zero: f64,
) -> (usize, f64) {
    let (mut widened, mut threshold) = (0, zero_threshold);
    while sorted.len() - widened > bound {
        let index = sorted[widened].index;
        let upper = upper_bound(index, schema);
        if upper > max_zero {
            break;
        }
        threshold = threshold.max(upper);
        while sorted
            .get(widened)
            .is_some_and(|bucket| bucket.index == index)
        {
            widened += 1;
        }
    }
    (widened, threshold)
}

/// The upper bound of bucket `index` at `schema`, as client_golang's `getLe`
/// computes it (`f64::MAX` for the last finite bucket).
pub(super) fn upper_bound(index: i32, schema: i8) -> f64 {
    if schema < 0 {
        let exp = i64::from(index) << -schema;
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let fraction = index & ((1 << schema) - 1);
    // At most 255: the cast is exact.
    #[allow(clippy::cast_sign_loss)]
    let frac = BOUNDS[(fraction as usize) << (8 - schema)];
    let exp = i64::from(index >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// `frac · 2^exp`, in steps that stay within the normal range.
fn ldexp(mut frac: f64, mut exp: i64) -> f64 {
    const UP: f64 = f64::from_bits(0x7e70_0000_0000_0000); // 2^1000
    const DOWN: f64 = f64::from_bits(0x0170_0000_0000_0000); // 2^-1000
    while exp > 1000 {
        frac *= UP;
        exp -= 1000;
        if frac.is_infinite() {
            return frac;
        }
    }
    while exp < -1000 {
        frac *= DOWN;
        exp += 1000;
        if frac == 0.0 {
            return frac;
        }
    }
    // -1000..=1000: a normal power of two; the cast cannot wrap.
    #[allow(clippy::cast_sign_loss)]
    let power = f64::from_bits(((exp + 1023) as u64) << 52);
    frac * power
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    fn bucket(negative: bool, index: i32) -> Bucket {
        Bucket {
            schema: 3,
            negative,
            index,
            count: 1,
        }
    }

    #[test]
    fn coarsening_finds_the_containing_bucket() {
        // Schema 0 bucket i is (2^(i-1), 2^i]; at schema -1, (4^(j-1), 4^j].
        assert_eq!(coarsen(1, 0, -1), 1); // (1, 2] in (1, 4]
        assert_eq!(coarsen(2, 0, -1), 1); // (2, 4] in (1, 4]
        assert_eq!(coarsen(0, 0, -1), 0); // (1/2, 1] in (1/4, 1]
        assert_eq!(coarsen(-1, 0, -1), 0); // (1/4, 1/2] in (1/4, 1]
        assert_eq!(coarsen(-2, 0, -1), -1); // (1/8, 1/4] in (1/16, 1/4]
        assert_eq!(coarsen(i32::MAX, 8, -4), 1 << 19);
    }

    #[test]
    fn upper_bounds_are_client_golangs() {
        assert_eq!(upper_bound(0, 0), 1.0);
        assert_eq!(upper_bound(3, 0), 8.0);
        assert_eq!(upper_bound(-2, -1), 1.0 / 16.0);
        // client_golang's 2^(1/2): its fraction 0.7071067811865475 doubled.
        assert_eq!(upper_bound(1, 1), 2.0 * 0.707_106_781_186_547_5);
        assert_eq!(upper_bound(-1, 3), 0.917_004_043_204_671_1);
        assert_eq!(upper_bound(1024, 0), f64::MAX);
        assert_eq!(upper_bound(1025, 0), f64::INFINITY);
        assert_eq!(upper_bound(-1074, 0), 5e-324);
    }

    #[test]
    fn halving_stops_where_the_buckets_fit() {
        // Four neighbours at schema 3 fit three only at schema 2 (two pairs merge).
        let mut buckets = [
            bucket(false, 1),
            bucket(false, 2),
            bucket(false, 3),
            bucket(true, 2),
        ];
        let fit = fit(&mut buckets, 3, 3, 0.0, 0.0);
        assert_eq!((fit.schema, fit.len, fit.widened), (2, 3, 0));
        assert_eq!(
            buckets[..3]
                .iter()
                .map(|b| (b.negative, b.index, b.count))
                .collect::<std::vec::Vec<_>>(),
            [(false, 1, 2), (true, 1, 1), (false, 2, 1)]
        );
    }

    #[test]
    fn the_zero_bucket_widens_before_the_resolution_drops() {
        // Buckets -8 (both signs) and -7 at schema 3: (2^-9/8, 2^-1] and its neighbour.
        let mut buckets = [
            bucket(false, -8),
            bucket(true, -8),
            bucket(false, -7),
            bucket(false, 4),
        ];
        let fit = super::fit(&mut buckets, 3, 2, 0.0, 0.6);
        assert_eq!((fit.schema, fit.len, fit.widened), (3, 4, 2));
        assert_eq!(fit.zero_threshold, 0.5);
        // Not far enough (bound 3): the resolution drops instead, to where three fit.
        let mut buckets = [
            bucket(false, -8),
            bucket(true, -8),
            bucket(false, -7),
            bucket(false, 4),
        ];
        let fit = super::fit(&mut buckets, 3, 3, 0.0, 0.4);
        assert_eq!((fit.schema, fit.widened, fit.zero_threshold), (-1, 0, 0.0));
    }
}
