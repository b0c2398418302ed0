//! The name service: the generated `bootstrap_names` server
//! (`personality/bootstrap-core/names.defs`) over the registry.
//!
//! A registered right stays valid only while its port lives: on register,
//! the bootstrap task asks for a dead-name notification on it (sent to the
//! supervisor port), and the supervisor removes the names when it fires. A
//! name whose right is already dead is free again even before that.

use libmach::abi::{Disposition, NotifyId, PortName, PortRight, MACH_PORT_NULL, MACH_PORT_TYPE_DEAD_NAME};
use libmach::{PortKernel, SendRight, SystemKernel};
use mach_bootstrap_core::names::{Error, Server};
use mach_bootstrap_core::registry::{Registry, RegistryError};

/// The name service as seen by one request: the registry, and where to
/// note that the child the request came from registered a name.
pub struct NameService<'a> {
    pub registry: &'a mut Registry<PortName>,
    pub supervisor_port: PortName,
    pub registered: &'a mut bool,
}

fn error_of(error: RegistryError) -> Error {
    match error {
        RegistryError::InvalidName => Error::InvalidName,
        RegistryError::NameInUse => Error::NameInUse,
        RegistryError::UnknownName => Error::UnknownName,
        RegistryError::Full => Error::RegistryFull,
    }
}

fn is_dead(name: PortName) -> bool {
    SystemKernel.port_type(name).is_ok_and(|kind| kind & MACH_PORT_TYPE_DEAD_NAME != 0)
}

impl Server for NameService<'_> {
    fn register_name(&mut self, name: &str, right: SendRight) -> Result<(), Error> {
        if right.is_dead() || is_dead(right.name()) {
            return Err(Error::DeadRight);
        }
        let name = name.as_bytes();
        // A dead server's name is free even before its notification is read.
        if let Ok(existing) = self.registry.lookup(name) {
            if is_dead(existing) {
                self.registry.remove_right(existing);
            }
        }
        let watched = self.registry.contains_right(right.name());
        self.registry.register(name, right.name()).map_err(error_of)?;
        // The registry holds the reference now (several names for one port
        // share our one name for it, each with its own reference).
        let right = right.into_name();
        if !watched {
            let requested = libmach::trap::port_request_notification(
                libmach::trap::task_self(),
                right,
                NotifyId::DeadName.as_u32(),
                0,
                self.supervisor_port,
                Disposition::MakeSendOnce as u32,
            );
            match requested {
                Ok(MACH_PORT_NULL) => {}
                Ok(previous) => {
                    let _ = SystemKernel.port_deallocate(previous);
                }
                Err(_) => {
                    // Without the request the name would outlive its server.
                    self.registry.remove_right(right);
                    let _ = SystemKernel.port_deallocate(right);
                    return Err(Error::DeadRight);
                }
            }
        }
        *self.registered = true;
        Ok(())
    }

    fn lookup(&mut self, name: &str) -> Result<SendRight, Error> {
        let right = self.registry.lookup(name.as_bytes()).map_err(error_of)?;
        // The reply moves a send right: make one more reference to move.
        SystemKernel.port_mod_refs(right, PortRight::Send, 1).map_err(|_| Error::UnknownName)?;
        Ok(SendRight::from_name(&SystemKernel, right))
    }
}
