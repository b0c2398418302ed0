//! PCI configuration space: enumerating the buses, reading a function's
//! capabilities and base address registers, enabling it.
//!
//! Access goes through [`ConfigurationAccess`]: on x86_64 the legacy
//! mechanism (address at I/O port 0xcf8, data at 0xcfc), which the driver
//! task owns (docs/block-driver.md: exactly one task owns PCI configuration
//! space); the host tests use a table of fake functions. Everything read is
//! checked: a capability list that loops or points outside the header, a
//! bridge naming a bus seen before, a BAR of an unknown type are skipped,
//! never followed.

use alloc::vec::Vec;

/// Bus, device (0..32) and function (0..8) of a PCI function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PciAddress {
    pub bus: u8,
    pub device: u8,
    pub function: u8,
}

impl core::fmt::Display for PciAddress {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(formatter, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

/// Reads and writes 32-bit registers of a function's configuration space
/// (`offset` is 4-byte aligned, below 256).
pub trait ConfigurationAccess {
    fn read_u32(&self, address: PciAddress, offset: u8) -> u32;
    fn write_u32(&self, address: PciAddress, offset: u8, value: u32);

    fn read_u16(&self, address: PciAddress, offset: u8) -> u16 {
        (self.read_u32(address, offset & !3) >> ((offset & 2) * 8)) as u16
    }

    fn read_u8(&self, address: PciAddress, offset: u8) -> u8 {
        (self.read_u32(address, offset & !3) >> ((offset & 3) * 8)) as u8
    }

    /// Writes the 16-bit register at `offset` (a read-modify-write of its
    /// 32-bit word; the other half is written back as read).
    fn write_u16(&self, address: PciAddress, offset: u8, value: u16) {
        let word = self.read_u32(address, offset & !3);
        let shift = (offset & 2) * 8;
        let merged = (word & !(0xffff << shift)) | (value as u32) << shift;
        self.write_u32(address, offset & !3, merged);
    }
}

/// The legacy configuration mechanism's I/O ports (0xcf8..0xd00).
pub const CONFIGURATION_PORTS: (u16, u32) = (0xcf8, 8);

/// The x86 legacy configuration mechanism: the address of a register is
/// written to port 0xcf8, its value read or written at 0xcfc. The task must
/// hold an `io_port_access` grant for [`CONFIGURATION_PORTS`].
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, Default)]
pub struct PortConfigurationAccess;

#[cfg(target_arch = "x86_64")]
impl PortConfigurationAccess {
    fn select(address: PciAddress, offset: u8) {
        let value = 1 << 31
            | (address.bus as u32) << 16
            | ((address.device & 31) as u32) << 11
            | ((address.function & 7) as u32) << 8
            | (offset & 0xfc) as u32;
        libmach::device::port_write_u32(0xcf8, value);
    }
}

#[cfg(target_arch = "x86_64")]
impl ConfigurationAccess for PortConfigurationAccess {
    fn read_u32(&self, address: PciAddress, offset: u8) -> u32 {
        Self::select(address, offset);
        libmach::device::port_read_u32(0xcfc)
    }

    fn write_u32(&self, address: PciAddress, offset: u8, value: u32) {
        Self::select(address, offset);
        libmach::device::port_write_u32(0xcfc, value);
    }
}

const VENDOR_ID: u8 = 0x00;
pub(crate) const COMMAND: u8 = 0x04;
const STATUS: u8 = 0x06;
const CLASS: u8 = 0x08;
pub(crate) const HEADER_TYPE: u8 = 0x0e;
pub(crate) const BAR0: u8 = 0x10;
const SECONDARY_BUS: u8 = 0x19;
const CAPABILITIES_POINTER: u8 = 0x34;
const STATUS_CAPABILITIES: u16 = 1 << 4;
const MULTI_FUNCTION: u8 = 0x80;
const HEADER_BRIDGE: u8 = 0x01;

/// Command register bits.
pub const COMMAND_MEMORY: u16 = 1 << 1;
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;
pub const COMMAND_INTERRUPT_DISABLE: u16 = 1 << 10;

/// A function found by [`enumerate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    pub address: PciAddress,
    pub vendor_id: u16,
    pub device_id: u16,
    /// Class, subclass, programming interface.
    pub class: (u8, u8, u8),
}

/// Every function on bus 0 and the buses behind its bridges, in address
/// order. Buses are visited once each, so a bridge naming a bus already
/// seen (a loop, or bad firmware) adds nothing.
pub fn enumerate(access: &impl ConfigurationAccess) -> Vec<Function> {
    let mut functions = Vec::new();
    let mut pending: Vec<u8> = alloc::vec![0];
    let mut visited = [false; 256];
    while let Some(bus) = pending.pop() {
        if core::mem::replace(&mut visited[bus as usize], true) {
            continue;
        }
        for device in 0..32 {
            let first = PciAddress { bus, device, function: 0 };
            if access.read_u16(first, VENDOR_ID) == 0xffff {
                continue;
            }
            let functions_to_scan = if access.read_u8(first, HEADER_TYPE) & MULTI_FUNCTION != 0 { 8 } else { 1 };
            for function in 0..functions_to_scan {
                let address = PciAddress { bus, device, function };
                let vendor_id = access.read_u16(address, VENDOR_ID);
                if vendor_id == 0xffff {
                    continue;
                }
                let class_word = access.read_u32(address, CLASS);
                functions.push(Function {
                    address,
                    vendor_id,
                    device_id: access.read_u16(address, VENDOR_ID + 2),
                    class: ((class_word >> 24) as u8, (class_word >> 16) as u8, (class_word >> 8) as u8),
                });
                if access.read_u8(address, HEADER_TYPE) & 0x7f == HEADER_BRIDGE {
                    let secondary = access.read_u8(address, SECONDARY_BUS);
                    if secondary != 0 && !visited[secondary as usize] {
                        pending.push(secondary);
                    }
                }
            }
        }
    }
    functions.sort_by_key(|function| function.address);
    functions
}

/// A capability in a function's list: its id and where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    pub id: u8,
    pub offset: u8,
}

/// The function's capability list. A pointer into the standard header
/// (below 0x40) or to an entry already seen ends the walk.
pub fn capabilities(access: &impl ConfigurationAccess, address: PciAddress) -> Vec<Capability> {
    let mut found = Vec::new();
    if access.read_u16(address, STATUS) & STATUS_CAPABILITIES == 0 {
        return found;
    }
    let mut seen = [false; 64];
    let mut offset = access.read_u8(address, CAPABILITIES_POINTER) & 0xfc;
    while offset >= 0x40 && !core::mem::replace(&mut seen[offset as usize / 4], true) {
        found.push(Capability { id: access.read_u8(address, offset), offset });
        offset = access.read_u8(address, offset + 1) & 0xfc;
    }
    found
}

/// What a base address register decodes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    /// Memory space at this physical address (32- or 64-bit).
    Memory { address: u64, prefetchable: bool },
    /// I/O space at this port.
    Io { port: u32 },
}

/// Decodes BAR `index` (0..6). A 64-bit BAR takes its high half from the
/// next register; `None` for an unimplemented BAR, the upper half of a
/// 64-bit one read on its own, or a 64-bit BAR at index 5.
pub fn bar(access: &impl ConfigurationAccess, address: PciAddress, index: u8) -> Option<Bar> {
    if index >= 6 {
        return None;
    }
    let low = access.read_u32(address, BAR0 + 4 * index);
    if low & 1 == 1 {
        return Some(Bar::Io { port: low & !3 });
    }
    let prefetchable = low & 8 != 0;
    let base = (low & !0xf) as u64;
    match (low >> 1) & 3 {
        0 => (base != 0).then_some(Bar::Memory { address: base, prefetchable }),
        2 if index < 5 => {
            let high = access.read_u32(address, BAR0 + 4 * (index + 1)) as u64;
            let full = base | high << 32;
            (full != 0).then_some(Bar::Memory { address: full, prefetchable })
        }
        _ => None,
    }
}

/// Sets `bits` in the command register (and keeps the others). The status
/// register shares the 32-bit word; its bits are read-only or cleared by
/// writing 1, so zeros are written there.
pub fn enable(access: &impl ConfigurationAccess, address: PciAddress, bits: u16) {
    let command = access.read_u16(address, COMMAND);
    access.write_u32(address, COMMAND, (command | bits) as u32);
}

#[cfg(test)]
pub mod fake {
    //! Functions with configuration spaces in host memory.
    use super::{ConfigurationAccess, PciAddress};
    use core::cell::RefCell;
    use std::collections::BTreeMap;

    #[derive(Default)]
    pub struct FakeBus {
        pub spaces: RefCell<BTreeMap<PciAddress, [u8; 256]>>,
        /// BAR registers made by [`FakeBus::memory_bar`]: only the bits
        /// set here take a written value (the size and type bits are
        /// read-only); other BAR registers ignore writes.
        pub writable: RefCell<BTreeMap<(PciAddress, u8), u32>>,
    }

    impl FakeBus {
        pub fn add(&self, address: PciAddress, space: [u8; 256]) {
            self.spaces.borrow_mut().insert(address, space);
        }

        /// Makes BAR `index` of `address` a memory BAR of `size` bytes (a
        /// power of two, at least 16) at `base` (0: unassigned), 64-bit
        /// (taking the next register too) or 32-bit.
        pub fn memory_bar(&self, address: PciAddress, index: u8, size: u64, sixty_four: bool, base: u64) {
            let offset = 0x10 + 4 * index;
            let mask = !(size - 1);
            let kind = if sixty_four { 0x4 } else { 0 };
            let mut spaces = self.spaces.borrow_mut();
            let space = spaces.get_mut(&address).expect("a function added before its BARs");
            let at = offset as usize;
            space[at..at + 4].copy_from_slice(&((base as u32 & !0xf) | kind).to_le_bytes());
            self.writable.borrow_mut().insert((address, offset), mask as u32 & !0xf);
            if sixty_four {
                space[at + 4..at + 8].copy_from_slice(&((base >> 32) as u32).to_le_bytes());
                self.writable.borrow_mut().insert((address, offset + 4), (mask >> 32) as u32);
            }
        }
    }

    impl ConfigurationAccess for FakeBus {
        fn read_u32(&self, address: PciAddress, offset: u8) -> u32 {
            let spaces = self.spaces.borrow();
            match spaces.get(&address) {
                Some(space) => {
                    let offset = (offset & 0xfc) as usize;
                    u32::from_le_bytes(space[offset..offset + 4].try_into().expect("4 bytes"))
                }
                None => u32::MAX,
            }
        }

        fn write_u32(&self, address: PciAddress, offset: u8, value: u32) {
            let offset = offset & 0xfc;
            let writable = self.writable.borrow().get(&(address, offset)).copied();
            if let Some(space) = self.spaces.borrow_mut().get_mut(&address) {
                let at = offset as usize;
                let old = u32::from_le_bytes(space[at..at + 4].try_into().expect("4 bytes"));
                let value = match writable {
                    Some(mask) => (value & mask) | (old & !mask & 0xf),
                    // An unimplemented BAR is read-only zero.
                    None if (0x10..0x28).contains(&offset) => old,
                    None => value,
                };
                space[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
        }
    }

    /// A type-0 header with these ids and no capabilities.
    pub fn header(vendor_id: u16, device_id: u16) -> [u8; 256] {
        let mut space = [0u8; 256];
        space[0..2].copy_from_slice(&vendor_id.to_le_bytes());
        space[2..4].copy_from_slice(&device_id.to_le_bytes());
        space
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{header, FakeBus};
    use super::*;

    fn at(bus: u8, device: u8, function: u8) -> PciAddress {
        PciAddress { bus, device, function }
    }

    #[test]
    fn finds_functions_behind_bridges_and_multi_function_devices() {
        let bus = FakeBus::default();
        bus.add(at(0, 0, 0), header(0x8086, 0x29c0));
        let mut multi = header(0x1af4, 0x1042);
        multi[HEADER_TYPE as usize] = MULTI_FUNCTION;
        bus.add(at(0, 3, 0), multi);
        bus.add(at(0, 3, 2), header(0x1af4, 0x1044));
        let mut bridge = header(0x1b36, 0x000c);
        bridge[HEADER_TYPE as usize] = HEADER_BRIDGE;
        bridge[SECONDARY_BUS as usize] = 1;
        bus.add(at(0, 4, 0), bridge);
        bus.add(at(1, 0, 0), header(0x1af4, 0x1041));
        // A bridge behind the first pointing back at bus 0: not followed.
        let mut looping = header(0x1b36, 0x000c);
        looping[HEADER_TYPE as usize] = HEADER_BRIDGE;
        bus.add(at(1, 1, 0), looping);
        let found: Vec<(PciAddress, u16)> =
            enumerate(&bus).iter().map(|function| (function.address, function.device_id)).collect();
        assert_eq!(
            found,
            [
                (at(0, 0, 0), 0x29c0),
                (at(0, 3, 0), 0x1042),
                (at(0, 3, 2), 0x1044),
                (at(0, 4, 0), 0x000c),
                (at(1, 0, 0), 0x1041),
                (at(1, 1, 0), 0x000c)
            ]
        );
    }

    #[test]
    fn capability_walk_stops_at_loops_and_bad_pointers() {
        let bus = FakeBus::default();
        let mut space = header(0x1af4, 0x1042);
        space[STATUS as usize] = STATUS_CAPABILITIES as u8;
        space[CAPABILITIES_POINTER as usize] = 0x40;
        space[0x40] = 0x11;
        space[0x41] = 0x50;
        space[0x50] = 0x09;
        space[0x51] = 0x40; // back to the first: a loop
        bus.add(at(0, 1, 0), space);
        let found = capabilities(&bus, at(0, 1, 0));
        assert_eq!(found, [Capability { id: 0x11, offset: 0x40 }, Capability { id: 0x09, offset: 0x50 }]);

        let mut into_header = header(0x1af4, 0x1042);
        into_header[STATUS as usize] = STATUS_CAPABILITIES as u8;
        into_header[CAPABILITIES_POINTER as usize] = 0x10;
        bus.add(at(0, 2, 0), into_header);
        assert!(capabilities(&bus, at(0, 2, 0)).is_empty());
    }

    #[test]
    fn bars_decode_memory_io_and_64_bit() {
        let bus = FakeBus::default();
        let mut space = header(0x1af4, 0x1042);
        space[0x10..0x14].copy_from_slice(&0xc041u32.to_le_bytes()); // I/O
        space[0x14..0x18].copy_from_slice(&0xfebd_1000u32.to_le_bytes()); // 32-bit memory
        space[0x20..0x24].copy_from_slice(&0xfe00_000cu32.to_le_bytes()); // 64-bit prefetchable
        space[0x24..0x28].copy_from_slice(&0x1u32.to_le_bytes());
        bus.add(at(0, 1, 0), space);
        let address = at(0, 1, 0);
        assert_eq!(bar(&bus, address, 0), Some(Bar::Io { port: 0xc040 }));
        assert_eq!(bar(&bus, address, 1), Some(Bar::Memory { address: 0xfebd_1000, prefetchable: false }));
        assert_eq!(bar(&bus, address, 2), None);
        assert_eq!(bar(&bus, address, 4), Some(Bar::Memory { address: 0x1_fe00_0000, prefetchable: true }));
        assert_eq!(bar(&bus, address, 6), None);
    }

    #[test]
    fn enable_keeps_other_command_bits() {
        let bus = FakeBus::default();
        let mut space = header(0x1af4, 0x1042);
        space[COMMAND as usize] = 0x01;
        bus.add(at(0, 1, 0), space);
        enable(&bus, at(0, 1, 0), COMMAND_MEMORY | COMMAND_BUS_MASTER);
        assert_eq!(bus.read_u16(at(0, 1, 0), COMMAND), 0x07);
    }
}
