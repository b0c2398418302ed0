//! What the examples share.

use mach_abi::{CopyOption, MachMsgReturn, PortName};
use mach_ipc::TaskMemory;

/// A task without memory: the examples send no out-of-line data.
pub struct NoMemory;

impl TaskMemory for NoMemory {
    fn capture_region(&mut self, _: u64, _: u32, _: CopyOption) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::SendInvalidMemory)
    }
    fn read_port_names(&mut self, _: u64, _: u32) -> Result<Vec<PortName>, MachMsgReturn> {
        Err(MachMsgReturn::SendInvalidMemory)
    }
    fn deallocate(&mut self, _: u64, _: u64) {}
    fn map_region(&mut self, _: u64, _: u32) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::ReceiveInvalidData)
    }
    fn write_port_names(&mut self, _: &[PortName]) -> Result<u64, MachMsgReturn> {
        Err(MachMsgReturn::ReceiveInvalidData)
    }
}
