//! Kernel tests of the virtio driver (`personality/virtio`: PCI with MSI-X
//! on x86_64, virtio-mmio with interrupt lines on aarch64) and of
//! message-signalled interrupts (x86_64), with the programs of that crate
//! as boot modules. They need QEMU's virtio devices: the root disk, the test disk,
//! the root disk again read-only, and virtio-rng (scripts/lib/common.sh,
//! `virtio_test_devices`).
//!
//! The driver and its clients are started by the bootstrap task from a boot
//! manifest, as in the system: the driver's line grants the host port.
//! `msi-checks` is started by the kernel itself with the host port (the
//! ownership case coordinates two instances through their arguments).
#![forbid(unsafe_code)]

use crate::kernel::with_kernel;
use crate::ktest::Failure;
use crate::task::TaskId;
use crate::usertest::{
    boot_manifest, drain_dma_quarantine, end_bootstrap, memory_accounting_is_exact, output, task_ids, terminate,
    wait_for_any_text, wait_for_text, wait_until,
};
use crate::{ensure, ensure_eq, ktest};

/// The driver's manifest line: every name it may register, the host port.
const DRIVER: &str = "virtio registers=block,block1,block2,block3,random host-port\n";

/// Interrupts bound to a port: lines and message-signalled vectors (the
/// driver binds vectors on x86_64, virtio-mmio lines on aarch64).
fn bound_interrupts() -> usize {
    with_kernel(|kernel| crate::device::bound_interrupts(kernel))
}

/// The live task called `name` (the bootstrap task names each child after
/// its module).
fn live_task_named(name: &str) -> Option<TaskId> {
    with_kernel(|kernel| kernel.tasks.iter().find(|(_, task)| task.name == name && !task.terminated).map(|(id, _)| id))
}

/// Boots the driver and `client_line` under the bootstrap task.
fn boot_driver_with(client_line: &str) -> Result<TaskId, Failure> {
    boot_manifest(&alloc::format!("{DRIVER}{client_line}\n"))
}

ktest! {
    fn the_virtio_driver_serves_disks_and_entropy() {
        let before = task_ids();
        let bootstrap = boot_driver_with("block-checks needs=block1,random")?;
        let client = wait_for_any_text("block-checks: ", 60_000)?;
        wait_for_text(client, " failed", 60_000)?;
        let text = output(client).unwrap_or_default();
        ensure!(text.contains(" 0 failed") && !text.contains(" 0 passed"), "block-checks said:\n{text}");
        let driver = live_task_named("virtio").ok_or("no driver task")?;
        let log = output(driver).unwrap_or_default();
        ensure!(log.contains("virtio: serving block1") && log.contains("virtio: serving random"), "the driver said:\n{log}");
        ensure!(log.contains("block1: 4 requests in flight"), "never 4 requests in flight; the driver said:\n{log}");
        memory_accounting_is_exact()?;
        end_bootstrap(bootstrap, &before)?;
        ensure_eq!(bound_interrupts(), 0);
        drain_dma_quarantine()
    }

    fn the_virtio_driver_holds_a_bounded_number_of_requests() {
        // Held to 2 requests, the driver meets four clients each with one
        // in flight (and 4-piece reads): its ports leave the port set, the
        // requests wait in the kernel's queue, and every one is served.
        let before = task_ids();
        let manifest = "virtio registers=block,block1,block2,block3,random host-port -- --held-requests 2\n\
                        block-checks needs=block1 -- concurrent\n";
        let bootstrap = boot_manifest(manifest)?;
        let client = wait_for_any_text("block-checks: concurrent: ", 60_000)?;
        wait_for_text(client, " failed", 60_000)?;
        let text = output(client).unwrap_or_default();
        ensure!(text.contains(" 0 failed") && !text.contains(" 0 passed"), "block-checks said:\n{text}");
        let driver = live_task_named("virtio").ok_or("no driver task")?;
        let log = output(driver).unwrap_or_default();
        ensure!(log.contains("virtio: holding 2 requests: new ones wait"), "the limit was never reached; the driver said:\n{log}");
        end_bootstrap(bootstrap, &before)?;
        ensure_eq!(bound_interrupts(), 0);
        drain_dma_quarantine()
    }

    fn the_virtio_driver_benchmark_runs() {
        // scripts/benches/block runs this case alone (block.bench=full)
        // under -icount and in plain TCG and keeps the figures; in the
        // suite it must only complete, so it runs quick.
        let before = task_ids();
        let full = crate::command_line::option(&crate::boot_info::get().command_line, "block.bench") == Some("full");
        let bootstrap = boot_driver_with(if full { "block-bench needs=block1,random" } else { "block-bench needs=block1,random -- quick" })?;
        // Under -icount the virtual clock races ahead while QEMU does the
        // I/O: a long bound in virtual time.
        let bench = wait_for_any_text("bench done", 1_200_000)?;
        let text = output(bench).unwrap_or_default();
        for name in [
            "block_info_request",
            "block_read_512_request",
            "block_read_4k_request",
            "block_write_4k_request",
            "block_flush_request",
            "block_sequential_write_ticks_per_mib",
            "block_sequential_read_ticks_per_mib",
            "random_32_request",
        ] {
            ensure!(text.contains(&alloc::format!("bench {name} ")), "block-bench said:\n{text}");
            ensure!(text.contains(&alloc::format!("bench busy_{name} ")), "block-bench said:\n{text}");
        }
        end_bootstrap(bootstrap, &before)?;
        ensure_eq!(bound_interrupts(), 0);
        drain_dma_quarantine()
    }

    fn a_killed_virtio_driver_is_restarted_clean_and_its_client_retries() {
        let before = task_ids();
        let bootstrap = boot_driver_with("block-checks needs=block1 -- restart")?;
        let client = wait_for_any_text("block-checks: workload started", 30_000)?;
        // Let requests go through, then kill the driver mid-workload; the
        // bootstrap task restarts it.
        crate::scheduler::sleep_for(core::time::Duration::from_millis(50));
        let driver = live_task_named("virtio").ok_or("no driver task")?;
        terminate(driver)?;
        wait_for_text(bootstrap, "bootstrap: virtio ended: its task ended", 5_000)?;
        wait_for_text(bootstrap, "restarting it (restart 1 of 3", 1_000)?;
        ensure!(
            wait_until(30_000, || live_task_named("virtio").is_some_and(|successor| successor != driver
                && output(successor).is_some_and(|text| text.contains("virtio: serving block1")))),
            "no new driver served block1"
        );
        wait_for_text(client, " retried\n", 60_000)?;
        let text = output(client).unwrap_or_default();
        let line = text.lines().find(|line| line.starts_with("block-checks: restart: ") && line.contains(" retried")).unwrap_or("");
        ensure!(line.contains(" 0 failed") && !line.contains(" 0 retried"), "the client said:\n{text}");
        end_bootstrap(bootstrap, &before)?;
        ensure_eq!(bound_interrupts(), 0);
        drain_dma_quarantine()
    }
}

/// Message-signalled interrupts: x86_64's (aarch64's virt board has none).
#[cfg(target_arch = "x86_64")]
mod message_signalled {
    use crate::kernel::with_kernel;
    use crate::task::{self, TaskId};
    use crate::usertest::{
        drain_dma_quarantine, ensure_nothing_left, ipc_resources, ipc_state_is_consistent, memory_accounting_is_exact,
        module, output, terminate, wait_for_text, HIGH,
    };
    use crate::{ensure, ensure_eq, ktest};

    /// A send right to the privileged host port in `task`'s space.
    fn give_host_port(kernel: &mut crate::kernel::Kernel, task: TaskId) -> u32 {
        let space = kernel.tasks.get(task).expect("task").space;
        let host = kernel.host_privileged_port.expect("host port");
        crate::ipc::port_traps::give_send_right(kernel, space, host).unwrap_or(0)
    }

    fn bound_vectors() -> usize {
        with_kernel(|kernel| crate::device::message_signalled_bindings(kernel))
    }

    ktest! {
        fn message_signalled_interrupts_bind_deliver_and_are_freed() {
            for round in 0..2 {
                let before = ipc_resources();
                let checks = task::spawn_with("msi-checks", module("msi-checks")?, HIGH, |kernel, checks| {
                    give_host_port(kernel, checks) as u64
                })?;
                wait_for_text(checks, "msi-checks: ", 20_000)?;
                let text = output(checks).unwrap_or_default();
                ensure!(text.contains(" 0 failed") && !text.contains(" 0 passed"), "msi-checks said:\n{text}");
                memory_accounting_is_exact()?;
                terminate(checks)?;
                ensure_eq!(bound_vectors(), 0);
                // Its DMA memory (64 allocations, 67 pages) is kept from reuse
                // for a while (a device may still finish into it), then freed.
                let quarantined = with_kernel(|kernel| crate::device::quarantined_frames(kernel));
                ensure!(quarantined >= 66, "{quarantined} DMA frames kept after the task ended");
                drain_dma_quarantine()?;
                if round == 1 {
                    ensure_nothing_left(before)?;
                }
            }
            Ok(())
        }

        fn a_message_signalled_interrupt_belongs_to_the_task_that_bound_it() {
            let holder = task::spawn_with("msi-checks", module("msi-checks")?, HIGH, |kernel, holder| {
                give_host_port(kernel, holder) as u64 | 1 << 32
            })?;
            wait_for_text(holder, "msi-checks: holding ", 5_000)?;
            let text = output(holder).unwrap_or_default();
            let vector: u64 = text.trim().rsplit(' ').next().and_then(|number| number.parse().ok()).ok_or("no vector")?;
            let intruder = task::spawn_with("msi-checks", module("msi-checks")?, HIGH, |kernel, intruder| {
                give_host_port(kernel, intruder) as u64 | 2 << 32 | vector << 40
            })?;
            wait_for_text(intruder, "msi-checks: intruder: ", 5_000)?;
            let text = output(intruder).unwrap_or_default();
            ensure!(text.contains("intruder: 3 passed, 0 failed"), "the intruder said:\n{text}");
            terminate(intruder)?;
            ensure_eq!(bound_vectors(), 1);
            terminate(holder)?;
            ensure_eq!(bound_vectors(), 0);
            ipc_state_is_consistent()
        }
    }
}
