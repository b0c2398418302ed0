//! Memory primitives (`memcpy`...) and the `malloc` family.
//!
//! The copy and fill loops are `rep movsq`/`rep stosq` and one unaligned
//! word for the tail: string instructions cannot be turned back into calls
//! to `memcpy` by the compiler (a plain Rust loop could recurse into
//! itself), and eight bytes per iteration rather than one matter where each
//! iteration costs an instruction's time: a CPU without fast short `rep
//! movsb` (QEMU's qemu64, under TCG one iteration at a time), where a
//! 4 KiB read's copies alone took 8x more with `rep movsb`. On aarch64
//! the loops are assembly for the same reason (`memory_aarch64`), 16 bytes
//! an iteration with `ldp`/`stp`.

use super::{set_errno, CGlobal};
use crate::allocator::{Allocator, PageSource};
use crate::errno_table::{EINVAL, ENOMEM};
#[cfg(target_arch = "x86_64")]
use core::arch::asm;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};

/// Copies `count` bytes (below 16) with overlapping unaligned loads and
/// stores of the first and last bytes, all loads first (so the overlap
/// inside one range is harmless): the small end of both architectures'
/// memcpy. No loop: a byte loop here could become a call to memcpy.
///
/// # Safety
/// Both ranges valid for `count` bytes.
#[inline(always)]
unsafe fn copy_small(destination: *mut u8, source: *const u8, count: usize) {
    // SAFETY: per the contract; every access lies inside the ranges.
    unsafe {
        if count >= 8 {
            let a = ptr::read_unaligned(source as *const u64);
            let b = ptr::read_unaligned(source.add(count - 8) as *const u64);
            ptr::write_unaligned(destination as *mut u64, a);
            ptr::write_unaligned(destination.add(count - 8) as *mut u64, b);
        } else if count >= 4 {
            let a = ptr::read_unaligned(source as *const u32);
            let b = ptr::read_unaligned(source.add(count - 4) as *const u32);
            ptr::write_unaligned(destination as *mut u32, a);
            ptr::write_unaligned(destination.add(count - 4) as *mut u32, b);
        } else if count != 0 {
            // 1 to 3 bytes (zero tested first: one comparison). On x86_64
            // two overlapping 2-byte moves, or one byte. aarch64-unknown-none
            // builds with strict alignment, where an unaligned 2-byte access
            // is two byte accesses: the first, middle and last bytes cost
            // fewer instructions there.
            #[cfg(target_arch = "x86_64")]
            if count >= 2 {
                let a = ptr::read_unaligned(source as *const u16);
                let b = ptr::read_unaligned(source.add(count - 2) as *const u16);
                ptr::write_unaligned(destination as *mut u16, a);
                ptr::write_unaligned(destination.add(count - 2) as *mut u16, b);
            } else {
                *destination = *source;
            }
            #[cfg(target_arch = "aarch64")]
            {
                let (a, b, c) = (*source, *source.add(count / 2), *source.add(count - 1));
                *destination = a;
                *destination.add(count / 2) = b;
                *destination.add(count - 1) = c;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[no_mangle]
pub unsafe extern "C" fn memcpy(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
    use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_storeu_si128};
    // SAFETY: the caller guarantees both ranges are valid for `count` bytes
    // and disjoint. Small copies use overlapping unaligned loads and stores
    // of the first and last bytes (all loads happen before any store, so
    // the overlap inside one range is harmless); `rep movsb` has a start-up
    // cost that dominates below about 64 bytes.
    unsafe {
        if count <= 64 {
            if count >= 32 {
                let a = _mm_loadu_si128(source as *const __m128i);
                let b = _mm_loadu_si128(source.add(16) as *const __m128i);
                let c = _mm_loadu_si128(source.add(count - 32) as *const __m128i);
                let d = _mm_loadu_si128(source.add(count - 16) as *const __m128i);
                _mm_storeu_si128(destination as *mut __m128i, a);
                _mm_storeu_si128(destination.add(16) as *mut __m128i, b);
                _mm_storeu_si128(destination.add(count - 32) as *mut __m128i, c);
                _mm_storeu_si128(destination.add(count - 16) as *mut __m128i, d);
            } else if count >= 16 {
                let a = _mm_loadu_si128(source as *const __m128i);
                let b = _mm_loadu_si128(source.add(count - 16) as *const __m128i);
                _mm_storeu_si128(destination as *mut __m128i, a);
                _mm_storeu_si128(destination.add(count - 16) as *mut __m128i, b);
            } else {
                copy_small(destination, source, count);
            }
            return destination;
        }
        // Words, then the last eight bytes again (count > 64: they lie
        // inside both ranges; rewriting copied bytes with the same values).
        let tail = ptr::read_unaligned(source.add(count - 8) as *const u64);
        asm!("rep movsq", inout("rcx") count / 8 => _, inout("rdi") destination => _, inout("rsi") source => _, options(nostack, preserves_flags));
        ptr::write_unaligned(destination.add(count - 8) as *mut u64, tail);
    }
    destination
}

#[cfg(target_arch = "x86_64")]
#[no_mangle]
pub unsafe extern "C" fn memmove(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
    if (destination as usize).wrapping_sub(source as usize) >= count {
        // Forward copy is safe: the destination does not start inside the source.
        // SAFETY: valid ranges, per the caller.
        return unsafe { memcpy(destination, source, count) };
    }
    // SAFETY: copying backwards (direction flag set, then cleared as the ABI requires).
    unsafe {
        asm!("std", "rep movsb", "cld",
             inout("rcx") count => _, inout("rdi") destination.wrapping_add(count).wrapping_sub(1) => _,
             inout("rsi") source.wrapping_add(count).wrapping_sub(1) => _, options(nostack));
    }
    destination
}

#[cfg(target_arch = "x86_64")]
#[no_mangle]
pub unsafe extern "C" fn memset(destination: *mut u8, value: i32, count: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range is writable.
    unsafe {
        if count < 8 {
            asm!("rep stosb", inout("rcx") count => _, inout("rdi") destination => _, in("al") value as u8, options(nostack, preserves_flags));
            return destination;
        }
        // Words of the byte, then the last eight bytes (maybe again).
        let word = (value as u8 as u64).wrapping_mul(0x0101_0101_0101_0101);
        asm!("rep stosq", inout("rcx") count / 8 => _, inout("rdi") destination => _, in("rax") word, options(nostack, preserves_flags));
        ptr::write_unaligned(destination.add(count - 8) as *mut u64, word);
    }
    destination
}

#[no_mangle]
pub unsafe extern "C" fn memcmp(left: *const u8, right: *const u8, count: usize) -> i32 {
    let mut index = 0;
    // SAFETY: both ranges are readable for `count` bytes.
    unsafe {
        while index + 8 <= count {
            let a = ptr::read_unaligned(left.add(index) as *const u64);
            let b = ptr::read_unaligned(right.add(index) as *const u64);
            if a != b {
                break;
            }
            index += 8;
        }
        while index < count {
            let (a, b) = (*left.add(index), *right.add(index));
            if a != b {
                return a as i32 - b as i32;
            }
            index += 1;
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn bcmp(left: *const u8, right: *const u8, count: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(left, right, count) }
}

#[cfg(target_arch = "x86_64")]
#[no_mangle]
pub unsafe extern "C" fn memchr(haystack: *const u8, byte: i32, count: usize) -> *mut u8 {
    use core::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set1_epi8};
    if count == 0 {
        return ptr::null_mut();
    }
    let start = haystack as usize;
    let end = start.saturating_add(count);
    // SAFETY: the range [haystack, haystack + count) is readable. The scan
    // reads aligned 16-byte blocks covering it (SSE2 is part of x86_64)
    // through `aligned_block`; bytes of a block that lie outside the range
    // are masked out.
    unsafe {
        let needle = _mm_set1_epi8(byte as u8 as i8);
        let mut block = start & !15;
        let mut mask =
            (_mm_movemask_epi8(_mm_cmpeq_epi8(aligned_block(block), needle)) as u32) & (0xffff << (start - block));
        loop {
            if block + 16 > end {
                mask &= (1u32 << (end - block)) - 1;
            }
            if mask != 0 {
                return (block + mask.trailing_zeros() as usize) as *mut u8;
            }
            block += 16;
            if block >= end {
                return ptr::null_mut();
            }
            mask = _mm_movemask_epi8(_mm_cmpeq_epi8(aligned_block(block), needle)) as u32;
        }
    }
}

/// The aligned 16-byte block at `address`, read in assembly: strlen's and
/// memchr's blocks may hold bytes outside the string or range, which the
/// hardware reads without a fault (an aligned block never crosses a page)
/// but Rust may not: a Rust load outside its object is undefined, and LLVM
/// acts on it (on aarch64 it folded such a load of a constant string to the
/// string's first bytes: `system(NULL)` measured `c"/bin/sh"` 3 bytes
/// long). The assembly load's value is opaque to the compiler.
///
/// # Safety
/// `address` is 16-byte aligned and lies in a mapped, readable page.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn aligned_block(address: usize) -> core::arch::x86_64::__m128i {
    let block: core::arch::x86_64::__m128i;
    // SAFETY: per the contract, an aligned load from a readable page.
    unsafe {
        asm!(
            "movdqa {block}, xmmword ptr [{address}]",
            address = in(reg) address,
            block = lateout(xmm_reg) block,
            options(pure, readonly, nostack, preserves_flags),
        );
    }
    block
}

#[no_mangle]
pub unsafe extern "C" fn memrchr(haystack: *const u8, byte: i32, count: usize) -> *mut u8 {
    // SAFETY: the range is readable.
    let bytes = unsafe { core::slice::from_raw_parts(haystack, count) };
    match bytes.iter().rposition(|&b| b == byte as u8) {
        Some(index) => haystack.wrapping_add(index) as *mut u8,
        None => ptr::null_mut(),
    }
}

#[cfg(target_arch = "aarch64")]
pub use memory_aarch64::{memchr, memcpy, memmove, memset};

/// aarch64's copy, fill and search loops, in assembly where a Rust loop
/// could become a call to the function being defined.
#[cfg(target_arch = "aarch64")]
mod memory_aarch64 {
    use core::arch::asm;
    use core::ptr;

    /// Copies `count` bytes (at most 64) with overlapping unaligned loads
    /// and stores of the first and last bytes, all loads first.
    ///
    /// # Safety
    /// Both ranges valid for `count` bytes.
    unsafe fn copy_at_most_64(destination: *mut u8, source: *const u8, count: usize) {
        // SAFETY: per the contract; every access lies inside the ranges.
        unsafe {
            if count >= 32 {
                let a = ptr::read_unaligned(source as *const u128);
                let b = ptr::read_unaligned(source.add(16) as *const u128);
                let c = ptr::read_unaligned(source.add(count - 32) as *const u128);
                let d = ptr::read_unaligned(source.add(count - 16) as *const u128);
                ptr::write_unaligned(destination as *mut u128, a);
                ptr::write_unaligned(destination.add(16) as *mut u128, b);
                ptr::write_unaligned(destination.add(count - 32) as *mut u128, c);
                ptr::write_unaligned(destination.add(count - 16) as *mut u128, d);
            } else if count >= 16 {
                let a = ptr::read_unaligned(source as *const u128);
                let b = ptr::read_unaligned(source.add(count - 16) as *const u128);
                ptr::write_unaligned(destination as *mut u128, a);
                ptr::write_unaligned(destination.add(count - 16) as *mut u128, b);
            } else {
                super::copy_small(destination, source, count);
            }
        }
    }

    #[no_mangle]
    pub unsafe extern "C" fn memcpy(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
        // SAFETY: the caller guarantees both ranges are valid for `count`
        // bytes and disjoint. Above 64 bytes: 16-byte blocks, then the
        // last 16 bytes again (read before any store).
        unsafe {
            if count <= 64 {
                copy_at_most_64(destination, source, count);
                return destination;
            }
            let tail = ptr::read_unaligned(source.add(count - 16) as *const u128);
            asm!(
                "2:",
                "ldp {a}, {b}, [{from}], #16",
                "stp {a}, {b}, [{to}], #16",
                "subs {blocks}, {blocks}, #1",
                "b.ne 2b",
                blocks = inout(reg) count / 16 => _,
                from = inout(reg) source => _,
                to = inout(reg) destination => _,
                a = out(reg) _,
                b = out(reg) _,
                options(nostack),
            );
            ptr::write_unaligned(destination.add(count - 16) as *mut u128, tail);
        }
        destination
    }

    #[no_mangle]
    pub unsafe extern "C" fn memmove(destination: *mut u8, source: *const u8, count: usize) -> *mut u8 {
        if (destination as usize).wrapping_sub(source as usize) >= count {
            // Forward copy is safe: the destination does not start inside the source.
            // SAFETY: valid ranges, per the caller.
            return unsafe { memcpy(destination, source, count) };
        }
        // SAFETY: valid ranges, per the caller; backwards, eight bytes at a
        // time from the end, then the bytes left at the start, so every
        // byte is read before the copy overwrites it.
        unsafe {
            asm!(
                "2:",
                "cmp {count}, #8",
                "b.lo 3f",
                "sub {count}, {count}, #8",
                "ldr {value}, [{from}, {count}]",
                "str {value}, [{to}, {count}]",
                "b 2b",
                "3:",
                "cbz {count}, 4f",
                "sub {count}, {count}, #1",
                "ldrb {value:w}, [{from}, {count}]",
                "strb {value:w}, [{to}, {count}]",
                "b 3b",
                "4:",
                count = inout(reg) count => _,
                from = in(reg) source,
                to = in(reg) destination,
                value = out(reg) _,
                options(nostack),
            );
        }
        destination
    }

    #[no_mangle]
    pub unsafe extern "C" fn memset(destination: *mut u8, value: i32, count: usize) -> *mut u8 {
        let word = (value as u8 as u64).wrapping_mul(0x0101_0101_0101_0101);
        // SAFETY: the caller guarantees the range is writable. Below 8
        // bytes one at a time; else words, then the last eight bytes
        // (maybe again).
        unsafe {
            if count < 8 {
                asm!(
                    "2:",
                    "cbz {count}, 3f",
                    "strb {word:w}, [{to}], #1",
                    "sub {count}, {count}, #1",
                    "b 2b",
                    "3:",
                    count = inout(reg) count => _,
                    to = inout(reg) destination => _,
                    word = in(reg) word,
                    options(nostack),
                );
                return destination;
            }
            asm!(
                "2:",
                "str {word}, [{to}], #8",
                "subs {words}, {words}, #1",
                "b.ne 2b",
                words = inout(reg) count / 8 => _,
                to = inout(reg) destination => _,
                word = in(reg) word,
                options(nostack),
            );
            ptr::write_unaligned(destination.add(count - 8) as *mut u64, word);
        }
        destination
    }

    #[no_mangle]
    pub unsafe extern "C" fn memchr(haystack: *const u8, byte: i32, count: usize) -> *mut u8 {
        let needle = byte as u8;
        // SAFETY: the range [haystack, haystack + count) is readable. A
        // counted loop over it (an index, no idiom LLVM turns into a call).
        unsafe {
            let mut index = 0;
            while index < count {
                if *haystack.add(index) == needle {
                    return haystack.add(index) as *mut u8;
                }
                index += 1;
            }
        }
        ptr::null_mut()
    }
}

/// Pages from anonymous private mappings.
pub struct PlatformPages;

impl PageSource for PlatformPages {
    fn map(&mut self, bytes: usize) -> *mut u8 {
        // SAFETY: an anonymous mapping at a kernel-chosen address aliases nothing.
        match unsafe { crate::platform::mmap(ptr::null_mut(), bytes, 3, 0x22, -1, 0) } {
            Ok(address) => address as *mut u8,
            Err(_) => ptr::null_mut(),
        }
    }
    unsafe fn unmap(&mut self, address: *mut u8, bytes: usize) {
        // SAFETY: the allocator returns exactly one of its own mappings.
        let _ = unsafe { crate::platform::munmap(address, bytes) };
    }
    unsafe fn remap(&mut self, address: *mut u8, bytes: usize, new_bytes: usize) -> *mut u8 {
        // SAFETY: one of our mappings; MREMAP_MAYMOVE lets the kernel move it.
        match unsafe { crate::platform::mremap(address, bytes, new_bytes, 1, ptr::null_mut()) } {
            Ok(moved) => moved as *mut u8,
            Err(_) => ptr::null_mut(),
        }
    }
    fn first_region(&mut self) -> Option<(*mut u8, usize)> {
        // Only the allocator (one per program) asks, once.
        Some((FIRST_REGION.0.get() as *mut u8, FIRST_REGION_BYTES))
    }
}

/// The allocator's first region, in the program's bss (`PageSource::first_region`).
#[repr(C, align(4096))]
struct FirstRegion([u8; FIRST_REGION_BYTES]);
const FIRST_REGION_BYTES: usize = 64 * 1024;
static FIRST_REGION: CGlobal<FirstRegion> = CGlobal(core::cell::UnsafeCell::new(FirstRegion([0; FIRST_REGION_BYTES])));

static HEAP: CGlobal<Allocator<PlatformPages>> = CGlobal(core::cell::UnsafeCell::new(Allocator::new(PlatformPages)));
static HEAP_BUSY: AtomicBool = AtomicBool::new(false);

/// Runs `action` on the heap; a re-entrant call (a signal handler that
/// interrupted malloc) gets `None` instead of corrupting the free lists.
fn with_heap<R>(action: impl FnOnce(&mut Allocator<PlatformPages>) -> R) -> Option<R> {
    if HEAP_BUSY.swap(true, Ordering::Acquire) {
        return None;
    }
    // SAFETY: HEAP_BUSY gives this call exclusive access.
    let result = action(unsafe { &mut *HEAP.0.get() });
    HEAP_BUSY.store(false, Ordering::Release);
    Some(result)
}

fn out_of_memory_if_null(block: *mut u8) -> *mut u8 {
    if block.is_null() {
        set_errno(ENOMEM);
    }
    block
}

#[no_mangle]
pub extern "C" fn malloc(size: usize) -> *mut u8 {
    out_of_memory_if_null(with_heap(|heap| heap.allocate(size)).unwrap_or(ptr::null_mut()))
}

#[no_mangle]
pub unsafe extern "C" fn free(block: *mut u8) {
    // SAFETY: C's contract: null or a live block from this malloc.
    with_heap(|heap| unsafe { heap.free(block) });
}

#[no_mangle]
pub extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
    let Some(total) = count.checked_mul(size) else {
        set_errno(ENOMEM);
        return ptr::null_mut();
    };
    let block = malloc(total);
    if !block.is_null() {
        // SAFETY: fresh block of `total` bytes (recycled blocks are not zero).
        unsafe { memset(block, 0, total) };
    }
    block
}

#[no_mangle]
pub unsafe extern "C" fn realloc(block: *mut u8, size: usize) -> *mut u8 {
    // SAFETY: C's contract: null or a live block.
    out_of_memory_if_null(with_heap(|heap| unsafe { heap.reallocate(block, size) }).unwrap_or(ptr::null_mut()))
}

#[no_mangle]
pub unsafe extern "C" fn reallocarray(block: *mut u8, count: usize, size: usize) -> *mut u8 {
    match count.checked_mul(size) {
        // SAFETY: forwarded contract.
        Some(total) => unsafe { realloc(block, total) },
        None => {
            set_errno(ENOMEM);
            ptr::null_mut()
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn malloc_usable_size(block: *mut u8) -> usize {
    if block.is_null() {
        return 0;
    }
    // SAFETY: live block, per the caller.
    with_heap(|heap| unsafe { heap.usable_size(block) }).unwrap_or(0)
}

#[no_mangle]
pub extern "C" fn memalign(alignment: usize, size: usize) -> *mut u8 {
    if !alignment.is_power_of_two() {
        set_errno(EINVAL);
        return ptr::null_mut();
    }
    out_of_memory_if_null(with_heap(|heap| heap.allocate_aligned(alignment, size)).unwrap_or(ptr::null_mut()))
}

#[no_mangle]
pub extern "C" fn aligned_alloc(alignment: usize, size: usize) -> *mut u8 {
    memalign(alignment, size)
}

#[no_mangle]
pub unsafe extern "C" fn posix_memalign(result: *mut *mut u8, alignment: usize, size: usize) -> i32 {
    if !alignment.is_power_of_two() || !alignment.is_multiple_of(core::mem::size_of::<usize>()) {
        return EINVAL;
    }
    let block = with_heap(|heap| heap.allocate_aligned(alignment, size)).unwrap_or(ptr::null_mut());
    if block.is_null() {
        return ENOMEM;
    }
    // SAFETY: `result` is writable, per the caller.
    unsafe { *result = block };
    0
}

#[no_mangle]
pub extern "C" fn valloc(size: usize) -> *mut u8 {
    memalign(4096, size)
}

/// Rust's own allocations inside minilibc use malloc too.
struct MallocForRust;

// SAFETY: malloc/memalign return suitably aligned fresh blocks or null.
unsafe impl core::alloc::GlobalAlloc for MallocForRust {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        memalign(layout.align(), layout.size())
    }
    unsafe fn dealloc(&self, block: *mut u8, _layout: core::alloc::Layout) {
        // SAFETY: blocks come from `alloc`.
        unsafe { free(block) }
    }
    unsafe fn realloc(&self, block: *mut u8, layout: core::alloc::Layout, size: usize) -> *mut u8 {
        if layout.align() <= 16 {
            // SAFETY: blocks come from `alloc`.
            unsafe { realloc(block, size) }
        } else {
            let fresh = memalign(layout.align(), size);
            if !fresh.is_null() {
                // SAFETY: both live, distinct.
                unsafe {
                    memcpy(fresh, block, layout.size().min(size));
                    free(block);
                }
            }
            fresh
        }
    }
}

#[global_allocator]
static RUST_ALLOCATOR: MallocForRust = MallocForRust;
