//! One region of an address space: a page-aligned range, what backs it,
//! its protection and what a fork does with it.

use crate::{protection, PAGE_SIZE};

/// The server's name for an open file it maps (the name of its send right
/// to the file's port): the layout only compares them.
pub type FileKey = u64;

/// What a region's pages are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Anonymous memory: zero-filled by the kernel on first touch.
    Anonymous,
    /// Pages of a file's memory object from `offset` (of the region's
    /// start). `private`: copy-on-write (the process's writes are its own);
    /// otherwise shared with every mapping of the file.
    File { file: FileKey, offset: u64, private: bool },
}

/// Why the region exists (for the limits and the listing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A segment of the executable (or its bss).
    Image,
    /// Part of the break (brk/sbrk).
    Break,
    /// An mmap.
    Mapping,
    /// The stack exec made.
    Stack,
}

/// A region: `[start, end)`, page aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub start: u64,
    pub end: u64,
    /// `PROT_*`.
    pub protection: u32,
    /// The most it may be given by `mprotect` (a shared mapping of a file
    /// not open for writing has no `PROT_WRITE` here).
    pub maximum: u32,
    pub backing: Backing,
    /// `MAP_SHARED`: a fork shares it (`VM_INHERIT_SHARE`); else it copies.
    pub shared: bool,
    pub role: Role,
    /// A guard page is kept unmapped right below it (stacks): nothing else
    /// is placed there, and a fault there is a segmentation fault.
    pub guard_below: bool,
}

impl Region {
    pub fn size(&self) -> u64 {
        self.end - self.start
    }

    /// The lowest address it keeps for itself (its guard page included).
    pub fn reserved_start(&self) -> u64 {
        if self.guard_below {
            self.start - PAGE_SIZE
        } else {
            self.start
        }
    }

    /// Counted in `RLIMIT_DATA`: the break and private writable memory that
    /// is not the stack (Linux's rule).
    pub fn is_data(&self) -> bool {
        match self.role {
            Role::Break => true,
            Role::Stack => false,
            Role::Image | Role::Mapping => !self.shared && self.protection & protection::WRITE != 0,
        }
    }

    /// The part `[start, end)` of this region (inside it): the file offset
    /// follows, the guard stays with the piece that starts where this one
    /// does.
    pub fn piece(&self, start: u64, end: u64) -> Region {
        debug_assert!(self.start <= start && start < end && end <= self.end);
        let backing = match self.backing {
            Backing::Anonymous => Backing::Anonymous,
            Backing::File { file, offset, private } => {
                Backing::File { file, offset: offset + (start - self.start), private }
            }
        };
        Region { start, end, backing, guard_below: self.guard_below && start == self.start, ..*self }
    }

    /// The file it maps, if any.
    pub fn file(&self) -> Option<FileKey> {
        match self.backing {
            Backing::File { file, .. } => Some(file),
            Backing::Anonymous => None,
        }
    }
}
