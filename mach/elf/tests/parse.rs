//! mach-elf against hand-built images (each rule), a real static program,
//! and random damage (never a panic).

use mach_elf::{headers_length, parse, ElfError, Layout, Machine, Rights};
use proptest::prelude::*;

const PAGE: u64 = 4096;

fn layout() -> Layout {
    Layout { lowest: PAGE, highest: 0x7fff_0000_0000, most_bytes: 256 << 20, page_size: PAGE, require_mappable: true }
}

/// One program header: (type, flags, offset, address, file size, memory size).
type Entry = (u32, u32, u64, u64, u64, u64);

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

/// An ELF64 little-endian x86_64 executable with these program headers
/// right after the header, `file_size` bytes long.
fn image(entry: u64, entries: &[Entry], file_size: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; file_size.max(64 + 56 * entries.len())];
    bytes[..4].copy_from_slice(b"\x7fELF");
    bytes[4] = 2; // 64-bit
    bytes[5] = 1; // little endian
    bytes[6] = 1; // version
    bytes[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    bytes[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    bytes[20..24].copy_from_slice(&1u32.to_le_bytes());
    bytes[24..32].copy_from_slice(&entry.to_le_bytes());
    bytes[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    bytes[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    bytes[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    bytes[56..58].copy_from_slice(&(entries.len() as u16).to_le_bytes());
    for (index, &(kind, flags, offset, address, file_size, memory_size)) in entries.iter().enumerate() {
        let at = 64 + 56 * index;
        bytes[at..at + 4].copy_from_slice(&kind.to_le_bytes());
        bytes[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
        bytes[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
        bytes[at + 16..at + 24].copy_from_slice(&address.to_le_bytes());
        bytes[at + 24..at + 32].copy_from_slice(&address.to_le_bytes());
        bytes[at + 32..at + 40].copy_from_slice(&file_size.to_le_bytes());
        bytes[at + 40..at + 48].copy_from_slice(&memory_size.to_le_bytes());
        bytes[at + 48..at + 56].copy_from_slice(&PAGE.to_le_bytes());
    }
    bytes
}

/// A typical static program: headers and text in the first pages, data + bss after.
fn typical() -> Vec<u8> {
    image(
        0x401000,
        &[
            (PT_LOAD, R, 0, 0x400000, 0x200, 0x200),
            (PT_LOAD, R | X, 0x1000, 0x401000, 0x800, 0x800),
            (PT_LOAD, R | W, 0x2000, 0x403000, 0x100, 0x3000),
        ],
        0x3000,
    )
}

fn check(bytes: &[u8]) -> Result<mach_elf::Image, ElfError> {
    parse(bytes, bytes.len() as u64, Machine::X86_64, &layout())
}

#[test]
fn a_typical_static_program_gives_its_segments_entry_headers_and_break() {
    let image = check(&typical()).unwrap();
    assert_eq!(image.entry, 0x401000);
    assert_eq!(image.segments.len(), 3);
    assert_eq!(image.segments[1].rights, Rights { read: true, write: false, execute: true });
    assert_eq!(image.segments[2].memory_size, 0x3000);
    assert_eq!(image.program_headers_address, Some(0x400040));
    assert_eq!(image.program_header_count, 3);
    assert_eq!(image.break_start, 0x406000);
}

#[test]
fn pt_phdr_says_where_the_headers_are() {
    let bytes =
        image(0x400100, &[(PT_PHDR, R, 64, 0x400040, 112, 112), (PT_LOAD, R | X, 0, 0x400000, 0x1000, 0x1000)], 0x1000);
    assert_eq!(check(&bytes).unwrap().program_headers_address, Some(0x400040));
}

#[test]
fn a_prefix_is_enough_and_a_short_one_asks_for_more() {
    let bytes = typical();
    assert_eq!(headers_length(&bytes[..64]), Ok(64 + 3 * 56));
    assert_eq!(
        parse(&bytes[..100], bytes.len() as u64, Machine::X86_64, &layout()),
        Err(ElfError::NeedMore(64 + 3 * 56))
    );
    assert_eq!(parse(&bytes[..40], bytes.len() as u64, Machine::X86_64, &layout()), Err(ElfError::NeedMore(64)));
    assert!(parse(&bytes[..64 + 3 * 56], bytes.len() as u64, Machine::X86_64, &layout()).is_ok());
}

#[test]
fn each_rule_refuses_what_it_should() {
    let cases: Vec<(Vec<u8>, ElfError)> = vec![
        (b"#!/bin/sh\n".to_vec(), ElfError::Malformed),
        (Vec::new(), ElfError::Malformed),
        (b"\x7fELF".to_vec(), ElfError::Malformed),
        (
            image(0x401000, &[(PT_INTERP, R, 0, 0, 0, 0), (PT_LOAD, R | X, 0, 0x400000, 0x10, 0x10)], 0x1000),
            ElfError::NeedsInterpreter,
        ),
        (image(0x401000, &[], 0x1000), ElfError::NoLoadableSegments),
        (image(0x400000, &[(PT_LOAD, R | X, 0, 0x400000, 0x2000, 0x2000)], 0x1000), ElfError::SegmentOutsideFile),
        (image(0x0, &[(PT_LOAD, R | X, 0, 0x0, 0x10, 0x10)], 0x1000), ElfError::SegmentOutsideUserSpace),
        (
            image(0x400000, &[(PT_LOAD, R | X, 0, u64::MAX - 10, 0x10, 0x100)], 0x1000),
            ElfError::SegmentOutsideUserSpace,
        ),
        (
            image(0x400000, &[(PT_LOAD, R | X, 0, 0x400000, 0x100, 0x10)], 0x1000),
            ElfError::SegmentFileSizeExceedsMemorySize,
        ),
        (image(0x400000, &[(PT_LOAD, R | W | X, 0, 0x400000, 0x10, 0x10)], 0x1000), ElfError::WritableAndExecutable),
        (image(0x400010, &[(PT_LOAD, R | X, 0x10, 0x400000, 0x10, 0x10)], 0x1000), ElfError::MisalignedSegment),
        (image(0x500000, &[(PT_LOAD, R | X, 0, 0x400000, 0x10, 0x10)], 0x1000), ElfError::EntryOutsideCode),
        (
            image(
                0x400000,
                &[(PT_LOAD, R | X, 0, 0x400000, 0x100, 0x100), (PT_LOAD, R | W, 0x200, 0x400200, 0x10, 0x10)],
                0x1000,
            ),
            ElfError::OverlappingSegments,
        ),
        (
            image(
                0x400000,
                &[(PT_LOAD, R | X, 0, 0x400000, 0x1000, 0x1000), (PT_LOAD, R | W, 0, 0x400800, 0x10, 0x10)],
                0x1000,
            ),
            ElfError::MisalignedSegment,
        ),
        (image(0x400000, &[(PT_LOAD, R | X, 0, 0x400000, 0x10, 1 << 40)], 0x1000), ElfError::TooLarge(1 << 40)),
    ];
    for (index, (bytes, expected)) in cases.into_iter().enumerate() {
        assert_eq!(check(&bytes), Err(expected), "case {index}");
    }
    let mut wrong_machine = typical();
    wrong_machine[18..20].copy_from_slice(&183u16.to_le_bytes());
    assert_eq!(check(&wrong_machine), Err(ElfError::WrongMachine(183)));
    let mut shared_object = typical();
    shared_object[16..18].copy_from_slice(&3u16.to_le_bytes());
    assert_eq!(check(&shared_object), Err(ElfError::NotExecutable(3)));
    let mut thirty_two = typical();
    thirty_two[4] = 1;
    assert_eq!(check(&thirty_two), Err(ElfError::NotSixtyFourBit));
    let many: Vec<Entry> = (0..17).map(|index| (PT_LOAD, R, 0, 0x400000 + index * 0x1000, 0, 0x10)).collect();
    assert_eq!(check(&image(0x400000, &many, 0x2000)), Err(ElfError::TooManySegments(17)));
    let large = Layout { most_bytes: 0x1000, ..layout() };
    assert_eq!(parse(&typical(), 0x3000, Machine::X86_64, &large), Err(ElfError::TooLarge(0x3a00)));
}

#[test]
fn a_copying_loader_may_take_misaligned_segments() {
    let bytes = image(0x400010, &[(PT_LOAD, R | X, 0x10, 0x400000, 0x20, 0x20)], 0x1000);
    let copying = Layout { require_mappable: false, ..layout() };
    assert!(parse(&bytes, bytes.len() as u64, Machine::X86_64, &copying).is_ok());
}

#[test]
fn segments_sharing_a_page_are_fine_unless_that_makes_it_writable_and_executable() {
    let read_only_then_code = image(
        0x400100,
        &[(PT_LOAD, R, 0, 0x400000, 0x100, 0x100), (PT_LOAD, R | X, 0x100, 0x400100, 0x100, 0x100)],
        0x1000,
    );
    assert!(check(&read_only_then_code).is_ok());
    let code_then_data = image(
        0x400000,
        &[(PT_LOAD, R | X, 0, 0x400000, 0x100, 0x100), (PT_LOAD, R | W, 0x100, 0x400100, 0x100, 0x100)],
        0x1000,
    );
    assert_eq!(check(&code_then_data), Err(ElfError::OverlappingSegments));
}

#[test]
fn a_real_static_program_parses() {
    let directory = std::env::temp_dir().join(format!("mach-elf-test-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let source = directory.join("hello.c");
    std::fs::write(&source, "int main(void) { return 0; }\n").unwrap();
    let program = directory.join("hello");
    let built =
        std::process::Command::new("gcc").args(["-static", "-no-pie", "-O1", "-o"]).arg(&program).arg(&source).status();
    match built {
        Ok(status) if status.success() => {}
        // No static C library on this host: the hand-built images cover the rules.
        _ => return,
    }
    let bytes = std::fs::read(&program).unwrap();
    let image = check(&bytes).unwrap();
    assert!(image.segments.iter().any(|segment| segment.rights.execute));
    assert!(image.program_headers_address.is_some());
    let _ = std::fs::remove_dir_all(&directory);
}

proptest! {
    #[test]
    fn damaged_images_never_panic(flips in proptest::collection::vec((0usize..400, any::<u8>()), 1..20), cut in 0usize..0x3000) {
        let mut bytes = typical();
        for (offset, value) in flips {
            bytes[offset] = value;
        }
        let _ = parse(&bytes[..cut.min(bytes.len())], bytes.len() as u64, Machine::X86_64, &layout());
        let _ = parse(&bytes, cut as u64, Machine::X86_64, &layout());
        let _ = headers_length(&bytes[..cut.min(bytes.len())]);
    }
}
