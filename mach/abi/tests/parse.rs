//! Parser and encoder: each error case, round trips, and random bytes.

use mach_abi::*;
use proptest::prelude::*;

fn header(remote: Disposition, local: u32) -> MachMsgHeader {
    MachMsgHeader {
        bits: msgh_bits(remote as u32, local),
        remote_port: 0x103,
        local_port: 0x207,
        id: 42,
        ..Default::default()
    }
}

fn encode(descriptors: &[Descriptor], data: &[u8]) -> Vec<u8> {
    let mut buffer = vec![0u8; MACH_MSG_SIZE_MAX];
    let mut encoder =
        MessageEncoder::new(&mut buffer, header(Disposition::CopySend, Disposition::MakeSendOnce as u32), false);
    for descriptor in descriptors {
        encoder.descriptor(*descriptor).unwrap();
    }
    encoder.inline_data(data).unwrap();
    let length = encoder.finish().unwrap();
    buffer.truncate(length);
    buffer
}

#[test]
fn simple_message_round_trips() {
    let bytes = encode(&[], b"hello");
    assert_eq!(bytes.len(), 24 + 8);
    let view = parse(&bytes).unwrap();
    assert!(!view.is_complex());
    assert_eq!(view.header.id, 42);
    assert_eq!(view.header.remote_port, 0x103);
    assert_eq!(view.remote_disposition(), Some(Disposition::CopySend));
    assert_eq!(view.local_disposition(), Some(Disposition::MakeSendOnce));
    assert_eq!(&view.inline_data[..5], b"hello");
    assert_eq!(&view.inline_data[5..], &[0, 0, 0]);
}

#[test]
fn complex_message_round_trips() {
    let descriptors = [
        Descriptor::Port { name: 0x305, disposition: Disposition::MoveReceive },
        Descriptor::OutOfLineMemory {
            address: 0x7fff_0000_1000,
            size: 8192,
            deallocate: true,
            copy: CopyOption::VirtualCopy,
        },
        Descriptor::OutOfLinePorts {
            address: 0x4000,
            count: 3,
            disposition: Disposition::CopySend,
            deallocate: false,
            copy: CopyOption::PhysicalCopy,
        },
    ];
    let bytes = encode(&descriptors, &[1, 2, 3, 4]);
    assert_eq!(bytes.len(), 24 + 4 + 48 + 4);
    let view = parse(&bytes).unwrap();
    assert!(view.is_complex());
    assert_eq!(view.descriptor_count(), 3);
    assert_eq!(view.descriptors().collect::<Vec<_>>(), descriptors);
    assert_eq!(view.inline_data, &[1, 2, 3, 4]);
    // The 64-bit address sits at offset 44 (4 mod 8): packed(4) like xnu.
    assert_eq!(read_u64(&bytes, 44), Some(0x7fff_0000_1000));
    assert_eq!(bytes[44 + 11], DescriptorType::OutOfLineMemory as u8);
}

#[test]
fn received_messages_parse_with_their_trailer() {
    // A delivered message has no reply port (remote disposition 0) and
    // carries received types; it is followed by the trailer.
    let mut buffer = vec![0u8; 256];
    let header = MachMsgHeader {
        bits: msgh_bits(0, MACH_MSG_TYPE_PORT_SEND_ONCE),
        local_port: 0x105,
        id: 7,
        ..Default::default()
    };
    let mut encoder = MessageEncoder::new(&mut buffer, header, false);
    encoder.descriptor(Descriptor::Port { name: 0x200, disposition: Disposition::MoveReceive }).unwrap();
    let length = encoder.finish().unwrap();
    buffer.truncate(length);
    assert!(matches!(
        parse(&buffer),
        Err(ParseError::InvalidHeaderDisposition { field: HeaderPort::Remote, value: 0 })
    ));
    buffer.extend_from_slice(&MachMsgTrailer::new(3, 9).to_bytes());
    let (view, trailer) = parse_received(&buffer).unwrap();
    assert_eq!(trailer, MachMsgTrailer::new(3, 9));
    assert_eq!(view.header.local_port, 0x105);
    assert_eq!(view.descriptor_count(), 1);
    // Missing trailer bytes.
    assert!(matches!(parse_received(&buffer[..length + 8]), Err(ParseError::SizeMismatch { .. })));
    assert!(parse_received(&[0u8; 3]).is_err());
}

#[test]
fn size_errors() {
    assert_eq!(parse(&[0u8; 20]), Err(ParseError::TooSmall { length: 20 }));
    let mut bytes = encode(&[], b"abcd");
    bytes.push(0);
    assert_eq!(parse(&bytes), Err(ParseError::Misaligned { length: 29 }));
    bytes.pop();
    write_u32(&mut bytes, 4, 24).unwrap();
    assert_eq!(parse(&bytes), Err(ParseError::SizeMismatch { header_size: 24, length: 28 }));
    let big = vec![0u8; MACH_MSG_SIZE_MAX + 4];
    assert_eq!(parse(&big), Err(ParseError::TooLarge { length: MACH_MSG_SIZE_MAX + 4 }));
    assert_eq!(ParseError::TooSmall { length: 0 }.to_mach_msg_return(), MachMsgReturn::SendMsgTooSmall);
    assert_eq!(ParseError::TooLarge { length: 0 }.to_mach_msg_return(), MachMsgReturn::SendTooLarge);
}

#[test]
fn header_bit_errors() {
    let mut bytes = encode(&[], &[]);
    write_u32(&mut bytes, 0, msgh_bits(Disposition::CopySend as u32, 0) | 0x0100_0000).unwrap();
    assert!(matches!(parse(&bytes), Err(ParseError::ReservedBits { .. })));
    write_u32(&mut bytes, 0, msgh_bits(Disposition::MoveReceive as u32, 0)).unwrap();
    let error = parse(&bytes).unwrap_err();
    assert_eq!(error, ParseError::InvalidHeaderDisposition { field: HeaderPort::Remote, value: 16 });
    assert_eq!(error.to_mach_msg_return(), MachMsgReturn::SendInvalidHeader);
    write_u32(&mut bytes, 0, msgh_bits(Disposition::CopySend as u32, 3)).unwrap();
    assert_eq!(parse(&bytes), Err(ParseError::InvalidHeaderDisposition { field: HeaderPort::Local, value: 3 }));
    write_u32(&mut bytes, 0, msgh_bits_set_ports(Disposition::CopySend as u32, 0, 17)).unwrap();
    assert_eq!(parse(&bytes), Err(ParseError::InvalidHeaderDisposition { field: HeaderPort::Voucher, value: 17 }));
    write_u32(&mut bytes, 0, msgh_bits(Disposition::CopySend as u32, 0)).unwrap();
    write_u32(&mut bytes, 16, 5).unwrap();
    assert_eq!(parse(&bytes).unwrap_err().to_mach_msg_return(), MachMsgReturn::SendInvalidVoucher);
}

#[test]
fn descriptor_errors() {
    let port = Descriptor::Port { name: 5, disposition: Disposition::MoveSend };
    let mut bytes = encode(&[port], &[]);
    bytes[28 + 11] = 7;
    assert_eq!(parse(&bytes), Err(ParseError::InvalidDescriptorType { index: 0, value: 7 }));
    bytes[28 + 11] = 0;
    bytes[28 + 10] = 22;
    let error = parse(&bytes).unwrap_err();
    assert_eq!(error, ParseError::InvalidDisposition { index: 0, value: 22 });
    assert_eq!(error.to_mach_msg_return(), MachMsgReturn::SendInvalidType);
    let memory = Descriptor::OutOfLineMemory { address: 0, size: 1, deallocate: false, copy: CopyOption::PhysicalCopy };
    let mut bytes = encode(&[port, memory], &[]);
    bytes[44 + 9] = 2;
    assert_eq!(parse(&bytes), Err(ParseError::InvalidCopyOption { index: 1, value: 2 }));
    let ports = Descriptor::OutOfLinePorts {
        address: 0,
        count: 1,
        disposition: Disposition::CopySend,
        deallocate: false,
        copy: CopyOption::PhysicalCopy,
    };
    let mut bytes = encode(&[ports], &[]);
    write_u32(&mut bytes, 28 + 12, MACH_MSG_OOL_PORTS_MAX as u32 + 1).unwrap();
    assert_eq!(parse(&bytes), Err(ParseError::OutOfLineTooLarge { index: 0 }));
}

#[test]
fn descriptor_count_errors() {
    let port = Descriptor::Port { name: 5, disposition: Disposition::MoveSend };
    let mut bytes = encode(&[port], &[]);
    write_u32(&mut bytes, 24, 2).unwrap();
    assert_eq!(parse(&bytes), Err(ParseError::DescriptorsExceedSize { count: 2, length: 44 }));
    write_u32(&mut bytes, 24, MACH_MSG_DESCRIPTORS_MAX as u32 + 1).unwrap();
    assert!(matches!(parse(&bytes), Err(ParseError::TooManyDescriptors { .. })));
    // Complex bit on a bare header: no room for the body.
    let mut bare = encode(&[], &[]);
    write_u32(&mut bare, 0, msgh_bits(Disposition::CopySend as u32, 0) | MACH_MSGH_BITS_COMPLEX).unwrap();
    assert!(matches!(parse(&bare), Err(ParseError::TooSmall { .. })));
}

#[test]
fn encoder_errors() {
    let mut small = [0u8; 20];
    let encoder = MessageEncoder::new(&mut small, MachMsgHeader::default(), false);
    assert_eq!(encoder.finish(), Err(EncodeError::BufferTooSmall { needed: 24 }));
    let mut buffer = [0u8; 64];
    let mut encoder = MessageEncoder::new(&mut buffer, MachMsgHeader::default(), false);
    encoder.inline_data(&[1]).unwrap();
    assert_eq!(
        encoder.descriptor(Descriptor::Port { name: 1, disposition: Disposition::CopySend }).err(),
        Some(EncodeError::DescriptorAfterData)
    );
    let mut big = vec![0u8; MACH_MSG_SIZE_MAX + 16];
    let mut encoder = MessageEncoder::new(&mut big, MachMsgHeader::default(), false);
    assert_eq!(encoder.inline_data(&vec![0u8; MACH_MSG_SIZE_MAX]).err(), Some(EncodeError::TooLarge));
}

#[test]
fn numbering_follows_mach() {
    assert_eq!(KernReturn::InvalidName as u32, 15);
    assert_eq!(KernReturn::Terminated as u32, 37);
    assert_eq!(MachMsgReturn::ReceivePortDied as u32, 0x1000_4009);
    assert_eq!(
        MachMsgReturn::decode(0x1000_400c | MACH_MSG_IPC_SPACE),
        Some((MachMsgReturn::ReceiveBodyError, MACH_MSG_IPC_SPACE))
    );
    assert!(MachMsgReturn::SendTimedOut.is_send_error() && !MachMsgReturn::SendTimedOut.is_receive_error());
    assert!(MachMsgReturn::ReceiveTooLarge.is_receive_error());
    assert_eq!(NotifyId::NoSenders as u32, 70);
    assert_eq!(MACH_PORT_TYPE_RECEIVE, 0x20000);
    assert_eq!(port_make(5, 2), 0x502);
    assert_eq!(KernReturn::try_from(999), Err(UnknownValue(999)));
    assert_eq!(Trap::from_u32(1), Some(Trap::MachMsg));
    assert!(Trap::VmMap.is_reserved() && !Trap::DebugPrint.is_reserved());
    assert_eq!(Trap::MachMsg.argument_count(), 6);
    assert!(Trap::ALL.iter().all(|trap| trap.argument_count() <= 6 && (trap.as_u32()) < MACH_TRAP_COUNT));
    assert_eq!(unpack_notification_request(pack_notification_request(0o110, 21)), (0o110, 21));
    assert!(receive_fits(100, 116) && !receive_fits(100, 115));
    let trailer = MachMsgTrailer::new(7, 9);
    assert_eq!(MachMsgTrailer::read_from(&trailer.to_bytes()), Some(trailer));
}

fn descriptor_strategy() -> impl Strategy<Value = Descriptor> {
    let disposition = prop::sample::select(Disposition::ALL.to_vec());
    let copy = prop::sample::select(CopyOption::ALL.to_vec());
    prop_oneof![
        (any::<u32>(), disposition.clone()).prop_map(|(name, disposition)| Descriptor::Port { name, disposition }),
        (any::<u64>(), 0..=MACH_MSG_OOL_SIZE_MAX as u32, any::<bool>(), copy.clone()).prop_map(
            |(address, size, deallocate, copy)| Descriptor::OutOfLineMemory { address, size, deallocate, copy }
        ),
        (any::<u64>(), 0..=MACH_MSG_OOL_PORTS_MAX as u32, disposition, any::<bool>(), copy).prop_map(
            |(address, count, disposition, deallocate, copy)| {
                Descriptor::OutOfLinePorts { address, count, disposition, deallocate, copy }
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes);
        let _ = parse_received(&bytes);
    }

    #[test]
    fn mutated_valid_messages_never_panic(
        descriptors in prop::collection::vec(descriptor_strategy(), 0..6),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = encode(&descriptors, b"payload");
        for (index, value) in flips {
            let position = index.index(bytes.len());
            bytes[position] = value;
        }
        if let Ok(view) = parse(&bytes) {
            prop_assert_eq!(view.descriptors().count(), view.descriptor_count());
        }
    }

    #[test]
    fn encode_then_parse_round_trips(
        descriptors in prop::collection::vec(descriptor_strategy(), 0..8),
        data in prop::collection::vec(any::<u8>(), 0..100),
        id in any::<i32>(),
    ) {
        let mut buffer = vec![0u8; 4096];
        let mut encoder = MessageEncoder::new(&mut buffer, MachMsgHeader { bits: msgh_bits(17, 21), remote_port: 1, local_port: 2, id, ..Default::default() }, false);
        for descriptor in &descriptors {
            encoder.descriptor(*descriptor).unwrap();
        }
        encoder.inline_data(&data).unwrap();
        let length = encoder.finish().unwrap();
        let view = parse(&buffer[..length]).unwrap();
        prop_assert_eq!(view.header.id, id);
        prop_assert_eq!(view.is_complex(), !descriptors.is_empty());
        prop_assert_eq!(view.descriptors().collect::<Vec<_>>(), descriptors);
        prop_assert_eq!(&view.inline_data[..data.len()], &data[..]);
    }
}

/// Cases per property: `MACH_PROPTEST_CASES` (set by `scripts/fuzz.d/ipc`
/// for long runs) or the default that keeps `cargo test` quick.
fn cases(default: u32) -> u32 {
    std::env::var("MACH_PROPTEST_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(default)
}
