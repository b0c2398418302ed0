//! Giving addresses to memory BARs the firmware left unassigned.
//!
//! SeaBIOS assigns every BAR before the kernel starts; a minimal firmware
//! such as qboot (a tenth of SeaBIOS's start-up time, docs/boot.md) leaves
//! 64-bit BARs at zero, and virtio's structures live in one. The owner of
//! PCI configuration space then does what Linux does for a BAR its
//! firmware left empty: sizes it (all ones written, the read-back's
//! zeroed low bits give the size), places it naturally aligned in a window
//! of physical addresses the board routes to PCI, clear of every BAR
//! already placed, and writes the address. Only functions on bus 0 are
//! placed: a function behind a bridge is reachable only through the
//! bridge's own window, which this does not program, so it is reported
//! as left out, never given an address the bridge would not forward.
//!
//! Everything goes through [`ConfigurationAccess`], so the host tests run
//! it against simulated functions whose BARs size as hardware's do.

use crate::pci::{ConfigurationAccess, Function, PciAddress, BAR0, COMMAND, HEADER_TYPE};
use alloc::vec::Vec;

/// Physical addresses `[start, end)` the board routes to PCI memory space
/// and nothing else uses (no RAM, no fixed device).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub end: u64,
}

/// One memory BAR as the function decodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBar {
    pub function: PciAddress,
    pub index: u8,
    /// A power of two, at least 16 bytes.
    pub size: u64,
    pub sixty_four_bit: bool,
    /// 0 while unassigned.
    pub base: u64,
}

/// What happened to one BAR that had no address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    Placed(MemoryBar),
    /// No room left in the window for a BAR of this size.
    NoRoom(MemoryBar),
    /// Behind a bridge: left as it was (see the module's comment).
    BehindBridge(MemoryBar),
    /// A 32-bit BAR whose window lies above 4 GiB.
    OutOfReach(MemoryBar),
}

const HEADER_NORMAL: u8 = 0;
const CLASS_BRIDGE: u8 = 0x06;
const COMMAND_DECODE: u16 = 0b11; // I/O and memory space

/// Places the memory BARs of `functions` the firmware left at zero (see
/// [`assign`]). Every BAR is sized, as Linux does at every boot: a BAR
/// at zero cannot be told from an unimplemented one without it, and
/// sizing leaves every register as it found it.
pub fn assign_unassigned(access: &impl ConfigurationAccess, functions: &[Function], window: Window) -> Vec<Placement> {
    let sized: Vec<Function> = functions.iter().copied().filter(is_sized).collect();
    assign(access, &memory_bars(access, &sized), window)
}

/// Bridges (host, ISA, PCI-to-PCI) are never sized: switching their
/// decoding off, even briefly, cuts off what lies behind them (the serial
/// port sits behind the ISA bridge).
fn is_sized(function: &Function) -> bool {
    function.class.0 != CLASS_BRIDGE
}

/// Every memory BAR of the ordinary (type 0) functions in `functions`,
/// sized. Decoding is switched off while a BAR holds all ones, as the
/// sizing would otherwise make the function claim addresses it does not
/// own, and restored after.
pub fn memory_bars(access: &impl ConfigurationAccess, functions: &[Function]) -> Vec<MemoryBar> {
    let mut bars = Vec::new();
    for function in functions {
        let address = function.address;
        if access.read_u8(address, HEADER_TYPE) & 0x7f != HEADER_NORMAL {
            continue;
        }
        let command = access.read_u16(address, COMMAND);
        access.write_u32(address, COMMAND, (command & !COMMAND_DECODE) as u32);
        let mut index = 0;
        while index < 6 {
            let (bar, registers) = size_bar(access, address, index);
            bars.extend(bar);
            index += registers;
        }
        access.write_u32(address, COMMAND, command as u32);
    }
    bars
}

/// Sizes BAR `index`: the memory BAR it is, if any, and how many
/// registers it takes (2 for a 64-bit one).
fn size_bar(access: &impl ConfigurationAccess, address: PciAddress, index: u8) -> (Option<MemoryBar>, u8) {
    let offset = BAR0 + 4 * index;
    let low = access.read_u32(address, offset);
    if low & 1 == 1 {
        return (None, 1); // I/O space
    }
    let sixty_four_bit = match (low >> 1) & 3 {
        0 => false,
        2 if index < 5 => true,
        _ => return (None, 1), // reserved type, or 64-bit in the last slot
    };
    let registers = if sixty_four_bit { 2 } else { 1 };
    let high = if sixty_four_bit { access.read_u32(address, offset + 4) } else { 0 };
    access.write_u32(address, offset, u32::MAX);
    let low_mask = access.read_u32(address, offset) & !0xf;
    access.write_u32(address, offset, low);
    let high_mask = if sixty_four_bit {
        access.write_u32(address, offset + 4, u32::MAX);
        let mask = access.read_u32(address, offset + 4);
        access.write_u32(address, offset + 4, high);
        mask
    } else {
        u32::MAX // a 32-bit BAR decodes nothing above 4 GiB
    };
    if low_mask == 0 && (!sixty_four_bit || high_mask == 0) {
        return (None, registers); // not implemented
    }
    let size = (!((high_mask as u64) << 32 | low_mask as u64)).wrapping_add(1);
    if size < 16 || !size.is_power_of_two() {
        return (None, registers); // a mask no BAR can have: not trusted
    }
    let base = (low & !0xf) as u64 | (high as u64) << 32;
    (Some(MemoryBar { function: address, index, size, sixty_four_bit, base }), registers)
}

/// Places every unassigned BAR of `bars` in `window`, largest first (so
/// natural alignment wastes least), clear of the assigned ones, and
/// writes each address placed. Assigned BARs are left as they are.
pub fn assign(access: &impl ConfigurationAccess, bars: &[MemoryBar], window: Window) -> Vec<Placement> {
    let mut taken: Vec<(u64, u64)> =
        bars.iter().filter(|bar| bar.base != 0).map(|bar| (bar.base, bar.base.saturating_add(bar.size))).collect();
    let mut unassigned: Vec<MemoryBar> = bars.iter().copied().filter(|bar| bar.base == 0).collect();
    unassigned.sort_by_key(|bar| (core::cmp::Reverse(bar.size), bar.function, bar.index));
    let mut placements = Vec::new();
    for mut bar in unassigned {
        if bar.function.bus != 0 {
            placements.push(Placement::BehindBridge(bar));
            continue;
        }
        if !bar.sixty_four_bit && window.start >= 1 << 32 {
            placements.push(Placement::OutOfReach(bar));
            continue;
        }
        let limit = if bar.sixty_four_bit { window.end } else { window.end.min(1 << 32) };
        match lowest_free(&taken, bar.size, Window { start: window.start, end: limit }) {
            Some(base) => {
                write_base(access, &bar, base);
                taken.push((base, base + bar.size));
                bar.base = base;
                placements.push(Placement::Placed(bar));
            }
            None => placements.push(Placement::NoRoom(bar)),
        }
    }
    placements
}

/// The lowest `size`-aligned address in `window` whose `size` bytes
/// overlap nothing in `taken`.
fn lowest_free(taken: &[(u64, u64)], size: u64, window: Window) -> Option<u64> {
    let mut candidate = window.start.checked_next_multiple_of(size)?;
    loop {
        let end = candidate.checked_add(size)?;
        if end > window.end {
            return None;
        }
        match taken.iter().filter(|&&(start, stop)| start < end && candidate < stop).map(|&(_, stop)| stop).max() {
            None => return Some(candidate),
            Some(stop) => candidate = stop.checked_next_multiple_of(size)?,
        }
    }
}

fn write_base(access: &impl ConfigurationAccess, bar: &MemoryBar, base: u64) {
    let offset = BAR0 + 4 * bar.index;
    let kind = access.read_u32(bar.function, offset) & 0xf;
    access.write_u32(bar.function, offset, base as u32 & !0xf | kind);
    if bar.sixty_four_bit {
        access.write_u32(bar.function, offset + 4, (base >> 32) as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pci::fake::{header, FakeBus};
    use crate::pci::{bar, enumerate, Bar};

    fn at(bus: u8, device: u8) -> PciAddress {
        PciAddress { bus, device, function: 0 }
    }

    const WINDOW: Window = Window { start: 0xc000_0000, end: 0xfec0_0000 };

    /// QEMU q35 under qboot: virtio functions with a 4 KiB 32-bit BAR 1
    /// and a 16 KiB 64-bit BAR 4, all unassigned, and one assigned BAR.
    fn q35_under_qboot() -> FakeBus {
        let bus = FakeBus::default();
        for device in [2, 3] {
            bus.add(at(0, device), header(0x1af4, 0x1001));
            bus.memory_bar(at(0, device), 1, 0x1000, false, 0);
            bus.memory_bar(at(0, device), 4, 0x4000, true, 0);
        }
        bus.add(at(0, 1), header(0x1234, 0x1111));
        bus.memory_bar(at(0, 1), 0, 0x100_0000, false, 0xc000_0000);
        bus
    }

    #[test]
    fn sizes_32_and_64_bit_bars_and_skips_io_and_unimplemented() {
        let bus = q35_under_qboot();
        let mut space = bus.spaces.borrow()[&at(0, 2)];
        space[COMMAND as usize] = 0x07;
        space[0x10..0x14].copy_from_slice(&0xc041u32.to_le_bytes()); // BAR 0: I/O
        bus.spaces.borrow_mut().insert(at(0, 2), space);
        let bars = memory_bars(&bus, &enumerate(&bus));
        let found: Vec<(PciAddress, u8, u64, bool, u64)> =
            bars.iter().map(|bar| (bar.function, bar.index, bar.size, bar.sixty_four_bit, bar.base)).collect();
        assert_eq!(
            found,
            [
                (at(0, 1), 0, 0x100_0000, false, 0xc000_0000),
                (at(0, 2), 1, 0x1000, false, 0),
                (at(0, 2), 4, 0x4000, true, 0),
                (at(0, 3), 1, 0x1000, false, 0),
                (at(0, 3), 4, 0x4000, true, 0),
            ]
        );
        // Sizing left every register and the command word as found.
        assert_eq!(bus.read_u32(at(0, 2), BAR0), 0xc041);
        assert_eq!(bus.read_u16(at(0, 2), COMMAND), 0x07);
        assert_eq!(bus.read_u32(at(0, 1), BAR0), 0xc000_0000);
    }

    #[test]
    fn places_unassigned_bars_aligned_and_clear_of_assigned_ones() {
        let bus = q35_under_qboot();
        let bars = memory_bars(&bus, &enumerate(&bus));
        let placements = assign(&bus, &bars, WINDOW);
        assert_eq!(placements.len(), 4);
        assert!(placements.iter().all(|placement| matches!(placement, Placement::Placed(_))));
        let mut ranges: Vec<(u64, u64)> =
            bars.iter().filter(|bar| bar.base != 0).map(|bar| (bar.base, bar.size)).collect();
        for placement in &placements {
            let Placement::Placed(placed) = placement else { unreachable!() };
            assert_eq!(placed.base % placed.size, 0, "naturally aligned");
            assert!(placed.base >= WINDOW.start && placed.base + placed.size <= WINDOW.end);
            ranges.push((placed.base, placed.size));
            // Written where the driver reads it.
            assert_eq!(
                bar(&bus, placed.function, placed.index),
                Some(Bar::Memory { address: placed.base, prefetchable: false })
            );
        }
        ranges.sort();
        for pair in ranges.windows(2) {
            assert!(pair[0].0 + pair[0].1 <= pair[1].0, "{pair:x?} overlap");
        }
        // The 16 MiB BAR at the window's start pushes everything above it.
        assert!(ranges[1..].iter().all(|&(base, _)| base >= 0xc100_0000));
    }

    #[test]
    fn leaves_bridged_functions_and_reports_a_full_window() {
        let bus = q35_under_qboot();
        bus.add(at(1, 0), header(0x1af4, 0x1042));
        bus.memory_bar(at(1, 0), 4, 0x4000, true, 0);
        let mut bars = memory_bars(&bus, &enumerate(&bus));
        bars.push(MemoryBar { function: at(1, 0), index: 4, size: 0x4000, sixty_four_bit: true, base: 0 });
        let tiny = Window { start: 0xc000_0000, end: 0xc100_4000 };
        let placements = assign(&bus, &bars, tiny);
        let placed = placements.iter().filter(|placement| matches!(placement, Placement::Placed(_))).count();
        let no_room = placements.iter().filter(|placement| matches!(placement, Placement::NoRoom(_))).count();
        assert_eq!((placed, no_room), (1, 3));
        assert!(placements
            .iter()
            .any(|placement| matches!(placement, Placement::BehindBridge(bar) if bar.function == at(1, 0))));
        assert_eq!(bus.read_u32(at(1, 0), BAR0 + 16), 0x4, "a bridged BAR is not written");
    }

    #[test]
    fn leaves_everything_as_found_when_the_firmware_assigned_every_bar() {
        let bus = FakeBus::default();
        bus.add(at(0, 2), header(0x1af4, 0x1001));
        bus.memory_bar(at(0, 2), 1, 0x1000, false, 0xfebd_1000);
        bus.memory_bar(at(0, 2), 4, 0x4000, true, 0xfe00_0000);
        let before = bus.spaces.borrow().clone();
        assert!(assign_unassigned(&bus, &enumerate(&bus), WINDOW).is_empty());
        assert_eq!(*bus.spaces.borrow(), before);
    }

    #[test]
    fn never_sizes_a_bridge() {
        let bus = q35_under_qboot();
        let mut isa = header(0x8086, 0x2918);
        isa[0x0b] = CLASS_BRIDGE;
        isa[COMMAND as usize] = 0x03;
        bus.add(at(0, 31), isa);
        bus.memory_bar(at(0, 31), 0, 0x1000, false, 0);
        let placements = assign_unassigned(&bus, &enumerate(&bus), WINDOW);
        assert_eq!(placements.len(), 4);
        assert!(placements
            .iter()
            .all(|placement| !matches!(placement, Placement::Placed(bar) if bar.function == at(0, 31))));
        assert_eq!(bus.read_u32(at(0, 31), BAR0), 0);
    }

    #[test]
    fn lowest_free_skips_overlaps_and_respects_the_window_end() {
        let window = Window { start: 0x1000, end: 0x10000 };
        assert_eq!(lowest_free(&[], 0x4000, window), Some(0x4000));
        assert_eq!(lowest_free(&[(0x4000, 0x5000)], 0x4000, window), Some(0x8000));
        assert_eq!(lowest_free(&[(0x4000, 0x5000), (0x8000, 0x10000)], 0x4000, window), None);
        assert_eq!(lowest_free(&[], 0x1000, Window { start: u64::MAX - 0x10, end: u64::MAX }), None);
    }
}
