//! A lock for the driver's threads: a spin lock that gives the processor
//! away while it waits. Yielding first (a holder of the same priority runs
//! and finishes its few lines), then sleeping a millisecond at a time: a
//! yield does not run a holder of lower priority, which an interrupt may
//! have preempted inside its critical section, and the waiter would spin
//! for ever.

use spin::{Mutex, MutexGuard};

/// Yields before the waiter starts sleeping.
const YIELDS: u32 = 16;

pub struct Lock<T>(Mutex<T>);

impl<T> Lock<T> {
    pub const fn new(value: T) -> Self {
        Self(Mutex::new(value))
    }

    pub fn lock(&self) -> MutexGuard<'_, T> {
        let mut attempts = 0u32;
        loop {
            if let Some(guard) = self.0.try_lock() {
                return guard;
            }
            attempts += 1;
            if attempts < YIELDS {
                let _ = libmach::trap::thread_yield();
            } else {
                let _ = libmach::trap::thread_sleep(1);
            }
        }
    }
}
