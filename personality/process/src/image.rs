//! A new image (exec, spawn, init), built in a new task before anything of
//! the caller changes: the executable checked by `mach-elf`, the address
//! space made by the memory server from the file's object, the kept rights
//! copied under their names, the start block written, a suspended thread
//! ready at the entry point (docs/process-server.md, "exec").

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use libmach::{PortKernel, ReceiveRight, SendRight};
use mach_abi::{port_index, port_make, Disposition, PortName};
use mach_elf::{ElfError, Layout, Machine};
use personality_interfaces::memory;
use process_core::credentials::Credentials;
use process_core::limits::resource;
use process_core::start_block::{self, Descriptor, Start};
use process_core::table::Pid;
use process_core::Errno;

use crate::{kernel_errno, Console, FileService, MemoryService, Names, ProcessServer, Registers, Tasks};

/// `st_mode` bits.
const FILE_TYPE: u32 = 0o170_000;
const REGULAR: u32 = 0o100_000;
const SET_USER: u32 = 0o4000;
const SET_GROUP: u32 = 0o2000;
const ANY_EXECUTE: u32 = 0o111;

/// Bytes read from the start of the file for its headers: the ELF header
/// and 16 program headers (64 + 16 × 56 = 960; a static program has about
/// 8); more if they lie further. Every byte is copied three times on the
/// way (the file server's reply, the kernel, this buffer).
const HEADER_READ: usize = 1024;

/// Where the rights a new image keeps come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartSource {
    /// The names are the caller's, in the task `task` (exec, spawn): each
    /// is copied from there.
    Task(PortName),
    /// The names are the server's own rights (init), copied.
    Server,
}

/// What a new image is made of.
pub struct ImageRequest<'a, K: PortKernel> {
    pub file: &'a SendRight<K>,
    /// argv then envp, each NUL-terminated.
    pub strings: &'a [u8],
    pub argument_count: u32,
    pub environment_count: u32,
    /// The final descriptor table (names in the source's space).
    pub descriptors: &'a [Descriptor],
    pub root: PortName,
    pub cwd: PortName,
    pub bootstrap: PortName,
    pub signal_mask: u64,
    pub umask: u32,
    /// posix_spawn's foreground terminal descriptor.
    pub foreground: Option<i32>,
}

/// A new image ready to run: its task built, its thread suspended.
pub(crate) struct Built<K: PortKernel> {
    pub task: SendRight<K>,
    pub thread: SendRight<K>,
    pub registers: Registers,
    pub space: SendRight<K>,
    pub process_port: ReceiveRight<K>,
    pub exception_port: ReceiveRight<K>,
    pub names: Names,
    /// The set-user-ID and set-group-ID owners the image runs as.
    pub set_user: Option<u32>,
    pub set_group: Option<u32>,
    /// For the listing: argv[0]'s last component and argv joined.
    pub command: String,
    pub arguments: String,
}

/// The ELF reader's rules for a program exec maps from its file.
fn elf_layout() -> Layout {
    Layout {
        lowest: memory_core::USER_LOWEST,
        highest: memory_core::MAPPING_BASE,
        most_bytes: 1 << 30,
        page_size: memory_core::PAGE_SIZE,
        require_mappable: true,
    }
}

fn elf_error(error: ElfError) -> Errno {
    match error {
        ElfError::TooLarge(_) => Errno::ENOMEM,
        _ => Errno::ENOEXEC,
    }
}

/// Whether a process with `credentials` may execute a file with `status`:
/// the owner's, the group's or the others' execute bit, as the effective
/// ids say (the superuser: any of the three). The file server checked the
/// caller's right to open the file; the right to run it is checked here,
/// where the credentials are.
fn may_execute(credentials: &Credentials, status: &crate::FileStatus) -> bool {
    if credentials.effective_user == 0 {
        return status.mode & ANY_EXECUTE != 0;
    }
    let bit = if credentials.effective_user == status.owner {
        0o100
    } else if credentials.effective_group == status.group || credentials.groups.as_slice().contains(&status.group) {
        0o010
    } else {
        0o001
    };
    status.mode & bit != 0
}

/// The smallest names no kept right uses, for the two server ports.
fn free_names(used: &BTreeSet<u32>) -> Names {
    let mut free = (1u32..).filter(|index| !used.contains(index)).map(|index| port_make(index, 0));
    Names { process: free.next().unwrap_or(0), memory: free.next().unwrap_or(0) }
}

impl<K, T, M, F, C> ProcessServer<K, T, M, F, C>
where
    K: PortKernel,
    T: Tasks<K>,
    M: MemoryService<K>,
    F: FileService<K>,
    C: Console,
{
    /// Reads the file's ELF headers and checks them.
    fn read_image(&mut self, file: &SendRight<K>, size: u64) -> Result<mach_elf::Image, Errno> {
        let mut prefix = alloc::vec![0u8; HEADER_READ];
        let read = self.files.read_at(file, 0, &mut prefix)?;
        prefix.truncate(read);
        match mach_elf::parse(&prefix, size, Machine::native(), &elf_layout()) {
            Err(ElfError::NeedMore(length)) if length <= mach_elf::HEADER_SIZE + 64 * mach_elf::PROGRAM_HEADER_SIZE => {
                prefix.resize(length, 0);
                let read = self.files.read_at(file, 0, &mut prefix)?;
                prefix.truncate(read);
                mach_elf::parse(&prefix, size, Machine::native(), &elf_layout()).map_err(elf_error)
            }
            other => other.map_err(elf_error),
        }
    }

    /// Builds a new image for process `pid` (whose credentials and limits
    /// it runs with) from `request`; nothing of the caller changes. On an
    /// error everything made is undone.
    pub(crate) fn build_image(
        &mut self,
        pid: Pid,
        request: &ImageRequest<'_, K>,
        source: StartSource,
    ) -> Result<Built<K>, Errno> {
        let process = self.table.get(pid).ok_or(Errno::ESRCH)?;
        let (credentials, limits) = (process.credentials.clone(), process.limits);
        let status = self.files.stat(request.file)?;
        if status.mode & FILE_TYPE != REGULAR || !may_execute(&credentials, &status) {
            return Err(Errno::EACCES);
        }
        let image = self.read_image(request.file, status.size)?;
        let strings = start_block::split_strings(
            request.strings,
            request.argument_count as usize,
            request.environment_count as usize,
        )?;
        let set_user = (status.mode & SET_USER != 0).then_some(status.owner);
        let set_group = (status.mode & SET_GROUP != 0).then_some(status.group);
        let mut runs_as: Credentials = credentials.clone();
        runs_as.exec(set_user, set_group);
        let secure = runs_as.effective_user != credentials.effective_user
            || runs_as.effective_group != credentials.effective_group;

        let task = self.tasks.create().map_err(kernel_errno)?;
        let built = self.fill(pid, &task, request, source, &image, &strings, &runs_as, secure, &limits);
        match built {
            Ok((thread, registers, space, process_port, exception_port, names)) => {
                let arguments: Vec<&[u8]> = strings[..request.argument_count as usize].to_vec();
                let command = arguments
                    .first()
                    .map(|first| first.rsplit(|&byte| byte == b'/').next().unwrap_or(first))
                    .map(|name| String::from_utf8_lossy(name).into_owned())
                    .unwrap_or_default();
                // Kernel logs then say which program spoke (a name is only
                // a label: its failure changes nothing).
                if let Some(name) = crate::task_name(&command) {
                    let _ = self.tasks.set_name(task.name(), name);
                }
                Ok(Built {
                    task,
                    thread,
                    registers,
                    space,
                    process_port,
                    exception_port,
                    names,
                    set_user,
                    set_group,
                    command,
                    arguments: start_block::command_line(&arguments, 255),
                })
            }
            Err(errno) => {
                let _ = self.tasks.terminate(task.name());
                Err(errno)
            }
        }
    }

    /// Everything in the new task: memory, rights, the start block, the thread.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)] // the pieces `build_image` gathered
    fn fill(
        &mut self,
        pid: Pid,
        task: &SendRight<K>,
        request: &ImageRequest<'_, K>,
        source: StartSource,
        image: &mach_elf::Image,
        strings: &[&[u8]],
        runs_as: &Credentials,
        secure: bool,
        limits: &process_core::limits::Limits,
    ) -> Result<(SendRight<K>, Registers, SendRight<K>, ReceiveRight<K>, ReceiveRight<K>, Names), Errno> {
        let segments: Vec<memory::Segment> = image
            .segments
            .iter()
            .map(|segment| memory::Segment {
                address: segment.address,
                memory_size: segment.memory_size,
                file_offset: segment.file_offset,
                file_size: segment.file_size,
                protection: u32::from(segment.rights.read)
                    | u32::from(segment.rights.write) << 1
                    | u32::from(segment.rights.execute) << 2,
            })
            .collect();
        let stack_size = limits.current(resource::STACK).min(memory_core::STACK_MAX);
        let created = self.memory.create(
            task,
            Some(request.file),
            &segments,
            stack_size,
            limits.current(resource::ADDRESS_SPACE),
            limits.current(resource::DATA),
        )?;
        let process_port = self.new_port()?;
        let exception_port = self.new_port()?;

        // The kept rights, under their names: one reference per entry.
        let mut used = BTreeSet::new();
        let kept = request
            .descriptors
            .iter()
            .map(|descriptor| descriptor.name)
            .chain([request.root, request.cwd, request.bootstrap].into_iter().filter(|&name| name != 0));
        for name in kept {
            self.give(task.name(), source, name)?;
            used.insert(port_index(name));
        }
        let names = free_names(&used);
        self.tasks
            .insert_right(task.name(), names.process, process_port.name(), Disposition::MakeSend)
            .map_err(kernel_errno)?;
        self.tasks
            .insert_right(task.name(), names.memory, created.space.name(), Disposition::CopySend)
            .map_err(kernel_errno)?;

        let mut auxiliary = alloc::vec![
            (mach_abi::AT_PHDR, image.program_headers_address.unwrap_or(0)),
            (mach_abi::AT_PHENT, image.program_header_size as u64),
            (mach_abi::AT_PHNUM, image.program_header_count as u64),
            (mach_abi::AT_PAGESZ, memory_core::PAGE_SIZE),
            (mach_abi::AT_ENTRY, image.entry),
            (mach_abi::AT_UID, runs_as.real_user as u64),
            (mach_abi::AT_EUID, runs_as.effective_user as u64),
            (mach_abi::AT_GID, runs_as.real_group as u64),
            (mach_abi::AT_EGID, runs_as.effective_group as u64),
            (mach_abi::AT_SECURE, secure as u64),
            (mach_abi::AT_MACH_PROC, names.process as u64),
            (mach_abi::AT_MACH_MEMORY, names.memory as u64),
            (mach_abi::AT_MACH_ROOT, request.root as u64),
            (mach_abi::AT_MACH_CWD, request.cwd as u64),
            (mach_abi::AT_MACH_SIGNAL_MASK, request.signal_mask),
            (mach_abi::AT_MACH_UMASK, request.umask as u64),
            (mach_abi::AT_MACH_BOOT_TIME, self.tasks.boot_time()),
            (mach_abi::AT_MACH_PID, pid as u64),
        ];
        if request.bootstrap != 0 {
            auxiliary.push((mach_abi::AT_MACH_BOOTSTRAP, request.bootstrap as u64));
        }
        if let Some(descriptor) = request.foreground {
            auxiliary.push((mach_abi::AT_MACH_FOREGROUND, descriptor as u64));
        }
        let start = Start {
            strings,
            argument_count: request.argument_count as usize,
            descriptors: request.descriptors,
            auxiliary: &auxiliary,
            random: self.tasks.random(),
        };
        let room = (stack_size as usize).saturating_sub(memory_core::PAGE_SIZE as usize);
        let block = start_block::lay_out(created.stack_top, &start, room)?;
        self.tasks.write(task.name(), block.address, &block.bytes).map_err(kernel_errno)?;
        let thread = self.tasks.create_thread(task.name()).map_err(kernel_errno)?;
        let registers = Registers {
            pc: image.entry,
            sp: block.address,
            arguments: [request.bootstrap as u64, block.address],
            flags: crate::INITIAL_FLAGS,
            ..Registers::default()
        };
        Ok((thread, registers, created.space, process_port, exception_port, names))
    }

    /// Puts a copy of the right `name` (from `source`) into `task` under
    /// the same name.
    fn give(&mut self, task: PortName, source: StartSource, name: PortName) -> Result<(), Errno> {
        match source {
            StartSource::Server => {
                self.tasks.insert_right(task, name, name, Disposition::CopySend).map_err(|_| Errno::EBADF)
            }
            StartSource::Task(from) => {
                let copy = self.tasks.copy_right(from, name).map_err(|_| Errno::EBADF)?;
                self.tasks.insert_right(task, name, copy.name(), Disposition::MoveSend).map_err(|_| Errno::EBADF)?;
                copy.moved();
                Ok(())
            }
        }
    }
}
