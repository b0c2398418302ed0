//! Port rights as owned values.
//!
//! Each type wraps the [`PortName`] of one right in the task's IPC space and
//! the kernel handle that releases it: dropping a [`ReceiveRight`] destroys
//! the receive right (`port_mod_refs(RECEIVE, -1)`), dropping a
//! [`SendRight`] or [`SendOnceRight`] deallocates it (`port_deallocate`),
//! dropping a [`PortSet`] destroys the set. A receive right and send rights
//! to the same port share one name in Mach, so the receive right is removed
//! with `mod_refs` rather than `port_destroy`, which would also take the
//! send references another value owns.
//!
//! Into a message: `descriptor_*` methods describe the right with a
//! disposition; for the moving dispositions the value still owns the right
//! until [`SendRight::moved`] (etc.) is called after the send succeeded
//! (Mach leaves every right in place when a send fails, so a failed send
//! drops the value and releases the right as usual). Out of a message:
//! `from_received` adopts a name the kernel just gave the task.

use mach_abi::{Descriptor, Disposition, KernReturn, PortName, PortRight, MACH_PORT_DEAD, MACH_PORT_NULL};

use crate::kernel::{PortKernel, SystemKernel};

/// The receive right of a port: exactly one task holds it and takes the
/// port's messages.
#[derive(Debug)]
pub struct ReceiveRight<K: PortKernel = SystemKernel> {
    name: PortName,
    kernel: K,
}

/// A send right (one user reference of it).
#[derive(Debug)]
pub struct SendRight<K: PortKernel = SystemKernel> {
    name: PortName,
    kernel: K,
}

/// A send-once right: one message may be sent through it (a reply).
#[derive(Debug)]
pub struct SendOnceRight<K: PortKernel = SystemKernel> {
    name: PortName,
    kernel: K,
}

/// A port set: receive from several receive rights at once.
#[derive(Debug)]
pub struct PortSet<K: PortKernel = SystemKernel> {
    name: PortName,
    kernel: K,
}

impl<K: PortKernel> ReceiveRight<K> {
    /// A new port; the caller holds its receive right.
    pub fn allocate(kernel: &K) -> Result<Self, KernReturn> {
        Ok(ReceiveRight { name: kernel.port_allocate(PortRight::Receive)?, kernel: kernel.clone() })
    }

    /// Adopts `name`, which must denote a receive right the caller owns and
    /// no other value owns (given at boot, received in a message).
    pub fn from_name(kernel: &K, name: PortName) -> Self {
        ReceiveRight { name, kernel: kernel.clone() }
    }

    /// Adopts a receive right the kernel just named in a received message.
    pub fn from_received(kernel: &K, name: PortName) -> Self {
        Self::from_name(kernel, name)
    }

    /// The right's name in the task's space.
    pub fn name(&self) -> PortName {
        self.name
    }

    /// Gives up ownership without releasing the right; returns its name.
    pub fn into_name(self) -> PortName {
        let name = self.name;
        core::mem::forget(self);
        name
    }

    /// A new send right to this port, under the same name (the make-send
    /// count goes up by one).
    pub fn make_send(&self) -> Result<SendRight<K>, KernReturn> {
        self.kernel.port_insert_right(self.name, self.name, Disposition::MakeSend as u32)?;
        Ok(SendRight { name: self.name, kernel: self.kernel.clone() })
    }

    /// Puts this receive right into `set` (out of any set it was in).
    pub fn join(&self, set: &PortSet<K>) -> Result<(), KernReturn> {
        self.kernel.port_move_member(self.name, set.name)
    }

    /// Takes this receive right out of its port set.
    pub fn leave_set(&self) -> Result<(), KernReturn> {
        self.kernel.port_move_member(self.name, MACH_PORT_NULL)
    }

    /// Asks for `MACH_NOTIFY_NO_SENDERS` once no send right to this port
    /// remains and its make-send count is at least `make_send_count` (pass
    /// the count after making the send rights handed out, or 0). The
    /// notification is sent to this port itself, so it arrives wherever the
    /// port is served (its port set) and says which port it is about by
    /// arriving on it ([`crate::notify::Notification::NoSenders`]).
    pub fn request_no_senders(&self, make_send_count: u32) -> Result<(), KernReturn> {
        crate::notify::request(
            &self.kernel,
            self.name,
            mach_abi::NotifyId::NoSenders,
            make_send_count,
            self.name,
            Disposition::MakeSendOnce,
        )
    }

    /// Describes a send right made from this receive right (the receiver
    /// gets a send right; this value keeps the receive right).
    pub fn descriptor_make_send(&self) -> Descriptor {
        Descriptor::Port { name: self.name, disposition: Disposition::MakeSend }
    }

    /// Describes a send-once right made from this receive right.
    pub fn descriptor_make_send_once(&self) -> Descriptor {
        Descriptor::Port { name: self.name, disposition: Disposition::MakeSendOnce }
    }

    /// Describes moving this receive right; call [`ReceiveRight::moved`]
    /// once the send succeeded.
    pub fn descriptor_move_receive(&self) -> Descriptor {
        Descriptor::Port { name: self.name, disposition: Disposition::MoveReceive }
    }

    /// The right left with a sent message: forget it without releasing.
    pub fn moved(self) {
        core::mem::forget(self);
    }
}

impl<K: PortKernel> Drop for ReceiveRight<K> {
    fn drop(&mut self) {
        // Nothing useful can be done with an error in a destructor: the name
        // is already gone (e.g. the right was moved by hand) or invalid.
        let _ = self.kernel.port_mod_refs(self.name, PortRight::Receive, -1);
    }
}

impl<K: PortKernel> SendRight<K> {
    /// Adopts `name`, one user reference of a send right the caller owns.
    pub fn from_name(kernel: &K, name: PortName) -> Self {
        SendRight { name, kernel: kernel.clone() }
    }

    /// Adopts a send right (or dead name) the kernel just named in a
    /// received message: the message carried one user reference.
    pub fn from_received(kernel: &K, name: PortName) -> Self {
        Self::from_name(kernel, name)
    }

    /// The right's name in the task's space.
    pub fn name(&self) -> PortName {
        self.name
    }

    /// True when the port died before the right arrived (`MACH_PORT_DEAD`)
    /// or the name is NULL: sends through it fail.
    pub fn is_dead(&self) -> bool {
        self.name == MACH_PORT_DEAD || self.name == MACH_PORT_NULL
    }

    /// Gives up ownership without releasing the reference; returns the name.
    pub fn into_name(self) -> PortName {
        let name = self.name;
        core::mem::forget(self);
        name
    }

    /// One more user reference to the same right (`port_mod_refs` +1). It
    /// can fail (`KERN_UREFS_OVERFLOW` at 65535 references), so this is not
    /// `Clone::clone`.
    pub fn try_clone(&self) -> Result<Self, KernReturn> {
        if self.is_dead() {
            if self.name == MACH_PORT_DEAD {
                return Ok(SendRight { name: self.name, kernel: self.kernel.clone() });
            }
            return Err(KernReturn::InvalidName);
        }
        self.kernel.port_mod_refs(self.name, PortRight::Send, 1)?;
        Ok(SendRight { name: self.name, kernel: self.kernel.clone() })
    }

    /// Asks for `MACH_NOTIFY_DEAD_NAME` when this right's port dies, sent
    /// to `notify` ([`crate::notify::Notification::DeadName`] with this
    /// right's name). A right already dead notifies at once.
    pub fn request_dead_name(&self, notify: &ReceiveRight<K>) -> Result<(), KernReturn> {
        crate::notify::request(
            &self.kernel,
            self.name,
            mach_abi::NotifyId::DeadName,
            0,
            notify.name(),
            Disposition::MakeSendOnce,
        )
    }

    /// Describes a copy of this right (the sender keeps its reference).
    pub fn descriptor_copy_send(&self) -> Descriptor {
        Descriptor::Port { name: self.name, disposition: Disposition::CopySend }
    }

    /// Describes moving this reference; call [`SendRight::moved`] once the
    /// send succeeded.
    pub fn descriptor_move_send(&self) -> Descriptor {
        Descriptor::Port { name: self.name, disposition: Disposition::MoveSend }
    }

    /// The reference left with a sent message: forget it without releasing.
    pub fn moved(self) {
        core::mem::forget(self);
    }
}

impl<K: PortKernel> Drop for SendRight<K> {
    fn drop(&mut self) {
        let _ = self.kernel.port_deallocate(self.name);
    }
}

impl<K: PortKernel> SendOnceRight<K> {
    /// Adopts `name`, a send-once right the caller owns.
    pub fn from_name(kernel: &K, name: PortName) -> Self {
        SendOnceRight { name, kernel: kernel.clone() }
    }

    /// Adopts a send-once right the kernel just named in a received message.
    pub fn from_received(kernel: &K, name: PortName) -> Self {
        Self::from_name(kernel, name)
    }

    /// The right's name in the task's space.
    pub fn name(&self) -> PortName {
        self.name
    }

    /// Gives up ownership without releasing the right; returns its name.
    pub fn into_name(self) -> PortName {
        let name = self.name;
        core::mem::forget(self);
        name
    }

    /// Describes moving this right; call [`SendOnceRight::moved`] once the
    /// send succeeded.
    pub fn descriptor_move_send_once(&self) -> Descriptor {
        Descriptor::Port { name: self.name, disposition: Disposition::MoveSendOnce }
    }

    /// The right left with a sent message: forget it without releasing.
    pub fn moved(self) {
        core::mem::forget(self);
    }
}

impl<K: PortKernel> Drop for SendOnceRight<K> {
    fn drop(&mut self) {
        // Destroying an unused send-once right sends the port's receiver a
        // send-once notification, as Mach does.
        let _ = self.kernel.port_deallocate(self.name);
    }
}

impl<K: PortKernel> PortSet<K> {
    /// A new, empty port set.
    pub fn allocate(kernel: &K) -> Result<Self, KernReturn> {
        Ok(PortSet { name: kernel.port_allocate(PortRight::PortSet)?, kernel: kernel.clone() })
    }

    /// The set's name: receive on it to take the first message of any member.
    pub fn name(&self) -> PortName {
        self.name
    }

    /// Adds `member` (moving it out of any other set).
    pub fn insert(&self, member: &ReceiveRight<K>) -> Result<(), KernReturn> {
        member.join(self)
    }
}

impl<K: PortKernel> Drop for PortSet<K> {
    fn drop(&mut self) {
        // The members stay: destroying a set only takes them out of it.
        let _ = self.kernel.port_destroy(self.name);
    }
}

/// A value whose right or region a sent message took: [`Moved::moved`]
/// forgets it without releasing anything. Each right type has the same
/// method inherently; the trait adds it to `Option`s of them, for optional
/// ports (`None` took nothing).
pub trait Moved {
    /// The message carried it away: forget it.
    fn moved(self);
}

impl<K: PortKernel> Moved for ReceiveRight<K> {
    fn moved(self) {
        ReceiveRight::moved(self)
    }
}

impl<K: PortKernel> Moved for SendRight<K> {
    fn moved(self) {
        SendRight::moved(self)
    }
}

impl<K: PortKernel> Moved for SendOnceRight<K> {
    fn moved(self) {
        SendOnceRight::moved(self)
    }
}

impl<T: Moved> Moved for Option<T> {
    fn moved(self) {
        if let Some(value) = self {
            value.moved();
        }
    }
}

/// A right taken out of a received message, of whichever kind it arrived as.
#[derive(Debug)]
pub enum ReceivedRight<K: PortKernel = SystemKernel> {
    Receive(ReceiveRight<K>),
    Send(SendRight<K>),
    SendOnce(SendOnceRight<K>),
}

impl<K: PortKernel> ReceivedRight<K> {
    /// Adopts a right of a received port descriptor: `received_type` is the
    /// descriptor's disposition field as the kernel rewrote it
    /// (`MACH_MSG_TYPE_PORT_RECEIVE`, `_SEND` or `_SEND_ONCE`).
    pub fn from_descriptor(kernel: &K, name: PortName, received_type: Disposition) -> Self {
        match received_type.received_right() {
            PortRight::Receive => ReceivedRight::Receive(ReceiveRight::from_received(kernel, name)),
            PortRight::SendOnce => ReceivedRight::SendOnce(SendOnceRight::from_received(kernel, name)),
            _ => ReceivedRight::Send(SendRight::from_received(kernel, name)),
        }
    }

    /// The right's name.
    pub fn name(&self) -> PortName {
        match self {
            ReceivedRight::Receive(right) => right.name(),
            ReceivedRight::Send(right) => right.name(),
            ReceivedRight::SendOnce(right) => right.name(),
        }
    }
}
