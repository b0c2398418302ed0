//! Faults in the way its argument says; the kernel must kill only this task.
//! 1: read of the null page; 2: write to its own code; 3: invalid opcode;
//! 4: a kernel address; 5: divide by zero (x86_64; aarch64 does not trap
//! on it: a misaligned exclusive load instead); 6: privileged instruction;
//! 7: an I/O port it was not granted (COM1's line status; aarch64 has no
//! I/O ports: a jump to a misaligned address instead).
#![no_std]
#![no_main]

use mach_usertests::println;

libmach::entry!(main);

/// Something aligned to misalign (aarch64's kind 5).
#[cfg(target_arch = "aarch64")]
static KIND: u64 = 0;

fn main(kind: u64) {
    println!("about to fault, kind {kind}");
    // SAFETY: none of these is safe: each deliberately faults, which is the
    // point; the kernel terminates this task before any effect is observed.
    unsafe {
        match kind {
            1 => {
                core::ptr::read_volatile(core::hint::black_box(8usize) as *const u64);
            }
            2 => core::ptr::write_volatile(main as *const () as *mut u8, 0),
            3 => mach_usertests::faults::undefined_instruction(),
            4 => {
                core::ptr::read_volatile(0xffff_ffff_8010_0000usize as *const u64);
            }
            #[cfg(target_arch = "x86_64")]
            5 => {
                mach_usertests::faults::divide_by_zero();
            }
            #[cfg(target_arch = "aarch64")]
            5 => {
                let unaligned = core::hint::black_box(&raw const KIND as usize + 1);
                core::arch::asm!("ldxr {value}, [{address}]", address = in(reg) unaligned, value = out(reg) _)
            }
            #[cfg(target_arch = "x86_64")]
            7 => {
                let _status: u8;
                core::arch::asm!("in al, dx", in("dx") 0x3fdu16, out("al") _status, options(nomem, nostack));
            }
            #[cfg(target_arch = "aarch64")]
            7 => core::arch::asm!("adr x9, 1f", "add x9, x9, #2", "br x9", "1: nop", out("x9") _),
            _ => mach_usertests::faults::privileged_instruction(),
        }
    }
    println!("still alive after fault kind {kind}");
}
