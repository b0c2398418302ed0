//! Program entry and panic handling for Rust programs without minilibc.
//!
//! `libmach::entry!(main)` defines `_start`, which calls `main(argument)`
//! with the value the loader put in the first argument register and, if
//! `main` returns, parks the thread (there is no exit trap: a task ends when
//! its task port is terminated, by itself or by its parent).

/// Defines the program entry point: `libmach::entry!(main)` with
/// `fn main(argument: u64)`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        extern "C" fn _start(argument: u64) -> ! {
            $main(argument);
            $crate::runtime::park()
        }
    };
}

/// Sleeps forever.
pub fn park() -> ! {
    loop {
        let _ = crate::trap::thread_sleep(u64::MAX / 1_000_000);
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut buffer = Buffer { bytes: [0; 256], length: 0 };
    let _ = core::fmt::write(&mut buffer, format_args!("panic: {}\n", info.message()));
    let _ = crate::trap::debug_print(buffer.as_str());
    park()
}

/// A fixed buffer for formatting without an allocator.
struct Buffer {
    bytes: [u8; 256],
    length: usize,
}

impl Buffer {
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("<panic message not UTF-8>")
    }
}

impl core::fmt::Write for Buffer {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let room = self.bytes.len() - self.length;
        let take = text.len().min(room);
        self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
        self.length += take;
        Ok(())
    }
}
