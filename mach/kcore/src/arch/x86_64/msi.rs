//! Message-signalled interrupts (MSI and MSI-X) on the local APIC.
//!
//! A PCI device signals an MSI by writing a 32-bit `data` value to a
//! physical `address` in the local APIC's window (0xfee0_0000): the address
//! selects the destination APIC, the data the vector and delivery mode. No
//! I/O APIC pin is involved, so nothing here can be masked: masking is the
//! device's (the MSI-X table entry's mask bit, which its driver owns).
//!
//! The kernel gives out vectors from one range, [`FIRST_VECTOR`] ..
//! [`FIRST_VECTOR`] + [`VECTOR_COUNT`], above the I/O APIC's pins and below
//! the spurious vector. Each binding's interrupt number (what its messages
//! carry and what `interrupt_acknowledge` takes) is its vector.

use super::ioapic;

/// First vector handed out for message-signalled interrupts.
pub const FIRST_VECTOR: u8 = 80;
/// How many vectors there are to hand out (80..144).
pub const VECTOR_COUNT: usize = 64;

const _: () = assert!(FIRST_VECTOR as u32 >= ioapic::FIRST_VECTOR as u32 + ioapic::LINE_COUNT);
const _: () = assert!((FIRST_VECTOR as usize) + VECTOR_COUNT < super::idt::SPURIOUS_VECTOR as usize);

/// The MSI address window of the local APICs (Intel SDM vol. 3, 11.11.1).
const MESSAGE_ADDRESS_BASE: u64 = 0xfee0_0000;

/// The vector of binding slot `index`.
pub const fn vector_of(index: usize) -> u8 {
    FIRST_VECTOR + index as u8
}

/// The binding slot of `vector`, if it is one of the MSI vectors.
pub fn index_of_vector(vector: u64) -> Option<usize> {
    let index = vector.checked_sub(FIRST_VECTOR as u64)? as usize;
    (index < VECTOR_COUNT).then_some(index)
}

/// The address a device writes to raise an interrupt on the boot CPU:
/// physical destination mode, no redirection hint, destination = its APIC id.
pub fn message_address() -> u64 {
    MESSAGE_ADDRESS_BASE | (super::timer::local_apic_id() as u64) << 12
}

/// The data a device writes for `vector`: fixed delivery, edge triggered.
pub const fn message_data(vector: u8) -> u32 {
    vector as u32
}
