//! A new image's descriptor table: what exec keeps, and what posix_spawn's
//! file actions make of the caller's table.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::start_block::Descriptor;
use crate::Errno;

/// `FD_CLOEXEC`.
pub const CLOSE_ON_EXEC: u32 = 1;

/// A posix_spawn file action (proc.defs' `file_action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAction {
    /// `dup2(source, target)`; `source == target` clears `FD_CLOEXEC`.
    Duplicate { source: i32, target: i32 },
    /// `close(target)` (a descriptor that is not open is fine).
    Close { target: i32 },
    /// `fchdir(source)`.
    ChangeDirectory { source: i32 },
}

impl FileAction {
    /// From the wire: kind 1 dup2, 2 close, 3 fchdir; `EINVAL` otherwise.
    pub fn from_wire(kind: u32, source: i32, target: i32) -> Result<FileAction, Errno> {
        match kind {
            1 => Ok(FileAction::Duplicate { source, target }),
            2 => Ok(FileAction::Close { target }),
            3 => Ok(FileAction::ChangeDirectory { source }),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// The table a new image gets, and the working directory if an action
/// changed it (the name of the caller's right).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub descriptors: Vec<Descriptor>,
    pub working_directory: Option<u32>,
}

/// Checks a table from a request: numbers not negative (`EBADF`), below
/// `limit` (`RLIMIT_NOFILE`, `EBADF`), each once (`EINVAL`), names not
/// null (`EBADF`).
fn checked(keep: &[Descriptor], limit: u64) -> Result<BTreeMap<i32, Descriptor>, Errno> {
    let mut table = BTreeMap::new();
    for descriptor in keep {
        if descriptor.number < 0 || descriptor.number as u64 >= limit || descriptor.name == 0 {
            return Err(Errno::EBADF);
        }
        if table.insert(descriptor.number, *descriptor).is_some() {
            return Err(Errno::EINVAL);
        }
    }
    Ok(table)
}

/// exec: the descriptors kept are those of `keep` (none may be
/// close-on-exec: minilibc leaves them out), by number.
pub fn for_exec(keep: &[Descriptor], limit: u64) -> Result<Table, Errno> {
    let table = checked(keep, limit)?;
    if table.values().any(|descriptor| descriptor.flags & CLOSE_ON_EXEC != 0) {
        return Err(Errno::EINVAL);
    }
    Ok(Table {
        descriptors: table.into_values().map(|descriptor| Descriptor { flags: 0, ..descriptor }).collect(),
        working_directory: None,
    })
}

/// posix_spawn: the caller's table `keep` (with its flags), the actions
/// applied in order, then the close-on-exec descriptors dropped — but for
/// descriptor `foreground` (posix_spawn's foreground terminal), which the
/// child's start-up code uses, then closes if it is close-on-exec: as on
/// Linux, where the child's tcsetpgrp runs before exec closes it (a shell
/// keeps its terminal descriptor close-on-exec).
pub fn for_spawn(
    keep: &[Descriptor],
    actions: &[FileAction],
    limit: u64,
    foreground: Option<i32>,
) -> Result<Table, Errno> {
    let mut table = checked(keep, limit)?;
    let mut working_directory = None;
    let valid_target = |target: i32| target >= 0 && (target as u64) < limit;
    for action in actions {
        match *action {
            FileAction::Duplicate { source, target } => {
                let source_entry = *table.get(&source).ok_or(Errno::EBADF)?;
                if !valid_target(target) {
                    return Err(Errno::EBADF);
                }
                table.insert(target, Descriptor { number: target, name: source_entry.name, flags: 0 });
            }
            FileAction::Close { target } => {
                table.remove(&target);
            }
            FileAction::ChangeDirectory { source } => {
                working_directory = Some(table.get(&source).ok_or(Errno::EBADF)?.name);
            }
        }
    }
    Ok(Table {
        descriptors: table
            .into_values()
            .filter(|descriptor| descriptor.flags & CLOSE_ON_EXEC == 0 || Some(descriptor.number) == foreground)
            .collect(),
        working_directory,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(number: i32, name: u32, flags: u32) -> Descriptor {
        Descriptor { number, name, flags }
    }

    #[test]
    fn exec_keeps_the_table_by_number_and_refuses_bad_entries() {
        let table = for_exec(&[descriptor(2, 0x300, 0), descriptor(0, 0x100, 0)], 1024).unwrap();
        assert_eq!(table.descriptors, [descriptor(0, 0x100, 0), descriptor(2, 0x300, 0)]);
        assert_eq!(for_exec(&[descriptor(-1, 0x100, 0)], 1024), Err(Errno::EBADF));
        assert_eq!(for_exec(&[descriptor(1024, 0x100, 0)], 1024), Err(Errno::EBADF), "past RLIMIT_NOFILE");
        assert_eq!(for_exec(&[descriptor(1, 0x100, 0), descriptor(1, 0x200, 0)], 1024), Err(Errno::EINVAL));
        assert_eq!(for_exec(&[descriptor(1, 0, 0)], 1024), Err(Errno::EBADF));
        assert_eq!(for_exec(&[descriptor(1, 0x100, CLOSE_ON_EXEC)], 1024), Err(Errno::EINVAL));
    }

    #[test]
    fn spawn_applies_the_actions_in_order_then_drops_close_on_exec() {
        // A pipe's write end opened close-on-exec at 5, moved to 1; 3 closed.
        let keep = [
            descriptor(0, 0x100, 0),
            descriptor(1, 0x200, 0),
            descriptor(3, 0x400, 0),
            descriptor(5, 0x600, CLOSE_ON_EXEC),
            descriptor(7, 0x800, CLOSE_ON_EXEC),
        ];
        let actions = [
            FileAction::Duplicate { source: 5, target: 1 },
            FileAction::Close { target: 3 },
            FileAction::Close { target: 42 },
            FileAction::Duplicate { source: 7, target: 7 },
            FileAction::ChangeDirectory { source: 0 },
        ];
        let table = for_spawn(&keep, &actions, 1024, None).unwrap();
        assert_eq!(table.descriptors, [descriptor(0, 0x100, 0), descriptor(1, 0x600, 0), descriptor(7, 0x800, 0)]);
        assert_eq!(table.working_directory, Some(0x100));
        assert_eq!(for_spawn(&keep, &[FileAction::Duplicate { source: 9, target: 1 }], 1024, None), Err(Errno::EBADF));
        assert_eq!(for_spawn(&keep, &[FileAction::Duplicate { source: 0, target: -2 }], 1024, None), Err(Errno::EBADF));
        assert_eq!(for_spawn(&keep, &[FileAction::ChangeDirectory { source: 9 }], 1024, None), Err(Errno::EBADF));
        assert_eq!(FileAction::from_wire(4, 0, 0), Err(Errno::EINVAL));
    }

    #[test]
    fn spawn_keeps_a_close_on_exec_foreground_terminal_for_the_start_up() {
        // A shell's terminal at 10, close-on-exec: the child takes it, then
        // closes it (its flags say so); another close-on-exec one goes.
        let keep =
            [descriptor(0, 0x100, 0), descriptor(10, 0x100, CLOSE_ON_EXEC), descriptor(11, 0x300, CLOSE_ON_EXEC)];
        let table = for_spawn(&keep, &[], 1024, Some(10)).unwrap();
        assert_eq!(table.descriptors, [descriptor(0, 0x100, 0), descriptor(10, 0x100, CLOSE_ON_EXEC)]);
        let table = for_spawn(&keep, &[], 1024, None).unwrap();
        assert_eq!(table.descriptors, [descriptor(0, 0x100, 0)]);
    }
}
