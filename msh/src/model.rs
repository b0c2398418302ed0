//! A model of the system for host tests of the interpreter: an in-memory
//! file system, descriptors and pipes, and a captured standard output and
//! error. It has no processes: `fork` and `spawn` fail, so the tests here
//! cover what the shell does by itself (builtins, functions, control flow,
//! expansions, redirections, here-documents); programs and pipelines are
//! tested with the real binary against dash (`scripts/tests/msh`).

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::shell::Shell;
use crate::system::*;

#[derive(Clone)]
enum Open {
    File { content: Rc<RefCell<Vec<u8>>>, offset: usize, append: bool },
    PipeRead(Rc<RefCell<VecDeque<u8>>>),
    PipeWrite(Rc<RefCell<VecDeque<u8>>>),
}

pub struct ModelSystem {
    files: BTreeMap<Vec<u8>, Rc<RefCell<Vec<u8>>>>,
    directories: BTreeSet<Vec<u8>>,
    descriptors: BTreeMap<i32, Open>,
    cwd: Vec<u8>,
    umask: u32,
    pub stdout: Rc<RefCell<Vec<u8>>>,
    pub stderr: Rc<RefCell<Vec<u8>>>,
}

const NO_PROCESSES: Errno = Errno(38);

impl ModelSystem {
    /// A system with `/`, `/tmp`, `/home/user`, standard input `input`.
    pub fn new(input: &[u8]) -> Self {
        let stdout = Rc::new(RefCell::new(Vec::new()));
        let stderr = Rc::new(RefCell::new(Vec::new()));
        let mut descriptors = BTreeMap::new();
        descriptors.insert(0, Open::File { content: Rc::new(RefCell::new(input.to_vec())), offset: 0, append: false });
        descriptors.insert(1, Open::File { content: stdout.clone(), offset: 0, append: true });
        descriptors.insert(2, Open::File { content: stderr.clone(), offset: 0, append: true });
        let directories =
            [&b"/"[..], b"/tmp", b"/home", b"/home/user", b"/bin", b"/dev"].iter().map(|path| path.to_vec()).collect();
        let mut files = BTreeMap::new();
        files.insert(b"/dev/null".to_vec(), Rc::new(RefCell::new(Vec::new())));
        ModelSystem { files, directories, descriptors, cwd: b"/".to_vec(), umask: 0o022, stdout, stderr }
    }

    pub fn add_file(&mut self, path: &[u8], content: &[u8]) {
        self.files.insert(path.to_vec(), Rc::new(RefCell::new(content.to_vec())));
    }

    pub fn add_directory(&mut self, path: &[u8]) {
        self.directories.insert(path.to_vec());
    }

    pub fn remove_directory(&mut self, path: &[u8]) {
        self.directories.remove(path);
    }

    pub fn file(&self, path: &[u8]) -> Option<Vec<u8>> {
        self.files.get(path).map(|content| content.borrow().clone())
    }

    fn absolute(&self, path: &[u8]) -> Vec<u8> {
        let base = if path.starts_with(b"/") { Vec::new() } else { self.cwd.clone() };
        crate::builtins::logical_path(Some(&base), path)
    }

    fn lowest_free(&self, minimum: i32) -> i32 {
        (minimum..).find(|fd| !self.descriptors.contains_key(fd)).unwrap_or(minimum)
    }
}

impl System for ModelSystem {
    type TerminalModes = ();

    fn fork(&mut self) -> Result<Fork> {
        Err(NO_PROCESSES)
    }
    fn spawn(
        &mut self,
        _: &[u8],
        _: &[Vec<u8>],
        _: &[Vec<u8>],
        _: &[FileAction],
        _: &SpawnAttributes,
    ) -> Result<ProcessId> {
        Err(NO_PROCESSES)
    }
    fn execute(&mut self, _: &[u8], _: &[Vec<u8>], _: &[Vec<u8>]) -> Errno {
        NO_PROCESSES
    }
    fn exit(&mut self, status: i32) -> ! {
        panic!("the model has no processes to exit ({status})")
    }
    fn wait(&mut self, _: ProcessId, _: WaitOptions) -> Result<Option<(ProcessId, WaitStatus)>> {
        Err(Errno::NO_CHILD)
    }
    fn kill(&mut self, _: ProcessId, _: i32) -> Result<()> {
        Err(Errno::NO_SUCH_PROCESS)
    }
    fn process_id(&mut self) -> ProcessId {
        4242
    }
    fn parent_process_id(&mut self) -> ProcessId {
        1
    }
    fn set_process_group(&mut self, _: ProcessId, _: ProcessId) -> Result<()> {
        Ok(())
    }
    fn process_group(&mut self) -> ProcessId {
        4242
    }
    fn set_signal_action(&mut self, _: i32, _: SignalAction) -> Result<()> {
        Ok(())
    }
    fn signal_ignored_at_start(&mut self, _: i32) -> bool {
        false
    }
    fn take_caught_signals(&mut self) -> u64 {
        0
    }
    fn is_terminal(&mut self, _: i32) -> bool {
        false
    }
    fn terminal_modes(&mut self, _: i32) -> Result<()> {
        Err(Errno::NOT_TERMINAL)
    }
    fn set_terminal_modes(&mut self, _: i32, _: &()) -> Result<()> {
        Err(Errno::NOT_TERMINAL)
    }
    fn raw_modes(&mut self, _: &()) {}
    fn terminal_process_group(&mut self, _: i32) -> Result<ProcessId> {
        Err(Errno::NOT_TERMINAL)
    }
    fn set_terminal_process_group(&mut self, _: i32, _: ProcessId) -> Result<()> {
        Err(Errno::NOT_TERMINAL)
    }
    fn lead_session_on_terminal(&mut self, _: i32) -> Result<()> {
        Err(Errno::NOT_TERMINAL)
    }
    fn terminal_columns(&mut self, _: i32) -> Option<usize> {
        None
    }

    fn open(&mut self, path: &[u8], mode: OpenMode) -> Result<i32> {
        let path = self.absolute(path);
        if self.directories.contains(&path) {
            return match mode {
                OpenMode::Read => Err(Errno::IS_DIRECTORY),
                _ => Err(Errno::IS_DIRECTORY),
            };
        }
        let parent = crate::builtins::logical_path(Some(&path), b"..");
        if !self.directories.contains(&parent) {
            return Err(Errno::NOT_FOUND);
        }
        let content = match (self.files.get(&path), mode) {
            (None, OpenMode::Read) => return Err(Errno::NOT_FOUND),
            (Some(_), OpenMode::WriteNew) => return Err(Errno::EXISTS),
            (Some(content), OpenMode::Write) => {
                content.borrow_mut().clear();
                content.clone()
            }
            (Some(content), _) => content.clone(),
            (None, _) => {
                let content = Rc::new(RefCell::new(Vec::new()));
                self.files.insert(path, content.clone());
                content
            }
        };
        let fd = self.lowest_free(0);
        self.descriptors.insert(fd, Open::File { content, offset: 0, append: mode == OpenMode::Append });
        Ok(fd)
    }
    fn close(&mut self, fd: i32) -> Result<()> {
        self.descriptors.remove(&fd).map(drop).ok_or(Errno::BAD_DESCRIPTOR)
    }
    fn duplicate(&mut self, from: i32, to: i32) -> Result<()> {
        let open = self.descriptors.get(&from).cloned().ok_or(Errno::BAD_DESCRIPTOR)?;
        self.descriptors.insert(to, open);
        Ok(())
    }
    fn duplicate_above(&mut self, fd: i32, minimum: i32) -> Result<i32> {
        let open = self.descriptors.get(&fd).cloned().ok_or(Errno::BAD_DESCRIPTOR)?;
        let new = self.lowest_free(minimum);
        self.descriptors.insert(new, open);
        Ok(new)
    }
    fn pipe(&mut self) -> Result<(i32, i32)> {
        let buffer = Rc::new(RefCell::new(VecDeque::new()));
        let read = self.lowest_free(0);
        self.descriptors.insert(read, Open::PipeRead(buffer.clone()));
        let write = self.lowest_free(0);
        self.descriptors.insert(write, Open::PipeWrite(buffer));
        Ok((read, write))
    }
    fn read(&mut self, fd: i32, buffer: &mut [u8]) -> Result<usize> {
        match self.descriptors.get_mut(&fd).ok_or(Errno::BAD_DESCRIPTOR)? {
            Open::File { content, offset, .. } => {
                let content = content.borrow();
                let available = content.len().saturating_sub(*offset).min(buffer.len());
                buffer[..available].copy_from_slice(&content[*offset..*offset + available]);
                *offset += available;
                Ok(available)
            }
            Open::PipeRead(queue) => {
                let mut queue = queue.borrow_mut();
                let count = queue.len().min(buffer.len());
                for slot in buffer.iter_mut().take(count) {
                    *slot = queue.pop_front().unwrap_or(0);
                }
                Ok(count)
            }
            Open::PipeWrite(_) => Err(Errno::BAD_DESCRIPTOR),
        }
    }
    fn write(&mut self, fd: i32, bytes: &[u8]) -> Result<usize> {
        match self.descriptors.get_mut(&fd).ok_or(Errno::BAD_DESCRIPTOR)? {
            Open::File { content, offset, append } => {
                let mut content = content.borrow_mut();
                if *append {
                    *offset = content.len();
                }
                let end = *offset + bytes.len();
                if content.len() < end {
                    content.resize(end, 0);
                }
                content[*offset..end].copy_from_slice(bytes);
                *offset = end;
                Ok(bytes.len())
            }
            Open::PipeWrite(queue) => {
                queue.borrow_mut().extend(bytes.iter().copied());
                Ok(bytes.len())
            }
            Open::PipeRead(_) => Err(Errno::BAD_DESCRIPTOR),
        }
    }
    fn seek_relative(&mut self, fd: i32, delta: i64) -> Result<u64> {
        match self.descriptors.get_mut(&fd).ok_or(Errno::BAD_DESCRIPTOR)? {
            Open::File { offset, .. } => {
                *offset = (*offset as i64 + delta).max(0) as usize;
                Ok(*offset as u64)
            }
            _ => Err(Errno(29)),
        }
    }

    fn change_directory(&mut self, path: &[u8]) -> Result<()> {
        let path = self.absolute(path);
        if self.directories.contains(&path) {
            self.cwd = path;
            Ok(())
        } else if self.files.contains_key(&path) {
            Err(Errno::NOT_DIRECTORY)
        } else {
            Err(Errno::NOT_FOUND)
        }
    }
    fn current_directory(&mut self) -> Result<Vec<u8>> {
        Ok(self.cwd.clone())
    }
    fn metadata(&mut self, path: &[u8], _: bool) -> Result<Metadata> {
        let path = self.absolute(path);
        let (kind, size) = if self.directories.contains(&path) {
            (FileKind::Directory, 4096)
        } else if let Some(content) = self.files.get(&path) {
            (FileKind::Regular, content.borrow().len() as u64)
        } else {
            return Err(Errno::NOT_FOUND);
        };
        let inode = path.iter().fold(7u64, |hash, &byte| hash.wrapping_mul(31).wrapping_add(u64::from(byte)));
        Ok(Metadata { kind, mode: 0o644, user: 1000, group: 1000, size, device: 1, inode, modified: (0, 0) })
    }
    fn descriptor_metadata(&mut self, fd: i32) -> Result<Metadata> {
        let open = self.descriptors.get(&fd).ok_or(Errno::BAD_DESCRIPTOR)?;
        let size = match open {
            Open::File { content, .. } => content.borrow().len() as u64,
            _ => 0,
        };
        Ok(Metadata {
            kind: FileKind::Regular,
            mode: 0o644,
            user: 1000,
            group: 1000,
            size,
            device: 1,
            inode: 1,
            modified: (0, 0),
        })
    }
    fn access(&mut self, path: &[u8], access: Access) -> bool {
        self.metadata(path, true).is_ok() && access != Access::Execute
    }
    fn read_directory(&mut self, path: &[u8]) -> Result<Vec<Vec<u8>>> {
        let path = self.absolute(path);
        if !self.directories.contains(&path) {
            return Err(Errno::NOT_FOUND);
        }
        let prefix = if path == b"/" { path.clone() } else { [path.as_slice(), b"/"].concat() };
        let mut names: Vec<Vec<u8>> = vec_of(&[b".", b".."]);
        for candidate in self.files.keys().chain(self.directories.iter()) {
            if let Some(rest) = candidate.strip_prefix(prefix.as_slice()) {
                if !rest.is_empty() && !rest.contains(&b'/') {
                    names.push(rest.to_vec());
                }
            }
        }
        Ok(names)
    }
    fn set_umask(&mut self, mask: u32) -> u32 {
        core::mem::replace(&mut self.umask, mask)
    }
    fn home_directory(&mut self, user: &[u8]) -> Option<Vec<u8>> {
        (user == b"user").then(|| b"/home/user".to_vec())
    }
    fn spawn_gives_terminal(&mut self) -> bool {
        true
    }
    fn login_account(&mut self) -> Option<Account> {
        Some(Account { name: b"user".to_vec(), home: b"/home/user".to_vec(), shell: b"/bin/msh".to_vec() })
    }
    fn effective_user_id(&mut self) -> u32 {
        1000
    }
    fn effective_group_id(&mut self) -> u32 {
        1000
    }
    fn error_message(&mut self, error: Errno) -> Vec<u8> {
        match error {
            Errno::NOT_FOUND => b"No such file or directory".to_vec(),
            Errno::NOT_DIRECTORY => b"Not a directory".to_vec(),
            Errno::IS_DIRECTORY => b"Is a directory".to_vec(),
            Errno::BAD_DESCRIPTOR => b"Bad file descriptor".to_vec(),
            other => alloc::format!("error {}", other.0).into_bytes(),
        }
    }
}

fn vec_of(items: &[&[u8]]) -> Vec<Vec<u8>> {
    items.iter().map(|item| item.to_vec()).collect()
}

/// What a script did in the model.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
    pub shell: Shell<ModelSystem>,
}

/// Runs a script in a fresh model shell with `HOME=/home/user` and
/// `PATH=/bin`, standard input `input`.
pub fn run_with(script: &str, input: &str, prepare: impl FnOnce(&mut ModelSystem)) -> Run {
    let mut system = ModelSystem::new(input.as_bytes());
    prepare(&mut system);
    let environment: [&[u8]; 3] = [b"HOME=/home/user", b"PATH=/bin", b"PWD=/"];
    let mut shell = Shell::new(system, environment, b"msh".to_vec(), Vec::new());
    let status = shell.run_main_text(script.as_bytes());
    let stdout = String::from_utf8_lossy(&shell.system.stdout.borrow()).into_owned();
    let stderr = String::from_utf8_lossy(&shell.system.stderr.borrow()).into_owned();
    Run { stdout, stderr, status, shell }
}

pub fn run(script: &str) -> Run {
    run_with(script, "", |_| {})
}
