//! What the boot loader handed us, in an architecture-neutral form.
//!
//! The architecture's entry code fills a [`BootInfo`] from its boot protocol
//! (Multiboot on x86_64) before anything allocates, copying what it needs so
//! that the loader's own structures may be overwritten afterwards. Only the
//! boot modules' contents stay where the loader put them; their frames are
//! reserved.

use crate::memory::PhysicalRange;
use heapless::{String, Vec};

/// Most memory-map entries we keep; firmware maps are far smaller.
pub const MAX_MEMORY_REGIONS: usize = 64;
/// Most boot modules (the first user tasks) we accept; a boot with more is
/// refused with an error, never cut short.
pub const MAX_MODULES: usize = mach_abi::BOOT_MODULES_MAX;
/// Longest module name (the file name of the module's path) we accept.
pub const MAX_MODULE_NAME: usize = mach_abi::BOOTSTRAP_MODULE_NAME_MAX;
/// Longest command line we keep, for the kernel and for each module.
pub const MAX_COMMAND_LINE: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// RAM free for the kernel to use.
    Usable,
    /// Firmware, ACPI tables, device memory or anything else not ours.
    Reserved,
}

#[derive(Clone, Copy, Debug)]
pub struct MemoryRegion {
    pub range: PhysicalRange,
    pub kind: RegionKind,
}

/// One boot module: a file the loader placed in memory (a user task's ELF
/// image, or data such as the boot manifest).
#[derive(Clone, Debug)]
pub struct Module {
    pub range: PhysicalRange,
    /// The file name of the first word of its command line (loaders pass
    /// the path the module was loaded from, then arguments, which we drop).
    pub name: String<MAX_MODULE_NAME>,
}

impl Module {
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
}

/// Why a module's command line gives no usable name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleNameError {
    /// The file name is longer than [`MAX_MODULE_NAME`] bytes.
    TooLong,
    /// The file name is not UTF-8.
    NotUtf8,
}

/// Reads a module's name from its command line a byte at a time (so a
/// path of any length works without a buffer): the file name of the first
/// word. Feed bytes with [`ModuleNameReader::push`] until it says the name
/// is complete or the line ends, then take [`ModuleNameReader::finish`].
#[derive(Default)]
pub struct ModuleNameReader {
    bytes: heapless::Vec<u8, MAX_MODULE_NAME>,
    too_long: bool,
    started: bool,
    done: bool,
}

impl ModuleNameReader {
    /// Takes the next byte of the command line (not its NUL); returns true
    /// once the first word has ended and no more bytes are needed.
    pub fn push(&mut self, byte: u8) -> bool {
        if self.done {
            return true;
        }
        if byte.is_ascii_whitespace() {
            self.done = self.started;
            return self.done;
        }
        self.started = true;
        if byte == b'/' {
            self.bytes.clear();
            self.too_long = false;
        } else if self.bytes.push(byte).is_err() {
            self.too_long = true;
        }
        false
    }

    pub fn finish(self) -> Result<String<MAX_MODULE_NAME>, ModuleNameError> {
        if self.too_long {
            return Err(ModuleNameError::TooLong);
        }
        let text = core::str::from_utf8(&self.bytes).map_err(|_| ModuleNameError::NotUtf8)?;
        let mut name = String::new();
        name.push_str(text).map_err(|()| ModuleNameError::TooLong)?;
        Ok(name)
    }
}

/// The module name of a whole command line (see [`ModuleNameReader`]).
pub fn module_name(command_line: &str) -> Result<String<MAX_MODULE_NAME>, ModuleNameError> {
    let mut reader = ModuleNameReader::default();
    for &byte in command_line.as_bytes() {
        if reader.push(byte) {
            break;
        }
    }
    reader.finish()
}

#[derive(Debug, Default)]
pub struct BootInfo {
    pub loader_name: String<64>,
    pub command_line: String<MAX_COMMAND_LINE>,
    pub memory_map: Vec<MemoryRegion, MAX_MEMORY_REGIONS>,
    pub modules: Vec<Module, MAX_MODULES>,
    /// Physical extent of the loaded kernel image, bss and boot stack included.
    pub kernel_image: PhysicalRange,
}

/// Copies `text` into a bounded string, cutting it at a character boundary
/// when it is too long (a loader's over-long command line is not an error).
pub fn bounded_string<const N: usize>(text: &str) -> String<N> {
    let mut result = String::new();
    for character in text.chars() {
        if result.push(character).is_err() {
            break;
        }
    }
    result
}

static BOOT_INFO: spin::Once<BootInfo> = spin::Once::new();

/// Keeps the boot information for the kernel's lifetime; called once by the
/// architecture's entry code.
pub fn set(boot: BootInfo) -> &'static BootInfo {
    BOOT_INFO.call_once(|| boot)
}

/// The boot information. Panics if called before the architecture set it.
pub fn get() -> &'static BootInfo {
    BOOT_INFO.get().expect("boot information read before it was set")
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure, ensure_eq, ktest};

    /// The contents `scripts/test` gives module `ktest-module-N`: the line
    /// `ktest module N` repeated to a few pages.
    fn expected_line(name: &str) -> Option<alloc::string::String> {
        let number = name.strip_prefix("ktest-module-")?;
        Some(alloc::format!("ktest module {number}\n"))
    }

    ktest! {
        fn modules_arrive_with_contents_and_command_lines() {
            let boot = get();
            let expected: usize = crate::command_line::option(&boot.command_line, "ktest.modules")
                .map(str::parse)
                .transpose()?
                .unwrap_or(0);
            let ours = boot.modules.iter().filter(|module| module.name().starts_with("ktest-module-"));
            ensure_eq!(ours.clone().count(), expected);
            for module in ours {
                let line =
                    expected_line(module.name()).ok_or_else(|| alloc::format!("unexpected module {:?}", module.name()))?;
                ensure!(module.range.start.is_page_aligned(), "module not page aligned");
                ensure!(module.range.size() > 0 && module.range.size() % line.len() as u64 == 0);
                let contents = crate::memory::physical_bytes(module.range);
                for chunk in contents.chunks(line.len()) {
                    ensure!(chunk == line.as_bytes(), "module {:?} contents differ", module.name());
                }
            }
            Ok(())
        }

        fn a_module_is_named_after_the_file_of_its_first_word() {
            let name = |line: &str| module_name(line).map(|name| alloc::string::String::from(name.as_str()));
            let owned = |text: &str| Ok(alloc::string::String::from(text));
            ensure_eq!(name("/a/b/kv-server first second"), owned("kv-server"));
            ensure_eq!(name("  plain"), owned("plain"));
            ensure_eq!(name(""), owned(""));
            let longest = "x".repeat(MAX_MODULE_NAME);
            ensure_eq!(name(&alloc::format!("/dir/{longest} argument")), Ok(longest.clone()));
            ensure_eq!(name(&alloc::format!("/dir/{longest}y")), Err(ModuleNameError::TooLong));
            // A long directory does not count, however long: only the file name.
            let deep = alloc::format!("/{}/{}/short", "d".repeat(300), longest);
            ensure_eq!(name(&deep), owned("short"));
            Ok(())
        }

        fn memory_map_has_usable_ram_and_kernel_inside_it() {
            let boot = get();
            let kernel = boot.kernel_image;
            ensure!(kernel.size() > 0);
            ensure!(
                boot.memory_map.iter().any(|region| region.kind == RegionKind::Usable
                    && region.range.start <= kernel.start && kernel.end <= region.range.end),
                "the kernel image is not inside usable RAM"
            );
            Ok(())
        }
    }
}
