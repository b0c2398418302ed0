//! Threads of one task through `libmach::thread`: spawned with their own
//! stacks, run concurrently, joined. Prints `thread-checks: N passed, N failed`.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};
use libmach::thread::{spawn, DEFAULT_STACK_SIZE};
use mach_usertests::Checks;

libmach::entry!(main);

static SUM: AtomicU64 = AtomicU64::new(0);
static STARTED: AtomicU64 = AtomicU64::new(0);

/// Adds `argument` and uses some stack (so it is really its own).
fn worker(argument: usize) {
    STARTED.fetch_add(1, Ordering::SeqCst);
    let mut scratch = [0u8; 8192];
    for (index, byte) in scratch.iter_mut().enumerate() {
        *byte = (index ^ argument) as u8;
    }
    core::hint::black_box(&scratch);
    SUM.fetch_add(argument as u64, Ordering::SeqCst);
    // Wait for the others, so all of them run at once.
    while STARTED.load(Ordering::SeqCst) < 3 {
        let _ = libmach::trap::thread_yield();
    }
}

fn main(_argument: u64) {
    let mut checks = Checks::new("thread-checks");
    let threads = [1usize, 10, 100].map(|argument| spawn(worker, argument, DEFAULT_STACK_SIZE));
    checks.equal("three threads spawned", threads.iter().all(Result::is_ok), true);
    for thread in threads.into_iter().flatten() {
        thread.join();
    }
    checks.equal("each ran once", (STARTED.load(Ordering::SeqCst), SUM.load(Ordering::SeqCst)), (3, 111));
    // Joining freed them: the task is back to one thread.
    let mut again = 0;
    for _ in 0..20 {
        let thread = spawn(worker, 0, DEFAULT_STACK_SIZE);
        again += thread.map(|thread| thread.join()).is_ok() as u32;
    }
    checks.equal("twenty more, one at a time", again, 20);
    checks.finish();
}
