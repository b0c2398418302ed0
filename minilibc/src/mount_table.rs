//! Lines of the mount table (`/etc/mtab`, `/proc/mounts`: "fsname dir type
//! options freq passno") for `<mntent.h>`. Fields are separated by blanks;
//! a blank inside a field is written as an octal escape (`\040`), which is
//! decoded in place. Comments and blank lines are skipped.
#![forbid(unsafe_code)]

/// The six fields of one entry, as ranges of the (decoded) line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountFields {
    pub fsname: (usize, usize),
    pub dir: (usize, usize),
    pub kind: (usize, usize),
    pub options: (usize, usize),
    pub frequency: i32,
    pub pass: i32,
}

/// Decodes `line` in place (escapes shrink it) and finds its fields;
/// None for a comment, a blank or a malformed line. Field ends are
/// exclusive; the caller may write NULs at them.
pub fn parse_entry(line: &mut [u8]) -> Option<MountFields> {
    let mut length = line.len();
    while length > 0 && matches!(line[length - 1], b'\n' | b'\r') {
        length -= 1;
    }
    let mut start = 0;
    while start < length && matches!(line[start], b' ' | b'\t') {
        start += 1;
    }
    if start == length || line[start] == b'#' {
        return None;
    }
    let mut ranges = [(0usize, 0usize); 6];
    let mut count = 0;
    let mut index = start;
    while index < length && count < 6 {
        while index < length && matches!(line[index], b' ' | b'\t') {
            index += 1;
        }
        if index == length {
            break;
        }
        // Decode the field in place: `write` trails `index`.
        let field_start = index;
        let mut write = index;
        while index < length && !matches!(line[index], b' ' | b'\t') {
            if line[index] == b'\\'
                && index + 3 < length
                && line[index + 1..index + 4].iter().all(|digit| (b'0'..=b'7').contains(digit))
            {
                let value = (line[index + 1] - b'0') as u32 * 64
                    + (line[index + 2] - b'0') as u32 * 8
                    + (line[index + 3] - b'0') as u32;
                line[write] = value as u8;
                index += 4;
            } else {
                line[write] = line[index];
                index += 1;
            }
            write += 1;
        }
        ranges[count] = (field_start, write);
        count += 1;
        if index < length {
            // The separator stays: it is where the caller puts the NUL.
            index += 1;
        }
    }
    if count < 4 {
        return None;
    }
    let number = |range: (usize, usize), line: &[u8]| -> i32 {
        core::str::from_utf8(&line[range.0..range.1]).ok().and_then(|text| text.parse().ok()).unwrap_or(0)
    };
    Some(MountFields {
        fsname: ranges[0],
        dir: ranges[1],
        kind: ranges[2],
        options: ranges[3],
        frequency: if count > 4 { number(ranges[4], line) } else { 0 },
        pass: if count > 5 { number(ranges[5], line) } else { 0 },
    })
}

/// Whether the comma-separated `options` hold `option` (alone or as `option=...`);
/// returns its offset.
pub fn find_option(options: &[u8], option: &[u8]) -> Option<usize> {
    let mut offset = 0;
    for item in options.split(|&byte| byte == b',') {
        if item == option || (item.starts_with(option) && item.get(option.len()) == Some(&b'=')) {
            return Some(offset);
        }
        offset += item.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fields = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, i32, i32);

    fn fields(line: &str) -> Option<Fields> {
        let mut bytes = line.as_bytes().to_vec();
        let parsed = parse_entry(&mut bytes)?;
        let slice = |range: (usize, usize)| bytes[range.0..range.1].to_vec();
        Some((
            slice(parsed.fsname),
            slice(parsed.dir),
            slice(parsed.kind),
            slice(parsed.options),
            parsed.frequency,
            parsed.pass,
        ))
    }

    #[test]
    fn entries_decode_their_escapes() {
        assert_eq!(
            fields("/dev/vda / ext2 rw,relatime 0 1\n").unwrap(),
            (b"/dev/vda".to_vec(), b"/".to_vec(), b"ext2".to_vec(), b"rw,relatime".to_vec(), 0, 1)
        );
        let spaced = fields("tmpfs /mnt/with\\040space tmpfs rw 0 0").unwrap();
        assert_eq!(spaced.1, b"/mnt/with space");
        assert_eq!(fields("proc /proc proc rw").unwrap().4, 0);
        assert_eq!(fields("# comment"), None);
        assert_eq!(fields("   \n"), None);
        assert_eq!(fields("only three fields"), None);
    }

    #[test]
    fn options_are_found_whole() {
        assert_eq!(find_option(b"rw,relatime,size=10k", b"size"), Some(12));
        assert_eq!(find_option(b"rw,relatime", b"rela"), None);
        assert_eq!(find_option(b"ro", b"ro"), Some(0));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(line in proptest::collection::vec(proptest::prelude::prop_oneof![
            proptest::prelude::Just(b' '), proptest::prelude::Just(b'\\'), proptest::prelude::Just(b'0'),
            proptest::prelude::Just(b'4'), proptest::prelude::Just(b'a'), proptest::prelude::Just(b'\n')], 0..60)) {
            let mut line = line;
            if let Some(parsed) = parse_entry(&mut line) {
                for range in [parsed.fsname, parsed.dir, parsed.kind, parsed.options] {
                    proptest::prop_assert!(range.0 <= range.1 && range.1 <= line.len());
                }
            }
        }
    }
}
