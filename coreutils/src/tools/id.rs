//! id: user and group ids of the calling process or of USER: "uid=0(root)
//! gid=0(root) groups=0(root),...". -u, -g, -G print one kind; -n names
//! instead of numbers; -r the real ids instead of the effective ones.

use crate::common::{output, quote, Command};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::string::String;
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[OPTION]... [USER]...\nPrint user and group information for each specified USER, or (when USER omitted) for the current process.\n  -g, --group    print only the effective group ID\n  -G, --groups   print all group IDs\n  -n, --name     print a name instead of a number, for -u,-g,-G\n  -r, --real     print the real ID instead of the effective ID, with -u,-g,-G\n  -u, --user     print only the effective user ID\n  -z, --zero     delimit entries with NUL characters, not whitespace\n",
    specs: &[
        Spec::flag(b'g', "group"),
        Spec::flag(b'G', "groups"),
        Spec::flag(b'n', "name"),
        Spec::flag(b'r', "real"),
        Spec::flag(b'u', "user"),
        Spec::flag(b'z', "zero"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

struct Identity {
    uid: u32,
    euid: u32,
    gid: u32,
    egid: u32,
    groups: Vec<u32>,
}

fn user_name(uid: u32) -> Option<String> {
    posix::accounts::user_by_id(uid).map(|user| String::from_utf8_lossy(&user.name).into_owned())
}

fn group_name(gid: u32) -> Option<String> {
    posix::accounts::group_by_id(gid).map(|group| String::from_utf8_lossy(&group.name).into_owned())
}

fn with_name(id: u32, name: Option<String>) -> String {
    match name {
        Some(name) => alloc::format!("{}({})", id, name),
        None => alloc::format!("{}", id),
    }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let only_user = parsed.has(b'u');
    let only_group = parsed.has(b'g');
    let all_groups = parsed.has(b'G');
    let names = parsed.has(b'n');
    let real = parsed.has(b'r');
    let zero = parsed.has(b'z');
    let selections = [only_user, only_group, all_groups].iter().filter(|&&on| on).count();
    if selections > 1 {
        complain!("cannot print \"only\" of more than one choice");
        return 1;
    }
    if selections == 0 && (names || real) {
        complain!("cannot print only names or real IDs in default format");
        return 1;
    }
    if selections == 0 && zero {
        complain!("option --zero not permitted in default format");
        return 1;
    }
    let mut identities = Vec::new();
    if parsed.operands.is_empty() {
        let uid = posix::process::user_id();
        let gid = posix::process::group_id();
        let egid = posix::process::effective_group_id();
        let mut groups = posix::accounts::supplementary_groups().unwrap_or_default();
        // GNU lists the effective group first, then the others without repeats.
        groups.retain(|&group| group != egid);
        groups.insert(0, egid);
        identities.push(Identity { uid, euid: posix::process::effective_user_id(), gid, egid, groups });
    } else {
        for operand in &parsed.operands {
            let user = posix::accounts::user_by_name(*operand).or_else(|| {
                crate::common::parse_integer(operand).and_then(|uid| posix::accounts::user_by_id(uid as u32))
            });
            let Some(user) = user else {
                complain!("{}: no such user", quote(operand));
                return 1;
            };
            let groups = posix::accounts::group_list(&user.name, user.gid);
            identities.push(Identity { uid: user.uid, euid: user.uid, gid: user.gid, egid: user.gid, groups });
        }
    }
    let separator = if zero { "\0" } else { " " };
    let end = if zero { "\0" } else { "\n" };
    let mut out = String::new();
    for identity in &identities {
        if only_user || only_group {
            let (id, name) = if only_user {
                let id = if real { identity.uid } else { identity.euid };
                (id, user_name(id))
            } else {
                let id = if real { identity.gid } else { identity.egid };
                (id, group_name(id))
            };
            out.push_str(&if names {
                name.unwrap_or_else(|| alloc::format!("{}", id))
            } else {
                alloc::format!("{}", id)
            });
            out.push_str(end);
            continue;
        }
        if all_groups {
            let mut groups = identity.groups.clone();
            if real && !groups.is_empty() {
                groups[0] = identity.gid;
            }
            let texts: Vec<String> = groups
                .iter()
                .map(|&gid| {
                    if names {
                        group_name(gid).unwrap_or_else(|| alloc::format!("{}", gid))
                    } else {
                        alloc::format!("{}", gid)
                    }
                })
                .collect();
            out.push_str(&texts.join(separator));
            out.push_str(end);
            continue;
        }
        out.push_str(&alloc::format!(
            "uid={} gid={}",
            with_name(identity.uid, user_name(identity.uid)),
            with_name(identity.gid, group_name(identity.gid))
        ));
        if identity.euid != identity.uid {
            out.push_str(&alloc::format!(" euid={}", with_name(identity.euid, user_name(identity.euid))));
        }
        if identity.egid != identity.gid {
            out.push_str(&alloc::format!(" egid={}", with_name(identity.egid, group_name(identity.egid))));
        }
        let texts: Vec<String> = identity.groups.iter().map(|&gid| with_name(gid, group_name(gid))).collect();
        out.push_str(&alloc::format!(" groups={}\n", texts.join(",")));
    }
    output(out.as_bytes());
    0
}
