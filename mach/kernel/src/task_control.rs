//! Task and thread control traps: terminate, suspend, resume and abort,
//! on the task or thread whose port the caller names (holding a send right
//! to it is the authority, as for every trap on a task).
#![forbid(unsafe_code)]

use crate::ipc::object::{task_named, thread_named};
use crate::ipc::port_traps::{name, operate};
use crate::kernel::Kernel;
use crate::task::TaskId;
use mach_abi::KernReturn;

/// What a task or thread operation does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Terminate,
    Suspend,
    Resume,
    /// `thread_abort` (threads only).
    Abort,
}

/// `task_terminate`, `task_suspend`, `task_resume` on the task whose port
/// the caller names. Terminating or suspending itself does not return to
/// the caller until resumed (or ever, for terminate): the trap's way out
/// (`trap::dispatch`) switches away.
pub fn task_control(task: u64, control: Control) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let target = task_named(kernel, caller.space, name(task)?)?;
        apply_task_control(kernel, target, control)
    })
}

fn apply_task_control(kernel: &mut Kernel, target: TaskId, control: Control) -> Result<(), KernReturn> {
    match control {
        Control::Terminate => kernel.terminate_task(target),
        Control::Suspend => {
            let task = kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?;
            task.suspend_count = task.suspend_count.checked_add(1).ok_or(KernReturn::InvalidValue)?;
            kernel.scheduler.suspension_pending = true;
        }
        Control::Resume => {
            let task = kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?;
            if task.suspend_count == 0 {
                return Err(KernReturn::Failure); // Mach: resuming a task that is not suspended
            }
            task.suspend_count -= 1;
            for thread in task.threads.clone() {
                kernel.make_runnable(thread);
            }
        }
        Control::Abort => return Err(KernReturn::InvalidArgument),
    }
    Ok(())
}

/// `thread_terminate`, `thread_suspend`, `thread_resume`, `thread_abort`.
/// Suspending or terminating itself, the caller stops on the trap's way out.
pub fn thread_control(thread: u64, control: Control) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let target = thread_named(kernel, caller.space, name(thread)?)?;
        match control {
            Control::Terminate => kernel.terminate_thread(target),
            Control::Suspend => {
                let object = kernel.threads.get_mut(target).ok_or(KernReturn::InvalidArgument)?;
                object.suspend_count = object.suspend_count.checked_add(1).ok_or(KernReturn::InvalidValue)?;
                kernel.scheduler.suspension_pending = true;
            }
            Control::Resume => {
                let object = kernel.threads.get_mut(target).ok_or(KernReturn::InvalidArgument)?;
                if object.suspend_count == 0 {
                    return Err(KernReturn::Failure);
                }
                object.suspend_count -= 1;
                kernel.make_runnable(target);
            }
            Control::Abort => kernel.abort_thread(target)?,
        }
        Ok(())
    })
}
