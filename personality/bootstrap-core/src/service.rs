//! The name service: the generated `names::Server` over a [`Registry`].
//!
//! A registered right stays valid only while its port lives. The caller
//! supplies `watch`, which must arrange to hear of the right's death (the
//! bootstrap task requests a dead-name notification) and say whether it
//! could; on that death the caller removes the names
//! ([`Registry::remove_right`]) and the right. A name whose right is
//! already dead is free again even before that.

use crate::names::{Error, Server};
use crate::registry::{Registry, RegistryError};
use libmach::abi::{PortName, PortRight, MACH_PORT_TYPE_DEAD_NAME};
use libmach::{PortKernel, SendRight};

/// The name service as one request sees it.
pub struct NameService<'a, K: PortKernel, W: FnMut(PortName) -> bool> {
    pub kernel: &'a K,
    pub registry: &'a mut Registry<PortName>,
    /// Set when a name was registered (the requester is a server).
    pub registered: &'a mut bool,
    /// Called once per newly registered port; false refuses the
    /// registration (its death could not be watched).
    pub watch: W,
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
}
