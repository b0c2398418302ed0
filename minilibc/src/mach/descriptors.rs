//! The descriptor table of the Mach back end: each file descriptor number
//! names one user reference of a send right to an open object (a port of
//! the file server or the console server, docs/personality.md), with the
//! descriptor's own flag, `FD_CLOEXEC`. Two descriptors made by `dup` hold
//! two references under one name; the table only keeps the numbers, the
//! caller adds and drops the references (`port_mod_refs`, `port_deallocate`).
#![forbid(unsafe_code)]

use crate::errno_table::{EBADF, EINVAL, EMFILE};
use alloc::vec::Vec;

/// The most descriptors a process can have, whatever its `RLIMIT_NOFILE`:
/// the process server's hard limit (65,536), which the kernel's IPC space
/// (69,632 names) holds with room for the process's other rights.
pub const DESCRIPTOR_CEILING: usize = 65536;

/// `FD_CLOEXEC` as `fcntl` and the process server's records spell it.
pub const CLOSE_ON_EXEC: u32 = 1;

/// One open descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// The name of the send right (one user reference belongs to this entry).
    pub port: u32,
    pub close_on_exec: bool,
}

/// Descriptor numbers to send-right names. Errors are errno values.
#[derive(Clone, Debug, Default)]
pub struct DescriptorTable {
    slots: Vec<Option<Descriptor>>,
    /// No slot below this is free (a search for the lowest free starts here).
    first_maybe_free: usize,
    open: usize,
}

impl DescriptorTable {
    pub const fn new() -> Self {
        DescriptorTable { slots: Vec::new(), first_maybe_free: 0, open: 0 }
    }

    /// The table a new image starts with: `(number, port name, flags)`
    /// records from the start block (`AT_MACH_FDS`). Refuses (EINVAL) a
    /// number out of range, a number given twice, or a null name.
    pub fn from_records(records: impl IntoIterator<Item = (i32, u32, u32)>) -> Result<Self, i32> {
        let mut table = DescriptorTable::new();
        for (number, port, flags) in records {
            let index = usize::try_from(number).map_err(|_| EINVAL)?;
            if index >= DESCRIPTOR_CEILING || port == 0 || table.get(number).is_some() {
                return Err(EINVAL);
            }
            table.insert(number, Descriptor { port, close_on_exec: flags & CLOSE_ON_EXEC != 0 });
        }
        Ok(table)
    }

    /// The descriptor `fd`, if it is open.
    pub fn get(&self, fd: i32) -> Option<Descriptor> {
        let index = usize::try_from(fd).ok()?;
        self.slots.get(index).copied().flatten()
    }

    /// The descriptor `fd`, or EBADF.
    pub fn port(&self, fd: i32) -> Result<u32, i32> {
        self.get(fd).map(|descriptor| descriptor.port).ok_or(EBADF)
    }

    /// The lowest free number at or above `from` and below `limit` (the
    /// soft `RLIMIT_NOFILE`): EMFILE when there is none, EINVAL for a
    /// negative `from` or one at or above the limit (F_DUPFD's rule).
    pub fn lowest_free(&self, from: i32, limit: usize) -> Result<i32, i32> {
        let limit = limit.min(DESCRIPTOR_CEILING);
        let start = usize::try_from(from).map_err(|_| EINVAL)?;
        if start >= limit {
            return Err(EINVAL);
        }
        let mut index = start.max(self.first_maybe_free);
        while index < limit {
            match self.slots.get(index) {
                Some(Some(_)) => index += 1,
                _ => return Ok(index as i32),
            }
        }
        Err(EMFILE)
    }

    /// Puts `descriptor` at `fd` (which the caller checked is in range);
    /// returns what was there, whose reference the caller now releases.
    pub fn insert(&mut self, fd: i32, descriptor: Descriptor) -> Option<Descriptor> {
        let index = fd as usize;
        if self.slots.len() <= index {
            self.slots.resize(index + 1, None);
        }
        let previous = self.slots[index].replace(descriptor);
        if previous.is_none() {
            self.open += 1;
        }
        if index == self.first_maybe_free {
            self.first_maybe_free += 1;
        }
        previous
    }

    /// Takes `fd` out of the table; its reference is the caller's to release.
    pub fn remove(&mut self, fd: i32) -> Result<Descriptor, i32> {
        let index = usize::try_from(fd).map_err(|_| EBADF)?;
        let descriptor = self.slots.get_mut(index).and_then(Option::take).ok_or(EBADF)?;
        self.open -= 1;
        self.first_maybe_free = self.first_maybe_free.min(index);
        while self.slots.last() == Some(&None) {
            self.slots.pop();
        }
        Ok(descriptor)
    }

    /// Sets or clears `FD_CLOEXEC` on `fd`.
    pub fn set_close_on_exec(&mut self, fd: i32, close_on_exec: bool) -> Result<(), i32> {
        let index = usize::try_from(fd).map_err(|_| EBADF)?;
        match self.slots.get_mut(index) {
            Some(Some(descriptor)) => {
                descriptor.close_on_exec = close_on_exec;
                Ok(())
            }
            _ => Err(EBADF),
        }
    }

    /// Every open descriptor, by increasing number.
    pub fn iter(&self) -> impl Iterator<Item = (i32, Descriptor)> + '_ {
        self.slots.iter().enumerate().filter_map(|(index, slot)| slot.map(|descriptor| (index as i32, descriptor)))
    }

    /// How many descriptors are open.
    pub fn len(&self) -> usize {
        self.open
    }

    pub fn is_empty(&self) -> bool {
        self.open == 0
    }

    /// How many descriptors name `port` (its user references held here).
    pub fn references_to(&self, port: u32) -> usize {
        self.iter().filter(|(_, descriptor)| descriptor.port == port).count()
    }

    /// Drops every entry without releasing anything (a child of fork whose
    /// table is rebuilt, or a table whose rights are gone).
    pub fn clear(&mut self) {
        *self = DescriptorTable::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn open(port: u32) -> Descriptor {
        Descriptor { port, close_on_exec: false }
    }

    #[test]
    fn the_lowest_free_number_is_taken_first() {
        let mut table = DescriptorTable::new();
        for fd in 0..3 {
            assert_eq!(table.lowest_free(0, 1024), Ok(fd));
            table.insert(fd, open(100 + fd as u32));
        }
        table.remove(1).unwrap();
        assert_eq!(table.lowest_free(0, 1024), Ok(1));
        assert_eq!(table.lowest_free(2, 1024), Ok(3));
        assert_eq!(table.lowest_free(10, 1024), Ok(10));
        assert_eq!(table.get(2), Some(open(102)));
        assert_eq!(table.get(1), None);
        assert_eq!(table.remove(1), Err(EBADF));
        assert_eq!(table.remove(-1), Err(EBADF));
        assert_eq!(table.port(7), Err(EBADF));
    }

    #[test]
    fn the_limit_bounds_the_numbers() {
        let mut table = DescriptorTable::new();
        table.insert(0, open(1));
        table.insert(1, open(2));
        assert_eq!(table.lowest_free(0, 2), Err(EMFILE));
        assert_eq!(table.lowest_free(2, 2), Err(EINVAL));
        assert_eq!(table.lowest_free(-1, 2), Err(EINVAL));
        assert_eq!(table.lowest_free(0, usize::MAX), Ok(2), "the ceiling applies, not the limit");
        assert_eq!(table.lowest_free(DESCRIPTOR_CEILING as i32, usize::MAX), Err(EINVAL));
    }

    #[test]
    fn a_table_holds_65536_descriptors() {
        let mut table = DescriptorTable::new();
        for fd in 0..DESCRIPTOR_CEILING as i32 {
            let free = table.lowest_free(0, DESCRIPTOR_CEILING).unwrap();
            assert_eq!(free, fd);
            table.insert(free, open(fd as u32 + 1));
        }
        assert_eq!(table.len(), DESCRIPTOR_CEILING);
        assert_eq!(table.lowest_free(0, DESCRIPTOR_CEILING), Err(EMFILE));
        table.remove(40000).unwrap();
        assert_eq!(table.lowest_free(0, DESCRIPTOR_CEILING), Ok(40000));
    }

    #[test]
    fn records_from_the_start_block_are_checked() {
        let table = DescriptorTable::from_records([(0, 5, 0), (2, 5, 0), (7, 9, CLOSE_ON_EXEC)]).unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(table.references_to(5), 2);
        assert!(table.get(7).unwrap().close_on_exec);
        assert_eq!(DescriptorTable::from_records([(0, 5, 0), (0, 6, 0)]).unwrap_err(), EINVAL);
        assert_eq!(DescriptorTable::from_records([(-1, 5, 0)]).unwrap_err(), EINVAL);
        assert_eq!(DescriptorTable::from_records([(65536, 5, 0)]).unwrap_err(), EINVAL);
        assert_eq!(DescriptorTable::from_records([(3, 0, 0)]).unwrap_err(), EINVAL);
    }

    #[derive(Clone, Debug)]
    enum Step {
        Open(u32),
        Duplicate(i32, i32),
        Close(i32),
        CloseOnExec(i32, bool),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1u32..50).prop_map(Step::Open),
            (0i32..40, 0i32..40).prop_map(|(a, b)| Step::Duplicate(a, b)),
            (-2i32..40).prop_map(Step::Close),
            (0i32..40, any::<bool>()).prop_map(|(fd, flag)| Step::CloseOnExec(fd, flag)),
        ]
    }

    proptest! {
        #[test]
        fn the_table_agrees_with_a_map(steps in proptest::collection::vec(step(), 1..200)) {
            let limit = 32usize;
            let mut table = DescriptorTable::new();
            let mut model: BTreeMap<i32, Descriptor> = BTreeMap::new();
            for step in steps {
                match step {
                    Step::Open(port) => {
                        let expected = (0..limit as i32).find(|fd| !model.contains_key(fd)).ok_or(EMFILE);
                        let got = table.lowest_free(0, limit);
                        prop_assert_eq!(got, expected);
                        if let Ok(fd) = got {
                            table.insert(fd, open(port));
                            model.insert(fd, open(port));
                        }
                    }
                    Step::Duplicate(from, at_least) => {
                        let Some(source) = model.get(&from).copied() else {
                            prop_assert!(table.get(from).is_none());
                            continue;
                        };
                        let expected = if at_least as usize >= limit {
                            Err(EINVAL)
                        } else {
                            (at_least..limit as i32).find(|fd| !model.contains_key(fd)).ok_or(EMFILE)
                        };
                        let got = table.lowest_free(at_least, limit);
                        prop_assert_eq!(got, expected);
                        if let Ok(fd) = got {
                            let copy = Descriptor { close_on_exec: false, ..source };
                            table.insert(fd, copy);
                            model.insert(fd, copy);
                        }
                    }
                    Step::Close(fd) => {
                        prop_assert_eq!(table.remove(fd), model.remove(&fd).ok_or(EBADF));
                    }
                    Step::CloseOnExec(fd, flag) => {
                        let expected = match model.get_mut(&fd) {
                            Some(descriptor) => {
                                descriptor.close_on_exec = flag;
                                Ok(())
                            }
                            None => Err(EBADF),
                        };
                        prop_assert_eq!(table.set_close_on_exec(fd, flag), expected);
                    }
                }
                prop_assert_eq!(table.len(), model.len());
                let listed: Vec<(i32, Descriptor)> = table.iter().collect();
                let modelled: Vec<(i32, Descriptor)> = model.iter().map(|(fd, d)| (*fd, *d)).collect();
                prop_assert_eq!(listed, modelled);
            }
        }
    }
}
