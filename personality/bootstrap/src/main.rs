//! The bootstrap task: the first user task, the root of the personality.
//!
//! The kernel starts it with its first argument pointing at a read-only
//! `BootstrapInfo` page: a send right to the privileged host port and the
//! other boot modules, copied read-only into its address space. Today it
//! starts every module that is an executable, each in a new task it builds
//! itself (see [`spawn`]), and reports what it did. Next (issue 6): give each
//! server only the rights it needs, run the name service, and restart a
//! server that dies.
#![no_std]
#![no_main]

extern crate alloc;

mod heap;
mod spawn;

use core::fmt::Write;
use libmach::abi::{BootModule, BootstrapInfo, BOOTSTRAP_INFO_MAGIC, BOOTSTRAP_INFO_VERSION};
use libmach::trap::debug_print;

libmach::entry!(main);

/// Formats a line into a fixed buffer and prints it.
fn report(arguments: core::fmt::Arguments) {
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

fn module_name(module: &BootModule) -> &str {
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
    let mut started = 0;
    for module in modules {
        // SAFETY: the kernel copied the module read-only to `address`, `size`
        // bytes long, for the life of this task.
        let image = unsafe { core::slice::from_raw_parts(module.address as *const u8, module.size as usize) };
        if !image.starts_with(b"\x7fELF") {
            continue; // a data module, not a program
        }
        match spawn::start(image) {
            Ok(task) => {
                started += 1;
                report(format_args!("bootstrap: started {} as task port {task}", module_name(module)));
            }
            Err(error) => report(format_args!("bootstrap: cannot start {}: {error:?}", module_name(module))),
        }
    }
    report(format_args!("bootstrap: started {started} task(s)"));
}
