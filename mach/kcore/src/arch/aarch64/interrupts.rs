//! The GIC (v3, or v2 where the board has one): the timer's interrupt and
//! the device lines user-space drivers bind.
//!
//! Interrupt numbers (`interrupt_bind`, `interrupt_acknowledge`, the
//! messages' bodies) are the board's shared peripheral interrupts, SPI
//! 0..[`LINE_COUNT`] (GIC INTID 32 + line): the device tree's `<0 N flags>`
//! is line N. QEMU's virt board wires its PL011 to line 1, the PL031 to 2
//! and the 32 virtio-mmio transports to 16..48. Lines start masked; one
//! that fires is masked again until its driver acknowledges (the
//! line-level semantics the x86_64 I/O APIC lines have), so a level
//! interrupt the driver has not yet quieted cannot storm.
//!
//! There are no message-signalled interrupts here (`msi.rs`): virtio-mmio
//! devices interrupt through their SPI.

use super::paging;
use crate::memory::PhysicalAddress;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// Shared peripheral interrupts a driver may bind: SPI 0..64.
pub const LINE_COUNT: u32 = 64;
const FIRST_SPI: u32 = 32;
/// The EL1 virtual timer's private interrupt.
pub const TIMER_INTID: u32 = 27;
const SPURIOUS: u32 = 1020;
const PRIORITY: u8 = 0xa0;

/// Which interrupt controller the device tree describes, and where.
#[derive(Clone, Copy, Debug)]
pub enum Controller {
    /// GICv3: distributor and the first (the boot CPU's) redistributor.
    Version3 { distributor: PhysicalAddress, redistributor: PhysicalAddress },
    /// GICv2: distributor and CPU interface.
    Version2 { distributor: PhysicalAddress, cpu_interface: PhysicalAddress },
}

static VERSION: AtomicU8 = AtomicU8::new(0);
static DISTRIBUTOR: AtomicU64 = AtomicU64::new(0);
/// GICv3: the redistributor's SGI/PPI frame; GICv2: the CPU interface.
static PER_CPU: AtomicU64 = AtomicU64::new(0);

// Distributor registers.
const GICD_CTLR: u64 = 0x0000;
const GICD_IGROUPR: u64 = 0x0080;
const GICD_ISENABLER: u64 = 0x0100;
const GICD_ICENABLER: u64 = 0x0180;
const GICD_ICPENDR: u64 = 0x0280;
const GICD_IPRIORITYR: u64 = 0x0400;
const GICD_ITARGETSR: u64 = 0x0800;
const GICD_IROUTER: u64 = 0x6000;
// Redistributor (v3): RD_base, then SGI_base 64 KiB above.
const GICR_WAKER: u64 = 0x0014;
const SGI_BASE: u64 = 0x1_0000;
const GICR_IGROUPR0: u64 = SGI_BASE + 0x0080;
const GICR_ISENABLER0: u64 = SGI_BASE + 0x0100;
const GICR_ICENABLER0: u64 = SGI_BASE + 0x0180;
const GICR_IPRIORITYR: u64 = SGI_BASE + 0x0400;
// CPU interface (v2).
const GICC_CTLR: u64 = 0x00;
const GICC_PMR: u64 = 0x04;
const GICC_IAR: u64 = 0x0c;
const GICC_EOIR: u64 = 0x10;

fn write32(base: &AtomicU64, offset: u64, value: u32) {
    let address = (base.load(Ordering::Relaxed) + offset) as *mut u32;
    // SAFETY: `base` is a GIC register frame mapped as device memory by
    // `init`; `offset` is one of its 32-bit registers.
    unsafe { address.write_volatile(value) }
}

fn read32(base: &AtomicU64, offset: u64) -> u32 {
    let address = (base.load(Ordering::Relaxed) + offset) as *const u32;
    // SAFETY: as for `write32`.
    unsafe { address.read_volatile() }
}

fn write8(base: &AtomicU64, offset: u64, value: u8) {
    let address = (base.load(Ordering::Relaxed) + offset) as *mut u8;
    // SAFETY: as for `write32`; priority and target registers are byte accessible.
    unsafe { address.write_volatile(value) }
}

fn write64(base: &AtomicU64, offset: u64, value: u64) {
    let address = (base.load(Ordering::Relaxed) + offset) as *mut u64;
    // SAFETY: as for `write32`; GICD_IROUTER<n> are 64-bit registers.
    unsafe { address.write_volatile(value) }
}

fn map(physical: PhysicalAddress, pages: usize) -> u64 {
    paging::map_device(physical, pages).expect("cannot map the interrupt controller")
}

/// Brings the controller up with every line masked and the timer's
/// interrupt enabled.
pub fn init(controller: &Controller) {
    match *controller {
        Controller::Version3 { distributor, redistributor } => {
            DISTRIBUTOR.store(map(distributor, 16), Ordering::Relaxed);
            PER_CPU.store(map(redistributor, 32), Ordering::Relaxed);
            VERSION.store(3, Ordering::Relaxed);
            init_distributor();
            // Wake the redistributor, then set up the private interrupts.
            let waker = read32(&PER_CPU, GICR_WAKER);
            write32(&PER_CPU, GICR_WAKER, waker & !(1 << 1));
            for _ in 0..1_000_000 {
                if read32(&PER_CPU, GICR_WAKER) & (1 << 2) == 0 {
                    break;
                }
                core::hint::spin_loop();
            }
            write32(&PER_CPU, GICR_IGROUPR0, u32::MAX);
            write32(&PER_CPU, GICR_ICENABLER0, u32::MAX);
            write8(&PER_CPU, GICR_IPRIORITYR + TIMER_INTID as u64, PRIORITY);
            write32(&PER_CPU, GICR_ISENABLER0, 1 << TIMER_INTID);
            // SAFETY: the system-register CPU interface: enable it (SRE),
            // let every priority through, enable group 1. Affects only
            // which interrupts this CPU takes.
            unsafe {
                core::arch::asm!(
                    "mrs {scratch}, icc_sre_el1",
                    "orr {scratch}, {scratch}, #1",
                    "msr icc_sre_el1, {scratch}",
                    "isb",
                    "mov {scratch}, #0xff",
                    "msr icc_pmr_el1, {scratch}",
                    "msr icc_bpr1_el1, xzr",
                    "mov {scratch}, #1",
                    "msr icc_igrpen1_el1, {scratch}",
                    "isb",
                    scratch = out(reg) _,
                    options(nostack)
                );
            }
        }
        Controller::Version2 { distributor, cpu_interface } => {
            DISTRIBUTOR.store(map(distributor, 1), Ordering::Relaxed);
            PER_CPU.store(map(cpu_interface, 2), Ordering::Relaxed);
            VERSION.store(2, Ordering::Relaxed);
            init_distributor();
            write8(&DISTRIBUTOR, GICD_IPRIORITYR + TIMER_INTID as u64, PRIORITY);
            write32(&DISTRIBUTOR, GICD_ISENABLER, 1 << TIMER_INTID);
            write32(&PER_CPU, GICC_PMR, 0xff);
            write32(&PER_CPU, GICC_CTLR, 1);
        }
    }
    log::info!("interrupt controller: GICv{}, {} device lines", VERSION.load(Ordering::Relaxed), LINE_COUNT);
}

fn init_distributor() {
    write32(&DISTRIBUTOR, GICD_CTLR, 0);
    for line in 0..LINE_COUNT {
        let intid = FIRST_SPI + line;
        write8(&DISTRIBUTOR, GICD_IPRIORITYR + intid as u64, PRIORITY);
        if VERSION.load(Ordering::Relaxed) == 3 {
            write64(&DISTRIBUTOR, GICD_IROUTER + 8 * intid as u64, 0); // affinity 0.0.0.0: the boot CPU
        } else {
            write8(&DISTRIBUTOR, GICD_ITARGETSR + intid as u64, 1); // CPU interface 0
        }
    }
    for word in (FIRST_SPI / 32)..((FIRST_SPI + LINE_COUNT) / 32) {
        let offset = 4 * word as u64;
        write32(&DISTRIBUTOR, GICD_ICENABLER + offset, u32::MAX);
        write32(&DISTRIBUTOR, GICD_ICPENDR + offset, u32::MAX);
        write32(&DISTRIBUTOR, GICD_IGROUPR + offset, if VERSION.load(Ordering::Relaxed) == 3 { u32::MAX } else { 0 });
    }
    // GICv3: affinity routing and group 1; GICv2: forwarding on.
    let control = if VERSION.load(Ordering::Relaxed) == 3 { 1 << 4 | 1 << 1 | 1 } else { 1 };
    write32(&DISTRIBUTOR, GICD_CTLR, control);
}

fn line_bit(line: u32) -> (u64, u32) {
    let intid = FIRST_SPI + line;
    (4 * (intid / 32) as u64, 1 << (intid % 32))
}

/// Lets interrupts of `line` through.
pub fn unmask(line: u32) {
    if line < LINE_COUNT {
        let (offset, bit) = line_bit(line);
        write32(&DISTRIBUTOR, GICD_ISENABLER + offset, bit);
    }
}

/// Stops interrupts of `line` (until `unmask`).
pub fn mask(line: u32) {
    if line < LINE_COUNT {
        let (offset, bit) = line_bit(line);
        write32(&DISTRIBUTOR, GICD_ICENABLER + offset, bit);
    }
}

fn acknowledge() -> u32 {
    if VERSION.load(Ordering::Relaxed) == 3 {
        let intid: u64;
        // SAFETY: reading IAR1 acknowledges the highest pending interrupt.
        unsafe { core::arch::asm!("mrs {}, icc_iar1_el1", out(reg) intid, options(nomem, nostack)) };
        intid as u32 & 0xff_ffff
    } else {
        read32(&PER_CPU, GICC_IAR) & 0x3ff
    }
}

fn end(intid: u32) {
    if VERSION.load(Ordering::Relaxed) == 3 {
        // SAFETY: ends (drops priority and deactivates) the acknowledged interrupt.
        unsafe { core::arch::asm!("msr icc_eoir1_el1, {}", "isb", in(reg) intid as u64, options(nomem, nostack)) };
    } else {
        write32(&PER_CPU, GICC_EOIR, intid);
    }
}

/// Called for every IRQ exception: takes the interrupt from the controller
/// and hands it on.
pub fn handle() {
    let intid = acknowledge();
    match intid {
        SPURIOUS.. => {}
        TIMER_INTID => {
            crate::time::tick();
            super::timer::rearm();
            end(intid);
            (crate::arch::handlers().tick)();
        }
        _ if (FIRST_SPI..FIRST_SPI + LINE_COUNT).contains(&intid) => {
            let line = intid - FIRST_SPI;
            // The line stays masked until the driver acknowledges it.
            mask(line);
            end(intid);
            (crate::arch::handlers().device_interrupt)(line);
        }
        _ => {
            log::warn!("unexpected interrupt {intid}");
            end(intid);
        }
    }
}

/// The line behind a GIC interrupt number, if it is a device line.
pub fn line_of_intid(intid: u32) -> Option<u32> {
    intid.checked_sub(FIRST_SPI).filter(|line| *line < LINE_COUNT)
}
