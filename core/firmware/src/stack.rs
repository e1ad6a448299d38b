//! The stack a call takes, measured by painting: fill the free stack below the current
//! stack pointer with a pattern, run the call, and find the lowest word it changed.
//!
//! This module opts in to `unsafe`: it writes and reads the unused part of the stack,
//! between the end of the static data (`_stack_end`, from `cortex-m-rt`'s `link.x`) and
//! the stack pointer, which no Rust object owns.
#![allow(unsafe_code)]

use core::ptr;

/// What free stack words are painted with before the call.
const PAINT: u32 = 0xC0DE_CAFE;

/// Bytes just below the stack pointer left unpainted: room for an exception frame
/// (8 words, ARMv7-M Architecture Reference Manual, B1.5.7 "Stack alignment on exception
/// entry") should an interrupt arrive while painting.
const SAFETY_GAP: usize = 64;

unsafe extern "C" {
    /// The lowest address the stack may grow to (`cortex-m-rt`'s `link.x`).
    static _stack_end: u32;
}

/// Runs `call` and returns its result with the bytes of stack it used below the caller's
/// stack pointer (its frames and those of everything it called, interrupt frames that
/// landed meanwhile included). `call` must not take more than the painted stack, which
/// is all the stack that is free.
#[inline(never)]
pub fn high_water<R>(call: impl FnOnce() -> R) -> (R, usize) {
    let top = cortex_m::register::msp::read() as usize - SAFETY_GAP;
    let bottom = ptr::addr_of!(_stack_end) as usize;
    let words = (top - bottom) / 4;
    let base = bottom as *mut u32;
    for index in 0..words {
        // SAFETY: `bottom + 4 * index` lies between the end of the static data and the
        // stack pointer (less the gap), memory no object lives in; it is 4-aligned
        // (`link.x` asserts `_stack_end % 4 == 0`).
        unsafe { ptr::write_volatile(base.add(index), PAINT) };
    }
    let result = call();
    let mut lowest = top;
    for index in 0..words {
        // SAFETY: as above; reading a word `call` may have written and left.
        if unsafe { ptr::read_volatile(base.add(index)) } != PAINT {
            lowest = bottom + 4 * index;
            break;
        }
    }
    (result, top + SAFETY_GAP - lowest)
}
