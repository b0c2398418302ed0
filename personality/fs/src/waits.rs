//! Waiting requests: their kept reply rights, the completions the core
//! offers, and abandoned calls.

use alloc::boxed::Box;
use alloc::vec::Vec;

use libmach::message::OutOfLineData;
use libmach::request::Answer as Reply;
use libmach::{BoundedBytes, PortKernel};
use mach_vfs::node::NodeKind;
use mach_vfs::server::{Completion, WaitId};
use mach_vfs::Errno;

use crate::io_server::{PageRun, INLINE_MAX};
use crate::{fs, io, io_error, FileService, PendingReply};

impl<K: PortKernel> FileService<K> {
    /// Keeps the reply right of a request whose call waits as `wait`. A
    /// request that came without a reply right cannot wait: the wait is
    /// dropped and the call refused (nobody would hear its answer).
    pub(crate) fn keep<T>(&mut self, wait: WaitId, pending: Option<PendingReply<K>>) -> Result<Reply<T>, Errno> {
        match pending {
            Some(pending) => {
                self.pending.insert(wait, pending);
                Ok(Reply::Later)
            }
            None => {
                self.core.cancel(wait);
                Err(Errno::InvalidArgument)
            }
        }
    }

    /// Drops every wait whose client is gone (its reply right is a dead
    /// name: the call was interrupted and the reply port destroyed), so
    /// nothing is taken for it. Run by the periodic tick.
    pub fn sweep_abandoned(&mut self) {
        let abandoned: Vec<WaitId> =
            self.pending.iter().filter(|(_, reply)| reply.is_abandoned()).map(|(id, _)| *id).collect();
        for id in abandoned {
            self.pending.remove(&id);
            self.core.cancel(id);
        }
    }
}

impl<K: PortKernel + 'static> FileService<K> {
    /// Sends every completion the core can offer now (after each request:
    /// it may have been the write a reader waited for). Each is committed
    /// only if its client got it.
    pub fn deliver_ready(&mut self) {
        if !self.core.has_changes() {
            return;
        }
        let FileService { core, pending, ports, kernel, scratch, .. } = self;
        core.deliver_ready(&mut |wait, completion| {
            let Some(reply) = pending.remove(&wait) else { return false };
            send_completion(kernel, ports, &mut scratch[..], reply, completion)
        });
        // A FIFO open delivered above installed its file under its port:
        // those ports are in `ports` now. A wait the core ended without
        // delivering (forced) was removed there too.
    }
}

impl<K: PortKernel> PendingReply<K> {
    fn is_abandoned(&self) -> bool {
        match self {
            PendingReply::Read(pending) => pending.is_abandoned(),
            PendingReply::ReadLarge(pending) => pending.is_abandoned(),
            PendingReply::Write(pending) => pending.is_abandoned(),
            PendingReply::WriteLarge(pending) => pending.is_abandoned(),
            PendingReply::SetLock(pending) => pending.is_abandoned(),
            PendingReply::Flock(pending) => pending.is_abandoned(),
            PendingReply::Poll(pending) => pending.is_abandoned(),
            PendingReply::Open(pending, _) => pending.is_abandoned(),
        }
    }
}

/// Sends `completion` through `reply`; true when the client got it.
fn send_completion<K: PortKernel + 'static>(
    kernel: &K,
    ports: &mut alloc::collections::BTreeMap<libmach::abi::PortName, libmach::ReceiveRight<K>>,
    scratch: &mut [u8],
    reply: PendingReply<K>,
    completion: Completion<'_>,
) -> bool {
    match (reply, completion) {
        (PendingReply::Read(pending), Completion::Read(result)) => {
            let answer = result.map_err(io_error).and_then(|data| {
                let bound = INLINE_MAX.min(scratch.len());
                let length = data.copy_to(&mut scratch[..bound]);
                BoundedBytes::from_slice(&scratch[..length]).ok_or(io::Error::InvalidArgument)
            });
            pending.send(answer).is_ok()
        }
        (PendingReply::ReadLarge(pending), Completion::Read(result)) => {
            let answer = result.map_err(io_error).and_then(|data| {
                let length = u32::try_from(data.len()).map_err(|_| io::Error::InvalidArgument)?;
                let mut region = OutOfLineData::allocate(kernel, length).map_err(|_| io::Error::OutOfMemory)?;
                data.copy_to(region.bytes_mut());
                Ok(region)
            });
            pending.send(answer).is_ok()
        }
        // A whole run: the region itself moves on to the reader. Whatever
        // the client did not get goes back into the slot (stays queued).
        (PendingReply::ReadLarge(pending), Completion::ReadRun(slot)) => {
            let Some(run) = slot.take() else { return false };
            let region = match PageRun::<K>::from_run(run) {
                Ok(region) => region,
                Err(run) => {
                    // Not a region of ours (none is made): copied.
                    let copy = u32::try_from(run.bytes().len())
                        .ok()
                        .and_then(|length| OutOfLineData::allocate(kernel, length).ok())
                        .map(|mut region| {
                            region.bytes_mut().copy_from_slice(run.bytes());
                            region
                        });
                    let Some(region) = copy else {
                        *slot = Some(run);
                        return false;
                    };
                    let sent = pending.send(Ok(region)).is_ok();
                    if !sent {
                        *slot = Some(run);
                    }
                    return sent;
                }
            };
            match pending.send(Ok(region)) {
                Ok(()) => true,
                Err(failed) => {
                    if let Ok(region) = failed.result {
                        *slot = Some(Box::new(PageRun(region)));
                    }
                    false
                }
            }
        }
        (PendingReply::Read(pending), Completion::ReadRun(slot)) => {
            let Some(run) = slot.take() else { return false };
            // An inline read asks at most INLINE_MAX bytes, so the run fits.
            let answer = BoundedBytes::from_slice(run.bytes()).ok_or(io::Error::InvalidArgument);
            let sent = answer.is_ok() && pending.send(answer).is_ok();
            if !sent {
                *slot = Some(run);
            }
            sent
        }
        (PendingReply::Write(pending), Completion::Write(result)) => {
            pending.send(result.map(|count| count as u32).map_err(io_error)).is_ok()
        }
        (PendingReply::WriteLarge(pending), Completion::Write(result)) => {
            pending.send(result.map(|count| count as u32).map_err(io_error)).is_ok()
        }
        (PendingReply::SetLock(pending), Completion::Lock(result)) => pending.send(result.map_err(io_error)).is_ok(),
        (PendingReply::Flock(pending), Completion::Lock(result)) => pending.send(result.map_err(io_error)).is_ok(),
        (PendingReply::Poll(pending), Completion::Poll(ready)) => pending.send(Ok(ready)).is_ok(),
        (PendingReply::Open(pending, port), Completion::Open(result)) => match result {
            Ok(kind) => {
                // The port is in the set already (`new_port`).
                let prepared = port.make_send().and_then(|send| {
                    port.request_no_senders(1)?;
                    Ok(send)
                });
                let Ok(send) = prepared else {
                    let _ = pending.send(Err(fs::Error::TooManyOpenFiles));
                    return false;
                };
                let name = port.name();
                match pending.send(Ok(fs::OpenReply { file: send, kind: open_kind(kind) })) {
                    Ok(()) => {
                        ports.insert(name, port);
                        true
                    }
                    // The send right comes back in the failure and goes with
                    // it; the port goes with `port`.
                    Err(_) => false,
                }
            }
            Err(error) => {
                let _ = pending.send(Err(crate::fs_error(error)));
                false
            }
        },
        // A completion of another kind than the routine kept: not possible
        // (the core offers what the wait was for); answer an error.
        (reply, _) => {
            drop(reply);
            false
        }
    }
}

/// `st_mode` type bits of an opened object's kind.
pub(crate) fn open_kind(kind: NodeKind) -> u32 {
    kind.mode_bits()
}
