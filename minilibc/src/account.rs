//! Parsing of the user and group databases (`/etc/passwd`, `/etc/group`)
//! for `<pwd.h>` and `<grp.h>`: one record per line, fields separated by
//! ':'. Malformed lines are skipped, as glibc's files backend does.
#![forbid(unsafe_code)]

/// One `/etc/passwd` record, borrowing the line's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserRecord<'a> {
    pub name: &'a [u8],
    pub password: &'a [u8],
    pub user: u32,
    pub group: u32,
    pub comment: &'a [u8],
    pub home: &'a [u8],
    pub shell: &'a [u8],
}

/// One `/etc/group` record; `members` is the comma-separated list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupRecord<'a> {
    pub name: &'a [u8],
    pub password: &'a [u8],
    pub group: u32,
    pub members: &'a [u8],
}

fn number(field: &[u8]) -> Option<u32> {
    if field.is_empty() || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(field).ok()?.parse().ok()
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses one passwd line (with or without its newline).
pub fn parse_user(line: &[u8]) -> Option<UserRecord<'_>> {
    let line = trim_line(line);
    if line.is_empty() || line[0] == b'#' {
        return None;
    }
    let mut fields = line.split(|&b| b == b':');
    let record = UserRecord {
        name: fields.next().filter(|name| !name.is_empty())?,
        password: fields.next()?,
        user: number(fields.next()?)?,
        group: number(fields.next()?)?,
        comment: fields.next()?,
        home: fields.next()?,
        shell: fields.next()?,
    };
    if fields.next().is_some() {
        return None;
    }
    Some(record)
}

/// Parses one group line (with or without its newline).
pub fn parse_group(line: &[u8]) -> Option<GroupRecord<'_>> {
    let line = trim_line(line);
    if line.is_empty() || line[0] == b'#' {
        return None;
    }
    let mut fields = line.split(|&b| b == b':');
    let record = GroupRecord {
        name: fields.next().filter(|name| !name.is_empty())?,
        password: fields.next()?,
        group: number(fields.next()?)?,
        members: fields.next()?,
    };
    if fields.next().is_some() {
        return None;
    }
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users() {
        let record = parse_user(b"root:x:0:0:root:/root:/bin/sh\n").unwrap();
        assert_eq!(
            (record.name, record.user, record.group, record.home, record.shell),
            (&b"root"[..], 0, 0, &b"/root"[..], &b"/bin/sh"[..])
        );
        assert_eq!(parse_user(b"nobody:x:65534:65534::/nonexistent:").unwrap().comment, b"");
        assert_eq!(parse_user(b"bad:x:notanumber:0:::"), None);
        assert_eq!(parse_user(b"short:x:1:2"), None);
        assert_eq!(parse_user(b"extra:x:1:2:c:h:s:more"), None);
        assert_eq!(parse_user(b"# comment"), None);
        assert_eq!(parse_user(b":x:1:2:c:h:s"), None);
        assert_eq!(parse_user(b"big:x:99999999999:0:::"), None);
    }

    #[test]
    fn groups() {
        let record = parse_group(b"wheel:x:10:alice,bob\n").unwrap();
        assert_eq!((record.name, record.group, record.members), (&b"wheel"[..], 10, &b"alice,bob"[..]));
        assert_eq!(parse_group(b"empty:x:5:").unwrap().members, b"");
        assert_eq!(parse_group(b"broken:x::"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn never_panics(line in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
            let _ = parse_user(&line);
            let _ = parse_group(&line);
        }
    }
}
