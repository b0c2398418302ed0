//! One module per tool; `ALL` is the table `run` dispatches on.

use crate::Tool;

pub mod cat;
pub mod chmod;
pub mod chown;
pub mod clear;
pub mod cmp;
pub mod cp;
pub mod cut;
pub mod date;
pub mod df;
pub mod diff;
pub mod dmesg;
pub mod du;
pub mod echo;
pub mod env;
pub mod find;
pub mod grep;
pub mod head;
pub mod hexdump;
pub mod id;
pub mod kill;
pub mod ln;
pub mod ls;
pub mod mkdir;
pub mod more;
pub mod mount;
pub mod mv;
pub mod power;
pub mod printf;
pub mod ps;
pub mod pwd;
pub mod rm;
pub mod rmdir;
pub mod sleep;
pub mod sort;
pub mod stat;
pub mod sync;
pub mod tail;
pub mod tee;
pub mod touch;
pub mod tr;
pub mod truth;
pub mod uname;
pub mod uniq;
pub mod vi;
pub mod wc;
pub mod xargs;

/// Every tool, by name.
pub static ALL: &[Tool] = &[
    Tool { name: "cat", main: cat::main },
    Tool { name: "chgrp", main: chown::chgrp_main },
    Tool { name: "chmod", main: chmod::main },
    Tool { name: "chown", main: chown::chown_main },
    Tool { name: "clear", main: clear::main },
    Tool { name: "cmp", main: cmp::main },
    Tool { name: "cp", main: cp::main },
    Tool { name: "cut", main: cut::main },
    Tool { name: "date", main: date::main },
    Tool { name: "df", main: df::main },
    Tool { name: "diff", main: diff::main },
    Tool { name: "dmesg", main: dmesg::main },
    Tool { name: "du", main: du::main },
    Tool { name: "echo", main: echo::main },
    Tool { name: "egrep", main: grep::egrep_main },
    Tool { name: "env", main: env::main },
    Tool { name: "false", main: truth::false_main },
    Tool { name: "fgrep", main: grep::fgrep_main },
    Tool { name: "find", main: find::main },
    Tool { name: "grep", main: grep::main },
    Tool { name: "halt", main: power::main },
    Tool { name: "head", main: head::main },
    Tool { name: "hexdump", main: hexdump::main },
    Tool { name: "id", main: id::main },
    Tool { name: "kill", main: kill::main },
    Tool { name: "ln", main: ln::main },
    Tool { name: "ls", main: ls::main },
    Tool { name: "mkdir", main: mkdir::main },
    Tool { name: "more", main: more::main },
    Tool { name: "mount", main: mount::mount_main },
    Tool { name: "mv", main: mv::main },
    Tool { name: "poweroff", main: power::main },
    Tool { name: "printf", main: printf::main },
    Tool { name: "ps", main: ps::main },
    Tool { name: "pwd", main: pwd::main },
    Tool { name: "reboot", main: power::main },
    Tool { name: "rm", main: rm::main },
    Tool { name: "rmdir", main: rmdir::main },
    Tool { name: "sleep", main: sleep::main },
    Tool { name: "sort", main: sort::main },
    Tool { name: "stat", main: stat::main },
    Tool { name: "sync", main: sync::main },
    Tool { name: "tail", main: tail::main },
    Tool { name: "tee", main: tee::main },
    Tool { name: "touch", main: touch::main },
    Tool { name: "tr", main: tr::main },
    Tool { name: "true", main: truth::true_main },
    Tool { name: "umount", main: mount::umount_main },
    Tool { name: "uname", main: uname::main },
    Tool { name: "uniq", main: uniq::main },
    Tool { name: "vi", main: vi::main },
    Tool { name: "wc", main: wc::main },
    Tool { name: "xargs", main: xargs::main },
];
