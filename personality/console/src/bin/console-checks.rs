//! A terminal program for the console's system test (scripts/tests/console):
//! it opens `/dev/console` (5:1) at the console server itself (`device.defs`
//! on the `console` port, as the file server would), talks `io.defs` to the
//! terminal, and answers what is typed on the serial line, so that a script
//! typing there can check what a reader gets. With the host port its
//! manifest line grants, it first makes itself process 42, leader of
//! session 42 and process group 42 (what the process server will do for
//! processes), so the terminal becomes its controlling terminal and ^C is
//! SIGINT for its group.
//!
//! Each line it reads (after a `> ` prompt) it answers `got: LINE`; an empty
//! read is `got end of file`. Commands:
//!
//! - `raw`: raw mode (as `cfmakeraw` sets the local modes, `VMIN` 1): each
//!   read is answered `raw: HEX`, until a `q`; then the settings before;
//! - `later`: waits 700 ms, then prints a kernel log line (through
//!   `debug_print`), so that it arrives while the next line is typed;
//! - `klog`: looks for its own first log line with `kernel_log_read`
//!   (its manifest line gives it the host port);
//! - `pgrp`: says the terminal's foreground process group (`TIOCGPGRP`);
//! - `dmesg`: asks the console for the kernel log (`tty.defs`), which it
//!   refuses to a user that is not root;
//! - `bench`: writes 64 KiB (64-byte lines) and says how long the writes
//!   took (a figure, never a failure);
//! - `quit`: says `bye` and stops.
#![no_std]
#![no_main]

use libmach::abi::PortName;
use libmach::{println, SendRight, SystemKernel};
use mach_bootstrap_core::names;
use personality_interfaces::{device, io, tty};

libmach::entry!(main);

#[path = "../heap.rs"]
mod heap;

/// The process this program acts as: a session leader.
const PROCESS: u32 = 42;
const USER: u32 = 1000;

/// `/dev/console`: 5:1 as a Linux `dev_t`.
const CONSOLE_DEVICE: u64 = 0x501;
const READ_WRITE: u32 = 2;

fn write(terminal: &mut io::Client<SystemKernel>, text: &[u8]) {
    if let Err(error) = terminal.write(text) {
        println!("console-checks: write failed: {error:?}");
    }
}

/// `text` as `got: text` (its newline dropped).
fn answer(terminal: &mut io::Client<SystemKernel>, line: &[u8]) {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut reply = [0u8; 300];
    let prefix = b"got: ";
    let length = (prefix.len() + line.len()).min(reply.len() - 1);
    reply[..prefix.len()].copy_from_slice(prefix);
    reply[prefix.len()..length].copy_from_slice(&line[..length - prefix.len()]);
    reply[length] = b'\n';
    write(terminal, &reply[..length + 1]);
}

/// A line formatted into a fixed buffer.
struct Line<'a> {
    bytes: &'a mut [u8],
    length: usize,
}

impl<'a> Line<'a> {
    fn new(bytes: &'a mut [u8]) -> Self {
        Line { bytes, length: 0 }
    }
}

impl core::fmt::Write for Line<'_> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let end = self.length + text.len();
        self.bytes.get_mut(self.length..end).ok_or(core::fmt::Error)?.copy_from_slice(text.as_bytes());
        self.length = end;
        Ok(())
    }
}

/// Raw mode as `cfmakeraw` leaves the local modes (no `ICANON`, `ECHO`,
/// `ISIG`, `IEXTEN`), one byte at a time; returns the settings before.
fn raw_mode(terminal: &mut io::Client<SystemKernel>) -> Option<io::Termios> {
    let saved = terminal.get_terminal_attributes().ok()?;
    const ISIG: u32 = 0o1;
    const ICANON: u32 = 0o2;
    const ECHO: u32 = 0o10;
    const IEXTEN: u32 = 0o100000;
    const VTIME: usize = 5;
    const VMIN: usize = 6;
    let mut termios = saved;
    termios.local_flags &= !(ICANON | ECHO | ISIG | IEXTEN);
    termios.control_characters[VMIN] = 1;
    termios.control_characters[VTIME] = 0;
    terminal.set_terminal_attributes(0, &termios).ok()?;
    Some(saved)
}

fn raw_session(terminal: &mut io::Client<SystemKernel>) {
    let Some(saved) = raw_mode(terminal) else {
        write(terminal, b"cannot set raw mode\n");
        return;
    };
    write(terminal, b"raw mode\n");
    while let Ok(data) = terminal.read(64) {
        if data.as_slice().contains(&b'q') {
            break;
        }
        let mut text = [0u8; 140];
        text[..5].copy_from_slice(b"raw: ");
        let mut length = 5;
        for &byte in data.as_slice().iter().take(64) {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            text[length] = HEX[(byte >> 4) as usize];
            text[length + 1] = HEX[(byte & 15) as usize];
            length += 2;
        }
        text[length] = b'\n';
        write(terminal, &text[..length + 1]);
    }
    if terminal.set_terminal_attributes(0, &saved).is_ok() {
        write(terminal, b"canonical mode\n");
    } else {
        write(terminal, b"cannot restore the settings\n");
    }
}

/// Writes 64 KiB in 8 KiB writes of 64-byte lines; reports the time.
fn bench(terminal: &mut io::Client<SystemKernel>) {
    let mut chunk = [b'.'; 8192];
    for line in chunk.chunks_mut(64) {
        line[63] = b'\n';
    }
    let start = libmach::trap::clock_get_time().unwrap_or(0);
    let mut written = 0;
    while written < 65536 {
        match terminal.write(&chunk) {
            Ok(count) => written += count as usize,
            Err(_) => break,
        }
    }
    let elapsed = libmach::trap::clock_get_time().unwrap_or(0).saturating_sub(start);
    println!("console-checks: wrote {written} bytes in {} us", elapsed / 1000);
    write(terminal, b"bench done\n");
}

fn find_own_line() -> bool {
    let Some(host) = libmach::runtime::host_port() else { return false };
    let mut buffer = [0u8; 4096];
    let mut sequence = 0;
    while let Ok(read) = libmach::kernel_log::read(host, &mut buffer, sequence) {
        if read.length == 0 {
            return false;
        }
        let text = &buffer[..read.length];
        if text.windows(24).any(|window| window == b"console-checks: starting") {
            return true;
        }
        sequence = read.next;
    }
    false
}

fn main(bootstrap_port: u64) {
    let kernel = SystemKernel;
    println!("console-checks: starting");
    if let Err(error) = heap::init(64 * 1024) {
        println!("console-checks: no memory for a heap: {error:?}");
        return;
    }
    let credential = libmach::abi::TaskCredential {
        pid: PROCESS,
        pgid: PROCESS,
        sid: PROCESS,
        ruid: USER,
        euid: USER,
        rgid: USER,
        egid: USER,
        ..Default::default()
    };
    let host = libmach::runtime::host_port().unwrap_or(0);
    if let Err(error) = libmach::trap::task_set_credential(host, libmach::trap::task_self(), &credential) {
        println!("console-checks: cannot become process {PROCESS}: {error:?}");
        return;
    }
    let Ok(mut names) = names::Client::new(&kernel, SendRight::from_name(&kernel, bootstrap_port as PortName)) else {
        println!("console-checks: no name service");
        return;
    };
    let console = match names.lookup_wait("console", 10_000) {
        Ok(console) => console,
        Err(error) => {
            println!("console-checks: no console server: {error:?}");
            return;
        }
    };
    let Ok(console_again) = console.try_clone() else { return };
    let Ok(mut log) = tty::Client::new(&kernel, console_again) else { return };
    let Ok(mut service) = device::Client::new(&kernel, console) else { return };
    let terminal = match service.open(CONSOLE_DEVICE, READ_WRITE, &device::Opener::default()) {
        Ok(terminal) => terminal,
        Err(error) => {
            println!("console-checks: cannot open the console: {error:?}");
            return;
        }
    };
    let Ok(mut terminal) = io::Client::new(&kernel, terminal) else { return };
    println!("console-checks: ready");
    loop {
        write(&mut terminal, b"> ");
        let line = match terminal.read(256) {
            Ok(line) => line,
            Err(error) => {
                println!("console-checks: read failed: {error:?}");
                return;
            }
        };
        match line.as_slice() {
            b"" => write(&mut terminal, b"got end of file\n"),
            b"raw\n" => raw_session(&mut terminal),
            b"later\n" => {
                let _ = libmach::trap::thread_sleep(700);
                println!("console-checks: the delayed kernel line");
            }
            b"klog\n" => {
                if find_own_line() {
                    write(&mut terminal, b"found my line with kernel_log_read\n");
                } else {
                    write(&mut terminal, b"my line is not in the kernel log\n");
                }
            }
            b"bench\n" => bench(&mut terminal),
            b"dmesg\n" => match log.read_kernel_log(0) {
                Err(libmach::CallError::Interface(tty::Error::Eperm)) => {
                    write(&mut terminal, b"dmesg: not permitted\n")
                }
                Ok(_) => write(&mut terminal, b"dmesg: read the kernel log\n"),
                Err(error) => println!("console-checks: read_kernel_log failed: {error:?}"),
            },
            b"pgrp\n" => match terminal.get_foreground_group() {
                Ok(group) => {
                    let mut text = [0u8; 40];
                    let mut line = Line::new(&mut text);
                    let _ = core::fmt::write(&mut line, format_args!("foreground group {group}\n"));
                    let length = line.length;
                    write(&mut terminal, &text[..length]);
                }
                Err(error) => println!("console-checks: TIOCGPGRP failed: {error:?}"),
            },
            b"quit\n" => {
                write(&mut terminal, b"bye\n");
                println!("console-checks: done");
                return;
            }
            other => answer(&mut terminal, other),
        }
    }
}
