//! Kernel tests of the virtio driver (`personality/virtio`) and of
//! message-signalled interrupts, with the user programs of that crate as
//! boot modules. They need QEMU's virtio devices: the root disk, the test
//! disk and virtio-rng (scripts/lib/common.sh, `virtio_test_devices`).
//!
//! Until the bootstrap task can hand a program the host port, the cases
//! start the driver themselves with the rights it needs: the host port and
//! a send right to `test-names`, a name service standing in for the
//! bootstrap task's.

use crate::ktest::Failure;
use crate::scheduler::with_kernel;
use crate::task::{self, TaskId};
use crate::usertest::{
    ensure_nothing_left, give_send_right, ipc_resources, ipc_state_is_consistent, memory_accounting_is_exact, module,
    output, serve, terminate, wait_for_text, HIGH,
};
use crate::{ensure, ensure_eq, ktest};

/// The driver's argument: its bootstrap port low, the host port high
/// (`mach_virtio::driver_argument`).
fn driver_argument(bootstrap_port: u32, host_port: u32) -> u64 {
    bootstrap_port as u64 | (host_port as u64) << 32
}

/// A send right to the privileged host port in `task`'s space.
fn give_host_port(kernel: &mut crate::scheduler::Kernel, task: TaskId) -> u32 {
    let space = kernel.tasks.get(task).expect("task").space;
    let host = kernel.host_privileged_port.expect("host port");
    crate::ipc::port_traps::give_send_right(kernel, space, host).unwrap_or(0)
}

/// The test name service and its receive right's name.
fn start_names() -> Result<(TaskId, u32), Failure> {
    let mut service = 0;
    let names = task::spawn_with("test-names", module("test-names")?, HIGH, |kernel, names| {
        service = serve(kernel, names);
        service as u64
    })?;
    Ok((names, service))
}

/// Starts the driver, registering with `names`.
fn start_driver(names: TaskId, service: u32) -> Result<TaskId, Failure> {
    // At the priority the bootstrap task's children get (its threads too).
    Ok(task::spawn_with("virtio", module("virtio")?, crate::thread::DEFAULT_PRIORITY, |kernel, driver| {
        let bootstrap_port = give_send_right(kernel, names, service, driver);
        driver_argument(bootstrap_port, give_host_port(kernel, driver))
    })?)
}

/// Starts `block-checks` in `mode` with a send right to `names`.
fn start_client(names: TaskId, service: u32, mode: u64) -> Result<TaskId, Failure> {
    Ok(task::spawn_with("block-checks", module("block-checks")?, HIGH, |kernel, client| {
        give_send_right(kernel, names, service, client) as u64 | mode << 32
    })?)
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

    fn the_virtio_driver_serves_disks_and_entropy() {
        let (names, service) = start_names()?;
        let driver = start_driver(names, service)?;
        let client = start_client(names, service, 0)?;
        wait_for_text(client, " failed", 60_000)?;
        let text = output(client).unwrap_or_default();
        ensure!(text.contains(" 0 failed") && !text.contains(" 0 passed"), "block-checks said:\n{text}");
        let log = output(driver).unwrap_or_default();
        ensure!(log.contains("virtio: serving block1") && log.contains("virtio: serving random"), "the driver said:\n{log}");
        ensure!(log.contains("block1: 4 requests in flight"), "never 4 requests in flight; the driver said:\n{log}");
        memory_accounting_is_exact()?;
        for task in [client, driver, names] {
            terminate(task)?;
        }
        ensure_eq!(bound_vectors(), 0);
        ipc_state_is_consistent()
    }

    fn the_virtio_driver_benchmark_runs() {
        // scripts/benches/block runs this case alone under -icount and in
        // plain TCG and keeps the figures; here it must only complete.
        let (names, service) = start_names()?;
        let driver = start_driver(names, service)?;
        let bench = task::spawn_with("block-bench", module("block-bench")?, HIGH, |kernel, bench| {
            give_send_right(kernel, names, service, bench) as u64
        })?;
        // Under -icount the virtual clock races ahead while QEMU does the
        // I/O (scripts/benches/block): a long bound in virtual time.
        wait_for_text(bench, "bench done", 1_200_000)?;
        let text = output(bench).unwrap_or_default();
        for name in [
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
        for task in [bench, driver, names] {
            terminate(task)?;
        }
        ensure_eq!(bound_vectors(), 0);
        ipc_state_is_consistent()
    }

    fn a_killed_virtio_driver_restarts_clean_and_its_client_retries() {
        let (names, service) = start_names()?;
        let driver = start_driver(names, service)?;
        let client = start_client(names, service, 1)?;
        wait_for_text(client, "block-checks: workload started", 30_000)?;
        // Let some requests go through, then kill the driver mid-workload
        // and start another, as the bootstrap task would.
        crate::scheduler::sleep_for(core::time::Duration::from_millis(50));
        terminate(driver)?;
        ensure_eq!(bound_vectors(), 0);
        let successor = start_driver(names, service)?;
        wait_for_text(successor, "virtio: serving block1", 30_000)?;
        wait_for_text(client, " retried\n", 60_000)?;
        let text = output(client).unwrap_or_default();
        let line = text.lines().find(|line| line.starts_with("block-checks: restart: ") && line.contains(" retried")).unwrap_or("");
        ensure!(line.contains(" 0 failed") && !line.contains(" 0 retried"), "the client said:\n{text}");
        for task in [client, successor, names] {
            terminate(task)?;
        }
        ensure_eq!(bound_vectors(), 0);
        ipc_state_is_consistent()
    }
}
