//! Port-management traps (the task and thread controls that take a task
//! or thread port as their authority are `task_control`).
//!
//! Every trap that names a task takes a *name* of its task port in the
//! caller's space: holding a send right to a task's port is the only way to
//! operate on its rights or threads (a task's own port is what `task_self`
//! returns). Output pointers are checked writable before anything changes,
//! so a bad pointer fails the trap with nothing done.
#![forbid(unsafe_code)]

use super::names;
use super::object::task_named;
use super::settle;
use crate::kernel::{with_kernel, Kernel};
use crate::memory::user::{self, UserBuffer, WritableBuffer};
use crate::task::TaskId;
use alloc::vec::Vec;
use mach_abi::{KernReturn, PortName, MACH_PORT_NULL};
use mach_ipc::SpaceId;

/// Most 32-bit words an attribute flavor reads or writes.
const ATTRIBUTE_WORDS_MAX: u32 = 16;

/// The task making the trap and its IPC space.
pub struct Caller {
    pub task: TaskId,
    pub space: SpaceId,
}

pub fn caller(kernel: &Kernel) -> Result<Caller, KernReturn> {
    let task = kernel.current_task().ok_or(KernReturn::InvalidTask)?;
    Ok(Caller { task, space: kernel.tasks.get(task).ok_or(KernReturn::InvalidTask)?.space })
}

pub fn name(value: u64) -> Result<PortName, KernReturn> {
    u32::try_from(value).map_err(|_| KernReturn::InvalidName)
}

fn small(value: u64) -> Result<u32, KernReturn> {
    u32::try_from(value).map_err(|_| KernReturn::InvalidValue)
}

fn port_right(value: u64) -> Result<mach_abi::PortRight, KernReturn> {
    mach_abi::PortRight::from_u32(small(value)?).ok_or(KernReturn::InvalidValue)
}

/// The space of the task whose port the caller names `task`.
fn target_space(kernel: &Kernel, caller: &Caller, task: u64) -> Result<SpaceId, KernReturn> {
    let task = task_named(kernel, caller.space, name(task)?)?;
    Ok(kernel.tasks.get(task).ok_or(KernReturn::InvalidTask)?.space)
}

/// Checks that the caller may have `count` words written at `address`,
/// before the trap changes anything: the token [`write_output`] takes.
fn check_output(
    kernel: &mut Kernel,
    caller: &Caller,
    address: u64,
    count: usize,
) -> Result<WritableBuffer, KernReturn> {
    let mut space = kernel.user_space(caller.task)?;
    Ok(user::writable(&mut space, UserBuffer::new(address, count * 4))?)
}

/// Writes words to an output the caller's pointer was checked for (the
/// caller's page tables unchanged since, this cannot fail).
fn write_output(kernel: &mut Kernel, caller: &Caller, output: WritableBuffer, words: &[u32]) -> Result<(), KernReturn> {
    let mut space = kernel.user_space(caller.task)?;
    let mut bytes = [0u8; ATTRIBUTE_WORDS_MAX as usize * 4];
    let bytes = bytes.get_mut(..words.len() * 4).ok_or(KernReturn::InvalidArgument)?;
    for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    Ok(output.write(&mut space, bytes)?)
}

fn read_words(kernel: &mut Kernel, caller: &Caller, address: u64, count: u32) -> Result<Vec<u32>, KernReturn> {
    let mut space = kernel.user_space(caller.task)?;
    let mut bytes = alloc::vec![0u8; count as usize * 4];
    user::copy_from_user(&mut space, UserBuffer::new(address, bytes.len()), &mut bytes)?;
    Ok(bytes.chunks(4).map(|chunk| u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])).collect())
}

/// Runs a port operation under the kernel lock and settles IPC after it.
pub fn operate(action: impl FnOnce(&mut Kernel, &Caller) -> Result<(), KernReturn>) -> Result<(), KernReturn> {
    with_kernel(|kernel| {
        let caller = caller(kernel)?;
        let result = action(kernel, &caller);
        settle(kernel);
        result
    })
}

/// `mach_reply_port()`, `task_self()`, `thread_self()`: these return a name
/// directly (`MACH_PORT_NULL` on failure), as in Mach.
pub fn reply_port() -> PortName {
    with_kernel(|kernel| {
        let caller = caller(kernel).ok()?;
        names::with_room(kernel, caller.space, 1, |kernel| kernel.ipc.reply_port(caller.space)).ok()
    })
    .unwrap_or(MACH_PORT_NULL)
}

pub fn task_self() -> PortName {
    with_kernel(|kernel| {
        let caller = caller(kernel).ok()?;
        let port = kernel.tasks.get(caller.task)?.port?;
        give_send_right(kernel, caller.space, port).ok()
    })
    .unwrap_or(MACH_PORT_NULL)
}

/// Makes a send right to `port` and names it in `space`; a right that
/// cannot be named (the space is full) goes back to the IPC state.
pub fn give_send_right(kernel: &mut Kernel, space: SpaceId, port: mach_ipc::PortId) -> Result<PortName, KernReturn> {
    names::make_room(kernel, space, 1);
    let right = kernel.ipc.make_send(port)?;
    kernel.ipc.insert_carried(space, right).map_err(|(error, right)| {
        kernel.ipc.release(right);
        error
    })
}

pub fn host_self() -> PortName {
    with_kernel(|kernel| {
        let caller = caller(kernel).ok()?;
        let port = kernel.host_name_port?;
        give_send_right(kernel, caller.space, port).ok()
    })
    .unwrap_or(MACH_PORT_NULL)
}

pub fn thread_self() -> PortName {
    with_kernel(|kernel| {
        let caller = caller(kernel).ok()?;
        let port = kernel.threads.get(kernel.current_thread())?.port?;
        give_send_right(kernel, caller.space, port).ok()
    })
    .unwrap_or(MACH_PORT_NULL)
}

pub fn port_allocate([task, right, name_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    // Making a right destroys none and queues no notification: there is
    // nothing to settle (every trap settles what it changed itself).
    with_kernel(|kernel| {
        let caller = &caller(kernel)?;
        let space = target_space(kernel, caller, task)?;
        let name_out_checked = check_output(kernel, caller, name_out, 1)?;
        let right = port_right(right)?;
        let allocated = names::with_room(kernel, space, 1, |kernel| kernel.ipc.allocate(space, right))?;
        write_output(kernel, caller, name_out_checked, &[allocated])?;
        Ok(())
    })
}

pub fn port_deallocate([task, port, ..]: [u64; 6]) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        kernel.ipc.deallocate(space, name(port)?)?;
        names::release_spare_of(kernel, space);
        Ok(())
    })
}

pub fn port_destroy([task, port, ..]: [u64; 6]) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        kernel.ipc.destroy(space, name(port)?)?;
        names::release_spare_of(kernel, space);
        Ok(())
    })
}

pub fn port_mod_refs([task, port, right, delta, ..]: [u64; 6]) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        let right = port_right(right)?;
        kernel.ipc.mod_refs(space, name(port)?, right, delta as i32)?;
        names::release_spare_of(kernel, space);
        Ok(())
    })
}

pub fn port_insert_right([task, port, right_name, disposition, ..]: [u64; 6]) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        let (port, right_name, disposition) = (name(port)?, name(right_name)?, small(disposition)?);
        names::with_room(kernel, space, 1, |kernel| {
            kernel.ipc.insert_right(space, port, caller.space, right_name, disposition)
        })?;
        names::release_spare_of(kernel, space);
        Ok(())
    })
}

pub fn port_extract_right([task, port, disposition, right_out, type_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        let right_out_checked = check_output(kernel, caller, right_out, 1)?;
        let type_out_checked = check_output(kernel, caller, type_out, 1)?;
        // Room for the right in the caller first: taken out of `task`, it
        // must land somewhere.
        let _ = names::reserve(kernel, caller.task, 1);
        let (right, received_type) = kernel.ipc.extract_right(space, name(port)?, small(disposition)?)?;
        // A right exists once: if the caller cannot take it, it goes back
        // to the IPC state.
        let inserted = match kernel.ipc.insert_carried(caller.space, right) {
            Ok(inserted) => inserted,
            Err((error, right)) => {
                kernel.ipc.release(right);
                return Err(error);
            }
        };
        write_output(kernel, caller, right_out_checked, &[inserted])?;
        write_output(kernel, caller, type_out_checked, &[received_type])?;
        Ok(())
    })
}

pub fn port_move_member([task, member, after, ..]: [u64; 6]) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        kernel.ipc.move_member(space, name(member)?, name(after)?)
    })
}

pub fn port_get_attributes([task, port, flavor, info_out, count_in_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        let capacity = *read_words(kernel, caller, count_in_out, 1)?.first().unwrap_or(&0);
        let count_in_out_checked = check_output(kernel, caller, count_in_out, 1)?;
        let words = kernel.ipc.get_attributes(space, name(port)?, small(flavor)?)?.to_words();
        if words.len() > capacity as usize {
            return Err(KernReturn::InvalidArgument);
        }
        let info_out_checked = check_output(kernel, caller, info_out, words.len())?;
        write_output(kernel, caller, info_out_checked, &words)?;
        write_output(kernel, caller, count_in_out_checked, &[words.len() as u32])?;
        Ok(())
    })
}

pub fn port_set_attributes([task, port, flavor, info, count, ..]: [u64; 6]) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        let count = small(count)?;
        if count > ATTRIBUTE_WORDS_MAX {
            return Err(KernReturn::InvalidArgument);
        }
        let words = read_words(kernel, caller, info, count)?;
        kernel.ipc.set_attributes(space, name(port)?, small(flavor)?, &words)
    })
}

pub fn port_request_notification(
    [task, port, request, sync, notify, previous_out]: [u64; 6],
) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        let previous_out_checked = check_output(kernel, caller, previous_out, 1)?;
        let (message_id, disposition) = mach_abi::unpack_notification_request(request);
        let previous = kernel.ipc.request_notification(
            space,
            name(port)?,
            message_id,
            small(sync)?,
            name(notify)?,
            disposition,
        )?;
        write_output(kernel, caller, previous_out_checked, &[previous])?;
        Ok(())
    })
}

pub fn port_type([task, port, type_out, ..]: [u64; 6]) -> Result<(), KernReturn> {
    operate(|kernel, caller| {
        let space = target_space(kernel, caller, task)?;
        let type_out_checked = check_output(kernel, caller, type_out, 1)?;
        let port_type = kernel.ipc.port_type(space, name(port)?)?;
        write_output(kernel, caller, type_out_checked, &[port_type])?;
        Ok(())
    })
}
