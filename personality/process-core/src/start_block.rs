//! A new image's start block: what exec, spawn and init put at the top of
//! the process's stack (System V x86_64 layout; docs/process-server.md has
//! the picture and every auxiliary vector entry).
//!
//! From the stack's top down: 16 random bytes (`AT_RANDOM`), the argument
//! and environment strings, the descriptor table (`AT_MACH_FDS`), padding,
//! then the auxiliary vector (ending with `AT_NULL`), a null, the
//! environment pointers, a null, the argument pointers and `argc`, where
//! the stack pointer starts, 16-byte aligned.

use alloc::string::String;
use alloc::vec::Vec;

use crate::Errno;

/// `AT_*` keys this module fills in itself (mach-abi has them all; they
/// are repeated here so the core needs nothing but `alloc`).
pub mod key {
    pub const NULL: u64 = 0;
    pub const RANDOM: u64 = 25;
    pub const MACH_FDS: u64 = 0x1006;
    pub const MACH_FD_COUNT: u64 = 0x1007;
}

/// Bytes of one descriptor record: `{i32 number, u32 name, u32 flags}`.
pub const DESCRIPTOR_SIZE: usize = 12;

/// The most descriptors a table may carry.
pub const DESCRIPTORS_MAX: usize = 65_536;

/// One descriptor of the new image: its number and the name of its send
/// right (which the new task has under that name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Descriptor {
    pub number: i32,
    pub name: u32,
    pub flags: u32,
}

/// The strings of an exec request: `argument_count` arguments then
/// `environment_count` environment strings, each NUL-terminated, and
/// nothing else; `EINVAL` if the blob does not hold exactly that.
pub fn split_strings(blob: &[u8], argument_count: usize, environment_count: usize) -> Result<Vec<&[u8]>, Errno> {
    let wanted = argument_count.checked_add(environment_count).ok_or(Errno::E2BIG)?;
    let mut strings = Vec::new();
    let mut rest = blob;
    while !rest.is_empty() {
        let end = rest.iter().position(|&byte| byte == 0).ok_or(Errno::EINVAL)?;
        if strings.len() == wanted {
            return Err(Errno::EINVAL);
        }
        strings.push(&rest[..end]);
        rest = &rest[end + 1..];
    }
    if strings.len() != wanted {
        return Err(Errno::EINVAL);
    }
    Ok(strings)
}

/// The command line for the process listing: the arguments joined by
/// spaces (not valid UTF-8 bytes replaced), at most `limit` bytes.
pub fn command_line(arguments: &[&[u8]], limit: usize) -> String {
    let mut line = String::new();
    for (index, argument) in arguments.iter().enumerate() {
        if index > 0 {
            line.push(' ');
        }
        line.push_str(&String::from_utf8_lossy(argument));
        if line.len() >= limit {
            break;
        }
    }
    let mut end = line.len().min(limit);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.truncate(end);
    line
}

/// What goes into a start block.
pub struct Start<'a> {
    /// argv then envp, without their NULs.
    pub strings: &'a [&'a [u8]],
    pub argument_count: usize,
    /// By increasing number.
    pub descriptors: &'a [Descriptor],
    /// The auxiliary vector's entries but `AT_RANDOM`, `AT_MACH_FDS`,
    /// `AT_MACH_FD_COUNT` and `AT_NULL`, which are added here.
    pub auxiliary: &'a [(u64, u64)],
    pub random: [u8; 16],
}

/// A laid-out block: `bytes` go at `address` (the stack pointer) and end at
/// the stack's top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartBlock {
    pub address: u64,
    pub bytes: Vec<u8>,
}

/// Lays out `start` below `stack_top` (16-byte aligned) in at most `room`
/// bytes (`E2BIG` beyond: the stack minus a page for the program).
pub fn lay_out(stack_top: u64, start: &Start<'_>, room: usize) -> Result<StartBlock, Errno> {
    if !stack_top.is_multiple_of(16) || start.argument_count > start.strings.len() {
        return Err(Errno::EINVAL);
    }
    if start.descriptors.len() > DESCRIPTORS_MAX {
        return Err(Errno::E2BIG);
    }
    let environment_count = start.strings.len() - start.argument_count;
    let strings_size: usize = start.strings.iter().map(|string| string.len() + 1).sum();
    let table_size = start.descriptors.len() * DESCRIPTOR_SIZE;
    // Upper part, from the top down: random bytes, strings, the table
    // (8-aligned); lower part: argc, argv, NULL, envp, NULL, auxv.
    let upper = (16 + strings_size + table_size).next_multiple_of(8);
    let auxiliary_pairs = start.auxiliary.len() + 4;
    let words = 1 + start.argument_count + 1 + environment_count + 1 + 2 * auxiliary_pairs;
    let total = (upper + words * 8).next_multiple_of(16);
    if total > room {
        return Err(Errno::E2BIG);
    }
    let address = stack_top.checked_sub(total as u64).ok_or(Errno::E2BIG)?;
    let mut bytes = alloc::vec![0u8; total];
    // Offsets within `bytes`.
    let random_at = total - 16;
    bytes[random_at..].copy_from_slice(&start.random);
    let mut string_at = random_at - strings_size;
    let table_at = (string_at - table_size) & !7;
    let mut pointers = Vec::with_capacity(start.strings.len());
    for string in start.strings {
        pointers.push(address + string_at as u64);
        bytes[string_at..string_at + string.len()].copy_from_slice(string);
        string_at += string.len() + 1;
    }
    for (index, descriptor) in start.descriptors.iter().enumerate() {
        let at = table_at + index * DESCRIPTOR_SIZE;
        bytes[at..at + 4].copy_from_slice(&descriptor.number.to_le_bytes());
        bytes[at + 4..at + 8].copy_from_slice(&descriptor.name.to_le_bytes());
        bytes[at + 8..at + 12].copy_from_slice(&descriptor.flags.to_le_bytes());
    }
    let mut word = 0;
    let mut put = |bytes: &mut [u8], value: u64| {
        bytes[word * 8..word * 8 + 8].copy_from_slice(&value.to_le_bytes());
        word += 1;
    };
    put(&mut bytes, start.argument_count as u64);
    for &pointer in &pointers[..start.argument_count] {
        put(&mut bytes, pointer);
    }
    put(&mut bytes, 0);
    for &pointer in &pointers[start.argument_count..] {
        put(&mut bytes, pointer);
    }
    put(&mut bytes, 0);
    let added = [
        (key::RANDOM, address + random_at as u64),
        (key::MACH_FDS, address + table_at as u64),
        (key::MACH_FD_COUNT, start.descriptors.len() as u64),
        (key::NULL, 0),
    ];
    for &(entry, value) in start.auxiliary.iter().chain(&added) {
        put(&mut bytes, entry);
        put(&mut bytes, value);
    }
    debug_assert!(word * 8 <= table_at);
    Ok(StartBlock { address, bytes })
}

/// A start block read back as a process's runtime reads it (for tests and
/// for checking what was written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadBack {
    pub arguments: Vec<Vec<u8>>,
    pub environment: Vec<Vec<u8>>,
    pub auxiliary: Vec<(u64, u64)>,
    pub descriptors: Vec<Descriptor>,
    pub random: [u8; 16],
}

/// Reads `block` (which lies at its `address`) as a program would; `None`
/// if a pointer or count leaves it.
pub fn read_back(block: &StartBlock) -> Option<ReadBack> {
    let base = block.address;
    let bytes = &block.bytes;
    let word = |at: u64| -> Option<u64> {
        let offset = usize::try_from(at.checked_sub(base)?).ok()?;
        Some(u64::from_le_bytes(bytes.get(offset..offset + 8)?.try_into().ok()?))
    };
    let string = |at: u64| -> Option<Vec<u8>> {
        let offset = usize::try_from(at.checked_sub(base)?).ok()?;
        let length = bytes.get(offset..)?.iter().position(|&byte| byte == 0)?;
        Some(bytes[offset..offset + length].to_vec())
    };
    let argc = word(base)?;
    let mut at = base + 8;
    let mut arguments = Vec::new();
    for _ in 0..argc {
        arguments.push(string(word(at)?)?);
        at += 8;
    }
    if word(at)? != 0 {
        return None;
    }
    at += 8;
    let mut environment = Vec::new();
    loop {
        let pointer = word(at)?;
        at += 8;
        if pointer == 0 {
            break;
        }
        environment.push(string(pointer)?);
    }
    let mut auxiliary = Vec::new();
    loop {
        let (entry, value) = (word(at)?, word(at + 8)?);
        at += 16;
        if entry == key::NULL {
            break;
        }
        auxiliary.push((entry, value));
    }
    let find = |wanted: u64| auxiliary.iter().find(|(entry, _)| *entry == wanted).map(|&(_, value)| value);
    let table = find(key::MACH_FDS)?;
    let count = find(key::MACH_FD_COUNT)?;
    let mut descriptors = Vec::new();
    for index in 0..count {
        let offset = usize::try_from((table + index * DESCRIPTOR_SIZE as u64).checked_sub(base)?).ok()?;
        let record = bytes.get(offset..offset + DESCRIPTOR_SIZE)?;
        descriptors.push(Descriptor {
            number: i32::from_le_bytes(record[0..4].try_into().ok()?),
            name: u32::from_le_bytes(record[4..8].try_into().ok()?),
            flags: u32::from_le_bytes(record[8..12].try_into().ok()?),
        });
    }
    let random_at = usize::try_from(find(key::RANDOM)?.checked_sub(base)?).ok()?;
    let random = bytes.get(random_at..random_at + 16)?.try_into().ok()?;
    Some(ReadBack { arguments, environment, auxiliary, descriptors, random })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_split_exactly_or_are_refused() {
        assert_eq!(split_strings(b"ls\0-l\0HOME=/\0", 2, 1), Ok(alloc::vec![&b"ls"[..], b"-l", b"HOME=/"]));
        assert_eq!(split_strings(b"", 0, 0), Ok(Vec::new()));
        assert_eq!(split_strings(b"ls\0-l", 2, 0), Err(Errno::EINVAL), "no final NUL");
        assert_eq!(split_strings(b"ls\0", 2, 0), Err(Errno::EINVAL), "too few");
        assert_eq!(split_strings(b"ls\0a\0b\0", 2, 0), Err(Errno::EINVAL), "too many");
        assert_eq!(split_strings(b"\0\0", 1, 1), Ok(alloc::vec![&b""[..], b""]));
    }

    #[test]
    fn the_command_line_is_bounded_on_a_character() {
        assert_eq!(command_line(&[b"ls", b"-l", b"/tmp"], 256), "ls -l /tmp");
        assert_eq!(command_line(&[b"abc", b"def"], 5), "abc d");
        assert_eq!(command_line(&["é".as_bytes(); 3], 4), "é é".get(..3).unwrap());
    }

    #[test]
    fn a_block_reads_back_and_is_aligned() {
        let strings: [&[u8]; 3] = [b"prog", b"arg one", b"PATH=/bin"];
        let descriptors =
            [Descriptor { number: 0, name: 0x103, flags: 0 }, Descriptor { number: 2, name: 0x103, flags: 0 }];
        let auxiliary = [(6, 4096), (0x1002, 0x207)];
        let start = Start {
            strings: &strings,
            argument_count: 2,
            descriptors: &descriptors,
            auxiliary: &auxiliary,
            random: [7; 16],
        };
        let top = 0x7fff_ff00_0000;
        let block = lay_out(top, &start, 64 * 1024).unwrap();
        assert_eq!(block.address % 16, 0);
        assert_eq!(block.address + block.bytes.len() as u64, top);
        let read = read_back(&block).unwrap();
        assert_eq!(read.arguments, [b"prog".to_vec(), b"arg one".to_vec()]);
        assert_eq!(read.environment, [b"PATH=/bin".to_vec()]);
        assert_eq!(read.descriptors, descriptors);
        assert_eq!(read.random, [7; 16]);
        assert_eq!(&read.auxiliary[..2], &auxiliary);
        assert_eq!(read.auxiliary.len(), 5, "AT_RANDOM and the table's two entries added");
    }

    #[test]
    fn a_block_past_its_room_is_e2big() {
        let long = alloc::vec![b'x'; 200 * 1024];
        let strings: [&[u8]; 1] = [&long];
        let start = Start { strings: &strings, argument_count: 1, descriptors: &[], auxiliary: &[], random: [0; 16] };
        assert_eq!(lay_out(0x10_0000, &start, 128 * 1024), Err(Errno::E2BIG));
        assert!(lay_out(0x10_0000, &start, 256 * 1024).is_ok(), "ARG_MAX-sized arguments fit a normal stack");
        assert_eq!(lay_out(0x10_0008, &start, 256 * 1024), Err(Errno::EINVAL), "an unaligned top");
    }
}
