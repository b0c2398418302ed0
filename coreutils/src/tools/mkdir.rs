//! mkdir: creates directories. -p creates missing parents and accepts
//! existing directories; -m sets the mode (octal or symbolic); -v reports.

use crate::common::{quote, Command};
use crate::complain;
use crate::options::{Order, Spec};
use crate::tools::chmod::parse_mode;

const COMMAND: Command = Command {
    usage: "[OPTION]... DIRECTORY...\nCreate the DIRECTORY(ies), if they do not already exist.\n  -m, --mode=MODE   set file mode (as in chmod), not a=rwx - umask\n  -p, --parents     no error if existing, make parent directories as needed\n  -v, --verbose     print a message for each created directory\n",
    specs: &[Spec::value(b'm', "mode"), Spec::flag(b'p', "parents"), Spec::flag(b'v', "verbose")],
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
        return COMMAND.usage_error(format_args!("missing operand"));
    }
    let umask = posix::fs::umask();
    let mode = match parsed.value(b'm' as u32) {
        Some(text) => match parse_mode(text) {
            Some(change) => Some(change.apply(0o777, true, umask)),
            None => {
                complain!("invalid mode {}", quote(text));
                return 1;
            }
        },
        None => None,
    };
    let parents = parsed.has(b'p');
    let verbose = parsed.has(b'v');
    let mut status = 0;
    for operand in &parsed.operands {
        if parents {
            // Each missing ancestor gets u+wx on top of the umask's mode, as GNU does.
            let mut prefix = alloc::vec::Vec::new();
            let components: alloc::vec::Vec<&[u8]> = operand.split(|&byte| byte == b'/').collect();
            for (index, component) in components.iter().enumerate() {
                if index > 0 {
                    prefix.push(b'/');
                }
                prefix.extend_from_slice(component);
                if component.is_empty() || *component == b"." || *component == b".." {
                    continue;
                }
                let last = components[index + 1..].iter().all(|rest| rest.is_empty());
                match posix::fs::stat(&prefix) {
                    Ok(stat) if stat.is_directory() => {
                        if last {
                            break;
                        }
                        continue;
                    }
                    Ok(_) => {
                        complain!("cannot create directory {}: {}", quote(&prefix), posix::Errno(posix::ENOTDIR));
                        status = 1;
                        break;
                    }
                    Err(_) => {}
                }
                let wanted = if last { mode.unwrap_or(0o777 & !umask) } else { (0o777 & !umask) | 0o300 };
                match posix::fs::make_directory(&prefix, wanted) {
                    Ok(()) => {
                        if last && mode.is_some() {
                            let _ = posix::fs::set_mode(&prefix, wanted);
                        }
                        if verbose {
                            posix::println!("mkdir: created directory {}", quote(&prefix));
                        }
                    }
                    Err(error)
                        if error.0 == posix::EEXIST && posix::fs::stat(&prefix).is_ok_and(|s| s.is_directory()) => {}
                    Err(error) => {
                        complain!("cannot create directory {}: {}", quote(&prefix), error);
                        status = 1;
                        break;
                    }
                }
                if last {
                    break;
                }
            }
            continue;
        }
        match posix::fs::make_directory(*operand, mode.unwrap_or(0o777)) {
            Ok(()) => {
                if let Some(mode) = mode {
                    // An explicit mode is not subject to the umask.
                    let _ = posix::fs::set_mode(*operand, mode);
                }
                if verbose {
                    posix::println!("mkdir: created directory {}", quote(operand));
                }
            }
            Err(error) => {
                complain!("cannot create directory {}: {}", quote(operand), error);
                status = 1;
            }
        }
    }
    status
}
