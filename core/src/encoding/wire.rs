//! The protobuf wire format (protobuf encoding guide, "Message Structure"), once, for
//! the three protobuf encoders: the Prometheus exposition (`encoding/protobuf.rs`),
//! remote write (`encoding/remote_write.rs`) and OTLP (`encoding/otlp.rs`). Each of
//! them only knows its messages' fields; how a field, a length or a message is written
//! is here.
//!
//! [`Wire`] writes into the chunk and keeps the sink's first error: the encoders'
//! callers (`Samples`, `LabelSink`) speak `fmt::Result`, which cannot carry it.
//! A message whose length is unknown until it is written gets a one-byte placeholder,
//! filled in by [`Wire::close`] (`Chunked::fill_length`, which says how).

use core::fmt;

use super::{ByteSink, Chunked, EncodeError};

/// Wire types (encoding guide, "Message Structure").
const VARINT: u8 = 0;
const I64: u8 = 1;
const LEN: u8 = 2;

/// Writes `n` as a varint at the start of `buf`, which has room for ten bytes (any
/// `u64`'s); returns how many bytes it took.
#[inline]
pub(crate) fn varint(buf: &mut [u8], mut n: u64) -> usize {
    let mut i = 0;
    while n >= 0x80 {
        // The low seven bits with the continuation bit: the cast keeps them.
        #[allow(clippy::cast_possible_truncation)]
        let byte = (n as u8 & 0x7f) | 0x80;
        buf[i] = byte;
        n >>= 7;
        i += 1;
    }
    #[allow(clippy::cast_possible_truncation)]
    let last = n as u8;
    buf[i] = last;
    i + 1
}

/// How many bytes `n` takes as a varint.
#[inline]
pub(crate) const fn varint_len(n: u64) -> usize {
    // 1 for 0..=127, one more per further seven bits.
    let bits = 64 - (n | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// ZigZag, for `sint32`/`sint64` fields (encoding guide, "Signed Integers").
#[inline]
pub(crate) const fn zigzag(n: i64) -> u64 {
    #[allow(clippy::cast_sign_loss)]
    let zigzag = ((n << 1) ^ (n >> 63)) as u64;
    zigzag
}

/// The fields of a message, written into the chunk.
pub(crate) struct Wire<'o, 'c, B: ?Sized> {
    pub(crate) out: &'o mut Chunked<'c, B>,
    /// Invariant: set when the sink failed; every write then has returned `fmt::Error`.
    error: Option<EncodeError>,
}

impl<'o, 'c, B: ByteSink + ?Sized> Wire<'o, 'c, B> {
    pub(crate) fn new(out: &'o mut Chunked<'c, B>) -> Self {
        Self { out, error: None }
    }

    /// `result` as the encode's result: the sink's error when it failed, else
    /// [`EncodeError::Collect`] for a failure of the caller's own (a `Collect`, a
    /// label's `Display`).
    pub(crate) fn finish<T>(&self, result: Result<T, fmt::Error>) -> Result<T, EncodeError> {
        match (result, self.error) {
            (_, Some(error)) => Err(error),
            (Ok(value), None) => Ok(value),
            (Err(fmt::Error), None) => Err(EncodeError::Collect),
        }
    }

    /// Keeps `error` as the encode's and returns what the caller passes on.
    #[cold]
    pub(crate) fn fail(&mut self, error: EncodeError) -> fmt::Error {
        self.error = Some(error);
        fmt::Error
    }

    #[inline]
    pub(crate) fn put(&mut self, bytes: &[u8]) -> fmt::Result {
        self.out.write(bytes).map_err(|error| self.fail(error))
    }

    #[inline]
    pub(crate) fn varint(&mut self, n: u64) -> fmt::Result {
        let mut buf = [0; 10];
        let len = varint(&mut buf, n);
        self.put(&buf[..len])
    }

    #[inline]
    pub(crate) fn tag(&mut self, field: u8, wire: u8) -> fmt::Result {
        // Field numbers below 16 make a one-byte tag (the varint of `field << 3 | wire`
        // fits seven bits); the exposition's `Histogram.exemplars` (16) takes two.
        if field < 16 {
            self.put(&[(field << 3) | wire])
        } else {
            self.varint((u64::from(field) << 3) | u64::from(wire))
        }
    }

    /// A field of a one-byte tag (`field` below 16), a varint and `bytes`, in one
    /// write into the chunk.
    #[inline]
    fn field(&mut self, field: u8, wire: u8, n: u64, bytes: &[u8]) -> fmt::Result {
        self.out
            .write_field((field << 3) | wire, n, bytes)
            .map_err(|error| self.fail(error))
    }

    /// A `uint64`/`uint32` field (or an enum's).
    #[inline]
    pub(crate) fn uint(&mut self, field: u8, n: u64) -> fmt::Result {
        if field < 16 {
            return self.field(field, VARINT, n, &[]);
        }
        self.tag(field, VARINT)?;
        self.varint(n)
    }

    /// An `int64`/`int32` field: two's complement as a varint.
    pub(crate) fn int(&mut self, field: u8, n: i64) -> fmt::Result {
        #[allow(clippy::cast_sign_loss)]
        self.uint(field, n as u64)
    }

    /// A `sint64`/`sint32` field: ZigZag as a varint.
    pub(crate) fn sint(&mut self, field: u8, n: i64) -> fmt::Result {
        self.uint(field, zigzag(n))
    }

    /// A `fixed64` field (an `sfixed64`'s bits as two's complement).
    pub(crate) fn fixed64(&mut self, field: u8, n: u64) -> fmt::Result {
        self.tag(field, I64)?;
        self.put(&n.to_le_bytes())
    }

    pub(crate) fn double(&mut self, field: u8, value: f64) -> fmt::Result {
        self.tag(field, I64)?;
        self.put(&value.to_le_bytes())
    }

    #[inline]
    pub(crate) fn bytes(&mut self, field: u8, bytes: &[u8]) -> fmt::Result {
        if field < 16 {
            return self.field(field, LEN, bytes.len() as u64, bytes);
        }
        self.sized(field, bytes.len())?;
        self.put(bytes)
    }

    pub(crate) fn string(&mut self, field: u8, text: &str) -> fmt::Result {
        self.bytes(field, text.as_bytes())
    }

    /// The tag and length of a field of `len` bytes (a message, a packed field, a
    /// string written in pieces), whose bytes follow.
    #[inline]
    pub(crate) fn sized(&mut self, field: u8, len: usize) -> fmt::Result {
        if field < 16 {
            return self.field(field, LEN, len as u64, &[]);
        }
        self.tag(field, LEN)?;
        self.varint(len as u64)
    }

    /// Starts a message of unknown length as field `field`; returns the mark to
    /// [`close`](Self::close) it with.
    pub(crate) fn open(&mut self, field: u8) -> Result<usize, fmt::Error> {
        self.tag(field, LEN)?;
        self.open_delimited()
    }

    /// Starts a message of unknown length with no tag (a delimited stream's, the
    /// exposition's `MetricFamily`); returns the mark to [`close`](Self::close) it with.
    pub(crate) fn open_delimited(&mut self) -> Result<usize, fmt::Error> {
        self.put(&[0])?;
        Ok(self.out.position())
    }

    /// Fills in the length of the message opened at `mark`.
    pub(crate) fn close(&mut self, mark: usize) -> fmt::Result {
        self.out.fill_length(mark).map_err(|error| self.fail(error))
    }
}

/// What a label's `Display` writes goes into the message as it is.
impl<B: ByteSink + ?Sized> fmt::Write for Wire<'_, '_, B> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.put(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_encoding_guide() {
        for (n, bytes) in [
            (0u64, &[0x00][..]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (150, &[0x96, 0x01]),
            (16_383, &[0xff, 0x7f]),
            (16_384, &[0x80, 0x80, 0x01]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let mut buf = [0; 10];
            let len = varint(&mut buf, n);
            assert_eq!(&buf[..len], bytes, "{n}");
            assert_eq!(varint_len(n), len, "{n}");
        }
        assert_eq!(
            [
                zigzag(0),
                zigzag(-1),
                zigzag(1),
                zigzag(-2),
                zigzag(i64::MIN)
            ],
            [0, 1, 2, 3, u64::MAX]
        );
    }

    #[test]
    fn fields_are_a_tag_a_varint_and_their_bytes_at_every_chunk_position() {
        extern crate std;
        use std::vec::Vec;

        // Fields of every length up to beyond a chunk, after a prefix that moves them
        // across the chunk's end: each written whole, in order, by the one-write path
        // and by the path for bytes longer than a chunk alike.
        for prefix in [0usize, 1, 200, 250] {
            for len in [0usize, 1, 127, 128, 240, 245, 246, 300, 20_000] {
                let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let mut out = Vec::new();
                let mut chunked = Chunked::new(&mut out);
                let mut wire = Wire::new(&mut chunked);
                wire.put(&vec_of(prefix)).unwrap();
                wire.bytes(2, &payload).unwrap();
                wire.uint(3, u64::MAX).unwrap();
                wire.sized(1, len).unwrap();
                chunked.flush().unwrap();
                let mut expected = vec_of(prefix);
                let mut length = [0; 10];
                let width = varint(&mut length, len as u64);
                expected.push(2 << 3 | LEN);
                expected.extend_from_slice(&length[..width]);
                expected.extend_from_slice(&payload);
                expected.push(3 << 3 | VARINT);
                expected.extend_from_slice(&[
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                ]);
                expected.push(1 << 3 | LEN);
                expected.extend_from_slice(&length[..width]);
                assert_eq!(out, expected, "prefix {prefix}, {len} bytes");
            }
        }

        fn vec_of(len: usize) -> Vec<u8> {
            core::iter::repeat_n(0xaa, len).collect()
        }
    }
}
