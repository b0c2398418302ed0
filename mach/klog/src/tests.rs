//! The ring against a model: an unbounded list of every line ever written,
//! of which the ring must keep a suffix that fits.

use super::*;
use proptest::prelude::*;
use std::string::String;
use std::vec::Vec;

fn read_all<const N: usize>(ring: &LogRing<N>, from: u64) -> (Vec<u8>, LogRead) {
    let mut buffer = std::vec![0u8; N];
    let read = ring.read(from, &mut buffer).expect("a buffer of the ring's size takes every line");
    buffer.truncate(read.length);
    (buffer, read)
}

#[test]
fn lines_get_consecutive_sequences_and_read_back_whole() {
    let mut ring = LogRing::<1024>::new();
    ring.write(b"first\nsecond\nthi");
    assert_eq!(ring.next_sequence(), 2);
    assert_eq!(ring.partial_length(), 3);
    let (text, read) = read_all(&ring, 0);
    assert_eq!(text, b"first\nsecond\n");
    assert_eq!(read, LogRead { first: 0, next: 2, length: 13, lost: 0 });
    ring.write(b"rd\n");
    let (text, read) = read_all(&ring, 2);
    assert_eq!(text, b"third\n");
    assert_eq!(read.next, 3);
    ring.check().unwrap();
}

#[test]
fn a_read_takes_only_whole_lines_that_fit() {
    let mut ring = LogRing::<1024>::new();
    ring.write(b"aaaa\nbbbb\ncccc\n");
    let mut buffer = [0u8; 12];
    let read = ring.read(0, &mut buffer).unwrap();
    assert_eq!(&buffer[..read.length], b"aaaa\nbbbb\n");
    assert_eq!(read.next, 2);
    let read = ring.read(read.next, &mut buffer).unwrap();
    assert_eq!(&buffer[..read.length], b"cccc\n");
    assert_eq!(read.next, 3);
    let read = ring.read(read.next, &mut buffer).unwrap();
    assert_eq!(read, LogRead { first: 3, next: 3, length: 0, lost: 0 });
}

#[test]
fn a_buffer_too_small_for_the_next_line_is_refused_with_the_size_needed() {
    let mut ring = LogRing::<1024>::new();
    ring.write(b"a longer line\n");
    assert_eq!(ring.read(0, &mut [0u8; 4]), Err(LogReadError::TooSmall { needed: 14 }));
}

#[test]
fn an_empty_buffer_tells_the_numbers_without_copying() {
    let mut ring = LogRing::<1024>::new();
    ring.write(b"one\ntwo\n");
    assert_eq!(ring.read(1, &mut []), Ok(LogRead { first: 1, next: 1, length: 0, lost: 0 }));
    // Regression: an empty buffer's `next` said the newest line plus one,
    // as if the lines had been copied.
    assert_eq!(ring.read(0, &mut []), Ok(LogRead { first: 0, next: 0, length: 0, lost: 0 }));
    assert_eq!(ring.bytes_from(0), 8);
    assert_eq!(ring.bytes_from(1), 4);
    assert_eq!(ring.bytes_from(2), 0);
}

#[test]
fn a_sequence_from_the_future_is_refused() {
    let mut ring = LogRing::<1024>::new();
    ring.write(b"one\n");
    assert_eq!(ring.read(2, &mut [0u8; 64]), Err(LogReadError::Future { next: 1 }));
    assert!(ring.read(1, &mut [0u8; 64]).is_ok());
}

#[test]
fn old_lines_are_overwritten_and_reported_lost() {
    let mut ring = LogRing::<600>::new();
    for index in 0..100 {
        ring.write(std::format!("line {index:03}\n").as_bytes());
    }
    ring.check().unwrap();
    // Each record takes 2 + 9 bytes: 54 fit in 600.
    assert_eq!(ring.first_sequence(), 46);
    let (text, read) = read_all(&ring, 10);
    assert_eq!(read.first, 46);
    assert_eq!(read.lost, 36);
    assert_eq!(read.next, 100);
    assert!(text.starts_with(b"line 046\n"));
    assert!(text.ends_with(b"line 099\n"));
}

#[test]
fn a_long_line_is_cut_at_the_limit() {
    let mut ring = LogRing::<4096>::new();
    let long: Vec<u8> = (0..1200).map(|index| b'a' + (index % 26) as u8).collect();
    ring.write(&long);
    ring.write(b"\n");
    let (text, read) = read_all(&ring, 0);
    assert_eq!(read.next, 3);
    let lines: Vec<&[u8]> = text.split_inclusive(|&byte| byte == b'\n').collect();
    assert_eq!(lines.iter().map(|line| line.len()).collect::<Vec<_>>(), [LINE_MAX, LINE_MAX, 1200 - 2 * 511 + 1]);
    let joined: Vec<u8> = lines.iter().flat_map(|line| line[..line.len() - 1].iter().copied()).collect();
    assert_eq!(joined, long);
}

#[test]
fn a_long_line_is_never_cut_inside_a_character() {
    for prefix in 0..4 {
        let mut ring = LogRing::<4096>::new();
        let text: String = "x".repeat(prefix) + &"€".repeat(400);
        ring.write(text.as_bytes());
        ring.end_partial_line();
        let (bytes, _) = read_all(&ring, 0);
        for line in bytes.split_inclusive(|&byte| byte == b'\n') {
            assert!(core::str::from_utf8(line).is_ok(), "prefix {prefix}: a line is not UTF-8");
            assert!(line.len() <= LINE_MAX);
        }
        let rejoined: String = core::str::from_utf8(&bytes).unwrap().split('\n').collect();
        assert_eq!(rejoined, text);
    }
}

#[test]
fn the_ring_wraps_its_storage() {
    let mut ring = LogRing::<530>::new();
    for round in 0..50 {
        let line = std::format!("{}\n", "z".repeat(round * 7 % 300));
        ring.write(line.as_bytes());
        ring.check().unwrap();
        let (text, read) = read_all(&ring, read_all(&ring, 0).1.next - 1);
        assert_eq!(text, line.as_bytes());
        assert_eq!(read.lost, 0);
    }
}

/// Writes cut into random pieces; reads from random places with random
/// buffer sizes; the model is every line ever ended.
#[derive(Clone, Debug)]
enum Operation {
    Write(Vec<u8>),
    EndPartial,
    Read { back: u64, size: usize },
}

fn operation() -> impl Strategy<Value = Operation> {
    let byte = prop_oneof![8 => 0x20u8..0x7f, 1 => Just(b'\n'), 1 => any::<u8>()];
    prop_oneof![
        6 => proptest::collection::vec(byte, 0..700).prop_map(Operation::Write),
        1 => Just(Operation::EndPartial),
        3 => (0u64..40, 0usize..1500).prop_map(|(back, size)| Operation::Read { back, size }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn the_ring_keeps_a_suffix_of_the_model(operations in proptest::collection::vec(operation(), 1..60)) {
        let mut ring = LogRing::<2048>::new();
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut partial: Vec<u8> = Vec::new();
        for operation in operations {
            match operation {
                Operation::Write(bytes) => {
                    ring.write(&bytes);
                    for byte in bytes {
                        if byte == b'\n' {
                            partial.push(b'\n');
                            lines.push(core::mem::take(&mut partial));
                        } else {
                            if partial.len() == LINE_MAX - 1 {
                                // The ring cuts here (maybe a few bytes
                                // earlier, before an unfinished character).
                                let keep = LINE_MAX - 1 - ring_split(&partial);
                                let carried = partial.split_off(partial.len() - keep);
                                partial.push(b'\n');
                                lines.push(core::mem::replace(&mut partial, carried));
                            }
                            partial.push(byte);
                        }
                    }
                }
                Operation::EndPartial => {
                    if !partial.is_empty() {
                        partial.push(b'\n');
                        lines.push(core::mem::take(&mut partial));
                    }
                    ring.end_partial_line();
                }
                Operation::Read { back, size } => {
                    let from = (lines.len() as u64).saturating_sub(back);
                    let mut buffer = std::vec![0u8; size];
                    let first_kept = ring.first_sequence();
                    match ring.read(from, &mut buffer) {
                        Ok(read) => {
                            prop_assert_eq!(read.first, from.max(first_kept));
                            prop_assert_eq!(read.lost, read.first - from);
                            let expected: Vec<u8> =
                                lines[read.first as usize..read.next as usize].concat();
                            prop_assert_eq!(&buffer[..read.length], &expected[..]);
                            if read.next < lines.len() as u64 {
                                prop_assert!(read.length + lines[read.next as usize].len() > size);
                            }
                        }
                        Err(LogReadError::TooSmall { needed }) => {
                            let first = from.max(first_kept) as usize;
                            prop_assert_eq!(needed, lines[first].len());
                            prop_assert!(needed > size && size > 0);
                        }
                        Err(error) => prop_assert!(false, "unexpected {:?}", error),
                    }
                }
            }
            prop_assert_eq!(ring.check(), Ok(()));
            prop_assert_eq!(ring.next_sequence(), lines.len() as u64);
            prop_assert_eq!(ring.partial_length(), partial.len());
            // Kept: the newest lines, as many as fit (none dropped needlessly).
            let first = ring.first_sequence() as usize;
            let kept: usize = lines[first..].iter().map(|line| line.len() + 2).sum();
            prop_assert!(kept <= 2048);
            if first > 0 {
                prop_assert!(kept + lines[first - 1].len() + 2 > 2048);
            }
            prop_assert_eq!(ring.bytes_from(0), lines[first..].iter().map(Vec::len).sum::<usize>());
        }
    }
}

/// Where the model's full partial line is cut: before an unfinished UTF-8
/// character at its end, as the ring does.
fn ring_split(partial: &[u8]) -> usize {
    let length = partial.len();
    let mut continuation = 0;
    while continuation < 3 && continuation < length && partial[length - 1 - continuation] & 0xc0 == 0x80 {
        continuation += 1;
    }
    if continuation == length {
        return length;
    }
    let width = match partial[length - 1 - continuation] {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    };
    if width > continuation + 1 {
        length - continuation - 1
    } else {
        length
    }
}
