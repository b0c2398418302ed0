//! Random traps with random arguments and random messages, from an
//! unprivileged task. The argument: low 32 bits the seed, high 32 bits the
//! number of operations. The kernel must answer every one with a return
//! code and stay consistent; this task only counts outcomes and prints
//! `adversary: done N operations, N succeeded`.
//!
//! Left out on purpose, because they would end or stall the run rather than
//! test the kernel: terminating or suspending itself, resuming threads it
//! created with random registers (they would fault and take the task with
//! them), and long sleeps (every wait has a timeout of at most 2 ms). Tasks
//! it creates (empty, or inheriting its memory or send rights) are
//! terminated at once, so none outlives it. Memory objects are mapped in their own area, away
//! from where the other VM traps aim: a kernel copy into a page of an
//! object whose pager is one of this task's unserved ports would wait for
//! that pager for ever (as the task's own access would).
#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use libmach::abi::{Trap, MACH_MSG_OPTION_USER, MACH_RCV_TIMEOUT, MACH_SEND_TIMEOUT};
use libmach::trap::{raw_trap, task_self, thread_self};
use mach_usertests::println;

libmach::entry!(main);

struct Scratch(UnsafeCell<[u64; 1024]>);
// SAFETY: one thread uses it; the kernel reads and writes it only during traps.
unsafe impl Sync for Scratch {}
static SCRATCH: Scratch = Scratch(UnsafeCell::new([0; 1024]));
// (Word 1000, byte offset 8000, holds vm_map's address argument.)

struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

const TRAPS: &[Trap] = &[
    Trap::MachMsg,
    Trap::MachMsg,
    Trap::MachMsg,
    Trap::MachMsg,
    Trap::MachReplyPort,
    Trap::TaskSelf,
    Trap::ThreadSelf,
    Trap::PortAllocate,
    Trap::PortAllocate,
    Trap::PortDeallocate,
    Trap::PortDestroy,
    Trap::PortModRefs,
    Trap::PortInsertRight,
    Trap::PortExtractRight,
    Trap::PortMoveMember,
    Trap::PortGetAttributes,
    Trap::PortSetAttributes,
    Trap::PortRequestNotification,
    Trap::PortType,
    Trap::TaskInfo,
    Trap::TaskSetName,
    Trap::TaskSetCredential,
    Trap::TaskCreate,
    Trap::ThreadAbort,
    Trap::ThreadSetTls,
    Trap::ThreadCreate,
    Trap::ThreadGetState,
    Trap::ThreadSetState,
    Trap::ThreadInfo,
    Trap::ThreadSwitch,
    Trap::ClockGetTime,
    Trap::DebugPrint,
    Trap::KernelLogRead,
    Trap::KernelLogHandover,
    Trap::VmAllocate,
    Trap::VmAllocate,
    Trap::VmDeallocate,
    Trap::VmProtect,
    Trap::VmInherit,
    Trap::VmRegion,
    Trap::VmRead,
    Trap::VmWrite,
    Trap::TaskSetExceptionPort,
    Trap::ThreadSetExceptionPort,
    Trap::TaskGetExceptionPort,
    Trap::ThreadGetExceptionPort,
    Trap::DeviceMapMemory,
    Trap::DeviceDmaAllocate,
    Trap::InterruptBind,
    Trap::InterruptAcknowledge,
    Trap::IoPortAccess,
    Trap::MemoryObjectCreate,
    Trap::VmMap,
    Trap::MemoryObjectDataSupply,
    Trap::MemoryObjectDataUnavailable,
    Trap::MemoryObjectDataError,
    Trap::MemoryObjectLockRequest,
    Trap::MemoryObjectDestroy,
    Trap::TaskSetMemoryLimit,
];

/// Where the VM traps aim: the area `vm_allocate` hands out, so they hit
/// real regions without unmapping this program's own code, data or stack.
const VM_AREA: u64 = 0x0000_0001_0000_0000;
/// Where `vm_map` puts objects (never where the VM traps aim).
const OBJECT_AREA: u64 = 0x0000_0040_0000_0000;

/// Operations between two progress lines.
const PROGRESS_EVERY: u64 = 50_000;

fn main(argument: u64) {
    let mut random = Random((argument as u32 as u64) | 0x9e37_79b9_0000_0000);
    let operations = (argument >> 32).max(1);
    let own_task = task_self();
    let own_thread = thread_self();
    let scratch = SCRATCH.0.get() as u64;
    let mut names: [u32; 32] = [own_task; 32];
    let mut succeeded = 0u64;
    for operation in 0..operations {
        let name = |random: &mut Random, names: &[u32; 32]| -> u64 {
            match random.below(8) {
                0 => random.next() as u32 as u64,
                1 => 0,
                _ => names[random.below(32) as usize] as u64,
            }
        };
        let pointer = |random: &mut Random| -> u64 {
            match random.below(8) {
                0 => 0,
                1 => 0xffff_ffff_8010_0000,
                2 => random.next(),
                3 => 0x10_0000_0000,
                _ => scratch + random.below(8000) / 4 * 4,
            }
        };
        let small = |random: &mut Random| -> u64 {
            if random.below(4) == 0 {
                random.next()
            } else {
                random.below(40)
            }
        };
        let trap = TRAPS[random.below(TRAPS.len() as u64) as usize];
        let mut arguments = [0u64; 6];
        for slot in arguments.iter_mut() {
            *slot = match random.below(3) {
                0 => name(&mut random, &names),
                1 => pointer(&mut random),
                _ => small(&mut random),
            };
        }
        match trap {
            Trap::MachMsg => {
                // A message in the scratch buffer: a header of names from
                // the pool, random dispositions, random body and size.
                // SAFETY: the scratch buffer is ours alone; the kernel only
                // touches it during the trap below.
                let words = unsafe { &mut *SCRATCH.0.get() };
                for word in words.iter_mut().take(64) {
                    *word = random.next();
                }
                let bits = (16 + random.below(8)) | (16 + random.below(8)) << 8 | (random.below(4) << 31);
                let size = if random.below(4) == 0 { random.below(600) } else { 24 + random.below(20) * 4 };
                words[0] = bits | size << 32;
                words[1] = name(&mut random, &names) | name(&mut random, &names) << 32;
                words[2] = random.below(3) << 32;
                let options = (random.next() as u32 & MACH_MSG_OPTION_USER) | MACH_SEND_TIMEOUT | MACH_RCV_TIMEOUT;
                // Unknown option bits too, but never a wait without a timeout.
                let options = if random.below(16) == 0 {
                    random.next() | (MACH_SEND_TIMEOUT | MACH_RCV_TIMEOUT) as u64
                } else {
                    options as u64
                };
                arguments = [
                    if random.below(8) == 0 { pointer(&mut random) } else { scratch },
                    options,
                    size,
                    random.below(9000),
                    name(&mut random, &names),
                    random.below(3),
                ];
            }
            Trap::ThreadSwitch => arguments[2] = random.below(3),
            Trap::DebugPrint => {
                arguments[0] = [0, 0xffff_ffff_8010_0000, 0x10_0000_0000, u64::MAX - 3][random.below(4) as usize];
                arguments[1] = random.below(64);
            }
            Trap::VmAllocate
            | Trap::VmDeallocate
            | Trap::VmProtect
            | Trap::VmInherit
            | Trap::VmRegion
            | Trap::VmRead
            | Trap::VmWrite => {
                // Addresses in the allocation area (some unaligned), sizes
                // mostly small; vm_allocate's address is read from scratch.
                let address =
                    VM_AREA + random.below(64) * 4096 + if random.below(8) == 0 { random.below(4096) } else { 0 };
                let size = if random.below(16) == 0 {
                    random.next()
                } else {
                    random.below(8) * 4096 + random.below(2) * random.below(4096)
                };
                match trap {
                    Trap::VmAllocate => {
                        // SAFETY: the first scratch word is ours.
                        unsafe { core::ptr::write_volatile(scratch as *mut u64, address) };
                        arguments = [arguments[0], scratch, size, random.below(3), 0, 0];
                    }
                    Trap::VmWrite => arguments = [arguments[0], address, scratch + 64, size.min(4096), 0, 0],
                    Trap::VmRead => arguments = [arguments[0], address, size, scratch + 8, scratch + 16, 0],
                    Trap::VmRegion => arguments = [arguments[0], scratch, scratch + 8, 10, scratch + 16, scratch + 32],
                    _ => {
                        arguments[1] = address;
                        arguments[2] = size;
                    }
                }
            }
            Trap::MemoryObjectCreate
            | Trap::VmMap
            | Trap::MemoryObjectDataSupply
            | Trap::MemoryObjectDataUnavailable
            | Trap::MemoryObjectDataError
            | Trap::MemoryObjectLockRequest => {
                // Offsets and sizes mostly page multiples inside a small
                // object; data and returns in the scratch buffer. (This task
                // never touches what it maps: it is its own pager and would
                // wait for itself.)
                let offset = random.below(4) * 4096 + if random.below(8) == 0 { random.below(4096) } else { 0 };
                let size = if random.below(16) == 0 { random.next() } else { (1 + random.below(3)) * 4096 };
                let lock = [0, 2, random.next()][random.below(3) as usize];
                // vm_map's flags: anywhere or fixed, shared or private, a
                // protection (W^X included); now and then any bits.
                let map_flags = if random.below(8) == 0 {
                    random.next() as u32 as u64
                } else {
                    random.below(4) | random.below(8) << 8
                };
                if trap == Trap::VmMap {
                    // SAFETY: the scratch word at 8000 is ours; the kernel reads
                    // (and may write) it during the trap below.
                    unsafe {
                        core::ptr::write_volatile((scratch + 8000) as *mut u64, OBJECT_AREA + random.below(16) * 4096)
                    };
                }
                arguments = match trap {
                    Trap::MemoryObjectCreate => [arguments[0], size, scratch + 4 * random.below(8), 0, 0, 0],
                    Trap::VmMap => [arguments[0], scratch + 8000, size, map_flags, arguments[4], offset],
                    Trap::MemoryObjectDataSupply => [arguments[0], offset, scratch, size, lock, 0],
                    Trap::MemoryObjectLockRequest => [arguments[0], offset, size, lock, random.below(4), scratch],
                    _ => [arguments[0], offset, size, random.below(20), 0, 0],
                };
            }
            Trap::TaskSetMemoryLimit => arguments[2] = random.below(1 << 16),
            // Random registers for itself would just crash this task.
            Trap::ThreadSetState if arguments[0] as u32 == own_thread => arguments[0] = 0,
            // Children inherit memory, send rights, both or neither (or
            // unknown flags); each is terminated at once below.
            Trap::TaskCreate => {
                arguments[1] = if random.below(4) == 0 { random.next() } else { random.below(4) };
                arguments[2] = if random.below(8) == 0 { pointer(&mut random) } else { scratch + 4 * random.below(8) };
            }
            // A credential from scratch (never allowed: no privileged port).
            Trap::TaskSetCredential => arguments[2] = pointer(&mut random),
            // Thread-local storage bases, canonical or not.
            Trap::ThreadSetTls => {
                arguments[1] =
                    [0, scratch, 0x8000_0000_0000_0000, 0xffff_8000_0000_0000, random.next()][random.below(5) as usize]
            }
            _ => {}
        }
        // SAFETY: every pointer argument is either our scratch buffer (ours
        // to overwrite) or an address the kernel must refuse.
        let result = unsafe { raw_trap(trap as u64, arguments) };
        if trap == Trap::TaskCreate && result == 0 && (scratch..scratch + 8000).contains(&arguments[2]) {
            // SAFETY: the kernel wrote the child's name there, in our scratch buffer.
            let child = unsafe { core::ptr::read_volatile(arguments[2] as *const u32) };
            let _ = libmach::trap::task_terminate(child);
            let _ = libmach::trap::port_deallocate(own_task, child);
        }
        if matches!(trap, Trap::MachReplyPort | Trap::TaskSelf | Trap::ThreadSelf) {
            if result != 0 {
                names[random.below(32) as usize] = result as u32;
            }
        } else if result == 0 {
            succeeded += 1;
            let output = arguments[2];
            if matches!(trap, Trap::PortAllocate | Trap::MemoryObjectCreate)
                && (scratch..scratch + 8000).contains(&output)
            {
                // SAFETY: the kernel wrote the new name there, in our scratch buffer.
                names[random.below(32) as usize] = unsafe { core::ptr::read_volatile(output as *const u32) };
            }
        }
        if operation % PROGRESS_EVERY == PROGRESS_EVERY - 1 {
            // Long runs (scripts/fuzz) show they are moving.
            println!("adversary: {} of {operations} operations", operation + 1);
        }
        if operation % 4096 == 4095 {
            // Keep the pool fresh with names the kernel handed out.
            // SAFETY: reads our own scratch buffer.
            for (index, slot) in names.iter_mut().enumerate().skip(1).step_by(3) {
                *slot = unsafe { core::ptr::read_volatile((scratch as *const u32).add(index * 7)) };
            }
            names[0] = own_task;
        }
    }
    println!("adversary: done {operations} operations, {succeeded} succeeded");
}
