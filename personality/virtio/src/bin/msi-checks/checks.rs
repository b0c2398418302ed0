//! The checks (x86_64: PCI, MSI-X, the entropy device on q35).

use alloc::vec::Vec;
use buddy_system_allocator::LockedHeap;
use libmach::abi::{
    parse_received, Disposition, KernReturn, PortName, Trap, INTERRUPT_MESSAGE_ID, MACH_PORT_NULL, MACH_RCV_MSG,
    MACH_RCV_TIMEOUT, VM_FLAGS_ANYWHERE,
};
use libmach::device::{self, DeviceMemory, MsiBinding};
use libmach::trap::{
    mach_msg, port_allocate, port_destroy, port_insert_right, raw_trap, task_self, thread_sleep, vm_allocate,
    MessageBuffer,
};
use mach_usertests::{println, Checks};
use mach_virtio_core::device::{start, Interrupt, MessageSignal};
use mach_virtio_core::pci::{self, PortConfigurationAccess, CONFIGURATION_PORTS};
use mach_virtio_core::queue::Buffer;
use mach_virtio_core::transport::{self, DeviceKind, Transport};

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

/// The per-task limit (`MSI_BINDINGS_PER_TASK` in the kernel).
const PER_TASK: usize = 8;
const FIRST_VECTOR: u32 = 80;
const VECTORS: u32 = 64;

fn new_port() -> PortName {
    let port = port_allocate(task_self(), libmach::abi::PortRight::Receive).unwrap_or(0);
    let _ = port_insert_right(task_self(), port, port, Disposition::MakeSend as u32);
    port
}

/// `interrupt_bind_msi` with raw arguments (for bad pointers).
fn bind_raw(device: u64, port: u64, address_out: u64, data_out: u64) -> Result<(), KernReturn> {
    // SAFETY: the output pointers are ours or deliberately bad; the kernel
    // checks them before writing.
    let code = unsafe { raw_trap(Trap::InterruptBindMsi as u64, [device, port, address_out, data_out, 0, 0]) };
    match KernReturn::from_u32(code as u32) {
        Some(KernReturn::Success) => Ok(()),
        Some(error) => Err(error),
        None => Err(KernReturn::Failure),
    }
}

/// The interrupt number of the next interrupt message on `port`, if one
/// comes within `milliseconds`.
fn interrupt_message(port: PortName, milliseconds: u32) -> Option<u32> {
    let mut buffer = MessageBuffer::<128>::new();
    mach_msg(&mut buffer, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, port, milliseconds).ok()?;
    let (view, _) = parse_received(&buffer.0).ok()?;
    if view.header.id != INTERRUPT_MESSAGE_ID {
        return None;
    }
    Some(u32::from_le_bytes(view.inline_data.try_into().ok()?))
}

pub fn main(argument: u64) {
    let host = argument as PortName;
    match (argument >> 32) & 0xff {
        0 => checks(host),
        1 => hold(host),
        2 => intrude(host, (argument >> 40) as u32 & 0xff),
        mode => println!("msi-checks: unknown mode {mode}"),
    }
}

/// Mode 1: binds a vector and keeps it.
fn hold(host: PortName) {
    match device::interrupt_bind_msi(host, new_port()) {
        Ok(binding) => println!("msi-checks: holding {}", binding.interrupt),
        Err(error) => println!("msi-checks: cannot bind: {error:?}"),
    }
    loop {
        let _ = thread_sleep(1000);
    }
}

/// Mode 2: another task's vector is out of reach.
fn intrude(host: PortName, vector: u32) {
    let mut checks = Checks::new("msi-checks: intruder");
    let port = new_port();
    checks.equal("acknowledge it", device::interrupt_acknowledge(host, vector), Err(KernReturn::NoAccess));
    checks.equal("move it", device::interrupt_bind(host, vector, port), Err(KernReturn::NoAccess));
    checks.equal("unbind it", device::interrupt_bind(host, vector, MACH_PORT_NULL), Err(KernReturn::NoAccess));
    checks.finish();
}

fn checks(host: PortName) {
    let mut checks = Checks::new("msi-checks");
    if let Ok(start) = vm_allocate(task_self(), 0, 64 * 1024, VM_FLAGS_ANYWHERE) {
        // SAFETY: 64 KiB of fresh memory from vm_allocate, ours alone.
        unsafe { HEAP.lock().init(start as usize, 64 * 1024) };
    }
    let task = task_self();
    let port = new_port();
    let (mut address, mut data) = (0u64, 0u32);
    let address_out = &raw mut address as u64;
    let data_out = &raw mut data as u64;

    checks.equal(
        "without the device port",
        bind_raw(task as u64, port as u64, address_out, data_out),
        Err(KernReturn::InvalidCapability),
    );
    checks.equal("to no port", bind_raw(host as u64, 0, address_out, data_out), Err(KernReturn::InvalidArgument));
    checks.equal(
        "to a name that is no right",
        bind_raw(host as u64, 0x7777_0000, address_out, data_out),
        Err(KernReturn::InvalidName),
    );
    checks.equal(
        "bad address pointer",
        bind_raw(host as u64, port as u64, 0x10, data_out),
        Err(KernReturn::InvalidAddress),
    );
    checks.equal(
        "bad data pointer",
        bind_raw(host as u64, port as u64, address_out, 0xffff_8000_0000_0000),
        Err(KernReturn::InvalidAddress),
    );

    // Up to the limit, each a different vector with the APIC's address.
    let mut bindings: Vec<(MsiBinding, PortName)> = Vec::new();
    for _ in 0..PER_TASK {
        let own = new_port();
        match device::interrupt_bind_msi(host, own) {
            Ok(binding) => bindings.push((binding, own)),
            Err(error) => checks.equal("bind within the limit", Err(error), Ok(())),
        }
    }
    checks.equal("eight bound", bindings.len(), PER_TASK);
    let mut vectors: Vec<u32> = bindings.iter().map(|(binding, _)| binding.interrupt).collect();
    vectors.sort_unstable();
    vectors.dedup();
    checks.equal("all different", vectors.len(), PER_TASK);
    checks.equal(
        "vectors in the MSI range",
        vectors.iter().all(|&vector| (FIRST_VECTOR..FIRST_VECTOR + VECTORS).contains(&vector)),
        true,
    );
    checks.equal(
        "address and data",
        bindings.iter().all(|(binding, _)| binding.address == 0xfee0_0000 && binding.data == binding.interrupt),
        true,
    );
    checks.equal(
        "over the limit",
        device::interrupt_bind_msi(host, port).map(|_| ()),
        Err(KernReturn::ResourceShortage),
    );

    // Unbinding frees a vector for the next bind.
    let (first, first_port) = bindings.remove(0);
    checks.equal("unbind", device::interrupt_bind(host, first.interrupt, MACH_PORT_NULL), Ok(()));
    checks.equal(
        "acknowledge an unbound vector",
        device::interrupt_acknowledge(host, first.interrupt),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal(
        "unbind it twice",
        device::interrupt_bind(host, first.interrupt, MACH_PORT_NULL),
        Err(KernReturn::InvalidArgument),
    );
    let _ = port_destroy(task, first_port);
    let replacement = new_port();
    match device::interrupt_bind_msi(host, replacement) {
        Ok(binding) => bindings.push((binding, replacement)),
        Err(error) => checks.equal("bind after an unbind", Err(error), Ok(())),
    }
    // A port that dies takes its binding with it.
    let (dying, dying_port) = bindings.remove(0);
    let _ = port_destroy(task, dying_port);
    checks.equal(
        "its vector is gone",
        device::interrupt_acknowledge(host, dying.interrupt),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal(
        "bind after a port died",
        device::interrupt_bind_msi(host, port).map(|binding| bindings.push((binding, port))),
        Ok(()),
    );
    checks.equal(
        "still limited",
        device::interrupt_bind_msi(host, port).map(|_| ()),
        Err(KernReturn::ResourceShortage),
    );

    // Rebinding to another port; numbers that name nothing.
    let other = new_port();
    let (moved, _) = bindings[0];
    checks.equal("rebind to another port", device::interrupt_bind(host, moved.interrupt, other), Ok(()));
    checks.equal(
        "between the lines and the vectors",
        device::interrupt_acknowledge(host, 30),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal(
        "past the vectors",
        device::interrupt_acknowledge(host, FIRST_VECTOR + VECTORS),
        Err(KernReturn::InvalidArgument),
    );
    checks.equal(
        "a number naming nothing",
        device::interrupt_bind(host, u32::MAX, port),
        Err(KernReturn::InvalidArgument),
    );
    for (binding, _) in bindings.drain(..) {
        let _ = device::interrupt_bind(host, binding.interrupt, MACH_PORT_NULL);
    }

    real_interrupts(host, port, &mut checks);
    // A task may have 64 DMA allocations (real_interrupts made 2).
    let mut allocated = 2;
    while allocated < 64 && device::dma_allocate(host, 4096).is_ok() {
        allocated += 1;
    }
    checks.equal("64 DMA allocations", allocated, 64);
    checks.equal("the 65th", device::dma_allocate(host, 4096).map(|_| ()), Err(KernReturn::ResourceShortage));
    checks.finish();
}

/// Entropy requests on the real device, interrupting through MSI-X.
fn real_interrupts(host: PortName, port: PortName, checks: &mut Checks) {
    if device::io_port_access(host, CONFIGURATION_PORTS.0, CONFIGURATION_PORTS.1).is_err() {
        checks.equal("configuration ports", false, true);
        return;
    }
    let access = PortConfigurationAccess;
    let Some(function) = pci::enumerate(&access)
        .into_iter()
        .find(|function| transport::device_kind(function) == Some(DeviceKind::Entropy))
    else {
        println!("msi-checks: no virtio-rng device (QEMU needs -device virtio-rng-pci)");
        checks.equal("an entropy device", false, true);
        return;
    };
    pci::enable(&access, function.address, pci::COMMAND_MEMORY | pci::COMMAND_BUS_MASTER);
    let set_up = (|| {
        let layout = transport::layout(&access, function.address).ok()?;
        let spans = transport::bar_spans(&access, function.address, &layout).ok()?;
        let regions: Vec<DeviceMemory> = spans
            .iter()
            .map(|span| device::map_memory(host, span.base + span.start, span.end - span.start))
            .collect::<Result<_, _>>()
            .ok()?;
        let transport = Transport::new(&layout, &spans, regions).ok()?;
        transport.reset().ok()?;
        transport::enable_msix(&access, function.address, &layout.msix);
        Some(transport)
    })();
    let Some(transport) = set_up else {
        checks.equal("device set up", false, true);
        return;
    };
    let Ok(binding) = device::interrupt_bind_msi(host, port) else {
        checks.equal("bind for the device", false, true);
        return;
    };
    let (Ok(rings), Ok(buffer)) = (device::dma_allocate(host, 16 * 1024), device::dma_allocate(host, 4096)) else {
        checks.equal("DMA memory", false, true);
        return;
    };
    let signal = MessageSignal { address: binding.address, data: binding.data };
    let Ok(mut started) = start(&transport, &rings, rings.physical(), 0, &[8], Interrupt::Message(signal)) else {
        checks.equal("device started", false, true);
        return;
    };
    let queue = &mut started.queues[0];
    let request = [Buffer { physical: buffer.physical(), length: 16, device_writes: true }];
    let mut completed = 0;
    let mut drain = |queue: &mut mach_virtio_core::queue::DeviceQueue| {
        while let Ok(Some(_)) = queue.complete(&rings) {
            completed += 1;
        }
    };

    // The first request: one message carrying the vector.
    checks.equal("first request", queue.submit(&transport, &rings, &request).is_ok(), true);
    checks.equal("its interrupt", interrupt_message(port, 2000), Some(binding.interrupt));
    drain(queue);
    // A second request while the first is not acknowledged: its interrupt
    // is held back (poll the used ring to know it happened).
    checks.equal("second request", queue.submit(&transport, &rings, &request).is_ok(), true);
    let mut waited = 0;
    while queue.queue().in_flight() > 0 && waited < 2000 {
        drain(queue);
        let _ = thread_sleep(5);
        waited += 5;
    }
    checks.equal("second done", queue.queue().in_flight(), 0);
    checks.equal("no message before the acknowledgement", interrupt_message(port, 200), None);
    checks.equal("acknowledge", device::interrupt_acknowledge(host, binding.interrupt), Ok(()));
    checks.equal("the held-back interrupt at once", interrupt_message(port, 1000), Some(binding.interrupt));
    checks.equal("acknowledge again", device::interrupt_acknowledge(host, binding.interrupt), Ok(()));
    // After an acknowledgement with nothing held back, the next comes normally.
    checks.equal("third request", queue.submit(&transport, &rings, &request).is_ok(), true);
    checks.equal("its interrupt", interrupt_message(port, 2000), Some(binding.interrupt));
    checks.equal("acknowledge the third", device::interrupt_acknowledge(host, binding.interrupt), Ok(()));
    drain(queue);
    checks.equal("three completed", completed, 3);
    checks.equal("nothing more", interrupt_message(port, 100), None);
    // Quiet the device for whoever drives it next.
    checks.equal("reset", transport.reset().is_ok(), true);
    checks.equal("unbind", device::interrupt_bind(host, binding.interrupt, MACH_PORT_NULL), Ok(()));
}
