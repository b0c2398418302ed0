//! chown and chgrp: change a file's owner and group. OWNER[:[GROUP]]
//! (names or numbers; "user:" takes the user's login group), ":GROUP";
//! -R recurses, -h changes a link itself, -v/-c report, -f is quiet.

use crate::common::{quote, Command};
use crate::complain;
use crate::options::{Order, Spec, Takes};
use alloc::string::String;
use alloc::vec::Vec;

const SPECS: &[Spec] = &[
    Spec::flag(b'c', "changes"),
    Spec::flag(b'f', "silent"),
    Spec { short: 0, long: "quiet", takes: Takes::Nothing, id: b'f' as u32 },
    Spec::flag(b'v', "verbose"),
    Spec::flag(b'R', "recursive"),
    Spec::flag(b'h', "no-dereference"),
];

const CHOWN: Command = Command {
    usage: "[OPTION]... [OWNER][:[GROUP]] FILE...\nChange the owner and/or group of each FILE to OWNER and/or GROUP.\n  -c, --changes          like verbose but report only when a change is made\n  -f, --silent, --quiet  suppress most error messages\n  -v, --verbose          output a diagnostic for every file processed\n  -h, --no-dereference   affect symbolic links instead of any referenced file\n  -R, --recursive        operate on files and directories recursively\n",
    specs: SPECS,
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

const CHGRP: Command = Command {
    usage: "[OPTION]... GROUP FILE...\nChange the group of each FILE to GROUP.\n  -c, --changes          like verbose but report only when a change is made\n  -f, --silent, --quiet  suppress most error messages\n  -v, --verbose          output a diagnostic for every file processed\n  -h, --no-dereference   affect symbolic links instead of any referenced file\n  -R, --recursive        operate on files and directories recursively\n",
    specs: SPECS,
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// The ids OWNER[:GROUP] names (None: unchanged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub user: Option<u32>,
    pub group: Option<u32>,
}

fn number(text: &[u8]) -> Option<u32> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(text).ok()?.parse().ok()
}

fn lookup_user(name: &[u8]) -> Option<(u32, u32)> {
    if let Some(user) = posix::accounts::user_by_name(name) {
        return Some((user.uid, user.gid));
    }
    number(name).map(|uid| (uid, u32::MAX))
}

fn lookup_group(name: &[u8]) -> Option<u32> {
    posix::accounts::group_by_name(name).map(|group| group.gid).or_else(|| number(name))
}

/// Parses OWNER[:[GROUP]]; errors carry GNU's message.
pub fn parse_owner(text: &[u8]) -> Result<Owner, String> {
    let (user_text, group_text) = match text.iter().position(|&byte| byte == b':') {
        Some(colon) => (&text[..colon], Some(&text[colon + 1..])),
        None => (text, None),
    };
    let mut owner = Owner { user: None, group: None };
    let mut login_group = None;
    if !user_text.is_empty() {
        let Some((uid, gid)) = lookup_user(user_text) else {
            return Err(alloc::format!("invalid user: {}", quote(text)));
        };
        owner.user = Some(uid);
        login_group = (gid != u32::MAX).then_some(gid);
    }
    match group_text {
        Some(group) if !group.is_empty() => match lookup_group(group) {
            Some(gid) => owner.group = Some(gid),
            None => return Err(alloc::format!("invalid group: {}", quote(text))),
        },
        Some(_) if !user_text.is_empty() => match login_group {
            Some(gid) => owner.group = Some(gid),
            None => return Err(alloc::format!("invalid spec: {}", quote(text))),
        },
        _ => {}
    }
    Ok(owner)
}

struct Settings {
    owner: Owner,
    verbose: bool,
    changes_only: bool,
    quiet: bool,
    recursive: bool,
    follow: bool,
    group_only: bool,
}

pub fn chown_main(arguments: &[&'static [u8]]) -> i32 {
    run(arguments, &CHOWN, false)
}

pub fn chgrp_main(arguments: &[&'static [u8]]) -> i32 {
    run(arguments, &CHGRP, true)
}

fn run(arguments: &[&'static [u8]], command: &Command, group_only: bool) -> i32 {
    let parsed = match command.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut operands = parsed.operands.clone();
    if operands.is_empty() {
        return command.usage_error(format_args!("missing operand"));
    }
    let spec = operands.remove(0);
    if operands.is_empty() {
        return command.usage_error(format_args!("missing operand after {}", quote(spec)));
    }
    let owner = if group_only {
        match lookup_group(spec) {
            Some(gid) => Owner { user: None, group: Some(gid) },
            None => {
                complain!("invalid group: {}", quote(spec));
                return 1;
            }
        }
    } else {
        match parse_owner(spec) {
            Ok(owner) => owner,
            Err(message) => {
                complain!("{}", message);
                return 1;
            }
        }
    };
    let settings = Settings {
        owner,
        verbose: parsed.has(b'v'),
        changes_only: parsed.has(b'c'),
        quiet: parsed.has(b'f'),
        recursive: parsed.has(b'R'),
        follow: !parsed.has(b'h'),
        group_only,
    };
    let mut status = 0;
    for operand in operands {
        if !change(operand, &settings, true) {
            status = 1;
        }
    }
    status
}

fn user_name(uid: u32) -> String {
    posix::accounts::user_by_id(uid)
        .map(|user| String::from_utf8_lossy(&user.name).into_owned())
        .unwrap_or_else(|| alloc::format!("{}", uid))
}

fn group_name(gid: u32) -> String {
    posix::accounts::group_by_id(gid)
        .map(|group| String::from_utf8_lossy(&group.name).into_owned())
        .unwrap_or_else(|| alloc::format!("{}", gid))
}

fn change(path: &[u8], settings: &Settings, top: bool) -> bool {
    let follow = top && settings.follow;
    let stat = if follow { posix::fs::stat(path) } else { posix::fs::lstat(path) };
    let stat = match stat {
        Ok(stat) => stat,
        Err(error) => {
            if !settings.quiet {
                complain!("cannot access {}: {}", quote(path), error);
            }
            return false;
        }
    };
    let user = settings.owner.user.unwrap_or(u32::MAX);
    let group = settings.owner.group.unwrap_or(u32::MAX);
    let new_user = settings.owner.user.unwrap_or(stat.st_uid);
    let new_group = settings.owner.group.unwrap_or(stat.st_gid);
    let changed = new_user != stat.st_uid || new_group != stat.st_gid;
    let mut ok = true;
    let result = if !follow && stat.is_symlink() && !top {
        // Links met while recursing: their own owner (GNU's -R default -P).
        posix::fs::set_owner(path, user, group, false)
    } else {
        posix::fs::set_owner(path, user, group, follow)
    };
    match result {
        Ok(()) => {
            if settings.verbose || (settings.changes_only && changed) {
                report(path, &stat, new_user, new_group, changed, settings);
            }
        }
        Err(error) => {
            if !settings.quiet {
                let what = if settings.group_only || settings.owner.user.is_none() { "group" } else { "ownership" };
                complain!("changing {} of {}: {}", what, quote(path), error);
            }
            ok = false;
        }
    }
    if settings.recursive && stat.is_directory() {
        match posix::fs::read_directory(path) {
            Ok(entries) => {
                let names: Vec<Vec<u8>> = entries.into_iter().map(|entry| entry.name).collect();
                for name in names {
                    ok &= change(&posix::path::join(path, &name), settings, false);
                }
            }
            Err(error) => {
                if !settings.quiet {
                    complain!("cannot read directory {}: {}", quote(path), error);
                }
                ok = false;
            }
        }
    }
    ok
}

fn report(path: &[u8], stat: &posix::Stat, new_user: u32, new_group: u32, changed: bool, settings: &Settings) {
    let group_only = settings.group_only || settings.owner.user.is_none();
    let describe = |uid: u32, gid: u32| {
        if group_only {
            group_name(gid)
        } else if settings.owner.group.is_some() {
            alloc::format!("{}:{}", user_name(uid), group_name(gid))
        } else {
            user_name(uid)
        }
    };
    let what = if group_only { "group" } else { "ownership" };
    if changed {
        posix::println!(
            "changed {} of {} from {} to {}",
            what,
            quote(path),
            describe(stat.st_uid, stat.st_gid),
            describe(new_user, new_group)
        );
    } else {
        posix::println!("{} of {} retained as {}", what, quote(path), describe(new_user, new_group));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_owners_parse() {
        assert_eq!(parse_owner(b"12345:678").unwrap(), Owner { user: Some(12345), group: Some(678) });
        assert_eq!(parse_owner(b":678").unwrap(), Owner { user: None, group: Some(678) });
        assert_eq!(parse_owner(b"12345").unwrap(), Owner { user: Some(12345), group: None });
        assert_eq!(parse_owner(b"no-such-user-here").unwrap_err(), "invalid user: 'no-such-user-here'");
        assert_eq!(parse_owner(b"0:no-such-group-here").unwrap_err(), "invalid group: '0:no-such-group-here'");
    }
}
