//! The start block a Mach_R program finds on its stack (System V x86_64
//! layout): `argc`, `argv[]`, NULL, `envp[]`, NULL, then the auxiliary
//! vector's `(key, value)` pairs up to `AT_NULL`. The process server writes
//! it at exec and spawn (docs/process-server.md, "The start block"), the
//! bootstrap task for the programs it starts (docs/bootstrap.md: no
//! environment, no `AT_MACH_PROC`). The parser reads words through a
//! function, so it is the same code on the host (tests) and in a process
//! (where the function reads the stack), and never reads past `limit`.
#![forbid(unsafe_code)]

use mach_abi as abi;

/// Auxiliary vector: the signals the new image starts ignoring (mach/abi's,
/// where every key is checked distinct).
pub use abi::AT_MACH_SIGNAL_IGNORED;

/// What the auxiliary vector says, `None` for an entry that is absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Auxiliary {
    pub page_size: Option<u64>,
    pub program_headers: Option<u64>,
    pub program_header_size: Option<u64>,
    pub program_header_count: Option<u64>,
    pub entry: Option<u64>,
    pub random: Option<u64>,
    pub secure: Option<u64>,
    pub user: Option<u64>,
    pub effective_user: Option<u64>,
    pub group: Option<u64>,
    pub effective_group: Option<u64>,
    pub bootstrap: Option<u64>,
    pub host: Option<u64>,
    pub process: Option<u64>,
    pub memory: Option<u64>,
    pub root: Option<u64>,
    pub working_directory: Option<u64>,
    pub descriptors: Option<u64>,
    pub descriptor_count: Option<u64>,
    pub signal_mask: Option<u64>,
    pub umask: Option<u64>,
    pub pid: Option<u64>,
    pub boot_time: Option<u64>,
    pub foreground: Option<u64>,
    pub signal_ignored: Option<u64>,
}

impl Auxiliary {
    fn record(&mut self, key: u64, value: u64) {
        let slot = match key {
            abi::AT_PAGESZ => &mut self.page_size,
            abi::AT_PHDR => &mut self.program_headers,
            abi::AT_PHENT => &mut self.program_header_size,
            abi::AT_PHNUM => &mut self.program_header_count,
            abi::AT_ENTRY => &mut self.entry,
            abi::AT_RANDOM => &mut self.random,
            abi::AT_SECURE => &mut self.secure,
            abi::AT_UID => &mut self.user,
            abi::AT_EUID => &mut self.effective_user,
            abi::AT_GID => &mut self.group,
            abi::AT_EGID => &mut self.effective_group,
            abi::AT_MACH_BOOTSTRAP => &mut self.bootstrap,
            abi::AT_MACH_HOST => &mut self.host,
            abi::AT_MACH_PROC => &mut self.process,
            abi::AT_MACH_MEMORY => &mut self.memory,
            abi::AT_MACH_ROOT => &mut self.root,
            abi::AT_MACH_CWD => &mut self.working_directory,
            abi::AT_MACH_FDS => &mut self.descriptors,
            abi::AT_MACH_FD_COUNT => &mut self.descriptor_count,
            abi::AT_MACH_SIGNAL_MASK => &mut self.signal_mask,
            abi::AT_MACH_UMASK => &mut self.umask,
            abi::AT_MACH_PID => &mut self.pid,
            abi::AT_MACH_BOOT_TIME => &mut self.boot_time,
            abi::AT_MACH_FOREGROUND => &mut self.foreground,
            AT_MACH_SIGNAL_IGNORED => &mut self.signal_ignored,
            // Entries we do not use (AT_HWCAP...) are skipped.
            _ => return,
        };
        *slot = Some(value);
    }

    /// A port name from an entry: names are 32-bit, 0 is "none".
    pub fn port(entry: Option<u64>) -> Option<u32> {
        entry.and_then(|value| u32::try_from(value).ok()).filter(|&name| name != 0)
    }
}

/// The start block's shape, in words from its start (where `argc` is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartBlock {
    pub argument_count: usize,
    /// Word index of `envp[0]`.
    pub environment_index: usize,
    pub environment_count: usize,
    pub auxiliary: Auxiliary,
}

/// Why a start block was refused: it does not end within `limit` words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// Parses the block whose word `i` is `read(i)`, reading no word at or past
/// `limit`.
pub fn parse(read: impl Fn(usize) -> u64, limit: usize) -> Result<StartBlock, Malformed> {
    let word = |index: usize| if index < limit { Ok(read(index)) } else { Err(Malformed) };
    let argument_count = usize::try_from(word(0)?).map_err(|_| Malformed)?;
    if argument_count >= limit {
        return Err(Malformed);
    }
    if word(1 + argument_count)? != 0 {
        return Err(Malformed);
    }
    let environment_index = argument_count + 2;
    let mut index = environment_index;
    while word(index)? != 0 {
        index += 1;
    }
    let environment_count = index - environment_index;
    index += 1;
    let mut auxiliary = Auxiliary::default();
    loop {
        let key = word(index)?;
        if key == abi::AT_NULL {
            break;
        }
        auxiliary.record(key, word(index + 1)?);
        index += 2;
    }
    Ok(StartBlock { argument_count, environment_index, environment_count, auxiliary })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_process_start_block_is_read_entry_by_entry() {
        // argc 2, argv, NULL, one variable, NULL, auxv.
        let words = [
            2,
            0x1000,
            0x1008,
            0,
            0x2000,
            0,
            abi::AT_PAGESZ,
            4096,
            abi::AT_MACH_PROC,
            0x503,
            abi::AT_MACH_ROOT,
            0,
            abi::AT_MACH_FDS,
            0x7000,
            abi::AT_MACH_FD_COUNT,
            3,
            abi::AT_MACH_BOOT_TIME,
            1_700_000_000_000_000_000,
            33,
            7,
            abi::AT_NULL,
            0,
        ];
        let block = parse(|index| words[index], words.len()).unwrap();
        assert_eq!((block.argument_count, block.environment_index, block.environment_count), (2, 4, 1));
        let auxiliary = block.auxiliary;
        assert_eq!(auxiliary.page_size, Some(4096));
        assert_eq!(Auxiliary::port(auxiliary.process), Some(0x503));
        assert_eq!(Auxiliary::port(auxiliary.root), None, "0 names nothing");
        assert_eq!(Auxiliary::port(auxiliary.working_directory), None, "absent");
        assert_eq!((auxiliary.descriptors, auxiliary.descriptor_count), (Some(0x7000), Some(3)));
        assert_eq!(auxiliary.boot_time, Some(1_700_000_000_000_000_000));
    }

    #[test]
    fn the_bootstrap_tasks_block_has_no_environment() {
        let words = [1, 0x1000, 0, 0, abi::AT_MACH_BOOTSTRAP, 0x103, abi::AT_NULL, 0];
        let block = parse(|index| words[index], words.len()).unwrap();
        assert_eq!((block.argument_count, block.environment_count), (1, 0));
        assert_eq!(Auxiliary::port(block.auxiliary.bootstrap), Some(0x103));
        assert_eq!(block.auxiliary.process, None);
    }

    #[test]
    fn a_block_that_does_not_end_is_refused() {
        assert_eq!(parse(|_| 1, 64), Err(Malformed), "no NULL after argv");
        assert_eq!(parse(|index| [0u64, 0, 0, 5, 5][index], 5), Err(Malformed), "no AT_NULL");
        assert_eq!(parse(|_| u64::MAX, 64), Err(Malformed), "argc past the end");
        assert_eq!(parse(|index| [3u64, 1, 2, 3, 4][index], 5), Err(Malformed), "argv not NULL-terminated");
    }

    proptest! {
        #[test]
        fn random_words_never_read_past_the_limit(words in proptest::collection::vec(0u64..8, 0..64)) {
            let limit = words.len();
            let _ = parse(|index| { assert!(index < limit); words[index] }, limit);
        }
    }
}
