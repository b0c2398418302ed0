//! The kernel calls the owned-right types, messages and servers need, as a
//! trait: [`PortKernel`].
//!
//! On Mach_R (`target_os = "none"`, or any x86_64 target with the
//! `mach-traps` feature: minilibc's Mach back end, built for the host's ELF
//! ABI) [`SystemKernel`] makes the real traps of [`crate::trap`]. On a host
//! operating system there is no Mach kernel, so
//! every [`SystemKernel`] call fails with `KERN_NOT_SUPPORTED` /
//! `MACH_SEND_INVALID_DEST` instead of executing a `syscall` that the host
//! would misread; host tests use a fake kernel instead (the `fake-kernel`
//! feature's `fake::FakeKernel`, built on the kernel's own IPC core).
//!
//! Every method acts on the calling task's own IPC space.

use mach_abi::{KernReturn, MachMsgOption, MachMsgReturn, MachMsgTimeout, PortName, PortRight};

/// The trap calls libmach's safe layer is built on. Implementations are
/// cheap handles (`Clone`): every owned right keeps one to release itself.
pub trait PortKernel: Clone {
    /// `mach_port_allocate` of a receive right, port set or dead name.
    fn port_allocate(&self, right: PortRight) -> Result<PortName, KernReturn>;
    /// `mach_port_deallocate`: drops a send reference, a send-once right or
    /// a dead-name reference.
    fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn>;
    /// `mach_port_destroy`: removes every right under `name`.
    fn port_destroy(&self, name: PortName) -> Result<(), KernReturn>;
    /// `mach_port_mod_refs`.
    fn port_mod_refs(&self, name: PortName, right: PortRight, delta: i32) -> Result<(), KernReturn>;
    /// `mach_port_insert_right` into the caller's own space (`name` gets the
    /// right taken from `right_name` with `disposition`).
    fn port_insert_right(&self, name: PortName, right_name: PortName, disposition: u32) -> Result<(), KernReturn>;
    /// `mach_port_move_member`: `member` into set `set` (NULL: out of its set).
    fn port_move_member(&self, member: PortName, set: PortName) -> Result<(), KernReturn>;
    /// `mach_port_type`: the `MACH_PORT_TYPE_*` bits of `name`.
    fn port_type(&self, name: PortName) -> Result<u32, KernReturn>;
    /// `mach_port_request_notification`: notification `message_id`
    /// (`MACH_NOTIFY_DEAD_NAME`, `_NO_SENDERS`, `_PORT_DESTROYED`) about
    /// `name`, sent to `notify` used with `notify_disposition`
    /// (`MAKE_SEND_ONCE` or `MOVE_SEND_ONCE`; `MACH_PORT_NULL` cancels).
    /// Returns the previous request's send-once right (NULL if none).
    fn port_request_notification(
        &self,
        name: PortName,
        message_id: u32,
        sync: u32,
        notify: PortName,
        notify_disposition: u32,
    ) -> Result<PortName, KernReturn>;
    /// `mach_reply_port`: a new receive right.
    fn reply_port(&self) -> Result<PortName, KernReturn>;
    /// `mach_msg` on `buffer`: sends its first `send_size` bytes (with
    /// `MACH_SEND_MSG`), then receives into the whole buffer from
    /// `receive_name` (with `MACH_RCV_MSG`). A receive that delivered the
    /// message but lost rights or memory is `Err(MACH_RCV_BODY_ERROR)`.
    fn mach_msg(
        &self,
        buffer: &mut [u8],
        option: MachMsgOption,
        send_size: usize,
        receive_name: PortName,
        timeout: MachMsgTimeout,
    ) -> Result<(), MachMsgReturn>;
    /// `vm_allocate` anywhere in the caller's task: `size` bytes of zeroed
    /// memory (for out-of-line data a server sends in a reply).
    fn vm_allocate(&self, size: u64) -> Result<u64, KernReturn>;
    /// `vm_deallocate` in the caller's task (out-of-line memory received).
    fn vm_deallocate(&self, address: u64, size: u64) -> Result<(), KernReturn>;
    /// The bytes of out-of-line memory the kernel mapped into this task at
    /// `address` for a received message, or `None` if `address..+size` is
    /// not such a region. The slice stays valid until `vm_deallocate`.
    fn out_of_line_bytes(&self, address: u64, size: u32) -> Option<&[u8]>;
    /// Where the region `address..address + size` (out-of-line memory this
    /// task received or allocated) can be written, or `None` if it is not
    /// such a live region. Writing through the pointer is the caller's
    /// `unsafe`, justified by owning the region.
    fn out_of_line_pointer(&self, address: u64, size: u32) -> Option<*mut u8>;
}

/// The real kernel: traps into Mach_R. A zero-sized handle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemKernel;

#[cfg(all(any(target_os = "none", feature = "mach-traps"), any(target_arch = "x86_64", target_arch = "aarch64")))]
mod system {
    use super::*;
    use core::sync::atomic::{AtomicU32, Ordering};

    /// The task's own task port name, fetched once: each `task_self` trap
    /// adds a user reference, so calling it per operation would overflow
    /// the reference count of a long-running server.
    static TASK_SELF: AtomicU32 = AtomicU32::new(0);

    fn task() -> PortName {
        let cached = TASK_SELF.load(Ordering::Relaxed);
        if cached != 0 {
            return cached;
        }
        let name = crate::trap::task_self();
        TASK_SELF.store(name, Ordering::Relaxed);
        name
    }

    impl PortKernel for SystemKernel {
        fn port_allocate(&self, right: PortRight) -> Result<PortName, KernReturn> {
            crate::trap::port_allocate(task(), right)
        }
        fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn> {
            crate::trap::port_deallocate(task(), name)
        }
        fn port_destroy(&self, name: PortName) -> Result<(), KernReturn> {
            crate::trap::port_destroy(task(), name)
        }
        fn port_mod_refs(&self, name: PortName, right: PortRight, delta: i32) -> Result<(), KernReturn> {
            crate::trap::port_mod_refs(task(), name, right, delta)
        }
        fn port_insert_right(&self, name: PortName, right_name: PortName, disposition: u32) -> Result<(), KernReturn> {
            crate::trap::port_insert_right(task(), name, right_name, disposition)
        }
        fn port_move_member(&self, member: PortName, set: PortName) -> Result<(), KernReturn> {
            crate::trap::port_move_member(task(), member, set)
        }
        fn port_type(&self, name: PortName) -> Result<u32, KernReturn> {
            crate::trap::port_type(task(), name)
        }
        fn port_request_notification(
            &self,
            name: PortName,
            message_id: u32,
            sync: u32,
            notify: PortName,
            notify_disposition: u32,
        ) -> Result<PortName, KernReturn> {
            crate::trap::port_request_notification(task(), name, message_id, sync, notify, notify_disposition)
        }
        fn reply_port(&self) -> Result<PortName, KernReturn> {
            match crate::trap::mach_reply_port() {
                mach_abi::MACH_PORT_NULL => Err(KernReturn::NoSpace),
                name => Ok(name),
            }
        }
        fn mach_msg(
            &self,
            buffer: &mut [u8],
            option: MachMsgOption,
            send_size: usize,
            receive_name: PortName,
            timeout: MachMsgTimeout,
        ) -> Result<(), MachMsgReturn> {
            crate::trap::mach_msg_bytes(buffer, option, send_size, receive_name, timeout)
        }
        fn vm_allocate(&self, size: u64) -> Result<u64, KernReturn> {
            crate::trap::vm_allocate(task(), 0, size, mach_abi::VM_FLAGS_ANYWHERE)
        }
        fn vm_deallocate(&self, address: u64, size: u64) -> Result<(), KernReturn> {
            crate::trap::vm_deallocate(task(), address, size)
        }
        fn out_of_line_pointer(&self, address: u64, size: u32) -> Option<*mut u8> {
            if address == 0 || size == 0 {
                return None;
            }
            Some(address as *mut u8)
        }
        fn out_of_line_bytes(&self, address: u64, size: u32) -> Option<&[u8]> {
            if address == 0 || size == 0 {
                return None;
            }
            // SAFETY: callers pass the address and size of an out-of-line
            // region the kernel mapped into this task for a received
            // message (read from a descriptor `parse_received` validated);
            // the region stays mapped until the owner calls `vm_deallocate`,
            // which `OutOfLineData` does only when dropped, after every
            // borrow of this slice has ended.
            Some(unsafe { core::slice::from_raw_parts(address as *const u8, size as usize) })
        }
    }
}

#[cfg(not(all(
    any(target_os = "none", feature = "mach-traps"),
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod system {
    use super::*;

    // A host OS has no Mach traps: every call fails loudly with an error
    // instead of issuing a `syscall` the host kernel would misinterpret.
    impl PortKernel for SystemKernel {
        fn port_allocate(&self, _right: PortRight) -> Result<PortName, KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn port_deallocate(&self, _name: PortName) -> Result<(), KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn port_destroy(&self, _name: PortName) -> Result<(), KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn port_mod_refs(&self, _name: PortName, _right: PortRight, _delta: i32) -> Result<(), KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn port_insert_right(&self, _name: PortName, _right: PortName, _disposition: u32) -> Result<(), KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn port_move_member(&self, _member: PortName, _set: PortName) -> Result<(), KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn port_type(&self, _name: PortName) -> Result<u32, KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn port_request_notification(
            &self,
            _name: PortName,
            _message_id: u32,
            _sync: u32,
            _notify: PortName,
            _notify_disposition: u32,
        ) -> Result<PortName, KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn reply_port(&self) -> Result<PortName, KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn mach_msg(
            &self,
            _buffer: &mut [u8],
            _option: MachMsgOption,
            _send_size: usize,
            _receive_name: PortName,
            _timeout: MachMsgTimeout,
        ) -> Result<(), MachMsgReturn> {
            Err(MachMsgReturn::SendInvalidDest)
        }
        fn vm_allocate(&self, _size: u64) -> Result<u64, KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn vm_deallocate(&self, _address: u64, _size: u64) -> Result<(), KernReturn> {
            Err(KernReturn::NotSupported)
        }
        fn out_of_line_bytes(&self, _address: u64, _size: u32) -> Option<&[u8]> {
            None
        }
        fn out_of_line_pointer(&self, _address: u64, _size: u32) -> Option<*mut u8> {
            None
        }
    }
}
