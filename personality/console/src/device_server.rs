//! The requests on the port registered as `console`: `device.defs`'s `open`
//! (the file server forwards a process's open of a terminal device node)
//! and `tty.defs` (the process server's notices, `dmesg`'s reads).

use crate::{caller, ConsoleServer, Machine};
use libmach::kernel::PortKernel;
use libmach::request::Context;
use libmach::{BoundedBytes, SendRight};
use mach_console_core::uart::SerialDriver;
use mach_console_core::{Caller, Errno, Unit};
use personality_interfaces::{device, tty};

/// `major:minor` of a Linux `dev_t`.
pub fn split_device_number(device: u64) -> (u32, u32) {
    let major = ((device >> 8) & 0xfff) | ((device >> 32) & !0xfff);
    let minor = (device & 0xff) | ((device >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// Who opens: the opener in the body when the sender is the superuser (the
/// file server, passing on its client's credential), else the sender.
fn opener<K: PortKernel>(context: &Context<'_, K>, claimed: &device::Opener) -> Caller {
    match context.credential() {
        Some(credential) if credential.euid == 0 => Caller {
            pid: claimed.pid,
            pgid: claimed.process_group,
            sid: claimed.session,
            uid: claimed.uid,
            gid: claimed.gid,
        },
        _ => caller(context),
    }
}

impl<K: PortKernel, M: Machine, U: SerialDriver<M>> device::Server<K> for ConsoleServer<K, M, U> {
    fn open(
        &mut self,
        context: &Context<'_, K>,
        device: u64,
        flags: u32,
        claimed: &device::Opener,
    ) -> Result<SendRight<K>, device::Error> {
        let (major, minor) = split_device_number(device);
        let unit = Unit::from_device(major, minor).ok_or(device::Error::NoSuchDeviceOrAddress)?;
        let opener = opener(context, claimed);
        self.open_terminal(unit, flags, &opener).map_err(|errno| match errno {
            Errno::NoSuchDevice => device::Error::NoSuchDeviceOrAddress,
            Errno::InvalidArgument => device::Error::InvalidArgument,
            Errno::NotPermitted => device::Error::NotPermitted,
            Errno::TooManyOpenFiles => device::Error::TooManyOpenFiles,
            _ => device::Error::Busy,
        })
    }
}

impl<K: PortKernel, M: Machine, U: SerialDriver<M>> tty::Server<K> for ConsoleServer<K, M, U> {
    fn session_ended(&mut self, context: &Context<'_, K>, session: u32) {
        // Only a system task (the process server) may say so.
        if !caller(context).is_process() {
            self.core.session_ended(session);
        }
    }

    fn read_kernel_log(
        &mut self,
        context: &Context<'_, K>,
        sequence: u64,
    ) -> Result<tty::ReadKernelLogReply, tty::Error> {
        if !caller(context).is_superuser() {
            return Err(tty::Error::Eperm);
        }
        let mut buffer = [0u8; 8192];
        let read = self.machine.read_kernel_log(&mut buffer, sequence).map_err(|_| tty::Error::Einval)?;
        Ok(tty::ReadKernelLogReply {
            lines: BoundedBytes::from_slice(&buffer[..read.length]).ok_or(tty::Error::Einval)?,
            first: read.first,
            next: read.next,
        })
    }
}
