//! The smallest executor that runs the core's future wrappers on bare metal: poll, and
//! sleep until the next interrupt while the future is pending.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

/// Runs `future` to completion on this core.
///
/// Between polls the core waits for an interrupt (`wfi`); the SysTick interrupt wakes it
/// at every tick, which is what the futures here wait for, so no waker is needed (the
/// no-op waker is passed).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        cortex_m::asm::wfi();
    }
}
