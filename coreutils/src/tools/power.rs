//! poweroff, reboot and halt: flush the file systems (unless -n) and ask
//! the system to stop (reboot(2): the process server on Mach_R). -w only
//! writes nothing and stops nothing (kept for scripts that record a
//! shutdown); -f is accepted (there is no init to ask instead).

use crate::common::Command;
use crate::complain;
use crate::options::{Order, Spec};

const COMMAND: Command = Command {
    usage: "[-f] [-n] [-w]\nStop the system.\n  -f, --force      do not ask an init process (there is none to ask)\n  -n, --no-sync    do not sync the file systems first\n  -w, --wtmp-only  do nothing\n",
    specs: &[Spec::flag(b'f', "force"), Spec::flag(b'n', "no-sync"), Spec::flag(b'w', "wtmp-only"), Spec::flag(b'p', "poweroff")],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    Nothing,
    Stop { command: u32, sync: bool },
}

/// The plan for tool `name` with these options.
pub fn plan(name: &str, no_sync: bool, only_record: bool, power_off: bool) -> Plan {
    if only_record {
        return Plan::Nothing;
    }
    let command = match name {
        "reboot" => posix::RB_AUTOBOOT,
        "halt" if !power_off => posix::RB_HALT_SYSTEM,
        _ => posix::RB_POWER_OFF,
    };
    Plan::Stop { command, sync: !no_sync }
}

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if let Some(extra) = parsed.operands.first() {
        complain!("extra operand {}", crate::common::quote(extra));
        return COMMAND.try_help();
    }
    match plan(crate::common::name(), parsed.has(b'n'), parsed.has(b'w'), parsed.has(b'p')) {
        Plan::Nothing => 0,
        Plan::Stop { command, sync } => {
            if sync {
                posix::fs::sync_all();
            }
            let _ = posix::io::stdout().flush();
            let error = posix::system::reboot(command);
            complain!("{}", error);
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_stops_its_way() {
        assert_eq!(plan("poweroff", false, false, false), Plan::Stop { command: posix::RB_POWER_OFF, sync: true });
        assert_eq!(plan("reboot", true, false, false), Plan::Stop { command: posix::RB_AUTOBOOT, sync: false });
        assert_eq!(plan("halt", false, false, false), Plan::Stop { command: posix::RB_HALT_SYSTEM, sync: true });
        assert_eq!(plan("halt", false, false, true), Plan::Stop { command: posix::RB_POWER_OFF, sync: true });
        assert_eq!(plan("reboot", false, true, false), Plan::Nothing);
    }
}
