//! Virtual memory: protections, inheritance, allocation flags and region
//! information, with Mach's names and values.

/// `vm_prot_t` bits.
pub const VM_PROT_NONE: u32 = 0;
pub const VM_PROT_READ: u32 = 1;
pub const VM_PROT_WRITE: u32 = 2;
pub const VM_PROT_EXECUTE: u32 = 4;
pub const VM_PROT_DEFAULT: u32 = VM_PROT_READ | VM_PROT_WRITE;
pub const VM_PROT_ALL: u32 = VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE;

/// `vm_inherit_t`: what a child made by fork-like copying gets of a region.
pub const VM_INHERIT_SHARE: u32 = 0;
pub const VM_INHERIT_COPY: u32 = 1;
pub const VM_INHERIT_NONE: u32 = 2;
pub const VM_INHERIT_DEFAULT: u32 = VM_INHERIT_COPY;

/// `vm_allocate` and `vm_map` flags.
pub const VM_FLAGS_FIXED: u32 = 0;
pub const VM_FLAGS_ANYWHERE: u32 = 1;
/// `vm_map` only: a private copy-on-write mapping. The object's pages are
/// read from it (shared, read-only, with every other mapping); a write
/// copies the page into memory of this mapping alone, and the object never
/// sees it.
pub const VM_FLAGS_COPY: u32 = 2;
/// `vm_map` only: the region's protection (`VM_PROT_*`) sits in these bits
/// of `flags`; 0 there means `VM_PROT_DEFAULT` (read-write), so callers
/// that pass only `VM_FLAGS_ANYWHERE` or `VM_FLAGS_FIXED` map read-write.
/// Write and execute together are refused (W^X).
pub const VM_FLAGS_PROTECTION_SHIFT: u32 = 8;
pub const VM_FLAGS_PROTECTION_MASK: u32 = VM_PROT_ALL << VM_FLAGS_PROTECTION_SHIFT;
/// Every `vm_map` flag bit; anything else is `KERN_INVALID_ARGUMENT`.
pub const VM_MAP_FLAGS_ALL: u32 = VM_FLAGS_ANYWHERE | VM_FLAGS_COPY | VM_FLAGS_PROTECTION_MASK;

/// `vm_map`'s `flags` for a mapping anywhere (or at a fixed address),
/// private (`copy`) or shared, with `protection`.
pub const fn vm_map_flags(anywhere: bool, copy: bool, protection: u32) -> u32 {
    (if anywhere { VM_FLAGS_ANYWHERE } else { VM_FLAGS_FIXED })
        | if copy { VM_FLAGS_COPY } else { 0 }
        | (protection & VM_PROT_ALL) << VM_FLAGS_PROTECTION_SHIFT
}

/// The protection `vm_map`'s `flags` ask for (`VM_PROT_DEFAULT` when the
/// protection bits are 0).
pub const fn vm_map_protection(flags: u32) -> u32 {
    match (flags & VM_FLAGS_PROTECTION_MASK) >> VM_FLAGS_PROTECTION_SHIFT {
        0 => VM_PROT_DEFAULT,
        protection => protection,
    }
}

/// `VM_REGION_BASIC_INFO` flavor of `vm_region`.
pub const VM_REGION_BASIC_INFO: u32 = 10;

/// `vm_region_basic_info` (Mach_R layout, 32-bit words).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VmRegionBasicInfo {
    pub protection: u32,
    pub max_protection: u32,
    pub inheritance: u32,
    /// Pages of the region present in memory now.
    pub resident_pages: u32,
}

pub const VM_REGION_BASIC_INFO_COUNT: u32 = (core::mem::size_of::<VmRegionBasicInfo>() / 4) as u32;

const _: () = assert!(core::mem::size_of::<VmRegionBasicInfo>() == 16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_flags_pack_protection_and_copy() {
        let flags = vm_map_flags(true, true, VM_PROT_READ | VM_PROT_EXECUTE);
        assert_eq!(flags & VM_FLAGS_ANYWHERE, VM_FLAGS_ANYWHERE);
        assert_eq!(flags & VM_FLAGS_COPY, VM_FLAGS_COPY);
        assert_eq!(flags & !VM_MAP_FLAGS_ALL, 0);
        assert_eq!(vm_map_protection(flags), VM_PROT_READ | VM_PROT_EXECUTE);
        // Today's callers pass only ANYWHERE or FIXED: read-write.
        assert_eq!(vm_map_protection(VM_FLAGS_ANYWHERE), VM_PROT_DEFAULT);
        assert_eq!(vm_map_protection(VM_FLAGS_FIXED), VM_PROT_DEFAULT);
        assert_eq!(vm_map_flags(false, false, VM_PROT_READ), VM_PROT_READ << VM_FLAGS_PROTECTION_SHIFT);
    }
}
