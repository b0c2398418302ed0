//! Out-of-line memory and port arrays through messages to its own port.
//! Prints `ool-checks: N passed, N failed`.
#![no_std]
#![no_main]

use libmach::abi::{
    CopyOption, Descriptor, Disposition, KernReturn, MachMsgHeader, MachMsgReturn, MessageEncoder, PortRight,
    MACH_PORT_TYPE_SEND, MACH_RCV_MSG, MACH_SEND_MSG, VM_FLAGS_ANYWHERE,
};
use libmach::trap::*;
use mach_usertests::{message, Checks};

libmach::entry!(main);

const PAGE: u64 = 4096;

fn bytes_at(address: u64, length: usize) -> &'static mut [u8] {
    // SAFETY: callers pass memory this task has allocated (or received) and
    // not freed; it stays mapped read-write while used here.
    unsafe { core::slice::from_raw_parts_mut(address as *mut u8, length) }
}

fn send_descriptor(port: u32, descriptor: Descriptor) -> Result<(), MachMsgReturn> {
    let mut buffer = MessageBuffer::<256>::new();
    let header = MachMsgHeader {
        bits: libmach::abi::msgh_bits(Disposition::CopySend as u32, 0),
        size: 0,
        remote_port: port,
        local_port: 0,
        voucher_port: 0,
        id: 33,
    };
    let mut encoder = MessageEncoder::new(&mut buffer.0, header, true);
    encoder.descriptor(descriptor).map_err(|_| MachMsgReturn::SendInvalidType)?;
    let size = encoder.finish().map_err(|_| MachMsgReturn::SendInvalidType)?;
    mach_msg(&mut buffer, MACH_SEND_MSG, size, 0, 0)
}

/// Receives one message and returns its first descriptor.
fn receive_descriptor(port: u32) -> Result<Descriptor, MachMsgReturn> {
    let mut buffer = MessageBuffer::<256>::new();
    mach_msg(&mut buffer, MACH_RCV_MSG, 0, port, 0)?;
    let bytes: [u8; 16] = buffer.0[28..44].try_into().map_err(|_| MachMsgReturn::ReceiveInvalidData)?;
    Descriptor::decode(&bytes, 0).map_err(|_| MachMsgReturn::ReceiveInvalidData)
}

fn pattern(seed: u8, length: usize, address: u64) {
    for (index, byte) in bytes_at(address, length).iter_mut().enumerate() {
        *byte = seed.wrapping_add((index % 251) as u8);
    }
}

fn matches(seed: u8, length: usize, address: u64) -> bool {
    bytes_at(address, length).iter().enumerate().all(|(index, &byte)| byte == seed.wrapping_add((index % 251) as u8))
}

/// Sends a 64 MiB region of which three pages were touched, by copy or by
/// move, and checks what each side sees afterwards.
fn sparse_region(checks: &mut Checks, task: u32, port: u32, by_move: bool) {
    const SIZE: u64 = 64 << 20;
    let touched = [0, 32 << 20, SIZE - PAGE];
    let Ok(region) = vm_allocate(task, 0, SIZE, VM_FLAGS_ANYWHERE) else {
        checks.equal("allocate 64 MiB", false, true);
        return;
    };
    for (index, &offset) in touched.iter().enumerate() {
        pattern(40 + index as u8, PAGE as usize, region + offset);
    }
    let what = if by_move { "64 MiB sparse by move" } else { "64 MiB sparse by copy" };
    let descriptor = Descriptor::OutOfLineMemory {
        address: region,
        size: SIZE as u32,
        deallocate: by_move,
        copy: CopyOption::VirtualCopy,
    };
    checks.equal(what, send_descriptor(port, descriptor), Ok(()));
    if by_move {
        checks.equal(
            "64 MiB: the sender's range is gone",
            vm_region(task, region).map(|(start, _, _)| start > region).unwrap_or(true),
            true,
        );
    } else {
        bytes_at(region, 1)[0] = 0x99; // after sending: the receiver must not see it
    }
    match receive_descriptor(port) {
        Ok(Descriptor::OutOfLineMemory { address, size, .. }) => {
            let resident = vm_region(task, address).map(|(_, _, info)| info.resident_pages);
            checks.equal("64 MiB arrives with three pages resident", (size as u64, resident), (SIZE, Ok(3)));
            let contents = touched
                .iter()
                .enumerate()
                .all(|(index, &offset)| matches(40 + index as u8, PAGE as usize, address + offset));
            checks.equal("64 MiB: touched pages' contents", contents, true);
            checks.equal("64 MiB: untouched pages read zero", bytes_at(address + (16 << 20), 8) == &[0u8; 8], true);
            let _ = vm_deallocate(task, address, SIZE);
        }
        _ => checks.equal("64 MiB arrives", false, true),
    }
    if !by_move {
        checks.equal("64 MiB: the sender keeps its own write", bytes_at(region, 1)[0], 0x99);
        let _ = vm_deallocate(task, region, SIZE);
    }
}

fn main(_argument: u64) {
    let mut checks = Checks::new("ool-checks");
    let task = task_self();
    let port = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task, port, port, Disposition::MakeSend as u32);

    // One page by copy: the receiver gets its own copy, the sender keeps its.
    let page = vm_allocate(task, 0, PAGE, VM_FLAGS_ANYWHERE).unwrap_or(0);
    pattern(1, PAGE as usize, page);
    checks.equal(
        "send one page",
        send_descriptor(
            port,
            Descriptor::OutOfLineMemory {
                address: page,
                size: PAGE as u32,
                deallocate: false,
                copy: CopyOption::PhysicalCopy,
            },
        ),
        Ok(()),
    );
    match receive_descriptor(port) {
        Ok(Descriptor::OutOfLineMemory { address, size, .. }) => {
            checks.equal("received a new region", (address != page, size), (true, PAGE as u32));
            checks.equal("page contents", matches(1, PAGE as usize, address), true);
            bytes_at(address, 1)[0] = 0xff;
            checks.equal("the copy is the receiver's own", bytes_at(page, 1)[0], 1);
            checks.equal("free the copy", vm_deallocate(task, address, PAGE), Ok(()));
        }
        other => checks.equal("one page arrives", other.is_ok(), false),
    }
    checks.equal("sender keeps its page", matches(1, PAGE as usize, page), true);

    // One MiB by copy, then by move.
    let mib = 1 << 20;
    let region = vm_allocate(task, 0, mib, VM_FLAGS_ANYWHERE).unwrap_or(0);
    pattern(7, mib as usize, region);
    checks.equal(
        "send 1 MiB by copy",
        send_descriptor(
            port,
            Descriptor::OutOfLineMemory {
                address: region,
                size: mib as u32,
                deallocate: false,
                copy: CopyOption::VirtualCopy,
            },
        ),
        Ok(()),
    );
    // Copy-on-write: the sender writes while the copy is in flight, the
    // receiver writes its copy; neither sees the other's change.
    bytes_at(region, 1)[0] = 0xee;
    match receive_descriptor(port) {
        Ok(Descriptor::OutOfLineMemory { address, size, .. }) => {
            checks.equal("1 MiB contents", (size as u64, matches(7, mib as usize, address)), (mib, true));
            bytes_at(address + PAGE, 1)[0] = 0xdd;
            checks.equal(
                "each side sees only its own writes",
                (bytes_at(region, 1)[0], bytes_at(region + PAGE, 1)[0], bytes_at(address + PAGE, 1)[0]),
                (0xee, 7u8.wrapping_add((PAGE % 251) as u8), 0xdd),
            );
            let _ = vm_deallocate(task, address, mib);
        }
        _ => checks.equal("1 MiB arrives", false, true),
    }
    bytes_at(region, 1)[0] = 7;
    checks.equal(
        "send 1 MiB by move",
        send_descriptor(
            port,
            Descriptor::OutOfLineMemory {
                address: region,
                size: mib as u32,
                deallocate: true,
                copy: CopyOption::VirtualCopy,
            },
        ),
        Ok(()),
    );
    checks.equal("the sender's range is gone", vm_region(task, region).map(|(start, _, _)| start > region), Ok(true));
    match receive_descriptor(port) {
        Ok(Descriptor::OutOfLineMemory { address, .. }) => {
            checks.equal("moved contents", matches(7, mib as usize, address), true);
            let _ = vm_deallocate(task, address, mib);
        }
        _ => checks.equal("the move arrives", false, true),
    }

    // 64 MiB with three pages touched, by copy then by move: only those
    // pages travel (and count as resident); the rest arrive as zero-fill.
    sparse_region(&mut checks, task, port, false);
    sparse_region(&mut checks, task, port, true);

    // An unaligned region keeps its offset.
    checks.equal(
        "send an unaligned range",
        send_descriptor(
            port,
            Descriptor::OutOfLineMemory {
                address: page + 100,
                size: 50,
                deallocate: false,
                copy: CopyOption::PhysicalCopy,
            },
        ),
        Ok(()),
    );
    match receive_descriptor(port) {
        Ok(Descriptor::OutOfLineMemory { address, size, .. }) => {
            checks.equal("unaligned offset and size", (address % PAGE, size), (100, 50));
            checks.equal("unaligned contents", bytes_at(address, 50) == &bytes_at(page + 100, 50)[..], true);
        }
        _ => checks.equal("unaligned arrives", false, true),
    }

    // Errors.
    checks.equal(
        "unallocated memory",
        send_descriptor(
            port,
            Descriptor::OutOfLineMemory {
                address: 0x6000_0000_0000,
                size: 4096,
                deallocate: false,
                copy: CopyOption::PhysicalCopy,
            },
        ),
        Err(MachMsgReturn::SendInvalidMemory),
    );
    checks.equal(
        "kernel memory",
        send_descriptor(
            port,
            Descriptor::OutOfLineMemory {
                address: 0xffff_8000_0000_0000,
                size: 4096,
                deallocate: false,
                copy: CopyOption::PhysicalCopy,
            },
        ),
        Err(MachMsgReturn::SendInvalidMemory),
    );

    // An array of rights.
    let names = [task, port, port];
    checks.equal(
        "send an array of rights",
        send_descriptor(
            port,
            Descriptor::OutOfLinePorts {
                address: names.as_ptr() as u64,
                count: 3,
                disposition: Disposition::CopySend,
                deallocate: false,
                copy: CopyOption::PhysicalCopy,
            },
        ),
        Ok(()),
    );
    match receive_descriptor(port) {
        Ok(Descriptor::OutOfLinePorts { address, count, .. }) => {
            let received: [u32; 3] = core::array::from_fn(|index| {
                u32::from_le_bytes(bytes_at(address + index as u64 * 4, 4).try_into().unwrap_or([0; 4]))
            });
            checks.equal("three names", (count, received[0], received[1]), (3, task, port));
        }
        _ => checks.equal("the array arrives", false, true),
    }

    // A message with memory destroyed before it is received.
    let doomed = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task, doomed, doomed, Disposition::MakeSend as u32);
    checks.equal(
        "queue memory on a doomed port",
        send_descriptor(
            doomed,
            Descriptor::OutOfLineMemory {
                address: page,
                size: PAGE as u32,
                deallocate: false,
                copy: CopyOption::PhysicalCopy,
            },
        ),
        Ok(()),
    );
    checks.equal("destroy it with the message queued", port_destroy(task, doomed), Ok(()));
    checks.equal("task port still a send right", port_type(task, task), Ok(MACH_PORT_TYPE_SEND));
    let _ = KernReturn::Success;
    let _ = message::HEADER;
    checks.finish();
}
