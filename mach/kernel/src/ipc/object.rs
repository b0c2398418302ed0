//! Kernel objects on ports: a task port and a thread port carry a tag (the
//! port's 64-bit kernel-object word) naming the task or thread. Holding a
//! send right to that port is the authority to operate on the object.
#![forbid(unsafe_code)]

use crate::kernel::Kernel;
use crate::task::TaskId;
use crate::thread::ThreadId;
use mach_abi::{KernReturn, PortName};
use mach_ipc::SpaceId;

const TAG_SHIFT: u32 = 61;
const TASK_TAG: u64 = 1;
const THREAD_TAG: u64 = 2;
const HOST_TAG: u64 = 3;
const MEMORY_OBJECT_TAG: u64 = 4;
const ID_MASK: u64 = (1 << TAG_SHIFT) - 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelObjectRef {
    Task(TaskId),
    Thread(ThreadId),
    /// The host: its name port (`host_self`, anyone) or its privileged port
    /// (the bootstrap task's, handed on narrowly).
    Host {
        privileged: bool,
    },
    MemoryObject(crate::memory_object::ObjectId),
}

impl KernelObjectRef {
    pub fn tag(self) -> u64 {
        match self {
            KernelObjectRef::Task(task) => TASK_TAG << TAG_SHIFT | task.number() & ID_MASK,
            KernelObjectRef::Thread(thread) => THREAD_TAG << TAG_SHIFT | thread.number() & ID_MASK,
            KernelObjectRef::Host { privileged } => HOST_TAG << TAG_SHIFT | privileged as u64,
            KernelObjectRef::MemoryObject(object) => MEMORY_OBJECT_TAG << TAG_SHIFT | object.number() & ID_MASK,
        }
    }

    pub fn from_tag(tag: u64) -> Option<Self> {
        let id = tag & ID_MASK;
        match tag >> TAG_SHIFT {
            TASK_TAG => Some(KernelObjectRef::Task(TaskId::from_number(id))),
            THREAD_TAG => Some(KernelObjectRef::Thread(ThreadId::from_number(id))),
            HOST_TAG => Some(KernelObjectRef::Host { privileged: id == 1 }),
            MEMORY_OBJECT_TAG => Some(KernelObjectRef::MemoryObject(crate::memory_object::ObjectId::from_number(id))),
            _ => None,
        }
    }
}

/// The object `name` (a right in `space`) is the port of, if any.
fn object_named(kernel: &Kernel, space: SpaceId, name: PortName) -> Result<KernelObjectRef, KernReturn> {
    let port = kernel.ipc.port_of(space, name)?;
    let port = kernel.ipc.port(port).ok_or(KernReturn::InvalidName)?;
    KernelObjectRef::from_tag(port.kernel_object()).ok_or(KernReturn::InvalidArgument)
}

/// The task whose port `name` names in `space`.
pub fn task_named(kernel: &Kernel, space: SpaceId, name: PortName) -> Result<TaskId, KernReturn> {
    match object_named(kernel, space, name) {
        Ok(KernelObjectRef::Task(task)) if kernel.tasks.get(task).is_some() => Ok(task),
        Ok(_) | Err(KernReturn::InvalidArgument) => Err(KernReturn::InvalidTask),
        Err(error) => Err(error),
    }
}

/// The memory object whose port `name` names in `space`.
pub fn memory_object_named(
    kernel: &Kernel,
    space: SpaceId,
    name: PortName,
) -> Result<crate::memory_object::ObjectId, KernReturn> {
    match object_named(kernel, space, name) {
        Ok(KernelObjectRef::MemoryObject(object)) if kernel.objects.get(object).is_some() => Ok(object),
        Ok(_) | Err(KernReturn::InvalidArgument) => Err(KernReturn::InvalidArgument),
        Err(error) => Err(error),
    }
}

/// The thread whose port `name` names in `space`.
pub fn thread_named(kernel: &Kernel, space: SpaceId, name: PortName) -> Result<ThreadId, KernReturn> {
    match object_named(kernel, space, name) {
        Ok(KernelObjectRef::Thread(thread)) if kernel.threads.get(thread).is_some() => Ok(thread),
        Ok(_) | Err(KernReturn::InvalidArgument) => Err(KernReturn::InvalidArgument),
        Err(error) => Err(error),
    }
}
