//! The virtio 1.0 ("modern") transports: PCI (finding a device's
//! structures through its vendor capabilities, the MSI-X table) and MMIO
//! (one fixed register window, an interrupt line acknowledged at the
//! device); for both the status handshake, feature negotiation, queue
//! setup, notification and device configuration.
//!
//! Setup (virtio 1.0, 3.1.1), as [`Transport`] does it:
//!
//! 1. reset (status 0, wait until it reads 0) — also what a restarted
//!    driver does first, so nothing the previous one left is used;
//! 2. ACKNOWLEDGE, DRIVER;
//! 3. features: the device's, intersected with the driver's;
//!    `VIRTIO_F_VERSION_1` is required; FEATURES_OK, read back;
//! 4. each queue: size, ring addresses, MSI-X vector (PCI; read back: the
//!    device may refuse it), enable;
//! 5. DRIVER_OK.
//!
//! A device that answers nonsense (a refused feature, a vector it cannot
//! take, a status that never clears) gets FAILED and an error, never a
//! panic.

use crate::memory::{AccessError, Memory};
use crate::pci::{self, Bar, ConfigurationAccess, PciAddress};
use alloc::vec::Vec;

pub const VIRTIO_VENDOR_ID: u16 = 0x1af4;

/// Device status bits.
pub const STATUS_ACKNOWLEDGE: u8 = 1;
pub const STATUS_DRIVER: u8 = 2;
pub const STATUS_DRIVER_OK: u8 = 4;
pub const STATUS_FEATURES_OK: u8 = 8;
pub const STATUS_NEEDS_RESET: u8 = 64;
pub const STATUS_FAILED: u8 = 128;

/// The feature every modern device and driver must agree on.
pub const FEATURE_VERSION_1: u64 = 1 << 32;

/// "No MSI-X vector" in the vector registers.
pub const NO_VECTOR: u16 = 0xffff;

/// Common configuration registers (virtio 1.0, 4.1.4.3).
mod common {
    pub const DEVICE_FEATURE_SELECT: usize = 0x00;
    pub const DEVICE_FEATURE: usize = 0x04;
    pub const DRIVER_FEATURE_SELECT: usize = 0x08;
    pub const DRIVER_FEATURE: usize = 0x0c;
    pub const CONFIG_MSIX_VECTOR: usize = 0x10;
    pub const NUM_QUEUES: usize = 0x12;
    pub const DEVICE_STATUS: usize = 0x14;
    pub const CONFIG_GENERATION: usize = 0x15;
    pub const QUEUE_SELECT: usize = 0x16;
    pub const QUEUE_SIZE: usize = 0x18;
    pub const QUEUE_MSIX_VECTOR: usize = 0x1a;
    pub const QUEUE_ENABLE: usize = 0x1c;
    pub const QUEUE_NOTIFY_OFF: usize = 0x1e;
    pub const QUEUE_DESC: usize = 0x20;
    pub const QUEUE_DRIVER: usize = 0x28;
    pub const QUEUE_DEVICE: usize = 0x30;
    pub const LENGTH: u32 = 0x38;
}

const CAPABILITY_VENDOR: u8 = 0x09;
const CAPABILITY_MSIX: u8 = 0x11;
const CONFIGURATION_COMMON: u8 = 1;
const CONFIGURATION_NOTIFY: u8 = 2;
const CONFIGURATION_ISR: u8 = 3;
const CONFIGURATION_DEVICE: u8 = 4;

/// Which kind of virtio device a PCI function is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Block,
    Entropy,
    /// Another virtio device (its virtio device id).
    Other(u16),
}

/// The virtio device behind a PCI function, if it is one: modern ids are
/// 0x1040 + the virtio id; transitional devices (QEMU's default on the
/// root bus) keep the legacy ids 0x1000..0x103f and have the modern
/// capabilities too.
pub fn device_kind(function: &pci::Function) -> Option<DeviceKind> {
    if function.vendor_id != VIRTIO_VENDOR_ID {
        return None;
    }
    let virtio_id = match function.device_id {
        0x1040..=0x107f => function.device_id - 0x1040,
        0x1001 => 2,
        0x1005 => 4,
        0x1000..=0x103f => return Some(DeviceKind::Other(function.device_id)),
        _ => return None,
    };
    Some(match virtio_id {
        2 => DeviceKind::Block,
        4 => DeviceKind::Entropy,
        other => DeviceKind::Other(other),
    })
}

/// Why a device cannot be driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// A required virtio structure (common, notify, device configuration)
    /// or the MSI-X capability is missing.
    MissingCapability(&'static str),
    /// A structure lies in a BAR that is not implemented or not memory.
    BadBar(u8),
    /// A structure is too short for its registers, or beyond its mapping.
    BadWindow,
    /// The status did not read back as zero after a reset.
    ResetTimedOut,
    /// The device lacks `VIRTIO_F_VERSION_1` or refused our features.
    FeaturesRefused,
    /// The queue does not exist (size 0) or is already enabled.
    NoQueue(u16),
    /// The device would not take the MSI-X vector.
    VectorRefused,
    /// The MSI-X table is smaller than the entry asked for.
    NoMsixEntry(u16),
    /// The configuration kept changing while it was read.
    ConfigurationUnstable,
    /// A virtio-mmio window without the magic value or with an unknown
    /// version.
    NotVirtio,
    /// A legacy (version 1) virtio-mmio transport: only the modern layout
    /// is driven (QEMU: `-global virtio-mmio.force-legacy=false`).
    LegacyMmio,
    /// A PCI-only operation (MSI-X) asked of a virtio-mmio transport.
    NotPci,
    Access,
}

impl From<AccessError> for TransportError {
    fn from(_: AccessError) -> Self {
        TransportError::Access
    }
}

/// Where a structure lies: `length` bytes at `offset` in BAR `bar`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub bar: u8,
    pub offset: u64,
    pub length: u64,
}

/// The MSI-X capability: where the table is and how many entries it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msix {
    /// The capability's offset in configuration space.
    pub capability: u8,
    pub table_size: u16,
    pub table: Window,
}

/// Where a device's structures are, read from its capabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub common: Window,
    pub notify: Window,
    pub notify_multiplier: u32,
    pub isr: Option<Window>,
    pub device: Window,
    pub msix: Msix,
}

fn window_at(access: &impl ConfigurationAccess, address: PciAddress, capability: u8) -> Window {
    Window {
        bar: access.read_u8(address, capability + 4),
        offset: access.read_u32(address, capability + 8) as u64,
        length: access.read_u32(address, capability + 12) as u64,
    }
}

/// Reads the virtio capabilities and MSI-X capability of `address`. The
/// first structure of each type is used (virtio 1.0, 4.1.4).
pub fn layout(access: &impl ConfigurationAccess, address: PciAddress) -> Result<Layout, TransportError> {
    let (mut common, mut notify, mut isr, mut device, mut msix) = (None, None, None, None, None);
    for capability in pci::capabilities(access, address) {
        match capability.id {
            CAPABILITY_VENDOR => {
                let offset = capability.offset;
                // The capability must hold bar, offset and length (16 bytes).
                if offset > 0xff - 16 || access.read_u8(address, offset + 2) < 16 {
                    continue;
                }
                let window = window_at(access, address, offset);
                match access.read_u8(address, offset + 3) {
                    CONFIGURATION_COMMON => common = common.or(Some(window)),
                    CONFIGURATION_NOTIFY if offset <= 0xff - 20 && access.read_u8(address, offset + 2) >= 20 => {
                        notify = notify.or(Some((window, access.read_u32(address, offset + 16))))
                    }
                    CONFIGURATION_ISR => isr = isr.or(Some(window)),
                    CONFIGURATION_DEVICE => device = device.or(Some(window)),
                    _ => {}
                }
            }
            CAPABILITY_MSIX if msix.is_none() && capability.offset <= 0xff - 12 => {
                let control = access.read_u16(address, capability.offset + 2);
                let table = access.read_u32(address, capability.offset + 4);
                let table_size = (control & 0x7ff) + 1;
                msix = Some(Msix {
                    capability: capability.offset,
                    table_size,
                    table: Window {
                        bar: (table & 7) as u8,
                        offset: (table & !7) as u64,
                        length: table_size as u64 * 16,
                    },
                });
            }
            _ => {}
        }
    }
    let common = common.ok_or(TransportError::MissingCapability("common configuration"))?;
    let (notify, notify_multiplier) = notify.ok_or(TransportError::MissingCapability("notification"))?;
    let device = device.ok_or(TransportError::MissingCapability("device configuration"))?;
    let msix = msix.ok_or(TransportError::MissingCapability("MSI-X"))?;
    if common.length < common::LENGTH as u64 || notify.length < 2 {
        return Err(TransportError::BadWindow);
    }
    Ok(Layout { common, notify, notify_multiplier, isr, device, msix })
}

/// A span of a BAR to map: `[start, end)` from the BAR's base, page aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarSpan {
    pub bar: u8,
    /// The BAR's physical base address.
    pub base: u64,
    pub start: u64,
    pub end: u64,
}

const PAGE: u64 = 4096;
/// The largest span of one BAR the driver maps (virtio structures are a
/// few KiB; a device claiming more is refused).
const SPAN_LIMIT: u64 = 1 << 20;

/// What to map so every structure of `layout` is reachable: one span per
/// BAR used, covering its structures, page aligned.
pub fn bar_spans(
    access: &impl ConfigurationAccess,
    address: PciAddress,
    layout: &Layout,
) -> Result<Vec<BarSpan>, TransportError> {
    let windows = [Some(layout.common), Some(layout.notify), layout.isr, Some(layout.device), Some(layout.msix.table)];
    let mut spans: Vec<BarSpan> = Vec::new();
    for window in windows.into_iter().flatten() {
        let end = window.offset.checked_add(window.length).ok_or(TransportError::BadWindow)?;
        let (start, end) = (window.offset / PAGE * PAGE, end.div_ceil(PAGE) * PAGE);
        match spans.iter_mut().find(|span| span.bar == window.bar) {
            Some(span) => {
                span.start = span.start.min(start);
                span.end = span.end.max(end);
            }
            None => {
                let base = match pci::bar(access, address, window.bar) {
                    Some(Bar::Memory { address, .. }) => address,
                    _ => return Err(TransportError::BadBar(window.bar)),
                };
                if base % PAGE != 0 {
                    return Err(TransportError::BadBar(window.bar));
                }
                spans.push(BarSpan { bar: window.bar, base, start, end });
            }
        }
    }
    if spans.iter().any(|span| span.end - span.start > SPAN_LIMIT) {
        return Err(TransportError::BadWindow);
    }
    Ok(spans)
}

/// A structure inside one of the transport's mapped regions.
#[derive(Clone, Copy, Debug)]
struct Place {
    region: usize,
    offset: usize,
    length: usize,
}

/// Where to notify one queue: an offset in the notification structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueNotifier {
    queue: u16,
    offset: usize,
}

/// The physical addresses of a split queue's three parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueAddresses {
    pub descriptors: u64,
    pub available: u64,
    pub used: u64,
}

/// A device's registers, mapped: the status handshake, features, queues,
/// notifications, device configuration, and (PCI) the MSI-X table.
pub struct Transport<M: Memory> {
    regions: Vec<M>,
    registers: Registers,
}

/// Where the registers are: PCI's structures found through capabilities,
/// or virtio-mmio's one fixed window (region 0).
#[derive(Clone, Copy, Debug)]
enum Registers {
    Pci { common: Place, notify: Place, notify_multiplier: u32, device: Place, msix_table: Place },
    Mmio,
}

/// The virtio-mmio register window (virtio 1.0, 4.2.2; version 2, the
/// modern layout; QEMU gives it with `-global virtio-mmio.force-legacy=false`).
pub mod mmio {
    pub const MAGIC_VALUE: usize = 0x000;
    pub const VERSION: usize = 0x004;
    pub const DEVICE_ID: usize = 0x008;
    pub const DEVICE_FEATURES: usize = 0x010;
    pub const DEVICE_FEATURES_SELECT: usize = 0x014;
    pub const DRIVER_FEATURES: usize = 0x020;
    pub const DRIVER_FEATURES_SELECT: usize = 0x024;
    pub const QUEUE_SELECT: usize = 0x030;
    pub const QUEUE_SIZE_MAX: usize = 0x034;
    pub const QUEUE_SIZE: usize = 0x038;
    pub const QUEUE_READY: usize = 0x044;
    pub const QUEUE_NOTIFY: usize = 0x050;
    pub const INTERRUPT_STATUS: usize = 0x060;
    pub const INTERRUPT_ACKNOWLEDGE: usize = 0x064;
    pub const STATUS: usize = 0x070;
    pub const QUEUE_DESCRIPTORS: usize = 0x080;
    pub const QUEUE_DRIVER: usize = 0x090;
    pub const QUEUE_DEVICE: usize = 0x0a0;
    pub const CONFIGURATION_GENERATION: usize = 0x0fc;
    pub const CONFIGURATION: usize = 0x100;
    /// "virt" in little-endian.
    pub const MAGIC: u32 = 0x7472_6976;
    /// The modern register layout; 1 is the legacy one, not driven.
    pub const MODERN_VERSION: u32 = 2;
    /// The window's size: the registers and 256 bytes of device
    /// configuration (QEMU's transports are 0x200 apart).
    pub const WINDOW: usize = 0x200;
    /// Queues a virtio-mmio device is asked about at most.
    pub const QUEUES_MAX: u16 = 64;
}

/// What a virtio-mmio window holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmioProbe {
    /// A transport with a device behind it.
    Device(DeviceKind),
    /// A transport with no device (device id 0): QEMU's virt board has 32,
    /// most of them empty.
    Empty,
}

/// How many times the status is read after a reset before giving up.
const RESET_POLLS: u32 = 1_000_000;

impl<M: Memory> Transport<M> {
    /// `regions[i]` is the mapping of `spans[i]` (from [`bar_spans`]).
    pub fn new(layout: &Layout, spans: &[BarSpan], regions: Vec<M>) -> Result<Self, TransportError> {
        let place = |window: Window| -> Result<Place, TransportError> {
            let region = spans.iter().position(|span| span.bar == window.bar).ok_or(TransportError::BadWindow)?;
            let offset = window.offset.checked_sub(spans[region].start).ok_or(TransportError::BadWindow)?;
            let end = offset.checked_add(window.length).ok_or(TransportError::BadWindow)?;
            if end > regions.get(region).map_or(0, |memory| memory.size() as u64) {
                return Err(TransportError::BadWindow);
            }
            Ok(Place { region, offset: offset as usize, length: window.length as usize })
        };
        let registers = Registers::Pci {
            common: place(layout.common)?,
            notify: place(layout.notify)?,
            notify_multiplier: layout.notify_multiplier,
            device: place(layout.device)?,
            msix_table: place(layout.msix.table)?,
        };
        Ok(Self { regions, registers })
    }

    /// The virtio-mmio transport whose window is `window` (at least
    /// [`mmio::WINDOW`] bytes): checks the magic and the version, and
    /// says which device is behind it. A legacy (version 1) transport is
    /// refused with [`TransportError::LegacyMmio`].
    pub fn new_mmio(window: M) -> Result<(Self, MmioProbe), TransportError> {
        if window.size() < mmio::WINDOW {
            return Err(TransportError::BadWindow);
        }
        if window.read_u32(mmio::MAGIC_VALUE)? != mmio::MAGIC {
            return Err(TransportError::NotVirtio);
        }
        match window.read_u32(mmio::VERSION)? {
            mmio::MODERN_VERSION => {}
            1 => return Err(TransportError::LegacyMmio),
            _ => return Err(TransportError::NotVirtio),
        }
        let probe = match window.read_u32(mmio::DEVICE_ID)? {
            0 => MmioProbe::Empty,
            2 => MmioProbe::Device(DeviceKind::Block),
            4 => MmioProbe::Device(DeviceKind::Entropy),
            other => MmioProbe::Device(DeviceKind::Other(other as u16)),
        };
        Ok((Self { regions: alloc::vec![window], registers: Registers::Mmio }, probe))
    }

    /// Whether the device interrupts through MSI-X (PCI) rather than a
    /// line it must be acknowledged on (virtio-mmio).
    pub fn uses_msix(&self) -> bool {
        matches!(self.registers, Registers::Pci { .. })
    }

    /// After an interrupt on the device's line: reads which events the
    /// device signalled and acknowledges them, so a level-triggered line
    /// falls (virtio-mmio). MSI-X messages need no acknowledgement at the
    /// device: the answer there is 0.
    pub fn acknowledge_interrupt(&self) -> Result<u32, TransportError> {
        match self.registers {
            Registers::Pci { .. } => Ok(0),
            Registers::Mmio => {
                let events = self.mmio_u32(mmio::INTERRUPT_STATUS)?;
                self.set_mmio_u32(mmio::INTERRUPT_ACKNOWLEDGE, events)?;
                Ok(events)
            }
        }
    }

    fn mmio_u32(&self, register: usize) -> Result<u32, TransportError> {
        Ok(self.regions[0].read_u32(register)?)
    }

    fn set_mmio_u32(&self, register: usize, value: u32) -> Result<(), TransportError> {
        Ok(self.regions[0].write_u32(register, value)?)
    }

    /// The PCI structures; an error on virtio-mmio (callers check first).
    fn pci(&self) -> Result<(Place, Place, u32, Place, Place), TransportError> {
        match self.registers {
            Registers::Pci { common, notify, notify_multiplier, device, msix_table } => {
                Ok((common, notify, notify_multiplier, device, msix_table))
            }
            Registers::Mmio => Err(TransportError::NotPci),
        }
    }

    fn memory(&self, place: Place, offset: usize, length: usize) -> Result<(&M, usize), TransportError> {
        if offset.checked_add(length).is_none_or(|end| end > place.length) {
            return Err(TransportError::BadWindow);
        }
        Ok((&self.regions[place.region], place.offset + offset))
    }

    fn common_u8(&self, register: usize) -> Result<u8, TransportError> {
        let (memory, offset) = self.memory(self.pci()?.0, register, 1)?;
        Ok(memory.read_u8(offset)?)
    }

    fn common_u16(&self, register: usize) -> Result<u16, TransportError> {
        let (memory, offset) = self.memory(self.pci()?.0, register, 2)?;
        Ok(memory.read_u16(offset)?)
    }

    fn common_u32(&self, register: usize) -> Result<u32, TransportError> {
        let (memory, offset) = self.memory(self.pci()?.0, register, 4)?;
        Ok(memory.read_u32(offset)?)
    }

    fn set_common_u8(&self, register: usize, value: u8) -> Result<(), TransportError> {
        let (memory, offset) = self.memory(self.pci()?.0, register, 1)?;
        Ok(memory.write_u8(offset, value)?)
    }

    fn set_common_u16(&self, register: usize, value: u16) -> Result<(), TransportError> {
        let (memory, offset) = self.memory(self.pci()?.0, register, 2)?;
        Ok(memory.write_u16(offset, value)?)
    }

    fn set_common_u32(&self, register: usize, value: u32) -> Result<(), TransportError> {
        let (memory, offset) = self.memory(self.pci()?.0, register, 4)?;
        Ok(memory.write_u32(offset, value)?)
    }

    fn set_common_u64(&self, register: usize, value: u64) -> Result<(), TransportError> {
        let (memory, offset) = self.memory(self.pci()?.0, register, 8)?;
        Ok(memory.write_u64(offset, value)?)
    }

    pub fn status(&self) -> Result<u8, TransportError> {
        match self.registers {
            Registers::Pci { .. } => self.common_u8(common::DEVICE_STATUS),
            Registers::Mmio => Ok(self.mmio_u32(mmio::STATUS)? as u8),
        }
    }

    fn set_status(&self, status: u8) -> Result<(), TransportError> {
        match self.registers {
            Registers::Pci { .. } => self.set_common_u8(common::DEVICE_STATUS, status),
            Registers::Mmio => self.set_mmio_u32(mmio::STATUS, status as u32),
        }
    }

    fn add_status(&self, bits: u8) -> Result<(), TransportError> {
        let status = self.status()?;
        self.set_status(status | bits)
    }

    /// Resets the device: it forgets its queues, features and pending
    /// requests (and stops using the memory they named).
    pub fn reset(&self) -> Result<(), TransportError> {
        self.set_status(0)?;
        for _ in 0..RESET_POLLS {
            if self.status()? == 0 {
                return Ok(());
            }
            core::hint::spin_loop();
        }
        Err(TransportError::ResetTimedOut)
    }

    /// Tells the device the driver gave up on it.
    pub fn fail(&self) {
        let _ = self.add_status(STATUS_FAILED);
    }

    /// Steps 2 and 3 of the setup after a reset: returns the features both
    /// sides have (`wanted` ∩ the device's, which must include
    /// `VIRTIO_F_VERSION_1`).
    pub fn negotiate(&self, wanted: u64) -> Result<u64, TransportError> {
        self.add_status(STATUS_ACKNOWLEDGE)?;
        self.add_status(STATUS_DRIVER)?;
        let mut offered = 0u64;
        for half in 0..2u32 {
            let features = match self.registers {
                Registers::Pci { .. } => {
                    self.set_common_u32(common::DEVICE_FEATURE_SELECT, half)?;
                    self.common_u32(common::DEVICE_FEATURE)?
                }
                Registers::Mmio => {
                    self.set_mmio_u32(mmio::DEVICE_FEATURES_SELECT, half)?;
                    self.mmio_u32(mmio::DEVICE_FEATURES)?
                }
            };
            offered |= (features as u64) << (32 * half);
        }
        let accepted = offered & (wanted | FEATURE_VERSION_1);
        if accepted & FEATURE_VERSION_1 == 0 {
            self.fail();
            return Err(TransportError::FeaturesRefused);
        }
        for half in 0..2u32 {
            let features = (accepted >> (32 * half)) as u32;
            match self.registers {
                Registers::Pci { .. } => {
                    self.set_common_u32(common::DRIVER_FEATURE_SELECT, half)?;
                    self.set_common_u32(common::DRIVER_FEATURE, features)?;
                }
                Registers::Mmio => {
                    self.set_mmio_u32(mmio::DRIVER_FEATURES_SELECT, half)?;
                    self.set_mmio_u32(mmio::DRIVER_FEATURES, features)?;
                }
            }
        }
        self.add_status(STATUS_FEATURES_OK)?;
        if self.status()? & STATUS_FEATURES_OK == 0 {
            self.fail();
            return Err(TransportError::FeaturesRefused);
        }
        // Configuration changes are not watched: no configuration vector
        // (virtio-mmio's one line carries them, and they are ignored).
        if self.uses_msix() {
            self.set_common_u16(common::CONFIG_MSIX_VECTOR, NO_VECTOR)?;
        }
        Ok(accepted)
    }

    /// How many queues the device has (virtio-mmio does not say: the
    /// queues before the first of maximum size 0, at most
    /// [`mmio::QUEUES_MAX`]).
    pub fn queue_count(&self) -> Result<u16, TransportError> {
        match self.registers {
            Registers::Pci { .. } => self.common_u16(common::NUM_QUEUES),
            Registers::Mmio => {
                for index in 0..mmio::QUEUES_MAX {
                    self.set_mmio_u32(mmio::QUEUE_SELECT, index as u32)?;
                    if self.mmio_u32(mmio::QUEUE_SIZE_MAX)? == 0 {
                        return Ok(index);
                    }
                }
                Ok(mmio::QUEUES_MAX)
            }
        }
    }

    /// The size queue `index` will have: the device's, at most
    /// `size_limit`, a power of two (split queues need one).
    pub fn queue_size(&self, index: u16, size_limit: u16) -> Result<u16, TransportError> {
        let offered = match self.registers {
            Registers::Pci { .. } => {
                self.set_common_u16(common::QUEUE_SELECT, index)?;
                let offered = self.common_u16(common::QUEUE_SIZE)?;
                if index >= self.queue_count()? {
                    return Err(TransportError::NoQueue(index));
                }
                offered
            }
            Registers::Mmio => {
                self.set_mmio_u32(mmio::QUEUE_SELECT, index as u32)?;
                self.mmio_u32(mmio::QUEUE_SIZE_MAX)?.min(u16::MAX as u32) as u16
            }
        };
        let size = offered.min(size_limit);
        if size == 0 {
            return Err(TransportError::NoQueue(index));
        }
        Ok(1 << (15 - size.leading_zeros()))
    }

    /// Sets queue `index` up with `size` entries (from [`Self::queue_size`])
    /// at `addresses`, interrupting through MSI-X entry `vector` (PCI; a
    /// virtio-mmio device has its one line), and enables it.
    pub fn setup_queue(
        &self,
        index: u16,
        size: u16,
        addresses: QueueAddresses,
        vector: u16,
    ) -> Result<QueueNotifier, TransportError> {
        let Registers::Pci { notify, notify_multiplier, .. } = self.registers else {
            return self.setup_mmio_queue(index, size, addresses);
        };
        self.set_common_u16(common::QUEUE_SELECT, index)?;
        if self.common_u16(common::QUEUE_ENABLE)? != 0 {
            return Err(TransportError::NoQueue(index));
        }
        self.set_common_u16(common::QUEUE_SIZE, size)?;
        self.set_common_u64(common::QUEUE_DESC, addresses.descriptors)?;
        self.set_common_u64(common::QUEUE_DRIVER, addresses.available)?;
        self.set_common_u64(common::QUEUE_DEVICE, addresses.used)?;
        self.set_common_u16(common::QUEUE_MSIX_VECTOR, vector)?;
        if self.common_u16(common::QUEUE_MSIX_VECTOR)? != vector {
            return Err(TransportError::VectorRefused);
        }
        let offset = self.common_u16(common::QUEUE_NOTIFY_OFF)? as usize * notify_multiplier as usize;
        if offset.checked_add(2).is_none_or(|end| end > notify.length) {
            return Err(TransportError::BadWindow);
        }
        self.set_common_u16(common::QUEUE_ENABLE, 1)?;
        Ok(QueueNotifier { queue: index, offset })
    }

    fn setup_mmio_queue(
        &self,
        index: u16,
        size: u16,
        addresses: QueueAddresses,
    ) -> Result<QueueNotifier, TransportError> {
        self.set_mmio_u32(mmio::QUEUE_SELECT, index as u32)?;
        if self.mmio_u32(mmio::QUEUE_READY)? != 0 {
            return Err(TransportError::NoQueue(index));
        }
        self.set_mmio_u32(mmio::QUEUE_SIZE, size as u32)?;
        let pairs = [
            (mmio::QUEUE_DESCRIPTORS, addresses.descriptors),
            (mmio::QUEUE_DRIVER, addresses.available),
            (mmio::QUEUE_DEVICE, addresses.used),
        ];
        for (register, address) in pairs {
            self.set_mmio_u32(register, address as u32)?;
            self.set_mmio_u32(register + 4, (address >> 32) as u32)?;
        }
        self.set_mmio_u32(mmio::QUEUE_READY, 1)?;
        Ok(QueueNotifier { queue: index, offset: mmio::QUEUE_NOTIFY })
    }

    /// Step 5: the device may start.
    pub fn driver_ok(&self) -> Result<(), TransportError> {
        self.add_status(STATUS_DRIVER_OK)
    }

    /// Tells the device that queue `notifier` has new buffers.
    pub fn notify(&self, notifier: QueueNotifier) -> Result<(), TransportError> {
        match self.registers {
            Registers::Pci { notify, .. } => {
                let (memory, offset) = self.memory(notify, notifier.offset, 2)?;
                Ok(memory.write_u16(offset, notifier.queue)?)
            }
            Registers::Mmio => self.set_mmio_u32(mmio::QUEUE_NOTIFY, notifier.queue as u32),
        }
    }

    fn configuration_generation(&self) -> Result<u32, TransportError> {
        match self.registers {
            Registers::Pci { .. } => Ok(self.common_u8(common::CONFIG_GENERATION)? as u32),
            Registers::Mmio => self.mmio_u32(mmio::CONFIGURATION_GENERATION),
        }
    }

    /// The device configuration as a place in the regions.
    fn device_configuration(&self) -> Place {
        match self.registers {
            Registers::Pci { device, .. } => device,
            Registers::Mmio => {
                Place { region: 0, offset: mmio::CONFIGURATION, length: mmio::WINDOW - mmio::CONFIGURATION }
            }
        }
    }

    /// Reads the device configuration with `read`, again until the
    /// configuration generation did not change meanwhile (virtio 1.0,
    /// 4.1.4.3.1), so multi-word fields are consistent.
    pub fn read_configuration<T>(
        &self,
        read: impl Fn(&Self) -> Result<T, TransportError>,
    ) -> Result<T, TransportError> {
        for _ in 0..16 {
            let before = self.configuration_generation()?;
            let value = read(self)?;
            if self.configuration_generation()? == before {
                return Ok(value);
            }
        }
        Err(TransportError::ConfigurationUnstable)
    }

    pub fn configuration_u8(&self, offset: usize) -> Result<u8, TransportError> {
        let (memory, offset) = self.memory(self.device_configuration(), offset, 1)?;
        Ok(memory.read_u8(offset)?)
    }

    pub fn configuration_u32(&self, offset: usize) -> Result<u32, TransportError> {
        let (memory, offset) = self.memory(self.device_configuration(), offset, 4)?;
        Ok(memory.read_u32(offset)?)
    }

    pub fn configuration_u64(&self, offset: usize) -> Result<u64, TransportError> {
        let (memory, offset) = self.memory(self.device_configuration(), offset, 8)?;
        Ok(memory.read_u64(offset)?)
    }

    /// Points MSI-X table entry `entry` at `address`/`data` and unmasks it.
    pub fn program_msix(&self, entry: u16, address: u64, data: u32) -> Result<(), TransportError> {
        let msix_table = self.pci()?.4;
        let base = entry as usize * 16;
        if base + 16 > msix_table.length {
            return Err(TransportError::NoMsixEntry(entry));
        }
        let (memory, offset) = self.memory(msix_table, base, 16)?;
        memory.write_u32(offset + 12, 1)?; // masked while it changes
        memory.write_u32(offset, address as u32)?;
        memory.write_u32(offset + 4, (address >> 32) as u32)?;
        memory.write_u32(offset + 8, data)?;
        memory.write_u32(offset + 12, 0)?;
        Ok(())
    }
}

/// Turns MSI-X on for the function (its INTx line off), unmasking it as a
/// whole; each table entry keeps its own mask.
pub fn enable_msix(access: &impl ConfigurationAccess, address: PciAddress, msix: &Msix) {
    const ENABLE: u16 = 1 << 15;
    const FUNCTION_MASK: u16 = 1 << 14;
    let control = access.read_u16(address, msix.capability + 2);
    access.write_u16(address, msix.capability + 2, (control | ENABLE) & !FUNCTION_MASK);
    pci::enable(access, address, pci::COMMAND_MEMORY | pci::COMMAND_BUS_MASTER | pci::COMMAND_INTERRUPT_DISABLE);
}
