//! What the boot loader handed us, in an architecture-neutral form.
//!
//! The architecture's entry code fills a [`BootInfo`] from its boot protocol
//! (Multiboot on x86_64) before anything allocates, copying what it needs so
//! that the loader's own structures may be overwritten afterwards. Only the
//! boot modules' contents stay where the loader put them; their frames are
//! reserved.
#![deny(unsafe_code)]

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

/// Why a boot-module archive (aarch64's initrd) cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveError {
    /// Not an archive: no `MACHMODS` magic, or another version.
    BadHeader,
    /// More boot modules than the kernel takes: refused, never cut.
    TooManyModules { count: u32, limit: usize },
    /// Entry `index` lies outside the archive, or its contents do not
    /// start on a page boundary in memory.
    BadEntry { index: usize },
    /// Entry `index`'s command line has no NUL within its field.
    UnterminatedCommandLine { index: usize },
    /// Entry `index`'s module name is too long or not UTF-8.
    BadModuleName { index: usize, error: ModuleNameError, limit: usize },
}

/// The boot-module archive QEMU's aarch64 loader passes as its one initrd
/// (x86_64's Multiboot loader passes modules separately): a header, one
/// entry per module, then the modules, each at a page-aligned offset.
/// `scripts/lib/module_archive.py` writes it; docs/boot.md describes it.
///
/// ```text
/// 0   8 bytes  "MACHMODS"
/// 8   u32      version (1)
/// 12  u32      module count
/// 16  count × { u64 offset, u64 size, 256 bytes command line, NUL padded }
/// ```
pub mod archive {
    pub const MAGIC: &[u8; 8] = b"MACHMODS";
    pub const VERSION: u32 = 1;
    pub const HEADER_SIZE: usize = 16;
    pub const COMMAND_LINE_SIZE: usize = 256;
    pub const ENTRY_SIZE: usize = 16 + COMMAND_LINE_SIZE;
}

fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(offset..offset + 4)?.try_into().ok()?))
}

fn read_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(offset..offset + 8)?.try_into().ok()?))
}

/// Appends to `modules` those of the archive `bytes`, which the loader put
/// at physical address `base` (filled in place: the list is 18 KiB, too
/// much to move around on a boot stack). Every offset, size, name and the
/// count are checked; on an error `modules` holds those read before it.
pub fn read_module_archive(
    bytes: &[u8],
    base: u64,
    modules: &mut Vec<Module, MAX_MODULES>,
) -> Result<(), ArchiveError> {
    use archive::*;
    if bytes.get(..8) != Some(MAGIC.as_slice()) || read_u32(bytes, 8) != Some(VERSION) {
        return Err(ArchiveError::BadHeader);
    }
    let count = read_u32(bytes, 12).ok_or(ArchiveError::BadHeader)?;
    if count as usize > MAX_MODULES {
        return Err(ArchiveError::TooManyModules { count, limit: MAX_MODULES });
    }
    modules.clear();
    for index in 0..count as usize {
        let entry = HEADER_SIZE + index * ENTRY_SIZE;
        let bad = ArchiveError::BadEntry { index };
        let offset = read_u64(bytes, entry).ok_or(bad)?;
        let size = read_u64(bytes, entry + 8).ok_or(bad)?;
        let end = offset.checked_add(size).ok_or(bad)?;
        let start = base.checked_add(offset).ok_or(bad)?;
        if end > bytes.len() as u64 || !start.is_multiple_of(crate::memory::PAGE_SIZE as u64) {
            return Err(bad);
        }
        let line = bytes.get(entry + 16..entry + ENTRY_SIZE).ok_or(bad)?;
        let length = line.iter().position(|&byte| byte == 0).ok_or(ArchiveError::UnterminatedCommandLine { index })?;
        let mut reader = ModuleNameReader::default();
        for &byte in &line[..length] {
            if reader.push(byte) {
                break;
            }
        }
        let name =
            reader.finish().map_err(|error| ArchiveError::BadModuleName { index, error, limit: MAX_MODULE_NAME })?;
        let module = Module { range: PhysicalRange::new(start, start + size), name };
        // Cannot fail: the count was checked against the capacity above.
        let _ = modules.push(module);
    }
    Ok(())
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
// `ktest!` registers each case with a `link_section` static (test_case).
#[allow(unsafe_code)]
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

        fn module_archives_are_checked() {
            use archive::*;
            let page = crate::memory::PAGE_SIZE;
            let build = |lines: &[&str], contents: &[&[u8]]| {
                let mut bytes = alloc::vec::Vec::new();
                bytes.extend_from_slice(MAGIC);
                bytes.extend_from_slice(&VERSION.to_le_bytes());
                bytes.extend_from_slice(&(lines.len() as u32).to_le_bytes());
                let mut offset = (HEADER_SIZE + lines.len() * ENTRY_SIZE).next_multiple_of(page);
                for (line, content) in lines.iter().zip(contents) {
                    bytes.extend_from_slice(&(offset as u64).to_le_bytes());
                    bytes.extend_from_slice(&(content.len() as u64).to_le_bytes());
                    let mut field = [0u8; COMMAND_LINE_SIZE];
                    field[..line.len()].copy_from_slice(line.as_bytes());
                    bytes.extend_from_slice(&field);
                    offset += content.len().next_multiple_of(page);
                }
                for content in contents {
                    bytes.resize(bytes.len().next_multiple_of(page), 0);
                    bytes.extend_from_slice(content);
                }
                bytes
            };
            let good = build(&["/build/user/bootstrap", "/x/kv-server --flag"], &[b"first", b"second module"]);
            let mut modules = alloc::boxed::Box::new(Vec::new());
            let mut read = |bytes: &[u8], base: u64| read_module_archive(bytes, base, &mut modules).err();
            ensure_eq!(read(&good, 0x4100_0000), None);
            ensure_eq!(modules.len(), 2);
            ensure_eq!(modules[0].name(), "bootstrap");
            ensure_eq!(modules[1].name(), "kv-server");
            ensure_eq!(modules[0].range, PhysicalRange::new(0x4100_1000, 0x4100_1005));
            ensure_eq!(&good[0x2000..0x200d], b"second module");
            let mut read = |bytes: &[u8], base: u64| read_module_archive(bytes, base, &mut modules).err();
            // Unaligned memory, a cut archive, a bad magic, an over-long name.
            ensure_eq!(read(&good, 0x4100_0800), Some(ArchiveError::BadEntry { index: 0 }));
            ensure_eq!(read(&good[..0x2004], 0), Some(ArchiveError::BadEntry { index: 1 }));
            ensure_eq!(read(&good[1..], 0), Some(ArchiveError::BadHeader));
            let long = alloc::format!("/d/{}", "n".repeat(49));
            let named = build(&["ok", &long], &[b"a", b"b"]);
            ensure_eq!(
                read(&named, 0),
                Some(ArchiveError::BadModuleName { index: 1, error: ModuleNameError::TooLong, limit: MAX_MODULE_NAME })
            );
            let mut many = good.clone();
            many[12..16].copy_from_slice(&(MAX_MODULES as u32 + 1).to_le_bytes());
            ensure_eq!(
                read(&many, 0),
                Some(ArchiveError::TooManyModules { count: MAX_MODULES as u32 + 1, limit: MAX_MODULES })
            );
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
