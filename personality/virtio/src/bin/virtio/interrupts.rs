//! The interrupt thread (the driver's first thread, once setup is done):
//! receives the kernel's interrupt messages, acknowledges each, then takes
//! every finished request off the device's used ring and wakes the worker
//! waiting for it.
//!
//! Acknowledging before draining loses nothing: a request that finishes
//! while the ring is being drained raises a new interrupt, which the
//! kernel holds as one more message (docs/block-driver.md, "Interrupts").

use crate::service::{wake, Completion, Driver};
use crate::setup::{Device, DeviceState};
use alloc::vec::Vec;
use libmach::abi::{parse_received, MachMsgReturn, PortName, INTERRUPT_MESSAGE_ID, MACH_RCV_MSG};
use libmach::trap::{mach_msg, MessageBuffer};

/// Serves interrupts for ever (returns only if its port is gone).
pub fn serve(driver: &Driver, interrupt_port: PortName) {
    let mut buffer = MessageBuffer::<128>::new();
    loop {
        match mach_msg(&mut buffer, MACH_RCV_MSG, 0, interrupt_port, 0) {
            Ok(()) => {}
            Err(MachMsgReturn::ReceiveInterrupted) => continue,
            Err(error) => {
                mach_usertests::println!("virtio: interrupts stopped: {error:?}");
                return;
            }
        }
        // Only the kernel sends here (the one other send right is the
        // driver's own); check anyway.
        let Ok((view, _)) = parse_received(&buffer.0) else { continue };
        let Ok(number) = <[u8; 4]>::try_from(view.inline_data) else { continue };
        if view.header.id != INTERRUPT_MESSAGE_ID || view.descriptor_count() != 0 {
            continue;
        }
        let number = u32::from_le_bytes(number);
        let _ = libmach::device::interrupt_acknowledge(driver.host, number);
        for device in driver.devices.iter().filter(|device| device.interrupt == number) {
            drain(driver, device);
        }
    }
}

/// Completes every request the device finished.
fn drain(driver: &Driver, device: &Device) {
    let mut finished: Vec<(usize, Completion)> = Vec::new();
    {
        let mut state = device.state.lock();
        let DeviceState { rings, queue, waiting, .. } = &mut *state;
        loop {
            match queue.complete(rings) {
                Ok(Some(used)) => {
                    if let Some(worker) = waiting.get_mut(used.head as usize).and_then(Option::take) {
                        finished.push((worker, Completion::Done(used.written)));
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    // The used ring makes no sense: stop trusting the
                    // device and fail everything it holds.
                    mach_usertests::println!(
                        "virtio: {}: device misbehaved ({error:?}); marking it failed",
                        device.name
                    );
                    state.broken = true;
                    state.transport.fail();
                    for worker in state.waiting.iter_mut().filter_map(Option::take) {
                        finished.push((worker, Completion::Failed));
                    }
                    break;
                }
            }
        }
        state.in_flight -= finished.len().min(state.in_flight);
    }
    for (worker, completion) in finished {
        wake(driver, worker, completion);
    }
}
