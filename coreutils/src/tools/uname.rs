//! uname: the system's name, node name, release, version, machine.

use crate::common::{output, Command};
use crate::complain;
use crate::options::{Order, Spec};
use alloc::vec::Vec;

const COMMAND: Command = Command {
    usage: "[OPTION]...\nPrint certain system information.  With no OPTION, same as -s.\n  -a, --all                print all information, in the following order, except omit -p and -i if unknown:\n  -s, --kernel-name        print the kernel name\n  -n, --nodename           print the network node hostname\n  -r, --kernel-release     print the kernel release\n  -v, --kernel-version     print the kernel version\n  -m, --machine            print the machine hardware name\n  -p, --processor          print the processor type (non-portable)\n  -i, --hardware-platform  print the hardware platform (non-portable)\n  -o, --operating-system   print the operating system\n",
    specs: &[
        Spec::flag(b'a', "all"),
        Spec::flag(b's', "kernel-name"),
        Spec::flag(b'n', "nodename"),
        Spec::flag(b'r', "kernel-release"),
        Spec::flag(b'v', "kernel-version"),
        Spec::flag(b'm', "machine"),
        Spec::flag(b'p', "processor"),
        Spec::flag(b'i', "hardware-platform"),
        Spec::flag(b'o', "operating-system"),
    ],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if let Some(extra) = parsed.operands.first() {
        complain!("extra operand {}", crate::common::quote(extra));
        return COMMAND.try_help();
    }
    let name = match posix::system::system_name() {
        Ok(name) => name,
        Err(error) => {
            complain!("cannot get system name: {}", error);
            return 1;
        }
    };
    let all = parsed.has(b'a');
    let any = parsed.options.iter().any(|found| found.id < 256);
    let operating_system: &[u8] = if name.system == b"Linux" { b"GNU/Linux" } else { &name.system };
    let mut fields: Vec<&[u8]> = Vec::new();
    if all || parsed.has(b's') || !any {
        fields.push(&name.system);
    }
    if all || parsed.has(b'n') {
        fields.push(&name.node);
    }
    if all || parsed.has(b'r') {
        fields.push(&name.release);
    }
    if all || parsed.has(b'v') {
        fields.push(&name.version);
    }
    if all || parsed.has(b'm') {
        fields.push(&name.machine);
    }
    // The processor and platform are unknown; -a leaves unknowns out, as GNU does.
    if !all && parsed.has(b'p') {
        fields.push(b"unknown");
    }
    if !all && parsed.has(b'i') {
        fields.push(b"unknown");
    }
    if all || parsed.has(b'o') {
        fields.push(operating_system);
    }
    let mut line = fields.join(&b' ');
    line.push(b'\n');
    output(&line);
    0
}
