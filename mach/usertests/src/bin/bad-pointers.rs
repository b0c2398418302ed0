//! Hands the kernel bad pointers and prints the error codes it gets back.
#![no_std]
#![no_main]

use libmach::abi::Trap;
use libmach::trap::raw_trap;
use mach_usertests::println;

libmach::entry!(main);

fn debug_print_raw(address: u64, length: u64) -> u64 {
    // SAFETY: debug_print only reads; bad addresses are refused unread.
    unsafe { raw_trap(Trap::DebugPrint as u64, [address, length, 0, 0, 0, 0]) }
}

fn clock_raw(address: u64) -> u64 {
    // SAFETY: each address below is unmapped, read-only or the kernel's, so
    // the kernel must refuse to write it; none is memory we use.
    unsafe { raw_trap(Trap::ClockGetTime as u64, [address, 0, 0, 0, 0, 0]) }
}

fn main(_argument: u64) {
    let code = main as *const () as u64;
    let results = [
        debug_print_raw(0, 8),                      // null page
        debug_print_raw(0xffff_ffff_8010_0000, 8),  // kernel image
        debug_print_raw(0x0000_7fff_ffff_fff0, 64), // runs past the user half
        debug_print_raw(u64::MAX - 4, 16),          // wraps around
        debug_print_raw(0x10_0000_0000, 8),         // unmapped user address
        debug_print_raw(code, 100_000),             // too long
        clock_raw(code),                            // read-only code page
        clock_raw(0xffff_8000_0010_0000),           // the kernel's direct map
        clock_raw(3),                               // null page, unaligned
        // SAFETY: an unknown trap number touches nothing.
        unsafe { raw_trap(9999, [0; 6]) },
    ];
    println!("bad pointer results: {results:?}");
}
