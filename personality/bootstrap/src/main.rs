//! The bootstrap task: the first user task, the root of the personality.
//!
//! The kernel starts it with its first argument pointing at a read-only
//! `BootstrapInfo` page: a send right to the privileged host port and the
//! other boot modules, copied read-only into its address space. It
//!
//! 1. starts every module that is an executable, each in a new task it
//!    builds itself ([`spawn`]), giving each child one right only: a send
//!    right to a bootstrap port of its own, whose name is the child's first
//!    argument (the host port stays here);
//! 2. serves the name service on those ports ([`names`]): register a send
//!    right under a name, look a name up;
//! 3. supervises the children ([`supervisor`]): it is their exception port
//!    and holds dead-name requests on their task ports, so it learns why and
//!    when each one ends; a child that registered a name (a server) is
//!    restarted, within a restart budget.
//!
//! Everything arrives on one port set: the supervisor port (exceptions,
//! notifications) and the children's bootstrap ports. See docs/bootstrap.md.
#![no_std]
#![no_main]

extern crate alloc;

mod heap;
mod names;
mod spawn;
mod supervisor;

use core::fmt::Write;
use libmach::abi::{BootModule, BootstrapInfo, BOOTSTRAP_INFO_MAGIC, BOOTSTRAP_INFO_VERSION};
use libmach::trap::debug_print;

libmach::entry!(main);

/// Formats a line into a fixed buffer and prints it.
pub fn report(arguments: core::fmt::Arguments) {
    let mut line = heapless_line::Line::default();
    let _ = line.write_fmt(arguments);
    let _ = line.write_str("\n");
    let _ = debug_print(line.as_str());
}

mod heapless_line {
    /// A 256-byte line buffer (no allocation, so it works before the heap).
    pub struct Line {
        bytes: [u8; 256],
        length: usize,
    }

    impl Default for Line {
        fn default() -> Self {
            Self { bytes: [0; 256], length: 0 }
        }
    }

    impl Line {
        pub fn as_str(&self) -> &str {
            core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("<not UTF-8>")
        }
    }

    impl core::fmt::Write for Line {
        fn write_str(&mut self, text: &str) -> core::fmt::Result {
            let take = text.len().min(self.bytes.len() - self.length);
            self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
            self.length += take;
            Ok(())
        }
    }
}

pub fn module_name(module: &BootModule) -> &str {
    core::str::from_utf8(module.name()).unwrap_or("<module name not UTF-8>")
}

fn main(info_address: u64) {
    // SAFETY: the kernel maps a `BootstrapInfo` read-only at the address in
    // our first argument for the whole life of this task.
    let info = unsafe { &*(info_address as *const BootstrapInfo) };
    if info.magic != BOOTSTRAP_INFO_MAGIC || info.version != BOOTSTRAP_INFO_VERSION {
        report(format_args!("bootstrap: no valid bootstrap information at {info_address:#x}"));
        return;
    }
    heap::init();
    let modules = &info.modules[..(info.module_count as usize).min(info.modules.len())];
    report(format_args!("bootstrap: {} module(s), host port {}", modules.len(), info.host_port));
    let mut supervisor = match supervisor::Supervisor::new() {
        Ok(supervisor) => supervisor,
        Err(error) => {
            report(format_args!("bootstrap: cannot make its ports: {error:?}"));
            return;
        }
    };
    for module in modules {
        // SAFETY: the kernel copied the module read-only to `address`, `size`
        // bytes long, for the life of this task.
        let image: &'static [u8] =
            unsafe { core::slice::from_raw_parts(module.address as *const u8, module.size as usize) };
        if image.starts_with(b"\x7fELF") {
            supervisor.add_child(module_name(module), image);
        }
    }
    report(format_args!("bootstrap: started {} task(s)", supervisor.running()));
    supervisor.serve();
}
