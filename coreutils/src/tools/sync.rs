//! sync: writes cached file data to the devices: everything, or with
//! FILE operands just those files (fsync; -d is the same here).

use crate::common::{quote, Command};
use crate::complain;
use crate::options::{Order, Spec};

const COMMAND: Command = Command {
    usage: "[OPTION] [FILE]...\nSynchronize cached writes to persistent storage.\n  -d, --data             sync only file data, no unneeded metadata\n",
    specs: &[Spec::flag(b'd', "data")],
    order: Order::Gnu,
    usage_status: 1,
    try_with_name: false,
};

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    let parsed = match COMMAND.parse(arguments) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    if parsed.operands.is_empty() {
        posix::fs::sync_all();
        return 0;
    }
    let mut status = 0;
    for operand in &parsed.operands {
        let result = posix::fd::open(*operand, posix::O_RDONLY | posix::O_NONBLOCK | posix::O_CLOEXEC, 0)
            .or_else(|_| posix::fd::open(*operand, posix::O_WRONLY | posix::O_NONBLOCK | posix::O_CLOEXEC, 0));
        match result {
            Ok(fd) => {
                if let Err(error) = fd.sync() {
                    complain!("error syncing {}: {}", quote(operand), error);
                    status = 1;
                }
            }
            Err(error) => {
                complain!("error opening {}: {}", quote(operand), error);
                status = 1;
            }
        }
    }
    status
}
