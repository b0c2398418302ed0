//! Reads of a regular file from a mapping of its memory object instead of
//! a round trip each (docs/file-server.md, "Reads from a mapping"): the
//! bookkeeping, with no system calls, so the host tests check it.
//!
//! A process that opened a regular file for reading holds the open file
//! alone (its descriptors, `dup`s included, are its one send right) until
//! it shares it by fork, exec or spawn. While it does, it may keep the
//! open file's offset itself: at its first `read` it asks the server for
//! the file's memory object, a status page of the open file (the file's
//! size and a change count the server makes odd while it changes the file)
//! and the offset (`io.map_for_reading`), then copies reads out of the
//! mapping. Any other request on the file that depends on or moves the
//! offset first *settles*: the server is sought to the offset and the
//! mapping goes. [`MappedFiles`] keeps which ports may be mapped, which
//! are, and their offsets; [`plan_read`] decides what one read does.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

/// What one read of `count` bytes at a mapped file's offset does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadPlan {
    /// Copy `length` bytes from the mapping at the offset (0: end of file).
    Copy { length: usize },
    /// Ask the server (`io.read_at` at the offset): the count is odd (a
    /// change under way) or the bytes lie past what is mapped.
    Server,
}

/// The plan for a read of `count` bytes at `offset` of a file of `size`
/// bytes (from the status page, with an even `change_count`) of which the
/// first `mapped` bytes are mapped.
pub fn plan_read(offset: u64, count: usize, change_count: u64, size: u64, mapped: u64) -> ReadPlan {
    if change_count % 2 == 1 {
        return ReadPlan::Server;
    }
    if offset >= size || count == 0 {
        return ReadPlan::Copy { length: 0 };
    }
    if offset >= mapped {
        return ReadPlan::Server;
    }
    let available = size.min(mapped) - offset;
    ReadPlan::Copy { length: (count as u64).min(available) as usize }
}

/// Bytes of a file to map: its size in whole pages, at most the object.
pub fn mapped_length(size: u64, object_size: u64, page: u64) -> u64 {
    size.min(object_size).div_ceil(page) * page
}

/// An open file read from a mapping: its port, the offset kept here, and
/// what was mapped (addresses in the process, names of the rights).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MappedFile {
    pub port: u32,
    pub offset: u64,
    /// The file's object, mapped read-only at `data` for `data_length`
    /// bytes (0: nothing mapped, an empty file).
    pub object: u32,
    pub data: u64,
    pub data_length: u64,
    /// The status page's object, mapped read-only at `status`.
    pub status_object: u32,
    pub status: u64,
}

/// A file's mapping kept after its open file was settled or closed, for
/// the next open of the same file: its pages are in this process's page
/// tables already, so reading it again costs no faults. It stays coherent
/// as any mapping of the object does (a write or truncate drops the
/// object's changed pages from every mapping); it is only read while an
/// open file of the object is mapped here. The object's send right is
/// kept with it, so its name cannot name anything else meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeptMapping {
    pub object: u32,
    pub data: u64,
    pub data_length: u64,
}

/// Most kept mappings (the oldest goes first).
pub const KEPT_MAX: usize = 4;

/// Which ports this process may read from a mapping (opened here, regular
/// files, readable, not shared since) and which it does.
#[derive(Clone, Debug, Default)]
pub struct MappedFiles {
    eligible: Vec<u32>,
    mapped: Vec<MappedFile>,
    /// Oldest first.
    kept: Vec<KeptMapping>,
}

/// Most files read from mappings at once: a mapping costs address space
/// and two rights; past this, reads go to the server.
pub const MAPPED_FILES_MAX: usize = 16;

impl MappedFiles {
    pub const fn new() -> Self {
        MappedFiles { eligible: Vec::new(), mapped: Vec::new(), kept: Vec::new() }
    }

    /// `port` was just opened here: a regular file open for reading.
    pub fn opened(&mut self, port: u32) {
        if !self.eligible.contains(&port) && self.mapped.iter().all(|file| file.port != port) {
            self.eligible.push(port);
        }
    }

    /// Whether a read of `port` should map it now: it is eligible, not
    /// mapped, and there is room. It stops being eligible (one try).
    pub fn take_eligible(&mut self, port: u32) -> bool {
        let Some(index) = self.eligible.iter().position(|&eligible| eligible == port) else { return false };
        self.eligible.swap_remove(index);
        self.mapped.len() < MAPPED_FILES_MAX
    }

    pub fn insert(&mut self, file: MappedFile) {
        self.mapped.push(file);
    }

    pub fn get(&self, port: u32) -> Option<&MappedFile> {
        self.mapped.iter().find(|file| file.port == port)
    }

    pub fn get_mut(&mut self, port: u32) -> Option<&mut MappedFile> {
        self.mapped.iter_mut().find(|file| file.port == port)
    }

    /// `port` is mapped here.
    pub fn is_mapped(&self, port: u32) -> bool {
        self.get(port).is_some()
    }

    /// Takes `port`'s mapping out (to settle or drop it); it is no longer
    /// eligible either.
    pub fn remove(&mut self, port: u32) -> Option<MappedFile> {
        self.eligible.retain(|&eligible| eligible != port);
        let index = self.mapped.iter().position(|file| file.port == port)?;
        Some(self.mapped.swap_remove(index))
    }

    /// Before the process shares its open files (fork, exec, spawn): every
    /// mapping, to settle; nothing stays eligible.
    pub fn take_all(&mut self) -> Vec<MappedFile> {
        self.eligible.clear();
        core::mem::take(&mut self.mapped)
    }

    /// Nothing is mapped or eligible (no system call needed at a share).
    pub fn is_empty(&self) -> bool {
        self.eligible.is_empty() && self.mapped.is_empty()
    }

    /// Keeps `mapping` for a later open of its file; answers the mapping
    /// that makes room for it (to unmap and release), if one does.
    pub fn keep(&mut self, mapping: KeptMapping) -> Option<KeptMapping> {
        let evicted = if self.kept.len() >= KEPT_MAX { Some(self.kept.remove(0)) } else { None };
        self.kept.push(mapping);
        evicted
    }

    /// The kept mapping of `object`, taken out (to use, or to replace).
    pub fn take_kept(&mut self, object: u32) -> Option<KeptMapping> {
        let index = self.kept.iter().position(|kept| kept.object == object)?;
        Some(self.kept.remove(index))
    }

    /// Every kept mapping, taken out (a child of fork drops them).
    pub fn take_all_kept(&mut self) -> Vec<KeptMapping> {
        core::mem::take(&mut self.kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_come_from_the_mapping_below_the_size() {
        assert_eq!(plan_read(0, 4096, 0, 10_000, 12_288), ReadPlan::Copy { length: 4096 });
        assert_eq!(plan_read(8192, 4096, 2, 10_000, 12_288), ReadPlan::Copy { length: 1808 });
        assert_eq!(plan_read(10_000, 4096, 2, 10_000, 12_288), ReadPlan::Copy { length: 0 }, "end of file");
        assert_eq!(plan_read(20_000, 4096, 2, 10_000, 12_288), ReadPlan::Copy { length: 0 }, "past the end");
        assert_eq!(plan_read(0, 0, 0, 10_000, 12_288), ReadPlan::Copy { length: 0 });
    }

    #[test]
    fn a_change_under_way_or_bytes_past_the_mapping_go_to_the_server() {
        assert_eq!(plan_read(0, 4096, 1, 10_000, 12_288), ReadPlan::Server, "odd count: changing");
        // The file grew past what was mapped.
        assert_eq!(plan_read(12_288, 4096, 4, 20_000, 12_288), ReadPlan::Server);
        // A read crossing the mapping's end copies what is mapped.
        assert_eq!(plan_read(12_000, 4096, 4, 20_000, 12_288), ReadPlan::Copy { length: 288 });
        // An empty file mapped nothing: reads past the end are end of file.
        assert_eq!(plan_read(0, 4096, 0, 0, 0), ReadPlan::Copy { length: 0 });
        assert_eq!(plan_read(0, 4096, 2, 5, 0), ReadPlan::Server, "it grew since");
    }

    #[test]
    fn the_mapped_length_is_whole_pages_within_the_object() {
        assert_eq!(mapped_length(0, 1 << 30, 4096), 0);
        assert_eq!(mapped_length(1, 1 << 30, 4096), 4096);
        assert_eq!(mapped_length(1 << 20, 1 << 30, 4096), 1 << 20);
        assert_eq!(mapped_length(3 << 30, 1 << 30, 4096), 1 << 30);
    }

    fn mapped(port: u32) -> MappedFile {
        MappedFile { port, offset: 0, object: 1, data: 0x1000, data_length: 4096, status_object: 2, status: 0x2000 }
    }

    #[test]
    fn a_port_is_mapped_once_and_only_while_unshared() {
        let mut files = MappedFiles::new();
        assert!(!files.take_eligible(7), "not opened here");
        files.opened(7);
        assert!(files.take_eligible(7));
        assert!(!files.take_eligible(7), "one try");
        files.insert(mapped(7));
        files.opened(7);
        assert!(!files.take_eligible(7), "already mapped: not eligible again");
        files.opened(8);
        let all = files.take_all();
        assert_eq!(all, [mapped(7)]);
        assert!(files.is_empty(), "a share ends every eligibility");
        assert!(!files.take_eligible(8));
    }

    #[test]
    fn mappings_are_bounded() {
        let mut files = MappedFiles::new();
        for port in 0..MAPPED_FILES_MAX as u32 {
            files.opened(port);
            assert!(files.take_eligible(port));
            files.insert(mapped(port));
        }
        files.opened(1000);
        assert!(!files.take_eligible(1000), "no room");
        assert_eq!(files.remove(3).map(|file| file.port), Some(3));
        assert!(!files.is_mapped(3));
        files.opened(1001);
        assert!(files.take_eligible(1001));
    }

    #[test]
    fn kept_mappings_are_found_by_object_and_bounded() {
        let mut files = MappedFiles::new();
        let kept = |object: u32| KeptMapping { object, data: u64::from(object) << 20, data_length: 4096 };
        for object in 1..=KEPT_MAX as u32 {
            assert_eq!(files.keep(kept(object)), None);
        }
        assert_eq!(files.keep(kept(99)), Some(kept(1)), "the oldest makes room");
        assert_eq!(files.take_kept(1), None);
        assert_eq!(files.take_kept(3), Some(kept(3)));
        assert_eq!(files.take_kept(3), None, "taken once");
        assert_eq!(files.take_all_kept().len(), KEPT_MAX - 1);
        assert_eq!(files.take_kept(99), None);
    }

    proptest! {
        #[test]
        fn a_planned_copy_stays_inside_the_file_the_mapping_and_the_request(
            offset in 0u64..40_000, count in 0usize..20_000, change in 0u64..6,
            size in 0u64..40_000, mapped in 0u64..12,
        ) {
            let mapped = mapped * 4096;
            match plan_read(offset, count, change, size, mapped) {
                ReadPlan::Copy { length } => {
                    prop_assert!(change % 2 == 0);
                    prop_assert!(length <= count);
                    if length > 0 {
                        prop_assert!(offset + length as u64 <= size);
                        prop_assert!(offset + length as u64 <= mapped);
                    } else {
                        prop_assert!(count == 0 || offset >= size, "0 only at end of file");
                    }
                }
                ReadPlan::Server => prop_assert!(change % 2 == 1 || (offset < size && offset >= mapped)),
            }
        }
    }
}
