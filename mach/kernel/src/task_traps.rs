//! Traps that create tasks and threads and read or change their state.
//!
//! As everywhere, the authority is a send right to the task or thread
//! port, named in the caller's space. A new thread starts suspended (as in
//! Mach): its creator sets its registers with `thread_set_state` and starts
//! it with `thread_resume`.
#![forbid(unsafe_code)]

use crate::arch::context::{self, KernelStack, ThreadContext, UserEntry};
use crate::arch::paging::PageTables;
use crate::ipc::object::{task_named, thread_named};
use crate::ipc::port_traps::{caller, give_send_right, Caller};
use crate::kernel::{with_kernel, Kernel};
use crate::memory::user::{self, UserBuffer};
use crate::thread::{Thread, ThreadState, DEFAULT_PRIORITY};
use alloc::vec::Vec;
use mach_abi::{
    KernReturn, PortName, TaskBasicInfo, ThreadBasicInfo, TASK_BASIC_INFO, TASK_BASIC_INFO_COUNT, THREAD_BASIC_INFO,
    THREAD_BASIC_INFO_COUNT, TH_STATE_HALTED, TH_STATE_RUNNING, TH_STATE_STOPPED, TH_STATE_WAITING,
};

/// Reads `count_in_out` (the caller's buffer size in words), checks both
/// output buffers, writes `words` and the count.
fn write_flavor(
    kernel: &mut Kernel,
    caller: &Caller,
    info_out: u64,
    count_in_out: u64,
    words: &[u32],
) -> Result<(), KernReturn> {
    let mut space = kernel.user_space(caller.task)?;
    let mut capacity = [0u8; 4];
    user::copy_from_user(&mut space, UserBuffer::new(count_in_out, 4), &mut capacity)?;
    if (u32::from_le_bytes(capacity) as usize) < words.len() {
        return Err(KernReturn::InvalidArgument);
    }
    let info = user::writable(&mut space, UserBuffer::new(info_out, words.len() * 4))?;
    let count = user::writable(&mut space, UserBuffer::new(count_in_out, 4))?;
    let bytes: Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
    info.write(&mut space, &bytes)?;
    user::write_u32_checked(&mut space, count, words.len() as u32)?;
    Ok(())
}

/// `task_create(parent, flags, child_out)`: a new task with no threads,
/// an address space that is empty or, with `TASK_CREATE_INHERIT_MEMORY`,
/// built from `parent`'s by each region's inheritance (copy-on-write,
/// shared or absent: `vm_traps::inherit_memory`), and an IPC space that is
/// empty or, with `TASK_CREATE_INHERIT_SEND_RIGHTS`, holds every send right
/// and dead name of `parent`'s under the same names (one step, all or
/// nothing). The child starts with `parent`'s credential and the caller's
/// name.
pub fn task_create([parent, flags, child_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if flags & !mach_abi::TASK_CREATE_FLAGS != 0 {
        return Err(KernReturn::InvalidArgument);
    }
    let inherit_memory = flags & mach_abi::TASK_CREATE_INHERIT_MEMORY != 0;
    let inherit_send_rights = flags & mach_abi::TASK_CREATE_INHERIT_SEND_RIGHTS != 0;
    let tables = PageTables::new_user().map_err(|_| KernReturn::ResourceShortage)?;
    with_kernel(|kernel| {
        let caller = match caller(kernel) {
            Ok(caller) => caller,
            Err(error) => {
                tables.destroy_user();
                return Err(error);
            }
        };
        let check = task_named(kernel, caller.space, parent as PortName).and_then(|parent| {
            let mut own = kernel.user_space(caller.task)?;
            let output = user::writable(&mut own, UserBuffer::new(child_out, 4)).map_err(KernReturn::from)?;
            Ok((parent, output))
        });
        let (parent, mut child_output) = match check {
            Ok(checked) => checked,
            Err(error) => {
                tables.destroy_user();
                return Err(error);
            }
        };
        let parent_space = kernel.tasks.get(parent).ok_or(KernReturn::InvalidTask)?.space;
        let creator_name = kernel.tasks.get(caller.task).map(|task| task.name.clone()).unwrap_or_default();
        let child = kernel.create_task(&creator_name, tables).map_err(|_| KernReturn::ResourceShortage)?;
        let child_space = kernel.tasks.get(child).ok_or(KernReturn::Failure)?.space;
        // The child joins its creator's account (crate::account).
        let account = kernel.tasks.get(caller.task).and_then(|task| task.vm.account().cloned());
        let joined = match (account, kernel.tasks.get_mut(child)) {
            (Some(account), Some(object)) => match object.page_tables.as_ref() {
                Some(tables) => object.vm.join_account(tables, account).map_err(|_| KernReturn::ResourceShortage),
                None => Err(KernReturn::Failure),
            },
            _ => Err(KernReturn::InvalidTask),
        };
        if let Err(error) = joined {
            kernel.terminate_task(child);
            return Err(error);
        }
        let set_up = populate_child(kernel, parent_space, child, child_space, inherit_send_rights)
            .and_then(|()| if inherit_memory { crate::vm_traps::inherit_memory(kernel, parent, child) } else { Ok(()) })
            .and_then(|()| {
                if inherit_memory {
                    // The fork may have taken write access from `child_out`
                    // (the caller's own memory, shared with the child now):
                    // get it back (a copy) before naming the child, so the
                    // write below cannot fail.
                    let mut own = kernel.user_space(caller.task)?;
                    child_output = user::writable(&mut own, UserBuffer::new(child_out, 4))?;
                }
                kernel.tasks.get(child).and_then(|task| task.port).ok_or(KernReturn::Failure)
            })
            .and_then(|port| give_send_right(kernel, caller.space, port));
        let name = match set_up {
            Ok(name) => name,
            Err(error) => {
                // Nobody holds a right to it: it goes at once (no threads).
                kernel.terminate_task(child);
                return Err(error);
            }
        };
        let mut own = kernel.user_space(caller.task)?;
        user::write_u32_checked(&mut own, child_output, name)?;
        Ok(())
    })
}

/// Gives a new task its parent's credential and, if asked, its send rights
/// (the child is charged for their names).
fn populate_child(
    kernel: &mut Kernel,
    parent_space: mach_ipc::SpaceId,
    child: crate::task::TaskId,
    child_space: mach_ipc::SpaceId,
    inherit_send_rights: bool,
) -> Result<(), KernReturn> {
    kernel.ipc.copy_credential(parent_space, child_space)?;
    if inherit_send_rights {
        let names = kernel.ipc.space(parent_space).map_or(0, |space| space.name_count());
        crate::ipc::names::reserve(kernel, child, names)?;
        kernel.ipc.inherit_send_rights(parent_space, child_space)?;
    }
    Ok(())
}

/// `task_set_credential(host_priv, task, credential)`: sets who `task`
/// acts for (`mach_abi::TaskCredential`, read from the caller's memory).
/// Only with a send right to the privileged host port; at most
/// `CREDENTIAL_GROUPS_MAX` groups. Messages the task sends from now on
/// carry it; those already sent keep the one they were sent with.
pub fn task_set_credential([host_priv, task, credential, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let host = kernel.ipc.port_of(caller.space, host_priv as PortName)?;
        let object = kernel.ipc.port(host).map_or(0, |port| port.kernel_object());
        if crate::ipc::object::KernelObjectRef::from_tag(object)
            != Some(crate::ipc::object::KernelObjectRef::Host { privileged: true })
        {
            return Err(KernReturn::InvalidHost);
        }
        let target = task_named(kernel, caller.space, task as PortName)?;
        let mut bytes = [0u8; mach_abi::TASK_CREDENTIAL_SIZE];
        let mut own = kernel.user_space(caller.task)?;
        user::copy_from_user(&mut own, UserBuffer::new(credential, bytes.len()), &mut bytes)?;
        let credential = mach_abi::TaskCredential::read_from(&bytes).ok_or(KernReturn::InvalidArgument)?;
        let space = kernel.tasks.get(target).ok_or(KernReturn::InvalidTask)?.space;
        kernel.ipc.set_credential(space, credential)
    })
}

/// `thread_create(task, thread_out)`: a suspended thread in `task`.
pub fn thread_create([task, thread_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    let mut stack = KernelStack::new().map_err(|_| KernReturn::ResourceShortage)?;
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let target = task_named(kernel, caller.space, task as PortName)?;
        let mut own = kernel.user_space(caller.task)?;
        let thread_output = user::writable(&mut own, UserBuffer::new(thread_out, 4))?;
        let target_object = kernel.tasks.get(target).ok_or(KernReturn::InvalidTask)?;
        if target_object.threads.len() >= crate::thread::MAX_THREADS_PER_TASK {
            return Err(KernReturn::ResourceShortage);
        }
        let name = target_object.name.clone();
        // Its kernel stack is charged to the task it runs in.
        let target_object = kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?;
        let tables = target_object.page_tables.as_ref().ok_or(KernReturn::InvalidTask)?;
        target_object
            .vm
            .charge_held(tables, crate::arch::context::KERNEL_STACK_PAGES)
            .map_err(|_| KernReturn::ResourceShortage)?;
        let context =
            ThreadContext::new_user(&mut stack, UserEntry { instruction_pointer: 0, stack_pointer: 0, argument: 0 });
        let mut thread = Thread::new(Some(target), name, DEFAULT_PRIORITY, context, Some(stack));
        thread.suspend_count = 1;
        let id = kernel.add_thread(thread);
        let port = kernel.threads.get(id).and_then(|thread| thread.port).ok_or(KernReturn::Failure)?;
        let name = give_send_right(kernel, caller.space, port)?;
        let mut own = kernel.user_space(caller.task)?;
        user::write_u32_checked(&mut own, thread_output, name)?;
        Ok(())
    })
}

/// `thread_get_state(thread, flavor, state_out, count_in_out)`: the
/// architecture's own flavor (`x86_THREAD_STATE64`, `ARM_THREAD_STATE64`).
pub fn thread_get_state([thread, flavor, state_out, count_in_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if flavor != context::THREAD_STATE_FLAVOR as u64 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let target = thread_named(kernel, caller.space, thread as PortName)?;
        let stack = kernel
            .threads
            .get(target)
            .and_then(|thread| thread.kernel_stack.as_ref())
            .ok_or(KernReturn::InvalidArgument)?;
        let words = stack.inspect_user_registers(context::thread_state_words).ok_or(KernReturn::InvalidArgument)?;
        debug_assert_eq!(words.len(), context::THREAD_STATE_COUNT as usize);
        write_flavor(kernel, &caller, state_out, count_in_out, &words)
    })
}

/// `thread_set_state(thread, flavor, state, count)`: the architecture's own flavor.
pub fn thread_set_state([thread, flavor, state, count, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if flavor != context::THREAD_STATE_FLAVOR as u64 || count != context::THREAD_STATE_COUNT as u64 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let target = thread_named(kernel, caller.space, thread as PortName)?;
        let mut own = kernel.user_space(caller.task)?;
        let mut bytes = [0u8; context::THREAD_STATE_COUNT as usize * 4];
        user::copy_from_user(&mut own, UserBuffer::new(state, bytes.len()), &mut bytes)?;
        let words: Vec<u32> =
            bytes.chunks(4).map(|chunk| u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])).collect();
        let stack = kernel
            .threads
            .get_mut(target)
            .and_then(|thread| thread.kernel_stack.as_mut())
            .ok_or(KernReturn::InvalidArgument)?;
        match stack.change_user_registers(|frame| context::set_thread_state_words(frame, &words)) {
            Some(true) => Ok(()),
            _ => Err(KernReturn::InvalidArgument),
        }
    })
}

/// `thread_set_tls(thread, value)`: the thread's thread-local storage base
/// (FS on x86_64, TPIDR_EL0 on aarch64), effective at once for the calling thread, at its next
/// run for another. A value outside the user half is `KERN_INVALID_ARGUMENT`.
pub fn thread_set_tls([thread, value, ..]: [u64; 6]) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let target = thread_named(kernel, caller.space, thread as PortName)?;
        let running = target == kernel.current_thread();
        let object = kernel.threads.get_mut(target).ok_or(KernReturn::InvalidArgument)?;
        if object.task.is_none() || !object.context.set_tls(value, running) {
            return Err(KernReturn::InvalidArgument);
        }
        Ok(())
    })
}

/// `task_info(task, TASK_BASIC_INFO, info_out, count_in_out)`.
pub fn task_info([task, flavor, info_out, count_in_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if flavor != TASK_BASIC_INFO as u64 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let target = task_named(kernel, caller.space, task as PortName)?;
        let object = kernel.tasks.get(target).ok_or(KernReturn::InvalidTask)?;
        let cpu_ticks =
            object.threads.iter().filter_map(|&thread| kernel.threads.get(thread)).map(|thread| thread.ticks_run).sum();
        let info = TaskBasicInfo {
            suspend_count: object.suspend_count,
            thread_count: object.threads.len() as u32,
            resident_pages: object.vm.resident() as u32,
            port_names: kernel.ipc.space(object.space).map_or(0, |space| space.entries().count()) as u32,
            cpu_ticks,
        };
        let words = [
            info.suspend_count,
            info.thread_count,
            info.resident_pages,
            info.port_names,
            cpu_ticks as u32,
            (cpu_ticks >> 32) as u32,
        ];
        debug_assert_eq!(words.len(), TASK_BASIC_INFO_COUNT as usize);
        write_flavor(kernel, &caller, info_out, count_in_out, &words)
    })
}

/// `thread_info(thread, THREAD_BASIC_INFO, info_out, count_in_out)`.
pub fn thread_info([thread, flavor, info_out, count_in_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if flavor != THREAD_BASIC_INFO as u64 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let target = thread_named(kernel, caller.space, thread as PortName)?;
        let object = kernel.threads.get(target).ok_or(KernReturn::InvalidArgument)?;
        let run_state = match object.state {
            _ if object.suspend_count > 0 => TH_STATE_STOPPED,
            ThreadState::Ready | ThreadState::Running => TH_STATE_RUNNING,
            ThreadState::Blocked => TH_STATE_WAITING,
            ThreadState::Dead => TH_STATE_HALTED,
        };
        let info = ThreadBasicInfo {
            run_state,
            priority: object.priority as u32,
            suspend_count: object.suspend_count,
            tick_nanoseconds: crate::time::tick_nanoseconds(),
            cpu_ticks: object.ticks_run,
        };
        let words = [
            info.run_state,
            info.priority,
            info.suspend_count,
            info.tick_nanoseconds,
            info.cpu_ticks as u32,
            (info.cpu_ticks >> 32) as u32,
        ];
        debug_assert_eq!(words.len(), THREAD_BASIC_INFO_COUNT as usize);
        write_flavor(kernel, &caller, info_out, count_in_out, &words)
    })
}

/// Whose exception port a trap names.
#[derive(Clone, Copy)]
pub enum ExceptionTarget {
    Task,
    Thread,
}

/// `task_set_exception_port` / `thread_set_exception_port(target, mask,
/// port, behavior)`: the caller's send right `port` (copied) takes the
/// exceptions in `mask`, as messages of `behavior` (`EXCEPTION_DEFAULT`,
/// also for 0; `EXCEPTION_STATE`; `EXCEPTION_STATE_IDENTITY`: see
/// `mach_abi::exception`); `MACH_PORT_NULL` removes the handler.
pub fn set_exception_port(
    which: ExceptionTarget,
    [target, mask, port, behavior, ..]: [u64; 6],
) -> Result<(), KernReturn> {
    let mask = u32::try_from(mask).map_err(|_| KernReturn::InvalidArgument)?;
    if mask & !mach_abi::EXC_MASK_ALL != 0 {
        return Err(KernReturn::InvalidArgument);
    }
    let behavior = match u32::try_from(behavior) {
        Ok(0) => mach_abi::EXCEPTION_DEFAULT,
        Ok(behavior) if mach_abi::exception_ids(behavior).is_some() => behavior,
        _ => return Err(KernReturn::InvalidArgument),
    };
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let target = target as PortName;
        // Resolve the target before taking the right, so a bad target
        // leaves the caller's rights untouched.
        let handler_slot = match which {
            ExceptionTarget::Task => HandlerSlot::Task(task_named(kernel, caller.space, target)?),
            ExceptionTarget::Thread => HandlerSlot::Thread(thread_named(kernel, caller.space, target)?),
        };
        let handler = if port == 0 {
            None
        } else {
            let (right, _) =
                kernel.ipc.extract_right(caller.space, port as PortName, mach_abi::Disposition::CopySend as u32)?;
            Some(crate::exception::Handler { mask, right, behavior })
        };
        let previous = match handler_slot {
            HandlerSlot::Task(task) => core::mem::replace(
                &mut kernel.tasks.get_mut(task).ok_or(KernReturn::InvalidTask)?.exception_handler,
                handler,
            ),
            HandlerSlot::Thread(thread) => core::mem::replace(
                &mut kernel.threads.get_mut(thread).ok_or(KernReturn::InvalidArgument)?.exception_handler,
                handler,
            ),
        };
        if let Some(previous) = previous {
            kernel.ipc.release(previous.right);
        }
        crate::ipc::settle(kernel);
        Ok(())
    })
}

enum HandlerSlot {
    Task(crate::task::TaskId),
    Thread(crate::thread::ThreadId),
}

/// `task_get_exception_port` / `thread_get_exception_port(target,
/// exception, port_out)`: a send right to the port that takes `exception`,
/// or `MACH_PORT_NULL`.
pub fn get_exception_port(
    which: ExceptionTarget,
    [target, exception, port_out, ..]: [u64; 6],
) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let mut own = kernel.user_space(caller.task)?;
        let port_output = user::writable(&mut own, UserBuffer::new(port_out, 4))?;
        let target = target as PortName;
        let handler = match which {
            ExceptionTarget::Task => kernel
                .tasks
                .get(task_named(kernel, caller.space, target)?)
                .and_then(|task| task.exception_handler.as_ref()),
            ExceptionTarget::Thread => kernel
                .threads
                .get(thread_named(kernel, caller.space, target)?)
                .and_then(|thread| thread.exception_handler.as_ref()),
        };
        let port = handler
            .filter(|handler| exception < 32 && handler.mask & (1 << exception) != 0)
            .and_then(|handler| handler.right.port());
        let name = match port {
            Some((port, _)) => give_send_right(kernel, caller.space, port)?,
            None => mach_abi::MACH_PORT_NULL,
        };
        let mut own = kernel.user_space(caller.task)?;
        user::write_u32_checked(&mut own, port_output, name)?;
        Ok(())
    })
}

/// `task_set_name(task, name, length)`: the name logs and `task_info`
/// readers see (at most `TASK_NAME_MAX` bytes of UTF-8). A task starts
/// with its creator's name; whoever builds it from an image names it.
pub fn task_set_name([task, name, length, ..]: [u64; 6]) -> Result<(), KernReturn> {
    if length == 0 || length > mach_abi::TASK_NAME_MAX as u64 {
        return Err(KernReturn::InvalidArgument);
    }
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let target = task_named(kernel, caller.space, task as PortName)?;
        let mut bytes = [0u8; mach_abi::TASK_NAME_MAX];
        let bytes = &mut bytes[..length as usize];
        let mut own = kernel.user_space(caller.task)?;
        user::copy_from_user(&mut own, UserBuffer::new(name, bytes.len()), bytes)?;
        let text = core::str::from_utf8(bytes).map_err(|_| KernReturn::InvalidArgument)?;
        kernel.tasks.get_mut(target).ok_or(KernReturn::InvalidTask)?.name = text.into();
        Ok(())
    })
}
