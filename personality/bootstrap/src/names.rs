//! The bootstrap task's side of the name service: the dead-name request
//! that keeps a registered name from outliving its server (the service
//! itself is `mach_bootstrap_core::service`).

use libmach::abi::{Disposition, NotifyId, PortName, MACH_PORT_NULL};
use libmach::trap::{port_request_notification, task_self};
use libmach::{PortKernel, SystemKernel};

/// Asks for a dead-name notification on `right`, sent to `supervisor_port`.
pub fn watch(right: PortName, supervisor_port: PortName) -> bool {
    let dead_name = NotifyId::DeadName.as_u32();
    match port_request_notification(task_self(), right, dead_name, 0, supervisor_port, Disposition::MakeSendOnce as u32)
    {
        Ok(MACH_PORT_NULL) => true,
        Ok(previous) => {
            let _ = SystemKernel.port_deallocate(previous);
            true
        }
        Err(_) => false,
    }
}
