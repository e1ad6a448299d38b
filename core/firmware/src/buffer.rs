//! A fixed byte buffer the exposition is encoded into, as firmware would fill a UART or
//! USB frame: no allocator, and a full buffer is an error rather than a truncation.

use core::fmt;

use torchlight::{Format, Registry};

/// `N` bytes of storage and how many of them are written.
#[derive(Debug)]
pub struct Buffer<const N: usize> {
    /// Invariant: `bytes[..len]` is valid UTF-8 (only `write_str` fills it).
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buffer<N> {
    /// An empty buffer.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
        }
    }

    /// The bytes written so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Forgets what was written.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<const N: usize> Default for Buffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for Buffer<N> {
    /// Appends `s` whole, or fails leaving the buffer as it was when `s` does not fit.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Encodes `registry` in `format` into `buffer` (cleared first) and returns the bytes.
///
/// The one place the firmware calls the core's encoder.
///
/// # Errors
///
/// When the exposition does not fit in `N` bytes.
pub fn encode<'b, const N: usize>(
    registry: &Registry,
    format: Format,
    buffer: &'b mut Buffer<N>,
) -> Result<&'b [u8], fmt::Error> {
    buffer.clear();
    registry.encode(buffer, format)?;
    Ok(buffer.as_bytes())
}
