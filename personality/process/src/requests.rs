//! `proc.defs`, request by request: each checks who asks (the process port
//! it arrived on, or a server on the public port), runs the table, and
//! carries out the table's effects.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use libmach::message::OutOfLineData;
use libmach::request::Answer;
use libmach::{BoundedArray, Context, PortKernel, SendRight};
use mach_abi::{Disposition, PortName};
use personality_interfaces::proc::{
    self, Descriptor, Error, FileAction, GroupOfReply, IdentityReply, LimitReply, PendingSpawn, PendingWait,
    ProcessEntry, ResumeState, SetTimerReply, Usage, UsageReply, WaitReply,
};
use process_core::credentials::Credentials;
use process_core::limits::{resource, Limit};
use process_core::signal::{Dispositions, SignalSet};
use process_core::spawn::{self, FileAction as Action};
use process_core::start_block::Descriptor as TableEntry;
use process_core::table::{KillTarget, Pid, Sender, State};
use process_core::{Errno, JobControl, Signal, WaitOptions, WaitOutcome, WaitSelector, WaitStatus};

use crate::image::{ImageRequest, StartSource};
use crate::{
    error, kernel_errno, Console, FileService, KeptWait, Live, MemoryService, Power, ProcessServer, Registers, Tasks,
    WAITS_MAX,
};

/// `wait` options (`<sys/wait.h>`).
const WNOHANG: i32 = 1;
const WUNTRACED: i32 = 2;
const WCONTINUED: i32 = 8;

fn usage_of(usage: process_core::table::Usage) -> Usage {
    Usage {
        user_microseconds: usage.user_milliseconds * 1000,
        system_microseconds: usage.system_milliseconds * 1000,
        max_resident_kib: 0,
    }
}

/// The answer a `wait` gets for `outcome`, and the child it consumes if
/// the caller takes it.
pub(crate) fn wait_answer(outcome: Result<WaitOutcome, Errno>) -> (Result<WaitReply, Error>, Option<Pid>) {
    match outcome {
        Ok(WaitOutcome::Child { pid, status, usage }) => {
            (Ok(WaitReply { child: pid as i32, status: status.encode(), usage: usage_of(usage) }), Some(pid))
        }
        Ok(WaitOutcome::NothingYet) | Ok(WaitOutcome::MustWait) => {
            (Ok(WaitReply { child: 0, status: 0, usage: Usage::default() }), None)
        }
        Err(errno) => (Err(error(errno)), None),
    }
}

fn signal_argument(signal: i32) -> Result<Option<Signal>, Error> {
    if signal == 0 {
        return Ok(None);
    }
    u32::try_from(signal).ok().and_then(Signal::new).map(Some).ok_or(Error::Einval)
}

fn id_argument(value: i64) -> Result<Option<u32>, Error> {
    match value {
        -1 => Ok(None),
        value => u32::try_from(value).map(Some).map_err(|_| Error::Einval),
    }
}

fn table_entries(keep: &[Descriptor]) -> Vec<TableEntry> {
    keep.iter().map(|entry| TableEntry { number: entry.number, name: entry.name, flags: entry.flags }).collect()
}

/// Copies a fixed-size, NUL-padded field.
fn padded<const N: usize>(text: &[u8]) -> [u8; N] {
    let mut field = [0u8; N];
    let length = text.len().min(N - 1);
    field[..length].copy_from_slice(&text[..length]);
    field
}

impl<K, T, M, F, C> ProcessServer<K, T, M, F, C>
where
    K: PortKernel,
    T: Tasks<K>,
    M: MemoryService<K>,
    F: FileService<K>,
    C: Console,
{
    /// A new process's record once its task is built.
    fn live_from(built: crate::image::Built<K>, executable: Option<SendRight<K>>) -> (Live<K>, PortName, Registers) {
        let thread = built.thread.name();
        let live = Live {
            task: built.task,
            process_port: built.process_port,
            exception_port: built.exception_port,
            space: built.space,
            executable: executable.map(alloc::rc::Rc::new),
            signal: None,
            names: built.names,
            held: BTreeMap::new(),
            queued: VecDeque::new(),
            forwarded_fault: None,
            waits: Vec::new(),
            arguments: built.arguments,
            thread: built.thread,
            spawn_reply: None,
        };
        (live, thread, built.registers)
    }

    /// Starts init (pid 1) from the file at `path` in the file server's
    /// root, with the console as descriptors 0, 1 and 2 and `arguments`
    /// after the path; `bootstrap` is the name-service port it gets.
    pub fn start_init(&mut self, path: &[u8], arguments: &[&[u8]], bootstrap: Option<PortName>) -> Result<(), Errno> {
        const READ_ONLY: u32 = 0;
        const READ_WRITE: u32 = 2;
        let root = self.files.root()?;
        let file = self.files.open(&root, path, READ_ONLY)?;
        let console = self.files.open(&root, b"/dev/console", READ_WRITE)?;
        let descriptors: Vec<TableEntry> =
            (0..3).map(|number| TableEntry { number, name: console.name(), flags: 0 }).collect();
        let mut strings = Vec::new();
        for argument in core::iter::once(path).chain(arguments.iter().copied()) {
            strings.extend_from_slice(argument);
            strings.push(0);
        }
        let environment: [&[u8]; 3] = [b"PATH=/bin:/sbin", b"HOME=/", b"TERM=vt100"];
        for variable in environment {
            strings.extend_from_slice(variable);
            strings.push(0);
        }
        let request = ImageRequest {
            file: &file,
            strings: &strings,
            argument_count: 1 + arguments.len() as u32,
            environment_count: environment.len() as u32,
            descriptors: &descriptors,
            root: root.name(),
            cwd: root.name(),
            bootstrap: bootstrap.unwrap_or(0),
            signal_mask: 0,
            umask: 0o022,
            foreground: None,
        };
        let built = self.build_image(process_core::table::INIT, &request, StartSource::Server)?;
        let effects = self.table.exec(process_core::table::INIT, &built.command, None, None, SignalSet::EMPTY)?;
        let (live, thread, registers) = Self::live_from(built, Some(file));
        let task = live.task.name();
        if let Err(errno) = self.adopt(process_core::table::INIT, live) {
            let _ = self.tasks.terminate(task);
            return Err(errno);
        }
        self.tasks.start_thread(thread, &registers).map_err(kernel_errno)?;
        self.apply(effects);
        Ok(())
    }

    fn fork_process(
        &mut self,
        parent: Pid,
        state: &ResumeState,
        task_name: u32,
        thread_name: u32,
    ) -> Result<Pid, Errno> {
        let now = self.tasks.now();
        let child = self.table.fork(parent, now)?;
        match self.make_child(parent, child, state, task_name, thread_name) {
            Ok(()) => Ok(child),
            Err(errno) => {
                self.table.abandon_fork(child);
                Err(errno)
            }
        }
    }

    fn make_child(
        &mut self,
        parent: Pid,
        child: Pid,
        state: &ResumeState,
        task_name: u32,
        thread_name: u32,
    ) -> Result<(), Errno> {
        let parent_live = self.live.get(&parent).ok_or(Errno::ESRCH)?;
        let names = parent_live.names;
        // Shared, not copied: a copy would be a trap now and one at the end.
        let executable = parent_live.executable.clone();
        let arguments = parent_live.arguments.clone();
        // The memory server makes the child (memory and send rights
        // inherited) between two of the parent's own requests.
        let (task, space) = self.memory.fork(&parent_live.space)?;
        // The kernel named it after its creator (the memory server).
        if let Some(name) = self.table.get(parent).and_then(|process| crate::task_name(&process.command)) {
            let _ = self.tasks.set_name(task.name(), name);
        }
        let made = (|| {
            let process_port = self.new_port()?;
            let exception_port = self.new_port()?;
            let put = |tasks: &mut T, name: PortName, right: PortName, disposition: Disposition| {
                if name == 0 {
                    return Ok(());
                }
                tasks.replace_right(task.name(), name, right, disposition).map_err(|_| Errno::EINVAL)
            };
            put(&mut self.tasks, names.process, process_port.name(), Disposition::MakeSend)?;
            put(&mut self.tasks, names.memory, space.name(), Disposition::CopySend)?;
            put(&mut self.tasks, task_name, task.name(), Disposition::CopySend)?;
            let thread = self.tasks.create_thread(task.name()).map_err(kernel_errno)?;
            put(&mut self.tasks, thread_name, thread.name(), Disposition::CopySend)?;
            Ok::<_, Errno>((process_port, exception_port, thread))
        })();
        let (process_port, exception_port, thread) = match made {
            Ok(parts) => parts,
            Err(errno) => {
                let _ = self.tasks.terminate(task.name());
                return Err(errno);
            }
        };
        let thread_port = thread.name();
        let live = Live {
            task,
            process_port,
            exception_port,
            space,
            executable,
            signal: None,
            names,
            held: BTreeMap::new(),
            queued: VecDeque::new(),
            forwarded_fault: None,
            waits: Vec::new(),
            arguments,
            thread,
            spawn_reply: None,
        };
        let (task_port, thread) = (live.task.name(), thread_port);
        if let Err(errno) = self.adopt(child, live) {
            let _ = self.tasks.terminate(task_port);
            self.release(child);
            return Err(errno);
        }
        let registers = Registers {
            pc: state.pc,
            sp: state.sp,
            saved: state.saved,
            flags: state.flags,
            thread_pointer: state.thread_pointer,
            ..Registers::default()
        };
        if let Err(code) = self.tasks.start_thread(thread, &registers) {
            let _ = self.tasks.terminate(task_port);
            self.release(child);
            return Err(kernel_errno(code));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // exec's own arguments
    fn exec_process(
        &mut self,
        pid: Pid,
        file: SendRight<K>,
        strings: &[u8],
        argument_count: u32,
        environment_count: u32,
        keep: &[Descriptor],
        directories: [u32; 3],
        signal_mask: u64,
        umask: u32,
    ) -> Result<(), Errno> {
        let limit = self.table.limits(pid)?.current(resource::OPEN_FILES);
        let table = spawn::for_exec(&table_entries(keep), limit)?;
        let old_task = self.live.get(&pid).ok_or(Errno::ESRCH)?.task.name();
        let [root, cwd, bootstrap] = directories;
        let request = ImageRequest {
            file: &file,
            strings,
            argument_count,
            environment_count,
            descriptors: &table.descriptors,
            root,
            cwd,
            bootstrap,
            signal_mask,
            umask,
            foreground: None,
        };
        let built = self.build_image(pid, &request, StartSource::Task(old_task))?;
        // Nothing failed: the new image takes the pid.
        let (set_user, set_group, command) = (built.set_user, built.set_group, built.command.clone());
        let effects = match self.table.exec(pid, &command, set_user, set_group, SignalSet(signal_mask)) {
            Ok(effects) => effects,
            Err(errno) => {
                let _ = self.tasks.terminate(built.task.name());
                return Err(errno);
            }
        };
        let old = self.release(pid);
        let (mut live, thread, registers) = Self::live_from(built, Some(file));
        if let Some(old) = old {
            // Pending signals survive exec.
            live.held = old.held;
            for information in old.queued {
                live.held.insert(information.signal as u32, information);
            }
            let _ = self.tasks.terminate(old.task.name());
        }
        let task = live.task.name();
        if let Err(errno) = self.adopt(pid, live) {
            // Too late to give the caller its old image back: the process ends.
            libmach::println!("proc: exec of process {pid} failed after its old image was gone (errno {})", errno.0);
            let _ = self.tasks.terminate(task);
            let effects = self.table.exit_process(pid, WaitStatus::Signaled { signal: Signal::KILL, core: false });
            self.apply(effects);
            return Ok(());
        }
        if self.tasks.start_thread(thread, &registers).is_err() {
            let effects = self.table.exit_process(pid, WaitStatus::Signaled { signal: Signal::KILL, core: false });
            self.apply(effects);
            return Ok(());
        }
        self.apply(effects);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // spawn's own arguments
    fn spawn_process(
        &mut self,
        parent: Pid,
        file: SendRight<K>,
        strings: &[u8],
        argument_count: u32,
        environment_count: u32,
        keep: &[Descriptor],
        directories: [u32; 3],
        actions: &[FileAction],
        attributes: SpawnAttributes,
    ) -> Result<Pid, Errno> {
        let limit = self.table.limits(parent)?.current(resource::OPEN_FILES);
        let actions: Vec<Action> = actions
            .iter()
            .map(|action| Action::from_wire(action.kind, action.source, action.target))
            .collect::<Result<_, _>>()?;
        let foreground = (attributes.foreground >= 0).then_some(attributes.foreground);
        let table = spawn::for_spawn(&table_entries(keep), &actions, limit, foreground)?;
        let parent_task = self.live.get(&parent).ok_or(Errno::ESRCH)?.task.name();
        let now = self.tasks.now();
        let child = self.table.fork(parent, now)?;
        let outcome = self.spawn_child(
            parent,
            child,
            parent_task,
            &file,
            strings,
            argument_count,
            environment_count,
            &table,
            directories,
            attributes,
        );
        match outcome {
            Ok((built, effects)) => {
                let (live, thread, registers) = Self::live_from(built, Some(file));
                let task = live.task.name();
                if let Err(errno) = self.adopt(child, live) {
                    let _ = self.tasks.terminate(task);
                    self.release(child);
                    self.table.abandon_fork(child);
                    return Err(errno);
                }
                if let Err(code) = self.tasks.start_thread(thread, &registers) {
                    let _ = self.tasks.terminate(task);
                    self.release(child);
                    self.table.abandon_fork(child);
                    return Err(kernel_errno(code));
                }
                self.apply(effects);
                Ok(child)
            }
            Err(errno) => {
                self.table.abandon_fork(child);
                Err(errno)
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // spawn's pieces
    fn spawn_child(
        &mut self,
        parent: Pid,
        child: Pid,
        parent_task: PortName,
        file: &SendRight<K>,
        strings: &[u8],
        argument_count: u32,
        environment_count: u32,
        table: &spawn::Table,
        directories: [u32; 3],
        attributes: SpawnAttributes,
    ) -> Result<(crate::image::Built<K>, Vec<process_core::Effect>), Errno> {
        if attributes.new_session {
            self.table.new_session(child)?;
        }
        if attributes.group >= 0 {
            let group = if attributes.group == 0 { child } else { attributes.group as Pid };
            self.table.set_process_group(parent, child, group)?;
        }
        if attributes.reset_ids {
            self.table.change_credentials(child, |credentials: &mut Credentials| {
                credentials.effective_user = credentials.real_user;
                credentials.effective_group = credentials.real_group;
                Ok(())
            })?;
        }
        let inherited = self.table.get(child).ok_or(Errno::ESRCH)?.dispositions;
        let dispositions = Dispositions {
            caught: SignalSet::EMPTY,
            ignored: SignalSet(inherited.ignored.0 & !attributes.signal_defaults),
            blocked: SignalSet(attributes.signal_mask),
            ..inherited
        };
        self.table.set_dispositions(child, dispositions)?;
        let [root, cwd, bootstrap] = directories;
        let request = ImageRequest {
            file,
            strings,
            argument_count,
            environment_count,
            descriptors: &table.descriptors,
            root,
            cwd: table.working_directory.unwrap_or(cwd),
            bootstrap,
            signal_mask: attributes.signal_mask,
            umask: attributes.umask,
            foreground: (attributes.foreground >= 0).then_some(attributes.foreground),
        };
        let built = self.build_image(child, &request, StartSource::Task(parent_task))?;
        let command = built.command.clone();
        let effects =
            self.table.exec(child, &command, built.set_user, built.set_group, SignalSet(attributes.signal_mask))?;
        Ok((built, effects))
    }

    /// Answers a `wait` through its kept reply right: consumed only if the
    /// caller got it; otherwise kept until a child changes state.
    fn wait_for(&mut self, caller: Pid, reply: PendingWait<K>, selector: WaitSelector, options: WaitOptions) {
        match self.table.peek_wait(caller, selector, options) {
            Ok(WaitOutcome::MustWait) => {
                let Some(live) = self.live.get_mut(&caller) else { return };
                live.waits.retain(|wait| !wait.reply.is_abandoned());
                if live.waits.len() >= WAITS_MAX {
                    let _ = reply.send(Err(Error::Eagain));
                    return;
                }
                live.waits.push(KeptWait { reply, selector, options });
            }
            outcome => {
                let (answer, consumed) = wait_answer(outcome);
                if reply.send(answer).is_ok() {
                    if let Some(child) = consumed {
                        let effects = self.table.consume_wait(caller, child);
                        self.apply(effects);
                    }
                }
            }
        }
    }

    fn entry_of(&mut self, process: &process_core::table::Process) -> ProcessEntry {
        let (mut threads, mut resident_kib, mut cpu) = (0, 0, process.usage.user_milliseconds * 1000);
        let (mut virtual_kib, mut arguments, mut waiting) = (0, alloc::string::String::new(), false);
        if let Some(live) = self.live.get(&process.pid) {
            // A first thread that ended (others go on) counts as running.
            waiting = self.tasks.thread_waiting(live.thread.name()).unwrap_or(false);
            if let Ok(info) = self.tasks.info(live.task.name()) {
                threads = info.threads;
                resident_kib = info.resident_pages * 4;
                cpu = info.cpu_microseconds;
            }
            if let Ok((mapped, _)) = self.memory.sizes(&live.space) {
                virtual_kib = mapped / 1024;
            }
            arguments = live.arguments.clone();
        }
        let state = match process.state {
            State::Running if waiting => b'S',
            State::Running => b'R',
            State::Stopped(_) => b'T',
            State::Zombie(_) => b'Z',
        };
        let credentials = &process.credentials;
        ProcessEntry {
            pid: process.pid as i32,
            parent: process.parent as i32,
            group: process.group as i32,
            session: process.session as i32,
            real_user: credentials.real_user,
            effective_user: credentials.effective_user,
            real_group: credentials.real_group,
            effective_group: credentials.effective_group,
            state,
            terminal: self.terminals.get(&process.session).copied().unwrap_or(0),
            threads,
            virtual_kib,
            resident_kib,
            cpu_microseconds: cpu,
            started_seconds: (self.tasks.boot_time() / 1_000_000_000) + process.started_at / 1000,
            command: padded(process.command.as_bytes()),
            arguments: padded(arguments.as_bytes()),
        }
    }
}

/// posix_spawn's attributes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SpawnAttributes {
    pub group: i32,
    pub new_session: bool,
    pub foreground: i32,
    pub signal_mask: u64,
    pub signal_defaults: u64,
    pub reset_ids: bool,
    pub umask: u32,
}

impl<K, T, M, F, C> proc::Server<K> for ProcessServer<K, T, M, F, C>
where
    K: PortKernel,
    T: Tasks<K>,
    M: MemoryService<K>,
    F: FileService<K>,
    C: Console,
{
    fn fork(
        &mut self,
        context: &Context<'_, K>,
        state: &ResumeState,
        task_name: u32,
        thread_name: u32,
    ) -> Result<i32, Error> {
        let parent = self.caller(context)?;
        self.fork_process(parent, state, task_name, thread_name).map(|child| child as i32).map_err(error)
    }

    fn exec(
        &mut self,
        context: &Context<'_, K>,
        file: SendRight<K>,
        strings: OutOfLineData<K>,
        argument_count: u32,
        environment_count: u32,
        keep: &[Descriptor],
        root: u32,
        cwd: u32,
        bootstrap: u32,
        signal_mask: u64,
        umask: u32,
    ) -> Result<(), Error> {
        let pid = self.caller(context)?;
        let directories = [root, cwd, bootstrap];
        self.exec_process(
            pid,
            file,
            strings.bytes(),
            argument_count,
            environment_count,
            keep,
            directories,
            signal_mask,
            umask,
        )
        .map_err(error)
    }

    fn spawn(
        &mut self,
        context: &Context<'_, K>,
        file: SendRight<K>,
        strings: OutOfLineData<K>,
        argument_count: u32,
        environment_count: u32,
        keep: &[Descriptor],
        root: u32,
        cwd: u32,
        bootstrap: u32,
        actions: &[FileAction],
        group: i32,
        new_session: bool,
        foreground: i32,
        signal_mask: u64,
        signal_defaults: u64,
        reset_ids: bool,
        umask: u32,
    ) -> Result<Answer<i32>, Error> {
        let parent = self.caller(context)?;
        let attributes =
            SpawnAttributes { group, new_session, foreground, signal_mask, signal_defaults, reset_ids, umask };
        let child = self
            .spawn_process(
                parent,
                file,
                strings.bytes(),
                argument_count,
                environment_count,
                keep,
                [root, cwd, bootstrap],
                actions,
                attributes,
            )
            .map_err(error)?;
        if foreground < 0 {
            return Ok(Answer::Now(child as i32));
        }
        // The child takes the terminal itself at start-up (its credential is
        // the one the console checks): the caller hears once it did
        // (`started`), or stopped, ended or exec'd first.
        let reply = PendingSpawn::keep(context).ok_or(Error::Einval)?;
        match self.live.get_mut(&child) {
            Some(live) => live.spawn_reply = Some(reply),
            None => {
                let _ = reply.send(Ok(child as i32));
            }
        }
        Ok(Answer::Later)
    }

    fn started(&mut self, context: &Context<'_, K>) {
        let Ok(pid) = self.caller(context) else { return };
        self.answer_spawn(pid);
    }

    fn exit(&mut self, context: &Context<'_, K>, status: i32) {
        let Ok(pid) = self.caller(context) else { return };
        let effects = self.table.exit_process(pid, WaitStatus::Exited((status & 0xff) as u8));
        self.apply(effects);
    }

    fn wait(&mut self, context: &Context<'_, K>, pid: i32, options: i32) -> Result<Answer<WaitReply>, Error> {
        let caller = self.caller(context)?;
        if options & !(WNOHANG | WUNTRACED | WCONTINUED) != 0 {
            return Err(Error::Einval);
        }
        let options = WaitOptions {
            no_hang: options & WNOHANG != 0,
            untraced: options & WUNTRACED != 0,
            continued: options & WCONTINUED != 0,
        };
        // Always through the kept reply right, so the answer is consumed
        // only once delivered.
        let reply = PendingWait::keep(context).ok_or(Error::Einval)?;
        self.wait_for(caller, reply, WaitSelector::from_pid_argument(pid), options);
        Ok(Answer::Later)
    }

    fn kill(&mut self, context: &Context<'_, K>, pid: i32, signal: i32) -> Result<(), Error> {
        let caller = self.caller(context)?;
        let signal = signal_argument(signal)?;
        let effects =
            self.table.kill(&Sender::Process(caller), KillTarget::from_pid_argument(pid), signal).map_err(error)?;
        self.apply(effects);
        Ok(())
    }

    fn get_parent(&mut self, context: &Context<'_, K>) -> Result<i32, Error> {
        let caller = self.caller(context)?;
        Ok(self.table.get(caller).map_or(0, |process| process.parent as i32))
    }

    fn identity(&mut self, context: &Context<'_, K>) -> Result<IdentityReply, Error> {
        let caller = self.caller(context)?;
        let process = self.table.get(caller).ok_or(Error::Esrch)?;
        let credentials = &process.credentials;
        Ok(IdentityReply {
            pid: caller as i32,
            parent: process.parent as i32,
            group: process.group as i32,
            session: process.session as i32,
            real_user: credentials.real_user,
            effective_user: credentials.effective_user,
            saved_user: credentials.saved_user,
            real_group: credentials.real_group,
            effective_group: credentials.effective_group,
            saved_group: credentials.saved_group,
            groups: BoundedArray::from_slice(credentials.groups.as_slice()).unwrap_or_default(),
        })
    }

    fn group_of(&mut self, context: &Context<'_, K>, pid: i32) -> Result<GroupOfReply, Error> {
        let caller = self.caller(context)?;
        let target = match pid {
            0 => caller,
            pid if pid > 0 => pid as Pid,
            _ => return Err(Error::Esrch),
        };
        let group = self.table.process_group(target).map_err(error)?;
        let session = self.table.session(target).map_err(error)?;
        Ok(GroupOfReply { group: group as i32, session: session as i32 })
    }

    fn set_group(&mut self, context: &Context<'_, K>, pid: i32, group: i32) -> Result<(), Error> {
        let caller = self.caller(context)?;
        if pid < 0 || group < 0 {
            return Err(Error::Einval);
        }
        let pid = if pid == 0 { caller } else { pid as Pid };
        let group = if group == 0 { pid } else { group as Pid };
        let effects = self.table.set_process_group(caller, pid, group).map_err(error)?;
        self.apply(effects);
        Ok(())
    }

    fn new_session(&mut self, context: &Context<'_, K>) -> Result<i32, Error> {
        let caller = self.caller(context)?;
        let (session, effects) = self.table.new_session(caller).map_err(error)?;
        self.apply(effects);
        Ok(session as i32)
    }

    fn set_ids(
        &mut self,
        context: &Context<'_, K>,
        which: u32,
        kind: u32,
        real: i64,
        effective: i64,
        saved: i64,
    ) -> Result<(), Error> {
        let caller = self.caller(context)?;
        let (real, effective, saved) = (id_argument(real)?, id_argument(effective)?, id_argument(saved)?);
        let change = move |credentials: &mut Credentials| -> Result<(), Errno> {
            match (which, kind) {
                (0, 0) => credentials.set_user(real.ok_or(Errno::EINVAL)?),
                (0, 1) => credentials.set_real_and_effective_user(real, effective),
                (0, 2) => credentials.set_user_ids(real, effective, saved),
                (0, 3) => credentials.set_effective_user(effective.ok_or(Errno::EINVAL)?),
                (1, 0) => credentials.set_group(real.ok_or(Errno::EINVAL)?),
                (1, 1) => credentials.set_real_and_effective_group(real, effective),
                (1, 2) => credentials.set_group_ids(real, effective, saved),
                (1, 3) => credentials.set_group_ids(None, Some(effective.ok_or(Errno::EINVAL)?), None),
                _ => Err(Errno::EINVAL),
            }
        };
        let effects = self.table.change_credentials(caller, change).map_err(error)?;
        self.apply(effects);
        Ok(())
    }

    fn set_groups(&mut self, context: &Context<'_, K>, groups: &[u32]) -> Result<(), Error> {
        let caller = self.caller(context)?;
        let effects =
            self.table.change_credentials(caller, |credentials| credentials.set_groups(groups)).map_err(error)?;
        self.apply(effects);
        Ok(())
    }

    fn set_dispositions(
        &mut self,
        context: &Context<'_, K>,
        caught: u64,
        ignored: u64,
        blocked: u64,
        no_child_stop: bool,
        no_child_wait: bool,
    ) -> Result<u64, Error> {
        let caller = self.caller(context)?;
        let dispositions = Dispositions {
            caught: SignalSet(caught),
            ignored: SignalSet(ignored),
            blocked: SignalSet(blocked),
            no_child_stop,
            no_child_wait,
        };
        let effects = self.table.set_dispositions(caller, dispositions).map_err(error)?;
        self.apply(effects);
        self.review_held(caller);
        Ok(self.held(caller))
    }

    fn set_signal_port(&mut self, context: &Context<'_, K>, port: SendRight<K>) -> Result<(), Error> {
        let caller = self.caller(context)?;
        self.set_signal_port_of(caller, port).map_err(error)
    }

    fn set_timer(&mut self, context: &Context<'_, K>, value: u64, interval: u64) -> Result<SetTimerReply, Error> {
        let caller = self.caller(context)?;
        let now = self.tasks.now();
        let (value, interval) = (value.div_ceil(1000), interval.div_ceil(1000));
        let (left, old_interval) = self.table.set_timer(caller, now, value, interval).map_err(error)?;
        Ok(SetTimerReply { old_value: left.saturating_mul(1000), old_interval: old_interval.saturating_mul(1000) })
    }

    fn limit(
        &mut self,
        context: &Context<'_, K>,
        resource: u32,
        set: bool,
        current: u64,
        maximum: u64,
    ) -> Result<LimitReply, Error> {
        let caller = self.caller(context)?;
        let old = self.table.limits(caller).map_err(error)?.get(resource).map_err(error)?;
        if set {
            self.table.set_limit(caller, resource, Limit { current, maximum }).map_err(error)?;
            if resource == resource::ADDRESS_SPACE || resource == resource::DATA {
                let limits = *self.table.limits(caller).map_err(error)?;
                if let Some(live) = self.live.get(&caller) {
                    let space = live.space.try_clone().map_err(|_| Error::Enomem)?;
                    let applied = self.memory.set_limits(
                        &space,
                        limits.current(resource::ADDRESS_SPACE),
                        limits.current(resource::DATA),
                    );
                    applied.map_err(error)?;
                }
            }
        }
        Ok(LimitReply { old_current: old.current, old_maximum: old.maximum })
    }

    fn usage(&mut self, context: &Context<'_, K>) -> Result<UsageReply, Error> {
        let caller = self.caller(context)?;
        let live = self.live.get(&caller).ok_or(Error::Esrch)?;
        let info = self.tasks.info(live.task.name()).unwrap_or_default();
        let process = self.table.get(caller).ok_or(Error::Esrch)?;
        let own = Usage {
            user_microseconds: info.cpu_microseconds,
            system_microseconds: 0,
            max_resident_kib: info.resident_pages * 4,
        };
        Ok(UsageReply { own, children: usage_of(process.children_usage) })
    }

    fn list(&mut self, context: &Context<'_, K>, after: i32) -> Result<BoundedArray<ProcessEntry, 96>, Error> {
        self.caller(context)?;
        let after = after.max(0) as Pid;
        let processes: Vec<process_core::table::Process> =
            self.table.processes().filter(|process| process.pid > after).take(96).cloned().collect();
        let mut entries = BoundedArray::default();
        for process in &processes {
            let entry = self.entry_of(process);
            if entries.push(entry).is_err() {
                break;
            }
        }
        Ok(entries)
    }

    fn shutdown(&mut self, context: &Context<'_, K>, action: u32, status: i32) -> Result<(), Error> {
        let caller = self.caller(context)?;
        let privileged = self.table.get(caller).is_some_and(|process| process.credentials.is_privileged());
        if !privileged {
            return Err(Error::Eperm);
        }
        let action = match action {
            0 => Power::Off,
            1 => Power::Restart,
            2 => Power::Halt,
            _ => return Err(Error::Einval),
        };
        // Without the device's ports the machine cannot go off: say so
        // before any process is ended, rather than fault on the port.
        if !self.tasks.can_power(action) {
            return Err(Error::Enxio);
        }
        self.shut_down(action, status);
        Ok(())
    }

    fn held_signals(&mut self, context: &Context<'_, K>) -> Result<u64, Error> {
        let caller = self.caller(context)?;
        Ok(self.held(caller))
    }

    fn signal_group(&mut self, context: &Context<'_, K>, group: i32, signal: i32) -> Result<(), Error> {
        self.check_server(context)?;
        let signal = signal_argument(signal)?.ok_or(Error::Einval)?;
        if group <= 0 {
            return Err(Error::Esrch);
        }
        let target = KillTarget::Group(group as Pid);
        let effects =
            self.table.kill(&Sender::System(process_core::Origin::Terminal), target, Some(signal)).map_err(error)?;
        self.apply(effects);
        Ok(())
    }

    fn signal_process(&mut self, context: &Context<'_, K>, pid: i32, signal: i32) {
        if self.check_server(context).is_err() || pid <= 0 {
            return;
        }
        let Ok(Some(signal)) = signal_argument(signal) else { return };
        let origin =
            if signal == Signal::PIPE { process_core::Origin::BrokenPipe } else { process_core::Origin::System };
        let effects = self.table.signal(pid as Pid, signal, origin);
        self.apply(effects);
    }

    fn job_control(&mut self, context: &Context<'_, K>, pid: i32, group: i32, signal: i32) -> Result<u32, Error> {
        self.check_server(context)?;
        let signal = signal_argument(signal)?.ok_or(Error::Einval)?;
        if pid <= 0 || group <= 0 {
            return Err(Error::Esrch);
        }
        let (outcome, effects) = self.table.job_control(pid as Pid, group as Pid, signal).map_err(error)?;
        self.apply(effects);
        Ok(match outcome {
            JobControl::Signalled => 0,
            JobControl::IgnoredOrBlocked => 1,
            JobControl::Orphaned => 2,
        })
    }

    fn group_in_session(&mut self, context: &Context<'_, K>, group: i32, session: i32) -> Result<bool, Error> {
        self.check_server(context)?;
        Ok(group > 0 && session > 0 && self.table.group_in_session(group as Pid, session as Pid))
    }

    fn session_terminal(&mut self, context: &Context<'_, K>, session: i32, terminal: u32) {
        if self.check_server(context).is_err() || session <= 0 {
            return;
        }
        if terminal == 0 {
            self.terminals.remove(&(session as Pid));
        } else {
            self.terminals.insert(session as Pid, terminal);
        }
    }
}
