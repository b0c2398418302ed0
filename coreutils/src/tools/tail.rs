//! tail: the last lines (-n, default 10) or bytes (-c) of each file;
//! "+NUM" starts at line (byte) NUM instead. -f follows the files as they
//! grow (checking every -s seconds, 1 by default). Several files get
//! "==> NAME <==" headers (-q never, -v always). `-5`, `+5`, `-5c` are the
//! obsolete forms GNU still accepts as the first argument.

use crate::common::{file_header, output, quote, signed_count, Command, Input, Text};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::vec::Vec;
use posix::io::BufferedReader;

const COMMAND: Command = Command {
    usage: "[OPTION]... [FILE]...\nPrint the last 10 lines of each FILE to standard output.\n  -c, --bytes=[+]NUM       output the last NUM bytes; or use -c +NUM to output starting with byte NUM\n  -f, --follow             output appended data as the file grows\n  -n, --lines=[+]NUM       output the last NUM lines; or use -n +NUM to output starting with line NUM\n  -q, --quiet, --silent    never output headers giving file names\n  -s, --sleep-interval=N   with -f, sleep for approximately N seconds between iterations\n  -v, --verbose            always output headers giving file names\n",
    specs: &[
        Spec::value(b'c', "bytes"),
        Spec { short: b'f', long: "follow", takes: Takes::OptionalValue, id: b'f' as u32 },
        Spec::value(b'n', "lines"),
        Spec::flag(b'q', "quiet"),
        Spec { short: 0, long: "silent", takes: Takes::Nothing, id: b'q' as u32 },
        Spec::value(b's', "sleep-interval"),
        Spec::flag(b'v', "verbose"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// Where the output starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    LastLines(u64),
    FromLine(u64),
    LastBytes(u64),
    FromByte(u64),
}

/// The obsolete "-5", "+5", "-5c", "+5f" first argument as options.
fn rewrite_obsolete(arguments: &[&'static [u8]]) -> Vec<&'static [u8]> {
    if let Some(first) = arguments.first() {
        let sign = first.first().copied();
        if first.len() > 1 && matches!(sign, Some(b'-') | Some(b'+')) && first[1].is_ascii_digit() {
            let digits_end = first[1..].iter().position(|byte| !byte.is_ascii_digit()).map_or(first.len(), |p| p + 1);
            let suffix = &first[digits_end..];
            let valid = suffix.iter().all(|letter| matches!(letter, b'c' | b'l' | b'f')) && suffix.len() <= 2;
            if valid {
                let mut rewritten: Vec<&'static [u8]> = Vec::new();
                rewritten.push(if suffix.contains(&b'c') { b"-c" } else { b"-n" });
                // "+5" keeps its sign, "-5" means the last 5: both are argv slices.
                rewritten.push(if sign == Some(b'+') { &first[..digits_end] } else { &first[1..digits_end] });
                if suffix.contains(&b'f') {
                    rewritten.push(b"-f");
                }
                rewritten.extend_from_slice(&arguments[1..]);
                return rewritten;
            }
        }
    }
    arguments.to_vec()
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let arguments = rewrite_obsolete(arguments);
    let parsed = match COMMAND.parse(&arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut start = Start::LastLines(10);
    let mut headers: Option<bool> = None;
    let mut follow = false;
    let mut interval = posix::Timespec::new(1, 0);
    for found in &parsed.options {
        match found.id as u8 {
            b'c' | b'n' => {
                let Some((sign, count)) = signed_count(found.id as u8, found.value.unwrap_or(b"")) else {
                    return 1;
                };
                start = match (found.id as u8, sign == Some(b'+')) {
                    (b'c', false) => Start::LastBytes(count),
                    (b'c', true) => Start::FromByte(count),
                    (_, false) => Start::LastLines(count),
                    (_, true) => Start::FromLine(count),
                };
            }
            b'f' => follow = true,
            b'q' => headers = Some(false),
            b'v' => headers = Some(true),
            b's' => {
                let value = found.value.unwrap_or(b"");
                match crate::tools::sleep::parse_interval(value) {
                    Some(nanoseconds) => {
                        interval = posix::Timespec::new(
                            (nanoseconds / 1_000_000_000) as i64,
                            (nanoseconds % 1_000_000_000) as i64,
                        )
                    }
                    None => {
                        complain!("invalid number of seconds: {}", quote(value));
                        return 1;
                    }
                }
            }
            _ => {}
        }
    }
    let operands: Vec<&[u8]> = if parsed.operands.is_empty() { alloc::vec![b"-"] } else { parsed.operands };
    let show_headers = headers.unwrap_or(operands.len() > 1);
    let mut status = 0;
    let mut followed: Vec<(&[u8], Input, u64)> = Vec::new();
    let mut last_header: Option<usize> = None;
    for (index, operand) in operands.iter().enumerate() {
        let input = match Input::open(operand) {
            Ok(input) => input,
            Err(error) => {
                complain!("cannot open {} for reading: {}", quote(operand), error);
                status = 1;
                continue;
            }
        };
        if show_headers {
            file_header(operand, last_header.is_some());
            last_header = Some(index);
        }
        match print_tail(&input, start) {
            Ok(position) => {
                let is_regular = input.fd().stat().map(|stat| stat.is_regular()).unwrap_or(false);
                if follow && is_regular {
                    followed.push((operand, input, position));
                }
            }
            Err(error) => {
                complain!("error reading {}: {}", quote(operand), error);
                status = 1;
            }
        }
    }
    if follow && !followed.is_empty() {
        let _ = posix::io::stdout().flush();
        follow_files(&mut followed, show_headers, interval, last_header.map(|_| operands.len() - 1));
    }
    status
}

/// Prints the tail; returns the offset reached (for -f).
fn print_tail(input: &Input, start: Start) -> posix::Result<u64> {
    let fd = input.raw();
    let file = input.fd();
    let seekable = file.stat().map(|stat| stat.is_regular()).unwrap_or(false);
    let position_now = file.seek(0, posix::SEEK_CUR).ok();
    let size = file.seek(0, posix::SEEK_END).ok();
    if let (true, Some(size), Some(position_now)) = (seekable, size, position_now) {
        // Regular files: read only the end.
        let begin = match start {
            Start::LastBytes(count) => size.saturating_sub(count).max(position_now),
            Start::LastLines(count) => last_lines_offset(file, size, count)?.max(position_now),
            Start::FromByte(count) => (position_now + count.saturating_sub(1)).min(size),
            Start::FromLine(_) => position_now,
        };
        file.seek(begin as i64, posix::SEEK_SET)?;
        let mut reader = BufferedReader::new(posix::io::RawFd(fd));
        let mut position = begin;
        if let Start::FromLine(count) = start {
            position += skip_lines(&mut reader, count.saturating_sub(1))?;
        }
        loop {
            let available = reader.fill()?;
            if available.is_empty() {
                return Ok(position);
            }
            output(available);
            position += available.len() as u64;
            let length = available.len();
            reader.consume(length);
        }
    }
    let mut reader = BufferedReader::new(posix::io::RawFd(fd));
    match start {
        Start::FromLine(count) => {
            skip_lines(&mut reader, count.saturating_sub(1))?;
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest)?;
            output(&rest);
        }
        Start::FromByte(count) => {
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest)?;
            let skip = (count.saturating_sub(1) as usize).min(rest.len());
            output(&rest[skip..]);
        }
        Start::LastBytes(count) => {
            let mut data = Vec::new();
            reader.read_to_end(&mut data)?;
            let skip = data.len().saturating_sub(count.min(usize::MAX as u64) as usize);
            output(&data[skip..]);
        }
        Start::LastLines(count) => {
            let mut data = Vec::new();
            reader.read_to_end(&mut data)?;
            output(&data[last_lines_start(&data, count)..]);
        }
    }
    Ok(0)
}

/// Skips `count` lines; returns the bytes skipped.
fn skip_lines(reader: &mut BufferedReader<posix::io::RawFd>, mut count: u64) -> posix::Result<u64> {
    let mut skipped = 0u64;
    while count > 0 {
        let available = reader.fill()?;
        if available.is_empty() {
            break;
        }
        match available.iter().position(|&byte| byte == b'\n') {
            Some(newline) => {
                reader.consume(newline + 1);
                skipped += newline as u64 + 1;
                count -= 1;
            }
            None => {
                let length = available.len();
                reader.consume(length);
                skipped += length as u64;
            }
        }
    }
    Ok(skipped)
}

/// Where the last `count` lines of `data` begin (a final line without a
/// newline counts).
pub fn last_lines_start(data: &[u8], count: u64) -> usize {
    if count == 0 {
        return data.len();
    }
    let mut end = data.len();
    if end > 0 && data[end - 1] == b'\n' {
        end -= 1;
    }
    let mut remaining = count;
    while let Some(newline) = data[..end].iter().rposition(|&byte| byte == b'\n') {
        remaining -= 1;
        if remaining == 0 {
            return newline + 1;
        }
        end = newline;
    }
    0
}

/// The offset of the last `count` lines of a regular file of `size` bytes,
/// reading backwards in blocks.
fn last_lines_offset(file: &posix::Fd, size: u64, count: u64) -> posix::Result<u64> {
    if count == 0 {
        return Ok(size);
    }
    const BLOCK: u64 = 64 * 1024;
    let mut buffer = alloc::vec![0u8; BLOCK as usize];
    let mut end = size;
    let mut remaining = count;
    let mut first_block = true;
    loop {
        if end == 0 {
            return Ok(0);
        }
        let begin = end.saturating_sub(BLOCK);
        let length = (end - begin) as usize;
        let mut filled = 0;
        while filled < length {
            match file.read_at(&mut buffer[filled..length], begin + filled as u64) {
                Ok(0) => break,
                Ok(count) => filled += count,
                Err(error) => return Err(error),
            }
        }
        let mut block = &buffer[..filled];
        if first_block && block.last() == Some(&b'\n') {
            block = &block[..block.len() - 1];
        }
        first_block = false;
        let mut found = None;
        let mut search_end = block.len();
        while let Some(newline) = block[..search_end].iter().rposition(|&byte| byte == b'\n') {
            remaining -= 1;
            if remaining == 0 {
                found = Some(begin + newline as u64 + 1);
                break;
            }
            search_end = newline;
        }
        if let Some(offset) = found {
            return Ok(offset);
        }
        end = begin;
    }
}

/// -f: prints what is appended to each file, until killed.
fn follow_files(
    files: &mut [(&[u8], Input, u64)],
    show_headers: bool,
    interval: posix::Timespec,
    mut last: Option<usize>,
) {
    let mut buffer = alloc::vec![0u8; 64 * 1024];
    loop {
        let mut any = false;
        for (index, (name, input, position)) in files.iter_mut().enumerate() {
            let file = input.fd();
            let size = file.stat().map(|stat| stat.st_size as u64).unwrap_or(*position);
            if size < *position {
                complain!("{}: file truncated", Text(name));
                *position = 0;
            }
            while let Ok(count) = file.read_at(&mut buffer, *position) {
                if count == 0 {
                    break;
                }
                if show_headers && last != Some(index) {
                    file_header(name, true);
                    last = Some(index);
                }
                output(&buffer[..count]);
                *position += count as u64;
                any = true;
            }
        }
        if any {
            let _ = posix::io::stdout().flush();
        }
        let _ = posix::time::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_start_counts_from_the_end() {
        assert_eq!(last_lines_start(b"a\nb\nc\n", 1), 4);
        assert_eq!(last_lines_start(b"a\nb\nc\n", 2), 2);
        assert_eq!(last_lines_start(b"a\nb\nc\n", 5), 0);
        assert_eq!(last_lines_start(b"a\nb\nc", 1), 4);
        assert_eq!(last_lines_start(b"a\nb\nc", 0), 5);
        assert_eq!(last_lines_start(b"\n\n", 1), 1);
        assert_eq!(last_lines_start(b"", 3), 0);
    }
}
