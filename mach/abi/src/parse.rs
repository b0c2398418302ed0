//! The safe message parser/validator and the message encoder.
//!
//! [`parse`] is the one place where untrusted message bytes are checked: the
//! kernel runs it on every send and generated server code runs it on every
//! request. It never panics and never allocates; on success every descriptor
//! the [`MessageView`] yields is known to be well-formed.

use crate::message::*;
use crate::port::{Disposition, PortName};
use crate::return_code::MachMsgReturn;

/// Why a byte buffer is not a valid message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than a header (or a complex message without room for its body).
    TooSmall { length: usize },
    /// Longer than [`MACH_MSG_SIZE_MAX`].
    TooLarge { length: usize },
    /// Length not a multiple of 4.
    Misaligned { length: usize },
    /// `msgh_size` differs from the buffer's length.
    SizeMismatch { header_size: u32, length: usize },
    /// Bits outside [`MACH_MSGH_BITS_USER`] are set.
    ReservedBits { bits: u32 },
    /// The remote, local or voucher disposition is not a valid one.
    InvalidHeaderDisposition { field: HeaderPort, value: u32 },
    /// A non-null voucher port was given (vouchers are not supported).
    VoucherNotSupported,
    /// More than [`MACH_MSG_DESCRIPTORS_MAX`] descriptors.
    TooManyDescriptors { count: u32 },
    /// The descriptors do not fit in the message.
    DescriptorsExceedSize { count: u32, length: usize },
    /// Descriptor `index` has an unknown type tag.
    InvalidDescriptorType { index: usize, value: u8 },
    /// Descriptor `index` has an invalid disposition.
    InvalidDisposition { index: usize, value: u8 },
    /// Descriptor `index` has an invalid copy option.
    InvalidCopyOption { index: usize, value: u8 },
    /// Descriptor `index` describes more memory or names than allowed.
    OutOfLineTooLarge { index: usize },
}

/// Which header port a [`ParseError::InvalidHeaderDisposition`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderPort {
    Remote,
    Local,
    Voucher,
}

impl ParseError {
    /// The `mach_msg` return code a send reports for this error (xnu's choice
    /// for each case).
    pub const fn to_mach_msg_return(self) -> MachMsgReturn {
        match self {
            ParseError::TooSmall { .. } | ParseError::Misaligned { .. } | ParseError::DescriptorsExceedSize { .. } => {
                MachMsgReturn::SendMsgTooSmall
            }
            ParseError::TooLarge { .. }
            | ParseError::TooManyDescriptors { .. }
            | ParseError::OutOfLineTooLarge { .. } => MachMsgReturn::SendTooLarge,
            ParseError::SizeMismatch { .. }
            | ParseError::ReservedBits { .. }
            | ParseError::InvalidHeaderDisposition { .. } => MachMsgReturn::SendInvalidHeader,
            ParseError::VoucherNotSupported => MachMsgReturn::SendInvalidVoucher,
            ParseError::InvalidDescriptorType { .. }
            | ParseError::InvalidDisposition { .. }
            | ParseError::InvalidCopyOption { .. } => MachMsgReturn::SendInvalidType,
        }
    }
}

/// One decoded descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Descriptor {
    /// A port right.
    Port { name: PortName, disposition: Disposition },
    /// Out-of-line memory.
    OutOfLineMemory { address: u64, size: u32, deallocate: bool, copy: CopyOption },
    /// An out-of-line array of `count` names, all with one disposition.
    OutOfLinePorts { address: u64, count: u32, disposition: Disposition, deallocate: bool, copy: CopyOption },
}

impl Descriptor {
    /// Decodes and validates the 16 bytes of descriptor number `index`.
    pub fn decode(bytes: &[u8; MACH_MSG_DESCRIPTOR_SIZE], index: usize) -> Result<Descriptor, ParseError> {
        let type_value = bytes[MACH_MSG_DESCRIPTOR_TYPE_OFFSET];
        let descriptor_type = DescriptorType::from_u32(type_value as u32)
            .ok_or(ParseError::InvalidDescriptorType { index, value: type_value })?;
        let disposition =
            |value: u8| Disposition::from_u32(value as u32).ok_or(ParseError::InvalidDisposition { index, value });
        let copy = |value: u8| CopyOption::from_u32(value as u32).ok_or(ParseError::InvalidCopyOption { index, value });
        let word = |offset: usize| {
            u32::from_le_bytes([bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]])
        };
        let address = word(0) as u64 | ((word(4) as u64) << 32);
        match descriptor_type {
            DescriptorType::Port => Ok(Descriptor::Port { name: word(0), disposition: disposition(bytes[10])? }),
            DescriptorType::OutOfLineMemory => {
                let size = word(12);
                if size as u64 > MACH_MSG_OOL_SIZE_MAX {
                    return Err(ParseError::OutOfLineTooLarge { index });
                }
                Ok(Descriptor::OutOfLineMemory { address, size, deallocate: bytes[8] != 0, copy: copy(bytes[9])? })
            }
            DescriptorType::OutOfLinePorts => {
                let count = word(12);
                if count as usize > MACH_MSG_OOL_PORTS_MAX {
                    return Err(ParseError::OutOfLineTooLarge { index });
                }
                Ok(Descriptor::OutOfLinePorts {
                    address,
                    count,
                    disposition: disposition(bytes[10])?,
                    deallocate: bytes[8] != 0,
                    copy: copy(bytes[9])?,
                })
            }
        }
    }

    /// The descriptor's 16 bytes (padding zeroed).
    pub fn encode(&self) -> [u8; MACH_MSG_DESCRIPTOR_SIZE] {
        let mut bytes = [0u8; MACH_MSG_DESCRIPTOR_SIZE];
        match *self {
            Descriptor::Port { name, disposition } => {
                bytes[0..4].copy_from_slice(&name.to_le_bytes());
                bytes[10] = disposition as u8;
                bytes[MACH_MSG_DESCRIPTOR_TYPE_OFFSET] = DescriptorType::Port as u8;
            }
            Descriptor::OutOfLineMemory { address, size, deallocate, copy } => {
                bytes[0..8].copy_from_slice(&address.to_le_bytes());
                bytes[8] = deallocate as u8;
                bytes[9] = copy as u8;
                bytes[MACH_MSG_DESCRIPTOR_TYPE_OFFSET] = DescriptorType::OutOfLineMemory as u8;
                bytes[12..16].copy_from_slice(&size.to_le_bytes());
            }
            Descriptor::OutOfLinePorts { address, count, disposition, deallocate, copy } => {
                bytes[0..8].copy_from_slice(&address.to_le_bytes());
                bytes[8] = deallocate as u8;
                bytes[9] = copy as u8;
                bytes[10] = disposition as u8;
                bytes[MACH_MSG_DESCRIPTOR_TYPE_OFFSET] = DescriptorType::OutOfLinePorts as u8;
                bytes[12..16].copy_from_slice(&count.to_le_bytes());
            }
        }
        bytes
    }
}

/// A validated message: its header, descriptors and inline data, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageView<'a> {
    /// The header as sent.
    pub header: MachMsgHeader,
    descriptor_bytes: &'a [u8],
    /// Inline data after the header (and after the descriptors if complex).
    pub inline_data: &'a [u8],
}

impl<'a> MessageView<'a> {
    /// True when the complex bit is set.
    pub fn is_complex(&self) -> bool {
        msgh_bits_is_complex(self.header.bits)
    }

    /// Number of descriptors (0 for a simple message).
    pub fn descriptor_count(&self) -> usize {
        self.descriptor_bytes.len() / MACH_MSG_DESCRIPTOR_SIZE
    }

    /// The remote port's disposition (validated by [`parse`]).
    pub fn remote_disposition(&self) -> Option<Disposition> {
        Disposition::from_u32(msgh_bits_remote(self.header.bits))
    }

    /// The local port's disposition, `None` when zero.
    pub fn local_disposition(&self) -> Option<Disposition> {
        Disposition::from_u32(msgh_bits_local(self.header.bits))
    }

    /// The descriptors, decoded. [`parse`] validated each already, so the
    /// iterator yields no errors for a view it returned.
    pub fn descriptors(&self) -> impl Iterator<Item = Descriptor> + 'a {
        self.descriptor_bytes.chunks_exact(MACH_MSG_DESCRIPTOR_SIZE).enumerate().filter_map(|(index, chunk)| {
            let mut bytes = [0u8; MACH_MSG_DESCRIPTOR_SIZE];
            bytes.copy_from_slice(chunk);
            Descriptor::decode(&bytes, index).ok()
        })
    }
}

/// Header dispositions a sender may write for the remote (destination) port.
fn valid_remote(value: u32) -> bool {
    matches!(
        Disposition::from_u32(value),
        Some(
            Disposition::MoveSend
                | Disposition::CopySend
                | Disposition::MakeSend
                | Disposition::MoveSendOnce
                | Disposition::MakeSendOnce
        )
    )
}

/// Checks `bytes` as a message of exactly `bytes.len()` bytes.
///
/// Checks, in order: length bounds and 4-byte alignment, `msgh_size` equal to
/// the length, reserved bits, header dispositions (remote must be a send kind;
/// local zero or a send kind; voucher zero), then for a complex message the
/// descriptor count against the limit and the length, and each descriptor's
/// type, disposition, copy option and out-of-line bounds. The destination
/// being `MACH_PORT_NULL` is the kernel's `MACH_SEND_INVALID_DEST`, not a
/// parse error.
pub fn parse(bytes: &[u8]) -> Result<MessageView<'_>, ParseError> {
    parse_message(bytes, Direction::Send)
}

/// Checks a received buffer: the message (`msgh_size` bytes) followed by
/// the trailer. Same checks as [`parse`], except that the remote
/// (reply) port may be absent, as it is in a message that had no reply port.
/// Generated server code and libmach use this on what `mach_msg` received.
pub fn parse_received(bytes: &[u8]) -> Result<(MessageView<'_>, MachMsgTrailer), ParseError> {
    let header = MachMsgHeader::read_from(bytes).ok_or(ParseError::TooSmall { length: bytes.len() })?;
    let size = header.size as usize;
    let trailer_bytes = size
        .checked_add(MACH_MSG_TRAILER_SIZE)
        .and_then(|end| bytes.get(size..end))
        .ok_or(ParseError::SizeMismatch { header_size: header.size, length: bytes.len() })?;
    let trailer = MachMsgTrailer::read_from(trailer_bytes).ok_or(ParseError::TooSmall { length: bytes.len() })?;
    Ok((parse_message(&bytes[..size], Direction::Receive)?, trailer))
}

/// [`parse_received`] for a receive made with `MACH_RCV_TRAILER_AUDIT`:
/// the message followed by a [`MachMsgAuditTrailer`], whose credential is
/// the sender's as the kernel recorded it when the message was sent (what a
/// server checks permissions against).
pub fn parse_received_audit(bytes: &[u8]) -> Result<(MessageView<'_>, MachMsgAuditTrailer), ParseError> {
    let header = MachMsgHeader::read_from(bytes).ok_or(ParseError::TooSmall { length: bytes.len() })?;
    let size = header.size as usize;
    let trailer_bytes = size
        .checked_add(MACH_MSG_AUDIT_TRAILER_SIZE)
        .and_then(|end| bytes.get(size..end))
        .ok_or(ParseError::SizeMismatch { header_size: header.size, length: bytes.len() })?;
    let trailer = MachMsgAuditTrailer::read_from(trailer_bytes)
        .ok_or(ParseError::SizeMismatch { header_size: header.size, length: bytes.len() })?;
    Ok((parse_message(&bytes[..size], Direction::Receive)?, trailer))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Send,
    Receive,
}

fn parse_message(bytes: &[u8], direction: Direction) -> Result<MessageView<'_>, ParseError> {
    let length = bytes.len();
    if length < MACH_MSG_SIZE_MIN {
        return Err(ParseError::TooSmall { length });
    }
    if length > MACH_MSG_SIZE_MAX {
        return Err(ParseError::TooLarge { length });
    }
    if !length.is_multiple_of(4) {
        return Err(ParseError::Misaligned { length });
    }
    let header = MachMsgHeader::read_from(bytes).ok_or(ParseError::TooSmall { length })?;
    if header.size as usize != length {
        return Err(ParseError::SizeMismatch { header_size: header.size, length });
    }
    if header.bits & !MACH_MSGH_BITS_USER != 0 {
        return Err(ParseError::ReservedBits { bits: header.bits });
    }
    let remote = msgh_bits_remote(header.bits);
    if !(valid_remote(remote) || (direction == Direction::Receive && remote == 0)) {
        return Err(ParseError::InvalidHeaderDisposition { field: HeaderPort::Remote, value: remote });
    }
    let local = msgh_bits_local(header.bits);
    if local != 0 && !valid_remote(local) {
        return Err(ParseError::InvalidHeaderDisposition { field: HeaderPort::Local, value: local });
    }
    let voucher = msgh_bits_voucher(header.bits);
    if voucher != 0 {
        return Err(ParseError::InvalidHeaderDisposition { field: HeaderPort::Voucher, value: voucher });
    }
    if header.voucher_port != 0 {
        return Err(ParseError::VoucherNotSupported);
    }
    if !msgh_bits_is_complex(header.bits) {
        return Ok(MessageView { header, descriptor_bytes: &[], inline_data: &bytes[MACH_MSG_HEADER_SIZE..] });
    }
    let descriptors_start = MACH_MSG_HEADER_SIZE + MACH_MSG_BODY_SIZE;
    let count = read_u32(bytes, MACH_MSG_HEADER_SIZE).ok_or(ParseError::TooSmall { length })?;
    if count as usize > MACH_MSG_DESCRIPTORS_MAX {
        return Err(ParseError::TooManyDescriptors { count });
    }
    let descriptors_end = descriptors_start + count as usize * MACH_MSG_DESCRIPTOR_SIZE;
    if descriptors_end > length {
        return Err(ParseError::DescriptorsExceedSize { count, length });
    }
    let descriptor_bytes = &bytes[descriptors_start..descriptors_end];
    for (index, chunk) in descriptor_bytes.chunks_exact(MACH_MSG_DESCRIPTOR_SIZE).enumerate() {
        let mut raw = [0u8; MACH_MSG_DESCRIPTOR_SIZE];
        raw.copy_from_slice(chunk);
        Descriptor::decode(&raw, index)?;
    }
    Ok(MessageView { header, descriptor_bytes, inline_data: &bytes[descriptors_end..] })
}

/// Why [`MessageEncoder`] could not encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The buffer is too small for what was added.
    BufferTooSmall { needed: usize },
    /// The message would exceed [`MACH_MSG_SIZE_MAX`].
    TooLarge,
    /// More than [`MACH_MSG_DESCRIPTORS_MAX`] descriptors.
    TooManyDescriptors,
    /// A descriptor was added after inline data (descriptors come first).
    DescriptorAfterData,
}

/// Encodes a message into a caller's buffer (no allocation).
///
/// Add descriptors first, then inline data; [`MessageEncoder::finish`]
/// writes the header with its size and, if any descriptor was added, the
/// complex bit and the body. Inline data is padded with zeros to 4 bytes.
pub struct MessageEncoder<'a> {
    buffer: &'a mut [u8],
    header: MachMsgHeader,
    complex: bool,
    descriptor_count: u32,
    length: usize,
    data_started: bool,
}

impl<'a> MessageEncoder<'a> {
    /// Starts a message with these header fields (`size` and the complex bit
    /// are computed). Set `complex` to force a body even with no descriptor.
    pub fn new(buffer: &'a mut [u8], header: MachMsgHeader, complex: bool) -> MessageEncoder<'a> {
        MessageEncoder {
            buffer,
            header,
            complex,
            descriptor_count: 0,
            length: MACH_MSG_HEADER_SIZE + if complex { MACH_MSG_BODY_SIZE } else { 0 },
            data_started: false,
        }
    }

    /// Appends a descriptor.
    pub fn descriptor(&mut self, descriptor: Descriptor) -> Result<&mut Self, EncodeError> {
        if self.data_started {
            return Err(EncodeError::DescriptorAfterData);
        }
        if self.descriptor_count as usize >= MACH_MSG_DESCRIPTORS_MAX {
            return Err(EncodeError::TooManyDescriptors);
        }
        if !self.complex {
            self.complex = true;
            self.length += MACH_MSG_BODY_SIZE;
        }
        let encoded = descriptor.encode();
        self.append(&encoded)?;
        self.descriptor_count += 1;
        Ok(self)
    }

    /// Appends inline data, zero-padded to a multiple of 4 bytes.
    pub fn inline_data(&mut self, data: &[u8]) -> Result<&mut Self, EncodeError> {
        self.data_started = true;
        self.append(data)?;
        let padding = (4 - data.len() % 4) % 4;
        self.append(&[0u8; 3][..padding])?;
        Ok(self)
    }

    fn append(&mut self, data: &[u8]) -> Result<(), EncodeError> {
        let end = self.length + data.len();
        if end > MACH_MSG_SIZE_MAX {
            return Err(EncodeError::TooLarge);
        }
        let target = self.buffer.get_mut(self.length..end).ok_or(EncodeError::BufferTooSmall { needed: end })?;
        target.copy_from_slice(data);
        self.length = end;
        Ok(())
    }

    /// Writes the header (and body) and returns the message length.
    pub fn finish(self) -> Result<usize, EncodeError> {
        if self.buffer.len() < self.length {
            return Err(EncodeError::BufferTooSmall { needed: self.length });
        }
        let mut header = self.header;
        header.size = self.length as u32;
        if self.complex {
            header.bits |= MACH_MSGH_BITS_COMPLEX;
            write_u32(self.buffer, MACH_MSG_HEADER_SIZE, self.descriptor_count)
                .ok_or(EncodeError::BufferTooSmall { needed: self.length })?;
        } else {
            header.bits &= !MACH_MSGH_BITS_COMPLEX;
        }
        header.write_to(self.buffer).ok_or(EncodeError::BufferTooSmall { needed: self.length })?;
        Ok(self.length)
    }
}
