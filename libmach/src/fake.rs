//! A fake kernel for host tests: the kernel's own IPC core (`mach-ipc`)
//! behind [`PortKernel`], one IPC space per fake task.
//!
//! Rights, dispositions, copyin/copyout, notifications and every error code
//! are the kernel's, so a client or server tested here behaves as it will
//! on Mach_R. What differs: nothing blocks. A receive that would wait first
//! runs the servers attached with [`FakeSystem::attach_server`] (each takes
//! its queued requests and replies) and then, if still nothing is queued,
//! fails with `MACH_RCV_TIMED_OUT`; a send to a full queue does the same and
//! then fails with `MACH_SEND_TIMED_OUT`. Every call is recorded
//! ([`FakeSystem::calls`]) so tests can check what a right did when dropped.
//!
//! Out-of-line memory: the sender's region is read from host memory at the
//! descriptor's address (callers pass the address of a live slice, as the
//! generated client does); the receiver gets a copy the fake owns until the
//! whole fake system is dropped, so a slice returned by
//! [`PortKernel::out_of_line_bytes`] cannot outlive its memory.
//! Out-of-line port arrays are not supported (sending one fails with
//! `MACH_SEND_INVALID_MEMORY`).
//!
//! Credentials: each fake task has a `TaskCredential` (all zero until
//! [`FakeSystem::set_credential`]), and a receive with
//! `MACH_RCV_TRAILER_AUDIT` gets the audit trailer with the sender's
//! credential, as the kernel gives it. One difference: the fake reads the
//! sender's credential when the message is received, the kernel stamps it
//! when the message is sent (a test that changes a credential between the
//! two sees the new one here). [`FakeSystem::refuse_audit_trailers`] makes
//! the fake refuse the option as a kernel without it does
//! (`MACH_SEND_INVALID_HEADER`).

use std::boxed::Box;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::string::String;
use std::vec::Vec;

use mach_abi::{
    CopyOption, KernReturn, MachMsgOption, MachMsgReturn, MachMsgTimeout, PortName, PortRight, TaskCredential,
    MACH_MSG_AUDIT_TRAILER_SIZE, MACH_MSG_OPTION_USER, MACH_MSG_TRAILER_SIZE, MACH_RCV_LARGE, MACH_RCV_MSG,
    MACH_RCV_TIMEOUT, MACH_RCV_TRAILER_AUDIT, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
};
use mach_ipc::{Ipc, ReceiveError, ReceiveOptions, SendError, SpaceId, SpaceLimits, TaskMemory};

use crate::kernel::PortKernel;
use crate::server::{handle_one_with, Dispatch, ServeOptions};

/// One recorded kernel call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    PortAllocate(PortRight),
    PortDeallocate(PortName),
    PortDestroy(PortName),
    PortModRefs(PortName, PortRight, i32),
    PortInsertRight(PortName, PortName, u32),
    PortMoveMember(PortName, PortName),
    PortType(PortName),
    PortRequestNotification { name: PortName, message_id: u32, sync: u32, notify: PortName, disposition: u32 },
    ReplyPort,
    MachMsg { option: MachMsgOption, send_size: usize, receive_name: PortName },
    VmAllocate(u64),
    VmDeallocate(u64, u64),
}

type Handler = Box<dyn FnMut(&[u8], &mut [u8]) -> Dispatch>;

struct AttachedServer {
    kernel: FakeKernel,
    receive_name: PortName,
    options: ServeOptions,
    request: Vec<u8>,
    reply: Vec<u8>,
    handler: Handler,
}

#[derive(Default)]
struct Memory {
    /// Captured sender regions, by token.
    captured: BTreeMap<u64, Vec<u8>>,
    next_token: u64,
    /// Regions mapped into receivers, never freed before the system is
    /// dropped (see the module header); by address: (bytes, deallocated).
    mapped: BTreeMap<u64, (Box<[u8]>, bool)>,
}

struct World {
    ipc: Ipc,
    memory: Memory,
    /// Each attached server, borrowed while it handles a request (a
    /// nested run skips it: a server never re-enters itself).
    servers: Vec<Rc<RefCell<AttachedServer>>>,
    calls: Vec<(SpaceId, Call)>,
    /// Each task's credential, by task id (absent: all zero).
    credentials: BTreeMap<u32, TaskCredential>,
    /// False after `refuse_audit_trailers`.
    audit_trailers: bool,
}

/// The fake machine: its IPC state and tasks.
#[derive(Clone)]
pub struct FakeSystem {
    world: Rc<RefCell<World>>,
}

/// One fake task's kernel handle (its IPC space).
#[derive(Clone)]
pub struct FakeKernel {
    world: Rc<RefCell<World>>,
    space: SpaceId,
    task_id: u32,
}

impl core::fmt::Debug for FakeKernel {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(formatter, "FakeKernel({:?})", self.space)
    }
}

impl Default for FakeSystem {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeSystem {
    /// An empty machine.
    pub fn new() -> Self {
        FakeSystem {
            world: Rc::new(RefCell::new(World {
                ipc: Ipc::new(),
                memory: Memory::default(),
                servers: Vec::new(),
                calls: Vec::new(),
                credentials: BTreeMap::new(),
                audit_trailers: true,
            })),
        }
    }

    /// A new task with default space limits.
    pub fn task(&self) -> FakeKernel {
        self.task_with_limits(SpaceLimits::default())
    }

    /// A new task with these space limits.
    pub fn task_with_limits(&self, limits: SpaceLimits) -> FakeKernel {
        let mut world = self.world.borrow_mut();
        let task_id = world.ipc.space_count() as u32 + 1;
        let space = world.ipc.create_space(task_id, limits);
        FakeKernel { world: self.world.clone(), space, task_id }
    }

    /// Sets `task`'s credential (what `task_set_credential` does on Mach_R):
    /// receivers that ask for the audit trailer see it on `task`'s messages.
    pub fn set_credential(&self, task: &FakeKernel, credential: TaskCredential) {
        self.world.borrow_mut().credentials.insert(task.task_id, credential);
    }

    /// Makes every receive that asks for the audit trailer fail with
    /// `MACH_SEND_INVALID_HEADER`, as a kernel without credentials does.
    pub fn refuse_audit_trailers(&self) {
        self.world.borrow_mut().audit_trailers = false;
    }

    /// Ends a task: its space is destroyed (its ports die, its rights go),
    /// and any server attached in it is detached.
    pub fn end_task(&self, task: &FakeKernel) {
        let mut world = self.world.borrow_mut();
        let _ = world.ipc.destroy_space(task.space);
        world.ipc.deliver_notifications();
        world.servers.retain(|server| server.try_borrow().map_or(true, |server| server.kernel.space != task.space));
    }

    /// Gives `to` a send right made from `from`'s receive right `name`
    /// (what a bootstrap or name server does); returns its name in `to`.
    pub fn give_send_right(&self, from: &FakeKernel, name: PortName, to: &FakeKernel) -> Result<PortName, KernReturn> {
        let mut world = self.world.borrow_mut();
        let (right, _) = world.ipc.extract_right(from.space, name, mach_abi::Disposition::MakeSend as u32)?;
        world.ipc.insert_carried(to.space, right).map_err(|(code, right)| {
            world.ipc.release(right);
            code
        })
    }

    /// Takes a right out of `from`'s space (`name` with `disposition`:
    /// make-send, copy-send, move-send...) and gives it to `to` under a
    /// name the fake picks (`port_extract_right` from another task's space
    /// on Mach_R); returns that name.
    pub fn transfer_right(
        &self,
        from: &FakeKernel,
        name: PortName,
        disposition: mach_abi::Disposition,
        to: &FakeKernel,
    ) -> Result<PortName, KernReturn> {
        let mut world = self.world.borrow_mut();
        let (right, _) = world.ipc.extract_right(from.space, name, disposition as u32)?;
        world.ipc.insert_carried(to.space, right).map_err(|(code, right)| {
            world.ipc.release(right);
            code
        })
    }

    /// Puts into `to`'s space, under the name `name` chosen by the caller,
    /// the right `right_name` of `from` taken with `disposition`
    /// (`port_insert_right` on another task's space on Mach_R).
    pub fn insert_right(
        &self,
        from: &FakeKernel,
        right_name: PortName,
        disposition: mach_abi::Disposition,
        to: &FakeKernel,
        name: PortName,
    ) -> Result<(), KernReturn> {
        let mut world = self.world.borrow_mut();
        world.ipc.insert_right(to.space, name, from.space, right_name, disposition as u32)
    }

    /// Which port `task`'s right `name` is, as an opaque identity: two
    /// names (in any tasks) with the same identity are rights to one port.
    /// `None` for a name that holds no port.
    pub fn port_identity(&self, task: &FakeKernel, name: PortName) -> Option<String> {
        let world = self.world.borrow();
        world.ipc.port_of(task.space, name).ok().map(|port| std::format!("{port:?}"))
    }

    /// Removes every right `task` has under `name` (`port_destroy` on
    /// another task's space on Mach_R).
    pub fn destroy_name(&self, task: &FakeKernel, name: PortName) -> Result<(), KernReturn> {
        let mut world = self.world.borrow_mut();
        let result = world.ipc.destroy(task.space, name);
        world.ipc.deliver_notifications();
        result
    }

    /// Attaches a server in `task` receiving on `receive_name` (a receive
    /// right or port set): whenever a receive in any task would wait, the
    /// fake lets each attached server handle its queued requests through
    /// [`crate::server::handle_one`], as if its thread had been waiting.
    pub fn attach_server(
        &self,
        task: &FakeKernel,
        receive_name: PortName,
        buffer_size: usize,
        handler: impl FnMut(&[u8], &mut [u8]) -> Dispatch + 'static,
    ) {
        self.attach_server_with(task, receive_name, ServeOptions::default(), buffer_size, handler)
    }

    /// [`FakeSystem::attach_server`] receiving with `options` (the audit
    /// trailer: each request then carries its sender's credential).
    pub fn attach_server_with(
        &self,
        task: &FakeKernel,
        receive_name: PortName,
        options: ServeOptions,
        buffer_size: usize,
        handler: impl FnMut(&[u8], &mut [u8]) -> Dispatch + 'static,
    ) {
        self.world.borrow_mut().servers.push(Rc::new(RefCell::new(AttachedServer {
            kernel: task.clone(),
            receive_name,
            options,
            request: std::vec![0; buffer_size],
            reply: std::vec![0; buffer_size],
            handler: Box::new(handler),
        })));
    }

    /// Lets every attached server handle what is queued for it; returns how
    /// many requests were handled.
    pub fn run_servers(&self) -> usize {
        pump(&self.world)
    }

    /// The IPC core's full consistency check (reference counts, holders,
    /// queues): `Err` with a description on the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.world.borrow().ipc.check_invariants().map_err(|violation| violation.0)
    }

    /// Number of names in `task`'s space.
    pub fn name_count(&self, task: &FakeKernel) -> usize {
        self.world.borrow().ipc.space(task.space).map_or(0, |space| space.entries().count())
    }

    /// User references of `right` under `name` in `task` (0 if none).
    pub fn references(&self, task: &FakeKernel, name: PortName, right: PortRight) -> u32 {
        self.world.borrow().ipc.get_refs(task.space, name, right).unwrap_or(0)
    }

    /// Messages queued on the port `task` names `name`.
    pub fn queued_messages(&self, task: &FakeKernel, name: PortName) -> usize {
        let world = self.world.borrow();
        world.ipc.port_of(task.space, name).ok().and_then(|port| world.ipc.port(port)).map_or(0, |p| p.message_count())
    }

    /// Every call `task` made, in order.
    pub fn calls(&self, task: &FakeKernel) -> Vec<Call> {
        let world = self.world.borrow();
        world.calls.iter().filter(|(space, _)| *space == task.space).map(|(_, call)| call.clone()).collect()
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        self.world.borrow_mut().calls.clear();
    }

    /// Out-of-line regions mapped into receivers and not yet deallocated.
    pub fn live_regions(&self) -> usize {
        self.world.borrow().memory.mapped.values().filter(|(_, deallocated)| !deallocated).count()
    }
}

/// Runs the attached servers until none has anything queued. A server
/// handling a request may call another server (its receive runs the
/// others, as their threads would); a server busy with a request is
/// skipped, so none is re-entered.
fn pump(world: &Rc<RefCell<World>>) -> usize {
    // Servers attached while pumping (by a handler) join the next run.
    let servers: Vec<Rc<RefCell<AttachedServer>>> = world.borrow().servers.clone();
    let mut handled = 0;
    loop {
        let mut progress = false;
        for server in &servers {
            let Ok(mut server) = server.try_borrow_mut() else { continue };
            let server = &mut *server;
            while handle_one_with(
                &server.kernel,
                server.receive_name,
                server.options,
                &mut server.request,
                &mut server.reply,
                Some(0),
                &mut server.handler,
            )
            .is_ok()
            {
                handled += 1;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    handled
}

impl FakeKernel {
    /// The task's id: the `sender` its messages' trailers carry.
    pub fn task_id(&self) -> u32 {
        self.task_id
    }

    fn record(&self, call: Call) {
        self.world.borrow_mut().calls.push((self.space, call));
    }

    fn with_ipc<T>(&self, operation: impl FnOnce(&mut Ipc, SpaceId) -> T) -> T {
        let mut world = self.world.borrow_mut();
        let result = operation(&mut world.ipc, self.space);
        world.ipc.deliver_notifications();
        let _ = world.ipc.take_released_regions();
        result
    }

    fn send(&self, bytes: &[u8], option: MachMsgOption) -> Result<(), MachMsgReturn> {
        for attempt in 0..2 {
            let result = {
                let mut world = self.world.borrow_mut();
                let World { ipc, memory, .. } = &mut *world;
                let result = ipc.send(self.space, bytes, memory);
                ipc.deliver_notifications();
                let _ = ipc.take_released_regions();
                result
            };
            match result {
                Ok(_) => return Ok(()),
                Err(SendError::Failed(code)) => return Err(code),
                Err(SendError::QueueFull { .. }) if option & MACH_SEND_TIMEOUT == 0 && attempt == 0 => {
                    pump(&self.world);
                }
                Err(_) => return Err(MachMsgReturn::SendTimedOut),
            }
        }
        Err(MachMsgReturn::SendTimedOut)
    }

    fn receive(
        &self,
        buffer: &mut [u8],
        option: MachMsgOption,
        name: PortName,
        poll: bool,
    ) -> Result<(), MachMsgReturn> {
        // The audit trailer is longer: the message must fit with it.
        let audit = option & MACH_RCV_TRAILER_AUDIT == MACH_RCV_TRAILER_AUDIT;
        let extra = if audit { MACH_MSG_AUDIT_TRAILER_SIZE - MACH_MSG_TRAILER_SIZE } else { 0 };
        for attempt in 0..2 {
            let result = {
                let mut world = self.world.borrow_mut();
                let World { ipc, memory, .. } = &mut *world;
                // The fake kernel buys no names: a space's allowance is final.
                let options =
                    ReceiveOptions { large: option & MACH_RCV_LARGE != 0, audit: false, allowance_final: true };
                let result = ipc.receive(self.space, name, buffer.len().saturating_sub(extra), options, memory);
                ipc.deliver_notifications();
                let _ = ipc.take_released_regions();
                result
            };
            match result {
                Ok(received) => {
                    let length = received.bytes.len();
                    let target = buffer.get_mut(..length + extra).ok_or(MachMsgReturn::ReceiveTooLarge)?;
                    target[..length].copy_from_slice(&received.bytes);
                    if audit {
                        self.append_credential(&mut target[length - MACH_MSG_TRAILER_SIZE..]);
                    }
                    return if received.lost != 0 { Err(MachMsgReturn::ReceiveBodyError) } else { Ok(()) };
                }
                Err(ReceiveError::Empty) if attempt == 0 && !poll => {
                    // The servers' threads run; what they answered may be
                    // here now, even if a nested run handled it.
                    pump(&self.world);
                }
                Err(ReceiveError::Empty) => return Err(MachMsgReturn::ReceiveTimedOut),
                Err(ReceiveError::TooLarge { needed }) => {
                    if let Some(size) = buffer.get_mut(4..8) {
                        size.copy_from_slice(&((needed + extra) as u32).to_le_bytes());
                    }
                    return Err(MachMsgReturn::ReceiveTooLarge);
                }
                Err(ReceiveError::Failed(code)) => return Err(code),
                Err(ReceiveError::NamesNeeded { .. }) => {
                    unreachable!("a receive with a final allowance asks for no names")
                }
            }
        }
        Err(MachMsgReturn::ReceiveTimedOut)
    }

    /// Turns the plain trailer at the start of `trailer` into the audit
    /// trailer: its size, then the sender's credential after it.
    fn append_credential(&self, trailer: &mut [u8]) {
        let sender = u32::from_le_bytes([trailer[12], trailer[13], trailer[14], trailer[15]]);
        let credential = match sender {
            0 => TaskCredential::default(),
            task => self.world.borrow().credentials.get(&task).copied().unwrap_or_default(),
        };
        trailer[4..8].copy_from_slice(&(MACH_MSG_AUDIT_TRAILER_SIZE as u32).to_le_bytes());
        let words = credential_words(&credential);
        for (index, word) in words.iter().enumerate() {
            let offset = MACH_MSG_TRAILER_SIZE + 4 * index;
            trailer[offset..offset + 4].copy_from_slice(&word.to_le_bytes());
        }
    }
}

/// A credential as the kernel writes it: its `u32` fields in layout order.
pub fn credential_words(credential: &TaskCredential) -> [u32; mach_abi::TASK_CREDENTIAL_SIZE / 4] {
    let mut words = [0u32; mach_abi::TASK_CREDENTIAL_SIZE / 4];
    let mut put = |offset: usize, value: u32| words[offset / 4] = value;
    put(core::mem::offset_of!(TaskCredential, pid), credential.pid);
    put(core::mem::offset_of!(TaskCredential, pgid), credential.pgid);
    put(core::mem::offset_of!(TaskCredential, sid), credential.sid);
    put(core::mem::offset_of!(TaskCredential, ruid), credential.ruid);
    put(core::mem::offset_of!(TaskCredential, euid), credential.euid);
    put(core::mem::offset_of!(TaskCredential, rgid), credential.rgid);
    put(core::mem::offset_of!(TaskCredential, egid), credential.egid);
    put(core::mem::offset_of!(TaskCredential, group_count), credential.group_count);
    for (index, group) in credential.groups.iter().enumerate() {
        put(core::mem::offset_of!(TaskCredential, groups) + 4 * index, *group);
    }
    words
}

impl PortKernel for FakeKernel {
    fn port_allocate(&self, right: PortRight) -> Result<PortName, KernReturn> {
        self.record(Call::PortAllocate(right));
        self.with_ipc(|ipc, space| ipc.allocate(space, right))
    }

    fn port_deallocate(&self, name: PortName) -> Result<(), KernReturn> {
        self.record(Call::PortDeallocate(name));
        self.with_ipc(|ipc, space| ipc.deallocate(space, name))
    }

    fn port_destroy(&self, name: PortName) -> Result<(), KernReturn> {
        self.record(Call::PortDestroy(name));
        self.with_ipc(|ipc, space| ipc.destroy(space, name))
    }

    fn port_mod_refs(&self, name: PortName, right: PortRight, delta: i32) -> Result<(), KernReturn> {
        self.record(Call::PortModRefs(name, right, delta));
        self.with_ipc(|ipc, space| ipc.mod_refs(space, name, right, delta))
    }

    fn port_insert_right(&self, name: PortName, right_name: PortName, disposition: u32) -> Result<(), KernReturn> {
        self.record(Call::PortInsertRight(name, right_name, disposition));
        self.with_ipc(|ipc, space| ipc.insert_right(space, name, space, right_name, disposition))
    }

    fn port_move_member(&self, member: PortName, set: PortName) -> Result<(), KernReturn> {
        self.record(Call::PortMoveMember(member, set));
        self.with_ipc(|ipc, space| ipc.move_member(space, member, set))
    }

    fn port_type(&self, name: PortName) -> Result<u32, KernReturn> {
        self.record(Call::PortType(name));
        self.with_ipc(|ipc, space| ipc.port_type(space, name))
    }

    fn port_request_notification(
        &self,
        name: PortName,
        message_id: u32,
        sync: u32,
        notify: PortName,
        disposition: u32,
    ) -> Result<PortName, KernReturn> {
        self.record(Call::PortRequestNotification { name, message_id, sync, notify, disposition });
        self.with_ipc(|ipc, space| ipc.request_notification(space, name, message_id, sync, notify, disposition))
    }

    fn reply_port(&self) -> Result<PortName, KernReturn> {
        self.record(Call::ReplyPort);
        self.with_ipc(|ipc, space| ipc.reply_port(space))
    }

    fn mach_msg(
        &self,
        buffer: &mut [u8],
        option: MachMsgOption,
        send_size: usize,
        receive_name: PortName,
        timeout: MachMsgTimeout,
    ) -> Result<(), MachMsgReturn> {
        self.record(Call::MachMsg { option, send_size, receive_name });
        let trailer = option & MACH_RCV_TRAILER_AUDIT;
        let audit_allowed = trailer == MACH_RCV_TRAILER_AUDIT && self.world.borrow().audit_trailers;
        if option & !(MACH_MSG_OPTION_USER | MACH_RCV_TRAILER_AUDIT) != 0 || (trailer != 0 && !audit_allowed) {
            return Err(MachMsgReturn::SendInvalidHeader);
        }
        if option & MACH_SEND_MSG != 0 {
            let bytes = buffer.get(..send_size).ok_or(MachMsgReturn::SendMsgTooSmall)?;
            self.send(bytes, option)?;
        }
        if option & MACH_RCV_MSG != 0 {
            // A receive with a zero timeout only looks: it runs no server
            // (a server's own receive is one: a server waiting for its next
            // request is not busy, and may be called by another).
            let poll = option & MACH_RCV_TIMEOUT != 0 && timeout == 0;
            self.receive(buffer, option, receive_name, poll)?;
        }
        Ok(())
    }

    fn vm_allocate(&self, size: u64) -> Result<u64, KernReturn> {
        self.record(Call::VmAllocate(size));
        if size == 0 || size > mach_abi::MACH_MSG_OOL_SIZE_MAX {
            return Err(KernReturn::InvalidArgument);
        }
        let bytes = std::vec![0u8; size as usize].into_boxed_slice();
        let address = bytes.as_ptr() as u64;
        self.world.borrow_mut().memory.mapped.insert(address, (bytes, false));
        Ok(address)
    }

    fn vm_deallocate(&self, address: u64, size: u64) -> Result<(), KernReturn> {
        self.record(Call::VmDeallocate(address, size));
        let mut world = self.world.borrow_mut();
        match world.memory.mapped.get_mut(&address) {
            Some((bytes, deallocated)) if !*deallocated && bytes.len() as u64 == size => {
                *deallocated = true;
                Ok(())
            }
            _ => Err(KernReturn::InvalidAddress),
        }
    }

    fn out_of_line_pointer(&self, address: u64, size: u32) -> Option<*mut u8> {
        let mut world = self.world.borrow_mut();
        let (bytes, deallocated) = world.memory.mapped.get_mut(&address)?;
        if *deallocated || bytes.len() != size as usize {
            return None;
        }
        Some(bytes.as_mut_ptr())
    }

    fn out_of_line_bytes(&self, address: u64, size: u32) -> Option<&[u8]> {
        let world = self.world.borrow();
        let (bytes, deallocated) = world.memory.mapped.get(&address)?;
        if *deallocated || bytes.len() != size as usize {
            return None;
        }
        let pointer = bytes.as_ptr();
        let length = bytes.len();
        drop(world);
        // SAFETY: the boxed bytes are never freed, moved or written while
        // the world lives (`mapped` only ever gains entries and flags them),
        // and `self` holds a reference to the world for the slice's
        // lifetime, so the memory outlives the borrow of `self`.
        Some(unsafe { core::slice::from_raw_parts(pointer, length) })
    }
}

impl TaskMemory for Memory {
    fn capture_region(&mut self, address: u64, size: u32, _copy: CopyOption) -> Result<u64, MachMsgReturn> {
        if address == 0 {
            return Err(MachMsgReturn::SendInvalidMemory);
        }
        let bytes = match self.mapped.get(&address) {
            Some((bytes, false)) if bytes.len() >= size as usize => bytes[..size as usize].to_vec(),
            _ => {
                // SAFETY: the fake's contract (module header): a sender in a
                // host test passes the address and length of a slice it
                // borrows for the duration of the `mach_msg` call, as the
                // generated client stubs do.
                unsafe { core::slice::from_raw_parts(address as *const u8, size as usize) }.to_vec()
            }
        };
        self.next_token += 1;
        self.captured.insert(self.next_token, bytes);
        Ok(self.next_token)
    }

    fn read_port_names(&mut self, _address: u64, _count: u32) -> Result<Vec<PortName>, MachMsgReturn> {
        Err(MachMsgReturn::SendInvalidMemory)
    }

    fn deallocate(&mut self, address: u64, _size: u64) {
        if let Some((_, deallocated)) = self.mapped.get_mut(&address) {
            *deallocated = true;
        }
    }

    fn map_region(&mut self, token: u64, _size: u32) -> Result<u64, MachMsgReturn> {
        let bytes = self.captured.remove(&token).ok_or(MachMsgReturn::ReceiveInvalidData)?.into_boxed_slice();
        let address = bytes.as_ptr() as u64;
        self.mapped.insert(address, (bytes, false));
        Ok(address)
    }

    fn write_port_names(&mut self, _names: &[PortName]) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::ReceiveInvalidData)
    }
}
