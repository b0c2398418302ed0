//! klogctl's reading of the kernel log through the console server
//! (`tty.read_kernel_log`, which hands out whole lines in chunks): what
//! part of the lines read fits the caller's buffer.

/// The newest whole lines of `lines` (newline-terminated, oldest first)
/// that fit in `capacity` bytes, as syslog(2)'s "read all" gives them. A
/// last line without its newline counts as a line.
pub fn newest_lines(lines: &[u8], capacity: usize) -> &[u8] {
    if lines.len() <= capacity {
        return lines;
    }
    // The first line start at or after `lines.len() - capacity`.
    let earliest = lines.len() - capacity;
    let start = if earliest == 0 || lines[earliest - 1] == b'\n' {
        earliest
    } else {
        match lines[earliest..].iter().position(|&byte| byte == b'\n') {
            Some(newline) => earliest + newline + 1,
            None => lines.len(),
        }
    };
    &lines[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_lines_of_the_newest_end_fit() {
        let lines = b"one\ntwo\nthree\n";
        assert_eq!(newest_lines(lines, 100), lines);
        assert_eq!(newest_lines(lines, 14), lines);
        assert_eq!(newest_lines(lines, 13), b"two\nthree\n");
        assert_eq!(newest_lines(lines, 10), b"two\nthree\n");
        assert_eq!(newest_lines(lines, 9), b"three\n");
        assert_eq!(newest_lines(lines, 5), b"");
        assert_eq!(newest_lines(lines, 0), b"");
        assert_eq!(newest_lines(b"", 0), b"");
    }

    proptest::proptest! {
        #[test]
        fn the_result_is_a_suffix_of_whole_lines_that_fits(
            lines in proptest::collection::vec("[a-z]{0,12}", 0..20),
            capacity in 0usize..200,
        ) {
            let text: alloc::vec::Vec<u8> = lines.iter().flat_map(|line| line.bytes().chain(core::iter::once(b'\n'))).collect();
            let kept = newest_lines(&text, capacity);
            proptest::prop_assert!(kept.len() <= capacity);
            proptest::prop_assert!(text.ends_with(kept));
            let start = text.len() - kept.len();
            proptest::prop_assert!(start == 0 || text[start - 1] == b'\n');
            // No whole line more would have fitted.
            if start > 0 {
                let previous = text[..start - 1].iter().rposition(|&byte| byte == b'\n').map_or(0, |at| at + 1);
                proptest::prop_assert!(text.len() - previous > capacity);
            }
        }
    }
}
