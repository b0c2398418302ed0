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
/// Most boot modules (the first user tasks) we accept. The kernel tests
/// load every test program as a module (34 and growing).
pub const MAX_MODULES: usize = 64;
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

/// One boot module: a file the loader placed in memory (a user task's ELF image).
#[derive(Clone, Debug)]
pub struct Module {
    pub range: PhysicalRange,
    pub command_line: String<MAX_COMMAND_LINE>,
}

impl Module {
    /// The module's name: the file name of the first word of its command
    /// line (loaders pass the path the module was loaded from, then arguments).
    pub fn name(&self) -> &str {
        let path = self.command_line.split_ascii_whitespace().next().unwrap_or("");
        path.rsplit('/').next().unwrap_or(path)
    }
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
                let line = expected_line(module.name())
                    .ok_or_else(|| alloc::format!("unexpected module {:?}", module.command_line.as_str()))?;
                ensure!(module.range.start.is_page_aligned(), "module not page aligned");
                ensure!(module.range.size() > 0 && module.range.size() % line.len() as u64 == 0);
                let contents = crate::memory::physical_bytes(module.range);
                for chunk in contents.chunks(line.len()) {
                    ensure!(chunk == line.as_bytes(), "module {:?} contents differ", module.command_line.as_str());
                }
            }
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
