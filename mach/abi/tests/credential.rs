//! Task credentials and the audit trailer: layout round trips, validity,
//! the trailer size an option asks for, and parsing a received message
//! that carries one.

use mach_abi::*;
use proptest::prelude::*;

fn credential(pid: u32, euid: u32, groups: &[u32]) -> TaskCredential {
    let mut credential = TaskCredential {
        pid,
        pgid: pid,
        sid: 3,
        ruid: euid + 1,
        euid,
        rgid: 7,
        egid: 8,
        group_count: groups.len() as u32,
        groups: [0; 16],
    };
    credential.groups[..groups.len()].copy_from_slice(groups);
    credential
}

#[test]
fn credential_bytes_follow_the_c_layout() {
    let original = credential(42, 1000, &[4, 24, 27]);
    let bytes = original.to_bytes();
    assert_eq!(bytes.len(), TASK_CREDENTIAL_SIZE);
    assert_eq!(read_u32(&bytes, 0), Some(42));
    assert_eq!(read_u32(&bytes, 8), Some(3));
    assert_eq!(read_u32(&bytes, 16), Some(1000));
    assert_eq!(read_u32(&bytes, 28), Some(3));
    assert_eq!(read_u32(&bytes, 32 + 4), Some(24));
    assert_eq!(TaskCredential::read_from(&bytes), Some(original));
    assert_eq!(TaskCredential::read_from(&bytes[..TASK_CREDENTIAL_SIZE - 1]), None);
}

#[test]
fn only_bounded_group_counts_are_valid_and_canonical_form_zeroes_the_rest() {
    assert!(credential(1, 0, &[]).is_valid());
    assert!(credential(1, 0, &[1; CREDENTIAL_GROUPS_MAX]).is_valid());
    let mut too_many = credential(1, 0, &[]);
    too_many.group_count = CREDENTIAL_GROUPS_MAX as u32 + 1;
    assert!(!too_many.is_valid());
    let mut stray = credential(1, 0, &[5]);
    stray.groups[9] = 77;
    assert_eq!(stray.canonical(), credential(1, 0, &[5]));
}

#[test]
fn the_audit_option_asks_for_the_larger_trailer() {
    assert_eq!(receive_trailer_size(MACH_RCV_MSG), MACH_MSG_TRAILER_SIZE);
    assert_eq!(receive_trailer_size(MACH_RCV_MSG | MACH_RCV_TRAILER_AUDIT), MACH_MSG_AUDIT_TRAILER_SIZE);
    // Fewer elements (sequence number, sender) are in the ordinary trailer.
    assert_eq!(receive_trailer_size(1 << 24), MACH_MSG_TRAILER_SIZE);
    assert_eq!(receive_trailer_size(2 << 24), MACH_MSG_TRAILER_SIZE);
    assert_eq!(MACH_MSG_AUDIT_TRAILER_SIZE, 112);
    assert!(receive_fits_with_trailer(100, 212, MACH_MSG_AUDIT_TRAILER_SIZE));
    assert!(!receive_fits_with_trailer(100, 211, MACH_MSG_AUDIT_TRAILER_SIZE));
}

#[test]
fn a_received_message_with_an_audit_trailer_parses() {
    let mut buffer = vec![0u8; 256];
    let header =
        MachMsgHeader { bits: msgh_bits(0, MACH_MSG_TYPE_PORT_SEND), local_port: 0x105, id: 9, ..Default::default() };
    let mut encoder = MessageEncoder::new(&mut buffer, header, false);
    encoder.inline_data(&[1, 2, 3, 4]).unwrap();
    let length = encoder.finish().unwrap();
    buffer.truncate(length);
    let trailer = MachMsgAuditTrailer::new(5, 11, credential(300, 1000, &[100]));
    buffer.extend_from_slice(&trailer.to_bytes());
    let (view, read) = parse_received_audit(&buffer).unwrap();
    assert_eq!(read, trailer);
    assert_eq!(view.inline_data, &[1, 2, 3, 4]);
    // The common part is the ordinary trailer, with the larger size.
    let (_, head) = parse_received(&buffer).unwrap();
    assert_eq!((head.seqno, head.sender, head.trailer_size), (5, 11, MACH_MSG_AUDIT_TRAILER_SIZE as u32));
    // An ordinary trailer is not an audit trailer; a short one is refused.
    let mut plain = buffer[..length].to_vec();
    plain.extend_from_slice(&MachMsgTrailer::new(5, 11).to_bytes());
    plain.resize(length + MACH_MSG_AUDIT_TRAILER_SIZE, 0);
    assert!(parse_received_audit(&plain).is_err());
    assert!(parse_received_audit(&buffer[..length + 50]).is_err());
}

proptest! {
    #[test]
    fn audit_trailers_round_trip(seqno: u32, sender: u32, words in prop::collection::vec(any::<u32>(), 24)) {
        let mut credential = TaskCredential::read_from(&words.iter().flat_map(|word| word.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
        credential.group_count %= CREDENTIAL_GROUPS_MAX as u32 + 1;
        let trailer = MachMsgAuditTrailer::new(seqno, sender, credential);
        prop_assert_eq!(MachMsgAuditTrailer::read_from(&trailer.to_bytes()), Some(trailer));
    }
}
