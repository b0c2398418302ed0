//! Signals as the server delivers them: posted to the process's signal
//! port (`signal.post`), held while it has none, queued while its queue is
//! full; and faults, the kernel's `exception_raise` for a process's task,
//! turned into signals (docs/process-server.md, "Faults").

use alloc::vec::Vec;

use libmach::{PortKernel, SendOnceRight, SendRight};
use mach_abi::{
    parse_received, Descriptor, KernReturn, PortName, EXCEPTION_RAISE_ID, EXC_ARITHMETIC, EXC_BAD_ACCESS,
    EXC_BAD_INSTRUCTION, EXC_BREAKPOINT,
};
use personality_interfaces::signal::Information;
use process_core::signal::{ChildCode, Origin};
use process_core::table::{Pid, INIT};
use process_core::{Disposition, Signal, WaitStatus};

use crate::{Console, FileService, MemoryService, PortRole, ProcessServer, Tasks, QUEUED_SIGNALS_MAX};

/// `si_code` values.
pub mod code {
    pub const USER: i32 = 0;
    pub const KERNEL: i32 = 0x80;
    pub const TIMER: i32 = -2;
    pub const SEGV_MAPERR: i32 = 1;
    pub const SEGV_ACCERR: i32 = 2;
    pub const BUS_ADRERR: i32 = 2;
    pub const ILL_ILLOPC: i32 = 1;
    pub const FPE_INTDIV: i32 = 1;
    pub const TRAP_BRKPT: i32 = 1;
}

/// `siginfo_t` for `signal` sent for `origin`.
pub fn information(signal: Signal, origin: Origin) -> Information {
    let base = Information { signal: signal.number() as i32, ..Information::default() };
    match origin {
        Origin::Process { pid, uid } => Information { code: code::USER, pid: pid as i32, uid, ..base },
        Origin::Terminal | Origin::System | Origin::BrokenPipe => Information { code: code::KERNEL, ..base },
        Origin::Timer => Information { code: code::TIMER, ..base },
        Origin::Child { pid, uid, code, status } => {
            // si_status: the exit code, or the signal that ended, stopped
            // or continued the child.
            let status = match code {
                ChildCode::Exited => WaitStatus::decode(status).map_or(status, |status| match status {
                    WaitStatus::Exited(value) => value as i32,
                    _ => status.encode(),
                }),
                ChildCode::Killed | ChildCode::Dumped => status & 0x7f,
                ChildCode::Stopped | ChildCode::Continued => status,
            };
            Information { code: code as i32, pid: pid as i32, uid, status, ..base }
        }
        Origin::Fault { code, address } => Information { code, address, ..base },
    }
}

/// True for a page its pager could not supply (`EXC_BAD_ACCESS` with
/// `KERN_MEMORY_ERROR`): the one fault a copy may land from.
fn is_memory_error(exception: u32, code: i64) -> bool {
    exception == EXC_BAD_ACCESS && KernReturn::from_u32(code as u32) == Some(KernReturn::MemoryError)
}

/// The signal, `si_code` and address of an exception, or `None` for a
/// task the kernel could not give memory (`KERN_RESOURCE_SHORTAGE`).
pub fn fault_signal(exception: u32, codes: [i64; 2]) -> Option<(Signal, i32, u64)> {
    let address = codes[1] as u64;
    Some(match exception {
        EXC_BAD_ACCESS => match KernReturn::from_u32(codes[0] as u32) {
            Some(KernReturn::ResourceShortage) => return None,
            Some(KernReturn::ProtectionFailure) => (Signal::SEGMENTATION, code::SEGV_ACCERR, address),
            Some(KernReturn::MemoryError) => (Signal::BUS, code::BUS_ADRERR, address),
            _ => (Signal::SEGMENTATION, code::SEGV_MAPERR, address),
        },
        EXC_BAD_INSTRUCTION => (Signal::ILLEGAL_INSTRUCTION, code::ILL_ILLOPC, address),
        EXC_ARITHMETIC => (Signal::FLOATING_POINT, code::FPE_INTDIV, address),
        EXC_BREAKPOINT => (Signal::TRAP, code::TRAP_BRKPT, address),
        _ => (Signal::SEGMENTATION, code::SEGV_MAPERR, address),
    })
}

impl<K, T, M, F, C> ProcessServer<K, T, M, F, C>
where
    K: PortKernel,
    T: Tasks<K>,
    M: MemoryService<K>,
    F: FileService<K>,
    C: Console,
{
    /// Posts `signal` to the process's signal port, or holds it there is
    /// none yet.
    pub(crate) fn post(&mut self, pid: Pid, signal: Signal, origin: Origin) {
        let information = information(signal, origin);
        let Some(live) = self.live.get_mut(&pid) else { return };
        if live.signal.is_none() {
            live.held.insert(signal.number(), information);
            return;
        }
        live.queued.push_back(information);
        while live.queued.len() > QUEUED_SIGNALS_MAX {
            live.queued.pop_front();
        }
        self.flush_queued(pid);
    }

    /// Sends what is queued for the process's signal port, until its queue
    /// is full again.
    pub(crate) fn flush_queued(&mut self, pid: Pid) {
        let Some(live) = self.live.get_mut(&pid) else { return };
        let Some(client) = live.signal.as_mut() else { return };
        while let Some(information) = live.queued.front() {
            match client.post(information) {
                Ok(()) => {
                    live.queued.pop_front();
                }
                Err(libmach::RpcError::Send(mach_abi::MachMsgReturn::SendTimedOut)) => return,
                Err(_) => {
                    // The port is gone (its thread ended): nothing more
                    // reaches it until the process gives another.
                    live.signal = None;
                    let queued: Vec<Information> = live.queued.drain(..).collect();
                    for information in queued {
                        live.held.insert(information.signal as u32, information);
                    }
                    return;
                }
            }
        }
    }

    /// Makes `port` the process's signal port; held signals go there now.
    pub(crate) fn set_signal_port_of(&mut self, pid: Pid, port: SendRight<K>) -> Result<(), process_core::Errno> {
        let mut client =
            personality_interfaces::signal::Client::new(&self.kernel, port).map_err(|_| process_core::Errno::ENOMEM)?;
        client.set_timeout(Some(0));
        let Some(live) = self.live.get_mut(&pid) else { return Err(process_core::Errno::ESRCH) };
        live.signal = Some(client);
        let held: Vec<Information> = core::mem::take(&mut live.held).into_values().collect();
        live.queued.extend(held);
        self.flush_queued(pid);
        Ok(())
    }

    /// Looks again at the signals held for a process after its
    /// dispositions changed: each goes through the table again (posted,
    /// dropped, or its default action).
    pub(crate) fn review_held(&mut self, pid: Pid) {
        let Some(live) = self.live.get_mut(&pid) else { return };
        if live.signal.is_some() || live.held.is_empty() {
            return;
        }
        let held: Vec<Information> = core::mem::take(&mut live.held).into_values().collect();
        for information in held {
            let Some(signal) = Signal::new(information.signal as u32) else { continue };
            let origin = origin_of(&information);
            let effects = self.table.signal(pid, signal, origin);
            self.apply(effects);
        }
    }

    /// The signals held for a process (sigpending's server-side share).
    pub(crate) fn held(&self, pid: Pid) -> u64 {
        self.live.get(&pid).map_or(0, |live| {
            live.held
                .keys()
                .filter(|&&number| (1..=64).contains(&number))
                .fold(0, |set, number| set | 1 << (number - 1))
        })
    }

    /// An `exception_raise` from the kernel on a process's exception port;
    /// `None` if `request` is not one.
    pub(crate) fn exception(&mut self, request: &[u8], reply: &mut [u8]) -> Option<libmach::Dispatch> {
        // Every request passes here first: only an exception's is parsed
        // (the others are parsed once, by their dispatch).
        if mach_abi::MachMsgHeader::read_from(request)?.id != EXCEPTION_RAISE_ID {
            return None;
        }
        let (view, trailer) = parse_received(request).ok()?;
        let Some(PortRole::Exception(pid)) = self.ports.get(&view.header.local_port).copied() else { return None };
        let from_kernel = trailer.sender == 0;
        let ports: Vec<PortName> = view
            .descriptors()
            .filter_map(|descriptor| match descriptor {
                Descriptor::Port { name, .. } => Some(name),
                _ => None,
            })
            .collect();
        let data = view.inline_data;
        let word = |offset: usize| {
            data.get(offset..offset + 8).map_or(0, |bytes| i64::from_le_bytes(bytes.try_into().unwrap_or([0; 8])))
        };
        let exception = data.get(..4).map_or(0, |bytes| u32::from_le_bytes(bytes.try_into().unwrap_or([0; 4])));
        if !from_kernel || ports.len() != 2 || data.len() < 24 {
            // Only the kernel raises exceptions: anything else is refused.
            libmach::message::release_received(&self.kernel, &view);
            return Some(libmach::server::reply_with_code(
                &self.kernel,
                &view.header,
                KernReturn::Failure as i32,
                reply,
            ));
        }
        let (thread, task) = (ports[0], ports[1]);
        // The task right is a reference to a name we hold already.
        let _ = SendRight::from_received(&self.kernel, task);
        let thread = SendRight::from_received(&self.kernel, thread);
        if is_memory_error(exception, word(8)) && self.tasks.land_memory_error(thread.name()) {
            // A copy from a mapping that asked to land rather than be
            // signalled (minilibc's read, which then gives EIO): it goes
            // on from its landing.
            return Some(libmach::server::reply_with_code(
                &self.kernel,
                &view.header,
                KernReturn::Success as i32,
                reply,
            ));
        }
        match fault_signal(exception, [word(8), word(16)]) {
            None => {
                libmach::println!("proc: process {pid} killed for lack of memory");
                let effects = self.table.exit_process(pid, WaitStatus::Signaled { signal: Signal::KILL, core: false });
                self.apply(effects);
                // The task is gone; the reply right goes with this message.
                drop(SendOnceRight::from_received(&self.kernel, view.header.remote_port));
                Some(libmach::Dispatch::NoReply)
            }
            Some((signal, code, address)) => {
                let caught = self.table.get(pid).is_some_and(|process| {
                    process.dispositions.caught.contains(signal)
                        && !process.dispositions.blocked.contains(signal)
                        && process.dispositions.of(signal) == Disposition::Post
                });
                let forwarded = caught
                    && pid != INIT
                    && self.forward_fault(pid, thread, view.header.remote_port, signal, code, address);
                if !forwarded {
                    let status = WaitStatus::Signaled { signal, core: true };
                    let effects = self.table.exit_process(pid, status);
                    self.apply(effects);
                    drop(SendOnceRight::from_received(&self.kernel, view.header.remote_port));
                }
                Some(libmach::Dispatch::NoReply)
            }
        }
    }

    /// Sends a fault to the process's signal thread with the thread and the
    /// kernel's reply right; false if it has no signal port that takes it.
    fn forward_fault(
        &mut self,
        pid: Pid,
        thread: SendRight<K>,
        reply: PortName,
        signal: Signal,
        code: i32,
        address: u64,
    ) -> bool {
        let Some(live) = self.live.get_mut(&pid) else { return false };
        let Some(client) = live.signal.as_mut() else { return false };
        let information = information(signal, Origin::Fault { code, address });
        let reply = SendOnceRight::from_received(&self.kernel, reply);
        match client.fault(thread, reply, &information) {
            Ok(()) => {
                live.forwarded_fault = Some(signal);
                true
            }
            Err(_) => false,
        }
    }
}

/// The origin a held signal was posted with, for posting it again.
fn origin_of(information: &Information) -> Origin {
    match information.code {
        code::USER => Origin::Process { pid: information.pid as u32, uid: information.uid },
        code::TIMER => Origin::Timer,
        1..=6 if information.signal == Signal::CHILD.number() as i32 => Origin::Child {
            pid: information.pid as u32,
            uid: information.uid,
            code: match information.code {
                1 => ChildCode::Exited,
                2 => ChildCode::Killed,
                3 => ChildCode::Dumped,
                5 => ChildCode::Stopped,
                _ => ChildCode::Continued,
            },
            status: match information.code {
                1 => WaitStatus::Exited(information.status as u8).encode(),
                _ => information.status,
            },
        },
        _ => Origin::System,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn faults_map_to_posix_signals() {
        let invalid = KernReturn::InvalidAddress as i64;
        assert_eq!(
            fault_signal(EXC_BAD_ACCESS, [invalid, 0x10]),
            Some((Signal::SEGMENTATION, code::SEGV_MAPERR, 0x10))
        );
        let protection = KernReturn::ProtectionFailure as i64;
        assert_eq!(fault_signal(EXC_BAD_ACCESS, [protection, 8]), Some((Signal::SEGMENTATION, code::SEGV_ACCERR, 8)));
        let memory = KernReturn::MemoryError as i64;
        assert_eq!(fault_signal(EXC_BAD_ACCESS, [memory, 8]).map(|fault| fault.0), Some(Signal::BUS));
        assert_eq!(fault_signal(EXC_BAD_ACCESS, [KernReturn::ResourceShortage as i64, 8]), None);
        assert_eq!(fault_signal(EXC_BAD_INSTRUCTION, [0, 0]).map(|fault| fault.0), Some(Signal::ILLEGAL_INSTRUCTION));
        assert_eq!(fault_signal(EXC_ARITHMETIC, [0, 0]).map(|fault| fault.0), Some(Signal::FLOATING_POINT));
        assert_eq!(fault_signal(EXC_BREAKPOINT, [0, 0]).map(|fault| fault.0), Some(Signal::TRAP));
    }

    #[test]
    fn sigchld_information_carries_the_exit_code_or_the_signal() {
        let exited = Origin::Child { pid: 5, uid: 7, code: ChildCode::Exited, status: WaitStatus::Exited(3).encode() };
        let info = information(Signal::CHILD, exited);
        assert_eq!((info.code, info.pid, info.uid, info.status), (1, 5, 7, 3));
        let killed = Origin::Child {
            pid: 5,
            uid: 7,
            code: ChildCode::Killed,
            status: WaitStatus::Signaled { signal: Signal::KILL, core: false }.encode(),
        };
        assert_eq!(information(Signal::CHILD, killed).status, 9);
        // Held and posted again, the origin survives.
        assert_eq!(origin_of(&information(Signal::CHILD, exited)), exited);
        let user = Origin::Process { pid: 9, uid: 1000 };
        assert_eq!(origin_of(&information(Signal::TERMINATE, user)), user);
        assert_eq!(information(Signal::ALARM, Origin::Timer).code, code::TIMER);
    }
}
