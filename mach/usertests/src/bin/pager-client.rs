//! The other side of the toy pager (`pager.rs`): maps its objects and
//! touches them, checking what a memory server's clients will rely on.
//! Prints `pager-client: N passed, N failed`, then touches a page the pager
//! refuses, which kills it (nobody handles the exception).
//!
//! Argument: the name of a send right to the pager's port in the low 32
//! bits; bit 32 set runs the benchmarks instead; bit 33 touches a page of
//! an object the pager never answers for (until it dies); bit 34 waits in
//! `vm_read`, `mach_msg` and a fault on such pages, each until the kernel
//! test aborts the wait.
//!
//! Requests to the pager (words after the header; replies to our reply
//! port): 1 → 101 with rights to objects Z, A, E; 2 (fork A) → 102 with a
//! right to B; 3 → 103 with [data requests, unlock requests] served;
//! 4 [pages] → 104 with a right to a zero-fill object of that many pages;
//! 5 → 105 after flushing Z's page 1.
#![no_std]
#![no_main]

use libmach::abi::{
    parse_received, CopyOption, Descriptor, Disposition, KernReturn, MachMsgHeader, MessageEncoder, PortName,
    PortRight, Trap, MACH_RCV_MSG, MACH_SEND_MSG, TASK_BASIC_INFO, VM_FLAGS_ANYWHERE, VM_PROT_EXECUTE, VM_PROT_READ,
};
use libmach::pager::vm_map;
use libmach::trap::{
    mach_msg, mach_reply_port, port_allocate, raw_trap, task_self, vm_allocate, vm_protect, vm_read, vm_region,
    vm_write, MessageBuffer,
};
use mach_usertests::{message, println, sync_code, Checks, RETURN_42};

libmach::entry!(main);

const PAGE: u64 = 4096;

fn bytes_at(address: u64, length: usize) -> &'static mut [u8] {
    // SAFETY: callers pass memory this task mapped and keeps mapped.
    unsafe { core::slice::from_raw_parts_mut(address as *mut u8, length) }
}

/// Calls the pager with `id` and `words`; returns the reply buffer.
fn call(pager: PortName, id: i32, words: &[u32]) -> Option<MessageBuffer<512>> {
    let reply = mach_reply_port();
    let mut buffer = MessageBuffer::<512>::new();
    let size = message::write(
        &mut buffer,
        pager,
        Disposition::CopySend as u32,
        reply,
        Disposition::MakeSendOnce as u32,
        id,
        words,
    );
    mach_msg(&mut buffer, MACH_SEND_MSG | MACH_RCV_MSG, size, reply, 0).ok()?;
    Some(buffer)
}

/// The port rights a reply carried, in order.
fn rights(buffer: &MessageBuffer<512>) -> [PortName; 3] {
    let mut names = [0; 3];
    if let Ok((view, _)) = parse_received(&buffer.0) {
        for (slot, descriptor) in names.iter_mut().zip(view.descriptors()) {
            if let Descriptor::Port { name, .. } = descriptor {
                *slot = name;
            }
        }
    }
    names
}

fn main(argument: u64) {
    let pager = argument as u32;
    if argument >> 32 & 1 == 1 {
        benchmarks(pager);
        return;
    }
    if argument >> 34 & 1 == 1 {
        abortable_waits(pager);
        return;
    }
    if argument >> 33 & 1 == 1 {
        // An object of our own naming the pager's port: the pager never
        // answers for it, so this touch waits until the pager dies and
        // then becomes an exception (which kills us: nobody handles it).
        let object = libmach::pager::memory_object_create(pager, PAGE).unwrap_or(0);
        let address = vm_map(task_self(), PAGE, object, 0).unwrap_or(0);
        println!("pager-client: touching a page of an object the pager ignores");
        let value = bytes_at(address, 1)[0];
        println!("pager-client: still alive after reading {value}: the wait never ended");
        return;
    }
    let mut checks = Checks::new("pager-client");
    let task = task_self();
    let [zero, parent, broken] = call(pager, 1, &[]).map(|reply| rights(&reply)).unwrap_or_default();
    checks.equal("got three objects", zero != 0 && parent != 0 && broken != 0, true);

    // Isolation: mapping needs a right to the target task's port and to a
    // memory object (a task port is not one).
    checks.equal(
        "vm_map into a task without its port",
        vm_map(0x0abc_de00, PAGE, zero, 0),
        Err(KernReturn::InvalidName),
    );
    checks.equal("vm_map of a task port", vm_map(task, PAGE, task, 0), Err(KernReturn::InvalidArgument));
    checks.equal("vm_map past the object's end", vm_map(task, PAGE, zero, 4 * PAGE), Err(KernReturn::InvalidArgument));

    // Zero fill: each page is asked of the pager on first touch.
    let z = vm_map(task, 4 * PAGE, zero, 0).unwrap_or(0);
    checks.equal("a zero-fill page reads zero", bytes_at(z, PAGE as usize).iter().all(|&byte| byte == 0), true);
    bytes_at(z + PAGE, PAGE as usize).fill(0x11);
    checks.equal("and keeps what is written", bytes_at(z + PAGE, PAGE as usize).iter().all(|&byte| byte == 0x11), true);
    checks.equal("two pages resident", vm_region(task, z).map(|(_, _, info)| info.resident_pages), Ok(2));

    // A message received into an object page never touched: the kernel
    // asks the pager for it before copying the message in.
    let port = port_allocate(task, PortRight::Receive).unwrap_or(0);
    let mut outgoing = MessageBuffer::<64>::new();
    let size = message::write(&mut outgoing, port, Disposition::MakeSend as u32, 0, 0, 77, &[5, 6]);
    let sent = mach_msg(&mut outgoing, MACH_SEND_MSG, size, 0, 0);
    // SAFETY: page 3 of Z is mapped read-write and used for nothing else;
    // the kernel fills it, then we read it.
    let incoming = unsafe { &mut *((z + 3 * PAGE) as *mut MessageBuffer<256>) };
    let received = sent.and_then(|()| mach_msg(incoming, MACH_RCV_MSG, 0, port, 0));
    checks.equal("receive into an untouched object page", (received, message::id(incoming)), (Ok(()), 77));

    // Code in an object page (as exec maps text): written, made
    // read-execute, called.
    let code = z + 2 * PAGE;
    bytes_at(code, RETURN_42.len()).copy_from_slice(&RETURN_42);
    sync_code(code, code);
    let protected = vm_protect(task, code, PAGE, false, VM_PROT_READ | VM_PROT_EXECUTE);
    // SAFETY: the page holds exactly the function written above, now
    // mapped read-execute.
    let function: extern "C" fn() -> u32 = unsafe { core::mem::transmute(code as usize) };
    checks.equal("run code from an object page", protected.map(|()| function()), Ok(42));

    // The parent's pages come from the pager's store.
    let a = vm_map(task, 2 * PAGE, parent, 0).unwrap_or(0);
    checks.equal("parent pages from the pager", (bytes_at(a, 1)[0], bytes_at(a + PAGE, 1)[0]), (b'A', b'B'));
    bytes_at(a, 1)[0] = b'a';

    // Fork: the child sees the parent as it was, including that write.
    let [child, ..] = call(pager, 2, &[]).map(|reply| rights(&reply)).unwrap_or_default();
    let b = vm_map(task, 2 * PAGE, child, 0).unwrap_or(0);
    checks.equal("the child sees the parent at the fork", (bytes_at(b, 1)[0], bytes_at(b + PAGE, 1)[0]), (b'a', b'B'));
    bytes_at(b + PAGE, 1)[0] = b'x';
    checks.equal(
        "a child write copies its page only",
        (bytes_at(b + PAGE, 1)[0], bytes_at(a + PAGE, 1)[0]),
        (b'x', b'B'),
    );
    bytes_at(a, 1)[0] = b'z';
    checks.equal("a parent write leaves the child unchanged", (bytes_at(a, 1)[0], bytes_at(b, 1)[0]), (b'z', b'a'));

    // Two mappings of one object share its pages.
    let again = vm_map(task, 2 * PAGE, parent, 0).unwrap_or(0);
    checks.equal("a second mapping sees the same page", bytes_at(again, 1)[0], b'z');
    bytes_at(again + PAGE, 1)[0] = b'q';
    checks.equal("and writes through to the first", bytes_at(a + PAGE, 1)[0], b'q');

    // A flush drops a page everywhere; the next touch asks the pager again.
    checks.equal("flush Z's page 1", call(pager, 5, &[]).map(|reply| message::id(&reply)), Some(105));
    checks.equal("after a flush the page comes anew (zero)", bytes_at(z + PAGE, 1)[0], 0);

    let counts = call(pager, 3, &[]).map(|reply| (message::word(&reply, 6), message::word(&reply, 7)));
    // Requests: Z 4 pages and page 1 again, A 2, B 2; unlocks: B page 1,
    // A page 0, A page 1.
    checks.equal("pager saw 9 data requests and 3 unlocks", counts, Some((9, 3)));
    traps_wait_for_the_pager(&mut checks, pager);
    checks.finish();

    // A page the pager cannot supply: an exception nobody handles.
    let e = vm_map(task, PAGE, broken, 0).unwrap_or(0);
    println!("pager-client: touching a page the pager refuses");
    let value = bytes_at(e, 1)[0];
    println!("pager-client: still alive after reading {value}: the error was lost");
}

/// Every trap that takes a pointer waits for the pager when it points
/// into an object page not in memory, as the task's own access would.
fn traps_wait_for_the_pager(checks: &mut Checks, pager: PortName) {
    let task = task_self();
    let [fresh, ..] = call(pager, 4, &[16]).map(|reply| rights(&reply)).unwrap_or_default();
    let f = vm_map(task, 16 * PAGE, fresh, 0).unwrap_or(0);
    let page = |index: u64| f + index * PAGE;
    checks.equal(
        "vm_read of an untouched object page",
        vm_read(task, page(0), 8).map(|copy| bytes_at(copy, 8)[0]),
        Ok(0),
    );
    checks.equal(
        "vm_write into one",
        vm_write(task, page(1) + 5, b"w").map(|()| bytes_at(page(1) + 5, 1)[0]),
        Ok(b'w'),
    );
    // Out-parameters in untouched object pages.
    let mut outputs = [0u64; 3];
    // SAFETY: the kernel writes the new name at `page(2)`, a page of ours.
    outputs[0] =
        unsafe { raw_trap(Trap::PortAllocate as u64, [task as u64, PortRight::Receive as u64, page(2), 0, 0, 0]) };
    // SAFETY: the kernel writes a mach_timespec_t at `page(3)`, ours.
    outputs[1] = unsafe { raw_trap(Trap::ClockGetTime as u64, [page(3), 0, 0, 0, 0, 0]) };
    // task_info reads its count from one untouched page and writes the
    // information into another.
    let count_at = page(4);
    let info_at = page(5);
    // SAFETY: the kernel reads and writes the count at `count_at` and
    // writes 6 words at `info_at`, both pages of ours. The count is set
    // through vm_write, so this task does not touch the page itself.
    outputs[2] = unsafe {
        let _ = vm_write(task, count_at, &6u32.to_le_bytes());
        raw_trap(Trap::TaskInfo as u64, [task as u64, TASK_BASIC_INFO as u64, info_at, count_at, 0, 0])
    };
    let name = u32::from_le_bytes(bytes_at(page(2), 4).try_into().unwrap_or([0; 4]));
    checks.equal(
        "out-parameters in untouched object pages",
        (outputs, name != 0, bytes_at(info_at + 4, 1)[0]),
        ([0, 0, 0], true, 1),
    );
    // Out-of-line data from untouched object pages.
    checks.equal(
        "out-of-line data from untouched object pages",
        copy_to_self(page(6), 2 * PAGE).map(|copy| bytes_at(copy, 2 * PAGE as usize).iter().all(|&byte| byte == 0)),
        Some(true),
    );
    // A child forked from this task maps the object privately: reading its
    // untouched page waits for the pager too (in another task).
    let child = libmach::trap::task_create_with(task, libmach::abi::TASK_CREATE_INHERIT_MEMORY).unwrap_or(0);
    checks.equal(
        "vm_read of a child's untouched private object page",
        vm_read(child, page(9), 8).map(|copy| bytes_at(copy, 8)[0]),
        Ok(0),
    );
    checks.equal(
        "vm_write into it is the child's own",
        vm_write(child, page(10), b"c").map(|()| bytes_at(page(10), 1)[0]),
        Ok(0),
    );
    let _ = libmach::trap::task_terminate(child);
    let _ = libmach::trap::port_deallocate(task, child);
}

/// Waits in traps and a fault on an object the pager never answers for:
/// the kernel test aborts each wait (as `thread_abort` does).
fn abortable_waits(pager: PortName) {
    let task = task_self();
    let object = libmach::pager::memory_object_create(pager, 4 * PAGE).unwrap_or(0);
    let address = vm_map(task, 4 * PAGE, object, 0).unwrap_or(0);
    println!("pager-client: waiting in vm_read");
    println!("pager-client: vm_read: {:?}", vm_read(task, address, 8));
    println!("pager-client: waiting in mach_msg");
    let port = port_allocate(task, PortRight::Receive).unwrap_or(0);
    // SAFETY: page 1 of the object mapping is ours and used for nothing else.
    let incoming = unsafe { &mut *((address + PAGE) as *mut MessageBuffer<256>) };
    println!("pager-client: mach_msg: {:?}", mach_msg(incoming, MACH_RCV_MSG, 0, port, 0));
    println!("pager-client: waiting in a fault");
    let value = bytes_at(address + 2 * PAGE, 1)[0];
    println!("pager-client: still alive after reading {value}: the wait never ended");
}

fn ticks() -> u64 {
    // The TSC or the cycle counter: instructions under -icount.
    libmach::trap::cycle_counter()
}

/// Faults per page over `pages` pages starting at `address`, writing.
fn touch_each(name: &str, address: u64, pages: u64) {
    let start = ticks();
    for page in 0..pages {
        bytes_at(address + page * PAGE, 1)[0] = 1;
    }
    println!("bench {name} {}", (ticks() - start) / pages);
}

fn benchmarks(pager: PortName) {
    const PAGES: u64 = 256;
    let task = task_self();
    // A fault served by the pager: fault → request → data_unavailable → resume.
    let [object, ..] = call(pager, 4, &[PAGES as u32]).map(|reply| rights(&reply)).unwrap_or_default();
    if let Ok(address) = vm_map(task, PAGES * PAGE, object, 0) {
        touch_each("pager_fault", address, PAGES);
    }
    // First touch of anonymous memory: zero fill in the kernel.
    if let Ok(address) = vm_allocate(task, 0, PAGES * PAGE, VM_FLAGS_ANYWHERE) {
        touch_each("zero_fill_fault", address, PAGES);
        // Copy-on-write: send the region to ourselves by copy, write the copy.
        if let Some(copy) = copy_to_self(address, PAGES * PAGE) {
            touch_each("cow_fault", copy, PAGES);
        }
    }
    println!("bench pager done");
}

/// Sends `[address, +size)` to a port of our own by copy; returns where
/// the received copy is.
fn copy_to_self(address: u64, size: u64) -> Option<u64> {
    let port = port_allocate(task_self(), PortRight::Receive).ok()?;
    let mut buffer = MessageBuffer::<256>::new();
    let header = MachMsgHeader {
        bits: libmach::abi::msgh_bits(Disposition::MakeSend as u32, 0),
        size: 0,
        remote_port: port,
        local_port: 0,
        voucher_port: 0,
        id: 1,
    };
    let mut encoder = MessageEncoder::new(&mut buffer.0, header, true);
    let descriptor =
        Descriptor::OutOfLineMemory { address, size: size as u32, deallocate: false, copy: CopyOption::VirtualCopy };
    encoder.descriptor(descriptor).ok()?;
    let length = encoder.finish().ok()?;
    mach_msg(&mut buffer, MACH_SEND_MSG, length, 0, 0).ok()?;
    mach_msg(&mut buffer, MACH_RCV_MSG, 0, port, 0).ok()?;
    let (view, _) = parse_received(&buffer.0).ok()?;
    let first = view.descriptors().next()?;
    match first {
        Descriptor::OutOfLineMemory { address, .. } => Some(address),
        _ => None,
    }
}
