//! Faults in the way its argument says; the kernel must kill only this task.
//! 1: read of the null page; 2: write to its own code; 3: invalid opcode;
//! 4: a kernel address; 5: divide by zero; 6: privileged instruction (hlt);
//! 7: an I/O port it was not granted (COM1's line status).
#![no_std]
#![no_main]

use mach_usertests::println;

libmach::entry!(main);

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
            3 => core::arch::asm!("ud2"),
            4 => {
                core::ptr::read_volatile(0xffff_ffff_8010_0000usize as *const u64);
            }
            5 => {
                core::arch::asm!("xor edx, edx", "xor eax, eax", "xor ecx, ecx", "div ecx", out("eax") _, out("ecx") _, out("edx") _)
            }
            7 => {
                let _status: u8;
                core::arch::asm!("in al, dx", in("dx") 0x3fdu16, out("al") _status, options(nomem, nostack));
            }
            _ => core::arch::asm!("hlt"),
        }
    }
    println!("still alive after fault kind {kind}");
}
