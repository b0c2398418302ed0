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

/// `vm_allocate` flags.
pub const VM_FLAGS_FIXED: u32 = 0;
pub const VM_FLAGS_ANYWHERE: u32 = 1;

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
