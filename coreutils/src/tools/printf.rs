//! printf: formats and prints its arguments (see `printf_format` for the
//! conversions and escapes it knows).

use crate::common::{output, Command};
use crate::complain;
use crate::options::Order;

const COMMAND: Command = Command {
    usage: "FORMAT [ARGUMENT]...\nPrint ARGUMENT(s) according to FORMAT: \\\\ \\a \\b \\c \\e \\f \\n \\r \\t \\v \\NNN \\xHH \\uHHHH \\UHHHHHHHH escapes;\n%d %i %o %u %x %X %c %s %b %q %f %F %e %E %g %G %a %A %% conversions with flags, width and precision.\n",
    specs: &[],
    order: Order::Posix,
    usage_status: 1,
    try_with_name: false,
};

pub fn main(arguments: &[&'static [u8]]) -> i32 {
    // Only a lone --help is an option; anything else (even "-x") is the format.
    if arguments == [b"--help"] {
        return COMMAND.parse(arguments).err().unwrap_or(0);
    }
    let arguments: &[&[u8]] = if arguments.first() == Some(&&b"--"[..]) { &arguments[1..] } else { arguments };
    let Some((format, rest)) = arguments.split_first() else {
        return COMMAND.usage_error(format_args!("missing operand"));
    };
    let outcome = crate::printf_format::run(format, rest);
    output(&outcome.output);
    for warning in &outcome.warnings {
        complain!("{}", warning);
    }
    i32::from(outcome.failed)
}
