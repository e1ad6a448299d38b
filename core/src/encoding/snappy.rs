//! Snappy's *block* format (not the framed one), as Prometheus remote write sends its
//! bodies: a compressor into a [`ByteSink`], without an allocator.
//!
//! The format (google/snappy, `format_description.txt`): the uncompressed length as a
//! varint, then elements, each a tag byte whose low two bits say what it is: `00` a
//! literal (its length − 1 in the upper six bits, or 60–63 there for a length in the
//! next 1–4 bytes), `01` a copy of 4–11 bytes from an offset below 2048 (one more
//! byte), `10` a copy of 1–64 bytes with a two-byte offset, `11` with a four-byte one.
//! Any offset back into the output decodes; how to find matches is the compressor's.
//!
//! This one is the greedy LZ77 pass of the reference compressor, simplified: the input
//! is cut into 64 KiB fragments (as `snappy.cc` does, so positions in the hash table fit
//! a `u16`), each fragment is scanned with a table of the positions of recent 4-byte
//! sequences keyed by their hash, a hit that really matches is extended as far as the
//! bytes agree and written as copies, and the bytes between hits as one literal. A miss
//! streak lengthens the step (`snappy.cc`'s heuristic: one byte more per 32 misses), so
//! incompressible input costs little. The table lives on the stack: 2^14 entries
//! (32 KiB, `snappy.cc`'s maximum) with `std`, 2^9 (1 KiB) without, where stacks are
//! small (a smaller table finds fewer matches; the output stays valid).

use super::{ByteSink, EncodeError};

/// The fragment length: the reference compressor's `kBlockSize`.
const FRAGMENT: usize = 1 << 16;

/// log2 of the hash table's entries.
const TABLE_BITS: u32 = if cfg!(feature = "std") { 14 } else { 9 };

/// Inputs shorter than this are one literal (the reference's `kInputMarginBytes`
/// keeps the last 15 bytes out of the match search as well).
const MIN_MATCH_INPUT: usize = 16;

/// Compresses `input` into `out` in snappy's block format.
///
/// ```
/// # #[cfg(feature = "std")] {
/// let mut body = Vec::new();
/// torchlight::snappy_compress(b"abcabcabcabcabcabcabcabc", &mut body)?;
/// assert!(body.len() < 24);
/// # }
/// # Ok::<(), torchlight::EncodeError>(())
/// ```
///
/// # Errors
///
/// The sink's ([`EncodeError::Full`] for a fixed buffer too small): the output is then
/// incomplete. The worst case is `32 + n + n / 6` bytes for `n` input bytes (the
/// reference's `MaxCompressedLength`).
pub fn snappy_compress<B: ByteSink + ?Sized>(input: &[u8], out: &mut B) -> Result<(), EncodeError> {
    let mut varint = [0u8; 10];
    let len = super::wire::varint(&mut varint, input.len() as u64);
    out.write(&varint[..len])?;
    let mut table = [0u16; 1 << TABLE_BITS];
    for fragment in input.chunks(FRAGMENT) {
        compress_fragment(fragment, &mut table, out)?;
    }
    Ok(())
}

/// The hash of the four bytes at `at`: the reference's multiplicative hash.
#[inline(always)]
fn hash(bytes: &[u8], at: usize) -> usize {
    let word = load32(bytes, at);
    (word.wrapping_mul(0x1e35_a7bd) >> (32 - TABLE_BITS)) as usize
}

#[inline(always)]
fn load32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// One fragment (at most [`FRAGMENT`] bytes): offsets never reach outside it.
fn compress_fragment<B: ByteSink + ?Sized>(
    input: &[u8],
    table: &mut [u16; 1 << TABLE_BITS],
    out: &mut B,
) -> Result<(), EncodeError> {
    let n = input.len();
    if n < MIN_MATCH_INPUT {
        return literal(input, out);
    }
    table.fill(0);
    // The last position a match may start at: four bytes must be readable there.
    let limit = n - MIN_MATCH_INPUT + 1;
    let mut pending = 0; // start of the bytes not yet written
    let mut at = 1;
    let mut misses = 32u32;
    // Position 0 hashes first, so a candidate 0 is always a real position.
    table[hash(input, 0)] = 0;
    while at < limit {
        let h = hash(input, at);
        let candidate = usize::from(table[h]);
        // Fragment positions are below 2^16: the cast keeps them.
        #[allow(clippy::cast_possible_truncation)]
        let position = at as u16;
        table[h] = position;
        if candidate >= at || load32(input, candidate) != load32(input, at) {
            at += (misses >> 5) as usize;
            misses += 1;
            continue;
        }
        misses = 32;
        literal(&input[pending..at], out)?;
        // Extend the match as far as the bytes agree.
        let mut length = 4;
        while at + length < n && input[candidate + length] == input[at + length] {
            length += 1;
        }
        copy(at - candidate, length, out)?;
        at += length;
        pending = at;
        // The positions just before the end of the match, so the next sequence can
        // find them (the reference inserts `at - 1`).
        if at < limit {
            #[allow(clippy::cast_possible_truncation)]
            let before = (at - 1) as u16;
            table[hash(input, at - 1)] = before;
        }
    }
    literal(&input[pending..], out)
}

/// A literal element (nothing for no bytes).
fn literal<B: ByteSink + ?Sized>(bytes: &[u8], out: &mut B) -> Result<(), EncodeError> {
    let Some(n) = bytes.len().checked_sub(1) else {
        return Ok(());
    };
    // Lengths below 61 fit in the tag; longer ones follow it in 1–4 bytes.
    #[allow(clippy::cast_possible_truncation)]
    if n < 60 {
        out.write(&[(n as u8) << 2])?;
    } else {
        let extra = (usize::BITS - n.leading_zeros()).div_ceil(8) as usize;
        let mut head = [0u8; 5];
        head[0] = ((59 + extra) as u8) << 2;
        head[1..=extra].copy_from_slice(&(n as u32).to_le_bytes()[..extra]);
        out.write(&head[..=extra])?;
    }
    out.write(bytes)
}

/// Copies of `length` bytes from `offset` back (`offset < 2^16`), as elements of at
/// most 64 bytes: the short form for 4–11 bytes below offset 2048, else two-byte
/// offsets. The split leaves no piece below 4 bytes, as the reference's `EmitCopy`.
fn copy<B: ByteSink + ?Sized>(
    offset: usize,
    mut length: usize,
    out: &mut B,
) -> Result<(), EncodeError> {
    // Offsets are below the fragment length, 2^16: the casts keep them.
    #[allow(clippy::cast_possible_truncation)]
    let [low, high] = (offset as u16).to_le_bytes();
    while length >= 68 {
        out.write(&[(63 << 2) | 2, low, high])?;
        length -= 64;
    }
    if length > 64 {
        // 65–67 bytes: 60 now, leaving 5–7 for the last element.
        out.write(&[(59 << 2) | 2, low, high])?;
        length -= 60;
    }
    #[allow(clippy::cast_possible_truncation)]
    if length < 12 && offset < 2048 {
        out.write(&[
            1 | (((length - 4) as u8) << 2) | ((offset >> 8) as u8) << 5,
            low,
        ])
    } else {
        out.write(&[2 | (((length - 1) as u8) << 2), low, high])
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::*;

    /// A decoder of the block format, enough to check the compressor in the core's
    /// unit tests (the API tests decode with the `snap` crate).
    fn decompress(mut body: &[u8]) -> Vec<u8> {
        let mut len = 0usize;
        let mut shift = 0;
        loop {
            let byte = body[0];
            body = &body[1..];
            len |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            if byte < 0x80 {
                break;
            }
        }
        let mut out = Vec::new();
        while let Some((&tag, rest)) = body.split_first() {
            body = rest;
            match tag & 3 {
                0 => {
                    let mut n = usize::from(tag >> 2);
                    if n >= 60 {
                        let extra = n - 59;
                        n = 0;
                        for (i, b) in body[..extra].iter().enumerate() {
                            n |= usize::from(*b) << (8 * i);
                        }
                        body = &body[extra..];
                    }
                    out.extend_from_slice(&body[..=n]);
                    body = &body[n + 1..];
                }
                kind => {
                    let (length, offset, used) = match kind {
                        1 => (
                            usize::from((tag >> 2) & 7) + 4,
                            usize::from(tag >> 5) << 8 | usize::from(body[0]),
                            1,
                        ),
                        2 => (
                            usize::from(tag >> 2) + 1,
                            usize::from(u16::from_le_bytes([body[0], body[1]])),
                            2,
                        ),
                        _ => unreachable!("no four-byte offsets are written"),
                    };
                    body = &body[used..];
                    assert!(offset > 0 && offset <= out.len());
                    for _ in 0..length {
                        out.push(out[out.len() - offset]);
                    }
                }
            }
        }
        assert_eq!(out.len(), len);
        out
    }

    fn round_trip(input: &[u8]) -> usize {
        let mut body = Vec::new();
        snappy_compress(input, &mut body).expect("a Vec never fills");
        assert_eq!(decompress(&body), input);
        assert!(body.len() <= 32 + input.len() + input.len() / 6);
        body.len()
    }

    #[test]
    fn round_trips_edge_lengths() {
        for n in [
            0, 1, 15, 16, 17, 60, 61, 256, 257, 65_535, 65_536, 65_537, 200_000,
        ] {
            let input: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            round_trip(&input);
            let zeros = std::vec![0u8; n];
            round_trip(&zeros);
            // Pseudo-random bytes (a xorshift): incompressible.
            let mut x = 0x2545_f491_4f6c_dd1du64;
            let noise: Vec<u8> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x.to_le_bytes()[0]
                })
                .collect();
            round_trip(&noise);
        }
    }

    #[test]
    fn compresses_repetition() {
        let input = b"http_requests_total{method=\"GET\",code=\"200\"} 1\n".repeat(100);
        assert!(round_trip(&input) < input.len() / 10);
    }
}
