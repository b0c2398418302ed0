//! The name service: the generated `names::Server` over a [`Registry`], as
//! one request sees it.
//!
//! A registered right stays valid only while its port lives. The caller
//! supplies `watch`, which must arrange to hear of the right's death (the
//! bootstrap task requests a dead-name notification) and say whether it
//! could; on that death the caller removes the names
//! ([`Registry::remove_right`]) and the right. A name whose right is
//! already dead is free again even before that.
//!
//! A registration is refused (`not_permitted`) unless `may_register`
//! allows the requester that name (the boot manifest's `registers=`).
//! A waiting lookup that finds nothing asks the caller, through `wait`,
//! to keep the request and answer it later (see [`Waiting`];
//! [`crate::server::NameServer`] does it).

use crate::names::{Error, Server};
use crate::registry::{Registry, RegistryError, NAME_LENGTH_MAX};
use libmach::abi::{PortName, PortRight, MACH_PORT_TYPE_DEAD_NAME};
use libmach::{PortKernel, SendRight};

/// What a `lookup_wait` that finds nothing may do with this request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// Wait: the service sets `wait` to the timeout and the caller parks
    /// the request (the reply the dispatch writes is not sent).
    Allowed,
    /// No room for another waiting lookup of this requester: answer
    /// `too_many_waiters`.
    NoRoom,
    /// The request waited already (the name came, or the time is up):
    /// answer now.
    Final,
}

/// A waiting lookup's request to be kept: the name it waits for, and how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitRequest {
    pub timeout_milliseconds: u32,
    name: [u8; NAME_LENGTH_MAX],
    length: usize,
}

impl WaitRequest {
    pub fn name(&self) -> &[u8] {
        &self.name[..self.length]
    }
}

/// The name service as one request sees it.
pub struct NameService<'a, K: PortKernel, W: FnMut(PortName) -> bool> {
    pub kernel: &'a K,
    pub registry: &'a mut Registry<PortName>,
    /// Set when a name was registered (the requester is a server).
    pub registered: &'a mut bool,
    /// Called once per newly registered port; false refuses the
    /// registration (its death could not be watched).
    pub watch: W,
    /// Whether the requester may register a name.
    pub may_register: &'a dyn Fn(&str) -> bool,
    pub waiting: Waiting,
    /// Set when a waiting lookup must wait.
    pub wait: &'a mut Option<WaitRequest>,
}

fn error_of(error: RegistryError) -> Error {
    match error {
        RegistryError::InvalidName => Error::InvalidName,
        RegistryError::NameInUse => Error::NameInUse,
        RegistryError::UnknownName => Error::UnknownName,
        RegistryError::Full => Error::RegistryFull,
    }
}

impl<K: PortKernel, W: FnMut(PortName) -> bool> NameService<'_, K, W> {
    fn is_dead(&self, name: PortName) -> bool {
        self.kernel.port_type(name).is_ok_and(|kind| kind & MACH_PORT_TYPE_DEAD_NAME != 0)
    }
}

impl<K: PortKernel, W: FnMut(PortName) -> bool> Server<K> for NameService<'_, K, W> {
    fn register_name(
        &mut self,
        _context: &libmach::Context<'_, K>,
        name: &str,
        right: SendRight<K>,
    ) -> Result<(), Error> {
        crate::registry::check_name(name.as_bytes()).map_err(error_of)?;
        if !(self.may_register)(name) {
            return Err(Error::NotPermitted);
        }
        if right.is_dead() || self.is_dead(right.name()) {
            return Err(Error::DeadRight);
        }
        let name = name.as_bytes();
        if let Ok(existing) = self.registry.lookup(name) {
            if self.is_dead(existing) {
                self.registry.remove_right(existing);
            }
        }
        let watched = self.registry.contains_right(right.name());
        self.registry.register(name, right.name()).map_err(error_of)?;
        // The registry holds this reference now (several names for one
        // port share our one name for it, each with its own reference).
        let right = right.into_name();
        if !watched && !(self.watch)(right) {
            self.registry.remove_right(right);
            let _ = self.kernel.port_deallocate(right);
            return Err(Error::DeadRight);
        }
        *self.registered = true;
        Ok(())
    }

    fn lookup(&mut self, _context: &libmach::Context<'_, K>, name: &str) -> Result<SendRight<K>, Error> {
        let right = self.registry.lookup(name.as_bytes()).map_err(error_of)?;
        // The reply moves a send right: make one more reference to move.
        self.kernel.port_mod_refs(right, PortRight::Send, 1).map_err(|_| Error::UnknownName)?;
        Ok(SendRight::from_name(self.kernel, right))
    }

    fn lookup_wait(
        &mut self,
        context: &libmach::Context<'_, K>,
        name: &str,
        timeout_milliseconds: u32,
    ) -> Result<SendRight<K>, Error> {
        match self.lookup(context, name) {
            Err(Error::UnknownName) => {}
            // A registered name whose server just died answers as not yet
            // registered: the restarted server will register it again.
            Ok(right) if !right.is_dead() && !self.is_dead(right.name()) => return Ok(right),
            Ok(_) => {}
            Err(other) => return Err(other),
        }
        match self.waiting {
            // A valid name (the lookup said so) fits the buffer.
            Waiting::Allowed if timeout_milliseconds > 0 && name.len() <= NAME_LENGTH_MAX => {
                let mut stored = [0; NAME_LENGTH_MAX];
                stored[..name.len()].copy_from_slice(name.as_bytes());
                *self.wait = Some(WaitRequest { timeout_milliseconds, name: stored, length: name.len() });
                // Not sent: the caller keeps the request and answers later.
                Err(Error::TimedOut)
            }
            Waiting::NoRoom if timeout_milliseconds > 0 => Err(Error::TooManyWaiters),
            _ => Err(Error::TimedOut),
        }
    }
}
