//! The name service's messages (interim, hand-written until the interface
//! generator is merged; then this module is replaced by `names.defs`).
//!
//! | id | request | reply (id + 100) |
//! |----|---------|------------------|
//! | 400 `register` | one port descriptor (the send right), then `u32` length + name bytes | `i32` code |
//! | 401 `lookup` | `u32` length + name bytes | `i32` code, then (code 0 only, complex) one port descriptor |
//!
//! Codes: 0 success, [`NAME_IN_USE`], [`UNKNOWN_NAME`], [`INVALID_NAME`],
//! [`REGISTRY_FULL`], and for malformed requests [`BAD_ID`] and
//! [`BAD_ARGUMENTS`] (MIG's values).

use crate::registry::{check_name, RegistryError, NAME_LENGTH_MAX};
use mach_abi::{
    msgh_bits, parse_received, Descriptor, Disposition, EncodeError, MachMsgHeader, MessageEncoder, MessageView,
    PortName,
};

pub const REGISTER_ID: i32 = 400;
pub const LOOKUP_ID: i32 = 401;
pub const REPLY_OFFSET: i32 = 100;

pub const NAME_IN_USE: i32 = 1101;
pub const UNKNOWN_NAME: i32 = 1102;
pub const INVALID_NAME: i32 = 1103;
pub const REGISTRY_FULL: i32 = 1105;
pub const BAD_ID: i32 = -303;
pub const BAD_ARGUMENTS: i32 = -304;

/// The code a reply carries for a registry error.
pub fn code_of(error: RegistryError) -> i32 {
    match error {
        RegistryError::InvalidName => INVALID_NAME,
        RegistryError::NameInUse => NAME_IN_USE,
        RegistryError::UnknownName => UNKNOWN_NAME,
        RegistryError::Full => REGISTRY_FULL,
    }
}

/// A decoded request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Register { name: &'a [u8], right: PortName },
    Lookup { name: &'a [u8] },
}

/// Why a received message is not a valid request; the server answers with
/// [`RequestError::code`] if there is a reply port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// Not a message at all (the kernel would not deliver one; kept for
    /// buffers that come from elsewhere).
    Unreadable,
    UnknownId(i32),
    /// Wrong size, wrong descriptor count or type, or a bad length field.
    BadArguments,
}

impl RequestError {
    pub fn code(self) -> i32 {
        match self {
            RequestError::UnknownId(_) => BAD_ID,
            RequestError::Unreadable | RequestError::BadArguments => BAD_ARGUMENTS,
        }
    }
}

fn name_field(data: &[u8]) -> Result<&[u8], RequestError> {
    let length = u32::from_le_bytes(data.get(..4).ok_or(RequestError::BadArguments)?.try_into().unwrap_or([0; 4]));
    let length = length as usize;
    if length > NAME_LENGTH_MAX {
        return Err(RequestError::BadArguments);
    }
    let name = data.get(4..4 + length).ok_or(RequestError::BadArguments)?;
    // The padding is the only thing allowed after the name.
    if data.len() != 4 + length.next_multiple_of(4) {
        return Err(RequestError::BadArguments);
    }
    Ok(name)
}

/// Decodes a request from a received message (`view` from
/// [`parse_received`]).
pub fn decode_request<'a>(view: &MessageView<'a>) -> Result<Request<'a>, RequestError> {
    match view.header.id {
        REGISTER_ID => {
            let mut descriptors = view.descriptors();
            let right = match (view.descriptor_count(), descriptors.next()) {
                (1, Some(Descriptor::Port { name, disposition }))
                    if disposition.received_right() == mach_abi::PortRight::Send =>
                {
                    name
                }
                _ => return Err(RequestError::BadArguments),
            };
            Ok(Request::Register { name: name_field(view.inline_data)?, right })
        }
        LOOKUP_ID => {
            if view.is_complex() {
                return Err(RequestError::BadArguments);
            }
            Ok(Request::Lookup { name: name_field(view.inline_data)? })
        }
        other => Err(RequestError::UnknownId(other)),
    }
}

/// Decodes the bytes `mach_msg` received.
pub fn decode_received(bytes: &[u8]) -> Result<(MessageView<'_>, Result<Request<'_>, RequestError>), RequestError> {
    let (view, _) = parse_received(bytes).map_err(|_| RequestError::Unreadable)?;
    Ok((view, decode_request(&view)))
}

fn name_data(name: &[u8], buffer: &mut [u8; 4 + NAME_LENGTH_MAX]) -> Result<usize, EncodeError> {
    check_name(name).map_err(|_| EncodeError::TooLarge)?;
    buffer[..4].copy_from_slice(&(name.len() as u32).to_le_bytes());
    buffer[4..4 + name.len()].copy_from_slice(name);
    Ok(4 + name.len())
}

/// Encodes a request to `service` with a reply port made from `reply`
/// (make-send-once); returns its length.
pub fn encode_request(
    buffer: &mut [u8],
    service: PortName,
    reply: PortName,
    request: Request,
) -> Result<usize, EncodeError> {
    let (id, name) = match request {
        Request::Register { name, .. } => (REGISTER_ID, name),
        Request::Lookup { name } => (LOOKUP_ID, name),
    };
    let header = MachMsgHeader {
        bits: msgh_bits(Disposition::CopySend as u32, Disposition::MakeSendOnce as u32),
        size: 0,
        remote_port: service,
        local_port: reply,
        voucher_port: 0,
        id,
    };
    let mut data = [0u8; 4 + NAME_LENGTH_MAX];
    let length = name_data(name, &mut data)?;
    let mut encoder = MessageEncoder::new(buffer, header, false);
    if let Request::Register { right, .. } = request {
        encoder.descriptor(Descriptor::Port { name: right, disposition: Disposition::CopySend })?;
    }
    encoder.inline_data(&data[..length])?;
    encoder.finish()
}

/// Encodes a reply on the send-once right `reply`: `code`, and for a
/// successful lookup the right to copy.
pub fn encode_reply(
    buffer: &mut [u8],
    reply: PortName,
    request_id: i32,
    code: i32,
    right: Option<PortName>,
) -> Result<usize, EncodeError> {
    let header = MachMsgHeader {
        bits: msgh_bits(Disposition::MoveSendOnce as u32, 0),
        size: 0,
        remote_port: reply,
        local_port: 0,
        voucher_port: 0,
        id: request_id.wrapping_add(REPLY_OFFSET),
    };
    let mut encoder = MessageEncoder::new(buffer, header, false);
    if let Some(name) = right {
        encoder.descriptor(Descriptor::Port { name, disposition: Disposition::CopySend })?;
    }
    encoder.inline_data(&code.to_le_bytes())?;
    encoder.finish()
}

/// What a client reads from a reply: `Ok(Some(right))` for a lookup,
/// `Ok(None)` for a registration, `Err(code)` for a refusal.
pub fn decode_reply(bytes: &[u8], request_id: i32) -> Result<Option<PortName>, i32> {
    let (view, _) = parse_received(bytes).map_err(|_| BAD_ARGUMENTS)?;
    if view.header.id != request_id.wrapping_add(REPLY_OFFSET) {
        return Err(BAD_ID);
    }
    let code = view.inline_data.get(..4).map(|bytes| i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
    match (code, view.descriptors().next()) {
        (Some(0), Some(Descriptor::Port { name, .. })) if request_id == LOOKUP_ID => Ok(Some(name)),
        (Some(0), None) if request_id == REGISTER_ID => Ok(None),
        (Some(0), _) | (None, _) => Err(BAD_ARGUMENTS),
        (Some(code), _) => Err(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mach_abi::{MachMsgTrailer, MACH_MSG_TYPE_PORT_SEND};

    /// What the receiver sees: the header swapped, a trailer appended.
    fn deliver(sent: &[u8]) -> alloc::vec::Vec<u8> {
        let mut bytes = sent.to_vec();
        let mut header = MachMsgHeader::read_from(&bytes).unwrap();
        core::mem::swap(&mut header.remote_port, &mut header.local_port);
        let local = mach_abi::msgh_bits_local(header.bits);
        let remote = mach_abi::msgh_bits_remote(header.bits);
        let received = |value: u32| Disposition::from_u32(value).map_or(0, |disposition| disposition.received_type());
        header.bits = (header.bits & mach_abi::MACH_MSGH_BITS_COMPLEX) | msgh_bits(received(local), received(remote));
        header.write_to(&mut bytes).unwrap();
        // Port descriptors arrive with the received type.
        let view = mach_abi::parse(sent).unwrap();
        for index in 0..view.descriptor_count() {
            bytes[28 + index * 16 + 10] = MACH_MSG_TYPE_PORT_SEND as u8;
        }
        bytes.extend_from_slice(&MachMsgTrailer::new(0, 1).to_bytes());
        bytes
    }

    #[test]
    fn register_and_lookup_round_trip() {
        let mut buffer = [0u8; 256];
        let length = encode_request(&mut buffer, 5, 6, Request::Register { name: b"kv", right: 9 }).unwrap();
        let bytes = deliver(&buffer[..length]);
        let (view, request) = decode_received(&bytes).unwrap();
        assert_eq!(request, Ok(Request::Register { name: b"kv", right: 9 }));
        assert_eq!(view.header.remote_port, 6);
        let length = encode_request(&mut buffer, 5, 6, Request::Lookup { name: b"kv" }).unwrap();
        let bytes = deliver(&buffer[..length]);
        assert_eq!(decode_received(&bytes).unwrap().1, Ok(Request::Lookup { name: b"kv" }));
    }

    #[test]
    fn replies_round_trip() {
        let mut buffer = [0u8; 256];
        let length = encode_reply(&mut buffer, 6, LOOKUP_ID, 0, Some(11)).unwrap();
        assert_eq!(decode_reply(&deliver(&buffer[..length]), LOOKUP_ID), Ok(Some(11)));
        let length = encode_reply(&mut buffer, 6, LOOKUP_ID, UNKNOWN_NAME, None).unwrap();
        assert_eq!(decode_reply(&deliver(&buffer[..length]), LOOKUP_ID), Err(UNKNOWN_NAME));
        let length = encode_reply(&mut buffer, 6, REGISTER_ID, 0, None).unwrap();
        assert_eq!(decode_reply(&deliver(&buffer[..length]), REGISTER_ID), Ok(None));
        assert_eq!(decode_reply(&deliver(&buffer[..length]), LOOKUP_ID), Err(BAD_ID));
    }

    #[test]
    fn malformed_requests_are_refused() {
        let mut buffer = [0u8; 256];
        let length = encode_request(&mut buffer, 5, 6, Request::Lookup { name: b"kv" }).unwrap();
        let good = deliver(&buffer[..length]);
        let with_id = |id: i32| {
            let mut bytes = good.clone();
            bytes[20..24].copy_from_slice(&id.to_le_bytes());
            bytes
        };
        assert_eq!(decode_received(&with_id(999)).unwrap().1, Err(RequestError::UnknownId(999)));
        // A register without its descriptor.
        assert_eq!(decode_received(&with_id(REGISTER_ID)).unwrap().1, Err(RequestError::BadArguments));
        // A length field past the body.
        let mut long = good.clone();
        long[24..28].copy_from_slice(&60u32.to_le_bytes());
        assert_eq!(decode_received(&long).unwrap().1, Err(RequestError::BadArguments));
        // Too short for the length field: header only.
        let mut short = good[..24].to_vec();
        short[4..8].copy_from_slice(&24u32.to_le_bytes());
        short.extend_from_slice(&MachMsgTrailer::new(0, 1).to_bytes());
        assert_eq!(decode_received(&short).unwrap().1, Err(RequestError::BadArguments));
        // A lookup carrying a descriptor.
        let length = encode_request(&mut buffer, 5, 6, Request::Register { name: b"kv", right: 9 }).unwrap();
        let mut complex = deliver(&buffer[..length]);
        complex[20..24].copy_from_slice(&LOOKUP_ID.to_le_bytes());
        assert_eq!(decode_received(&complex).unwrap().1, Err(RequestError::BadArguments));
    }
}
