//! Shell wildcard patterns (fnmatch) for find -name and grep --include:
//! `*`, `?`, bracket expressions (`[a-z]`, `[!x]` or `[^x]`, `[[:alpha:]]`)
//! and `\` quoting. A name's leading '.' is matched like any character (as
//! find and grep do).
#![forbid(unsafe_code)]

/// Whether `name` matches `pattern`; `fold` ignores ASCII case.
pub fn matches(pattern: &[u8], name: &[u8], fold: bool) -> bool {
    let equal = |a: u8, b: u8| if fold { a.eq_ignore_ascii_case(&b) } else { a == b };
    // Iterative matching with one backtrack point for the last '*'.
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                b'?' if n < name.len() => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' if n < name.len() => {
                    if let Some((matched, next)) = bracket(pattern, p, name[n], fold) {
                        if matched {
                            p = next;
                            n += 1;
                            continue;
                        }
                    } else if equal(b'[', name[n]) {
                        // An unterminated '[' is a plain character.
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pattern.len() && n < name.len() && equal(pattern[p + 1], name[n]) => {
                    p += 2;
                    n += 1;
                    continue;
                }
                literal if n < name.len() && equal(literal, name[n]) && literal != b'?' && literal != b'[' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        } else if n == name.len() {
            return true;
        }
        // Mismatch: let the last '*' take one more byte, if there is one.
        match star {
            Some((star_p, star_n)) if star_n < name.len() => {
                star = Some((star_p, star_n + 1));
                p = star_p + 1;
                n = star_n + 1;
            }
            _ => return false,
        }
    }
}

/// Matches `byte` against the bracket expression at `pattern[start]`;
/// returns (matched, index after the bracket), or None if unterminated.
fn bracket(pattern: &[u8], start: usize, byte: u8, fold: bool) -> Option<(bool, usize)> {
    let mut index = start + 1;
    let negated = matches!(pattern.get(index), Some(b'!') | Some(b'^'));
    if negated {
        index += 1;
    }
    let mut matched = false;
    let mut first = true;
    let candidates = if fold { [byte.to_ascii_lowercase(), byte.to_ascii_uppercase()] } else { [byte, byte] };
    loop {
        let current = *pattern.get(index)?;
        if current == b']' && !first {
            return Some((matched != negated, index + 1));
        }
        first = false;
        if current == b'[' && pattern.get(index + 1) == Some(&b':') {
            let end = pattern[index + 2..].windows(2).position(|window| window == b":]")? + index + 2;
            let name = &pattern[index + 2..end];
            let test: fn(u8) -> bool = match name {
                b"alpha" => |b| b.is_ascii_alphabetic(),
                b"digit" => |b| b.is_ascii_digit(),
                b"alnum" => |b| b.is_ascii_alphanumeric(),
                b"upper" => |b| b.is_ascii_uppercase(),
                b"lower" => |b| b.is_ascii_lowercase(),
                b"space" => |b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
                b"blank" => |b| b == b' ' || b == b'\t',
                b"punct" => |b| b.is_ascii_punctuation(),
                b"print" => |b| (0x20..0x7f).contains(&b),
                b"graph" => |b| b.is_ascii_graphic(),
                b"cntrl" => |b| b.is_ascii_control(),
                b"xdigit" => |b| b.is_ascii_hexdigit(),
                _ => return None,
            };
            matched |= candidates.iter().any(|&candidate| test(candidate));
            index = end + 2;
            continue;
        }
        let mut low = current;
        if low == b'\\' {
            index += 1;
            low = *pattern.get(index)?;
        }
        index += 1;
        if pattern.get(index) == Some(&b'-') && pattern.get(index + 1).is_some_and(|&next| next != b']') {
            let mut high = *pattern.get(index + 1)?;
            index += 2;
            if high == b'\\' {
                high = *pattern.get(index)?;
                index += 1;
            }
            matched |= candidates.iter().any(|&candidate| low <= candidate && candidate <= high);
        } else {
            matched |= candidates.contains(&low);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wildcards() {
        assert!(matches(b"*.c", b"main.c", false));
        assert!(!matches(b"*.c", b"main.h", false));
        assert!(matches(b"a?c", b"abc", false));
        assert!(matches(b"*", b".hidden", false));
        assert!(matches(b"[a-c]x[!y]", b"bxz", false));
        assert!(!matches(b"[a-c]x[!y]", b"bxy", false));
        assert!(matches(b"[[:digit:]]*", b"9lives", false));
        assert!(matches(b"\\*", b"*", false));
        assert!(!matches(b"\\*", b"x", false));
        assert!(matches(b"[]]", b"]", false));
        assert!(matches(b"[", b"[", false));
        assert!(matches(b"*A*", b"xay", true));
        assert!(matches(b"a*b*c", b"aXbYbZc", false));
        assert!(!matches(b"a*b", b"a", false));
    }

    /// A direct recursive definition, for the property test.
    fn model(pattern: &[u8], name: &[u8]) -> bool {
        match pattern.first() {
            None => name.is_empty(),
            Some(b'*') => (0..=name.len()).any(|skip| model(&pattern[1..], &name[skip..])),
            Some(b'?') => !name.is_empty() && model(&pattern[1..], &name[1..]),
            Some(&literal) => name.first() == Some(&literal) && model(&pattern[1..], &name[1..]),
        }
    }

    proptest! {
        #[test]
        fn stars_and_marks_agree_with_the_model(pattern in "[ab*?]{0,8}", name in "[ab]{0,10}") {
            prop_assert_eq!(matches(pattern.as_bytes(), name.as_bytes(), false), model(pattern.as_bytes(), name.as_bytes()));
        }
    }
}
