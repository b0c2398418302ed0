//! The virtio 1.0 ("modern") PCI transport: finding a device's structures
//! through its vendor capabilities, the status handshake, feature
//! negotiation, queue setup, notification, device configuration, and the
//! MSI-X table.
//!
//! Setup (virtio 1.0, 3.1.1), as [`Transport`] does it:
//!
//! 1. reset (status 0, wait until it reads 0) — also what a restarted
//!    driver does first, so nothing the previous one left is used;
//! 2. ACKNOWLEDGE, DRIVER;
//! 3. features: the device's, intersected with the driver's;
//!    `VIRTIO_F_VERSION_1` is required; FEATURES_OK, read back;
//! 4. each queue: size, ring addresses, MSI-X vector (read back: the device
//!    may refuse it), enable;
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
/// notifications, device configuration, MSI-X table.
pub struct Transport<M: Memory> {
    regions: Vec<M>,
    common: Place,
    notify: Place,
    notify_multiplier: u32,
    device: Place,
    msix_table: Place,
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
        Ok(Self {
            common: place(layout.common)?,
            notify: place(layout.notify)?,
            notify_multiplier: layout.notify_multiplier,
            device: place(layout.device)?,
            msix_table: place(layout.msix.table)?,
            regions,
        })
    }

    fn memory(&self, place: Place, offset: usize, length: usize) -> Result<(&M, usize), TransportError> {
        if offset.checked_add(length).is_none_or(|end| end > place.length) {
            return Err(TransportError::BadWindow);
        }
        Ok((&self.regions[place.region], place.offset + offset))
    }

    fn common_u8(&self, register: usize) -> Result<u8, TransportError> {
        let (memory, offset) = self.memory(self.common, register, 1)?;
        Ok(memory.read_u8(offset)?)
    }

    fn common_u16(&self, register: usize) -> Result<u16, TransportError> {
        let (memory, offset) = self.memory(self.common, register, 2)?;
        Ok(memory.read_u16(offset)?)
    }

    fn common_u32(&self, register: usize) -> Result<u32, TransportError> {
        let (memory, offset) = self.memory(self.common, register, 4)?;
        Ok(memory.read_u32(offset)?)
    }

    fn set_common_u8(&self, register: usize, value: u8) -> Result<(), TransportError> {
        let (memory, offset) = self.memory(self.common, register, 1)?;
        Ok(memory.write_u8(offset, value)?)
    }

    fn set_common_u16(&self, register: usize, value: u16) -> Result<(), TransportError> {
        let (memory, offset) = self.memory(self.common, register, 2)?;
        Ok(memory.write_u16(offset, value)?)
    }

    fn set_common_u32(&self, register: usize, value: u32) -> Result<(), TransportError> {
        let (memory, offset) = self.memory(self.common, register, 4)?;
        Ok(memory.write_u32(offset, value)?)
    }

    fn set_common_u64(&self, register: usize, value: u64) -> Result<(), TransportError> {
        let (memory, offset) = self.memory(self.common, register, 8)?;
        Ok(memory.write_u64(offset, value)?)
    }

    pub fn status(&self) -> Result<u8, TransportError> {
        self.common_u8(common::DEVICE_STATUS)
    }

    fn add_status(&self, bits: u8) -> Result<(), TransportError> {
        let status = self.status()?;
        self.set_common_u8(common::DEVICE_STATUS, status | bits)
    }

    /// Resets the device: it forgets its queues, features and pending
    /// requests (and stops using the memory they named).
    pub fn reset(&self) -> Result<(), TransportError> {
        self.set_common_u8(common::DEVICE_STATUS, 0)?;
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
            self.set_common_u32(common::DEVICE_FEATURE_SELECT, half)?;
            offered |= (self.common_u32(common::DEVICE_FEATURE)? as u64) << (32 * half);
        }
        let accepted = offered & (wanted | FEATURE_VERSION_1);
        if accepted & FEATURE_VERSION_1 == 0 {
            self.fail();
            return Err(TransportError::FeaturesRefused);
        }
        for half in 0..2u32 {
            self.set_common_u32(common::DRIVER_FEATURE_SELECT, half)?;
            self.set_common_u32(common::DRIVER_FEATURE, (accepted >> (32 * half)) as u32)?;
        }
        self.add_status(STATUS_FEATURES_OK)?;
        if self.status()? & STATUS_FEATURES_OK == 0 {
            self.fail();
            return Err(TransportError::FeaturesRefused);
        }
        // Configuration changes are not watched: no configuration vector.
        self.set_common_u16(common::CONFIG_MSIX_VECTOR, NO_VECTOR)?;
        Ok(accepted)
    }

    pub fn queue_count(&self) -> Result<u16, TransportError> {
        self.common_u16(common::NUM_QUEUES)
    }

    /// The size queue `index` will have: the device's, at most
    /// `size_limit`, a power of two (split queues need one).
    pub fn queue_size(&self, index: u16, size_limit: u16) -> Result<u16, TransportError> {
        self.set_common_u16(common::QUEUE_SELECT, index)?;
        let offered = self.common_u16(common::QUEUE_SIZE)?;
        let size = offered.min(size_limit);
        if size == 0 || index >= self.queue_count()? {
            return Err(TransportError::NoQueue(index));
        }
        Ok(1 << (15 - size.leading_zeros()))
    }

    /// Sets queue `index` up with `size` entries (from [`Self::queue_size`])
    /// at `addresses`, interrupting through MSI-X entry `vector`, and
    /// enables it.
    pub fn setup_queue(
        &self,
        index: u16,
        size: u16,
        addresses: QueueAddresses,
        vector: u16,
    ) -> Result<QueueNotifier, TransportError> {
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
        let offset = self.common_u16(common::QUEUE_NOTIFY_OFF)? as usize * self.notify_multiplier as usize;
        if offset.checked_add(2).is_none_or(|end| end > self.notify.length) {
            return Err(TransportError::BadWindow);
        }
        self.set_common_u16(common::QUEUE_ENABLE, 1)?;
        Ok(QueueNotifier { queue: index, offset })
    }

    /// Step 5: the device may start.
    pub fn driver_ok(&self) -> Result<(), TransportError> {
        self.add_status(STATUS_DRIVER_OK)
    }

    /// Tells the device that queue `notifier` has new buffers.
    pub fn notify(&self, notifier: QueueNotifier) -> Result<(), TransportError> {
        let (memory, offset) = self.memory(self.notify, notifier.offset, 2)?;
        Ok(memory.write_u16(offset, notifier.queue)?)
    }

    /// Reads the device configuration with `read`, again until the
    /// configuration generation did not change meanwhile (virtio 1.0,
    /// 4.1.4.3.1), so multi-word fields are consistent.
    pub fn read_configuration<T>(
        &self,
        read: impl Fn(&Self) -> Result<T, TransportError>,
    ) -> Result<T, TransportError> {
        for _ in 0..16 {
            let before = self.common_u8(common::CONFIG_GENERATION)?;
            let value = read(self)?;
            if self.common_u8(common::CONFIG_GENERATION)? == before {
                return Ok(value);
            }
        }
        Err(TransportError::ConfigurationUnstable)
    }

    pub fn configuration_u8(&self, offset: usize) -> Result<u8, TransportError> {
        let (memory, offset) = self.memory(self.device, offset, 1)?;
        Ok(memory.read_u8(offset)?)
    }

    pub fn configuration_u32(&self, offset: usize) -> Result<u32, TransportError> {
        let (memory, offset) = self.memory(self.device, offset, 4)?;
        Ok(memory.read_u32(offset)?)
    }

    pub fn configuration_u64(&self, offset: usize) -> Result<u64, TransportError> {
        let (memory, offset) = self.memory(self.device, offset, 8)?;
        Ok(memory.read_u64(offset)?)
    }

    /// Points MSI-X table entry `entry` at `address`/`data` and unmasks it.
    pub fn program_msix(&self, entry: u16, address: u64, data: u32) -> Result<(), TransportError> {
        let base = entry as usize * 16;
        if base + 16 > self.msix_table.length {
            return Err(TransportError::NoMsixEntry(entry));
        }
        let (memory, offset) = self.memory(self.msix_table, base, 16)?;
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
