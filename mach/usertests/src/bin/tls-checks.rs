//! Thread-local storage: `thread_set_tls` sets a thread's FS base, the
//! kernel keeps it across every switch, and a new thread starts at 0.
//! Threads with different bases read their own `%fs:0` while switching back
//! and forth. Prints `tls-checks: N passed, N failed`.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};
use libmach::abi::KernReturn;
use libmach::thread::{spawn, DEFAULT_STACK_SIZE};
use libmach::trap::*;
use mach_usertests::Checks;

libmach::entry!(main);

/// One thread's storage: its first word is what `%fs:0` reads.
#[repr(C, align(64))]
struct Block([u64; 8]);

static BLOCKS: [Block; 3] = [
    Block([0xa11c_e000, 0, 0, 0, 0, 0, 0, 0]),
    Block([0xb0b0_0000, 0, 0, 0, 0, 0, 0, 0]),
    Block([0xc0ff_ee00, 0, 0, 0, 0, 0, 0, 0]),
];
/// The main thread's storage.
static MAIN_BLOCK: Block = Block([0xd00d_0000, 0, 0, 0, 0, 0, 0, 0]);
/// Read through `%fs:` with base 0: only a thread whose base is 0 reads it.
static MARKER: u64 = 0x5eed_0000_1234;

/// Per thread: reads that found the thread's own value, and reads that did not.
static GOOD: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];
static BAD: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];
/// What a new thread read through `%fs:` before anyone set its base.
static FRESH: AtomicU64 = AtomicU64::new(0);
/// Set by `main` once it has set the third thread's base.
static BASE_SET: AtomicU64 = AtomicU64::new(0);

const ROUNDS: u64 = 200;
/// The main thread sleeps a tick between its reads.
const MAIN_ROUNDS: u64 = 20;

/// The word at the thread-local storage base + `offset`: through FS on
/// x86_64, from TPIDR_EL0 on aarch64.
fn fs_word(offset: u64) -> u64 {
    let value: u64;
    // SAFETY: reads 8 bytes at FS base + offset, which the callers point at
    // a static they own (a TLS block, or MARKER with base 0).
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!("mov {value}, fs:[{offset}]", offset = in(reg) offset, value = out(reg) value, options(nostack, readonly))
    };
    // SAFETY: as above: TPIDR_EL0 holds the base; the read goes to base + offset.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!("mrs {base}, tpidr_el0", "ldr {value}, [{base}, {offset}]", base = out(reg) _,
            offset = in(reg) offset, value = out(reg) value, options(nostack, readonly))
    };
    value
}

/// Thread `index` checks `%fs:0` against its block, yielding in between so
/// the others run.
fn check_own(index: usize) {
    for _ in 0..ROUNDS {
        if fs_word(0) == BLOCKS[index].0[0] {
            GOOD[index].fetch_add(1, Ordering::SeqCst);
        } else {
            BAD[index].fetch_add(1, Ordering::SeqCst);
        }
        let _ = thread_yield();
    }
}

/// Sets its own base, then checks it.
fn sets_its_own(index: usize) {
    let _ = thread_set_tls(thread_self(), &BLOCKS[index] as *const Block as u64);
    check_own(index);
}

/// Waits for `main` to set its base, then checks it; first reads through
/// base 0.
fn set_by_another(index: usize) {
    FRESH.store(fs_word(&MARKER as *const u64 as u64), Ordering::SeqCst);
    BASE_SET.fetch_add(1, Ordering::SeqCst);
    while BASE_SET.load(Ordering::SeqCst) < 2 {
        let _ = thread_yield();
    }
    check_own(index);
}

fn main(_argument: u64) {
    let mut checks = Checks::new("tls-checks");
    let me = thread_self();
    checks.equal("a new thread's base is 0", fs_word(&MARKER as *const u64 as u64), MARKER);
    checks.equal("not the kernel half", thread_set_tls(me, 0xffff_8000_0000_0000), Err(KernReturn::InvalidArgument));
    checks.equal(
        "not a non-canonical address",
        thread_set_tls(me, 0x8000_0000_0000_0000),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal("not a bogus thread", thread_set_tls(0x0abc_de00, 0), Err(KernReturn::InvalidName));
    checks.equal("not a task port", thread_set_tls(task_self(), 0), Err(KernReturn::InvalidArgument));

    let first = spawn(sets_its_own, 0, DEFAULT_STACK_SIZE);
    let second = spawn(sets_its_own, 1, DEFAULT_STACK_SIZE);
    let third = spawn(set_by_another, 2, DEFAULT_STACK_SIZE);
    checks.equal("three threads", first.is_ok() && second.is_ok() && third.is_ok(), true);
    // (New threads run below this one's priority: it sleeps to let them.)
    if let Ok(third) = &third {
        while BASE_SET.load(Ordering::SeqCst) < 1 {
            let _ = thread_sleep(1);
        }
        checks.equal(
            "set another thread's base",
            thread_set_tls(third.port(), &BLOCKS[2] as *const Block as u64),
            Ok(()),
        );
        BASE_SET.fetch_add(1, Ordering::SeqCst);
    }
    // This thread keeps its own base through all their switches.
    checks.equal("set my own base", thread_set_tls(me, &MAIN_BLOCK as *const Block as u64), Ok(()));
    let mut mine_good = 0;
    for _ in 0..MAIN_ROUNDS {
        mine_good += (fs_word(0) == MAIN_BLOCK.0[0]) as u64;
        let _ = thread_sleep(0);
    }
    for thread in [first, second, third].into_iter().flatten() {
        thread.join();
    }
    checks.equal("my reads through all the switches", mine_good, MAIN_ROUNDS);
    checks.equal("the new thread read through base 0", FRESH.load(Ordering::SeqCst), MARKER);
    for index in 0..3 {
        checks.equal(
            "a thread read its own block every time",
            (GOOD[index].load(Ordering::SeqCst), BAD[index].load(Ordering::SeqCst)),
            (ROUNDS, 0),
        );
    }
    checks.equal("back to base 0", thread_set_tls(me, 0).map(|()| fs_word(&MARKER as *const u64 as u64)), Ok(MARKER));
    checks.finish();
}
