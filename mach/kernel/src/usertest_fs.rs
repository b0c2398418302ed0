//! Kernel tests of the file server (`personality/fs`) booted by manifest
//! with the virtio driver on the test machine's root disk (copy-on-write:
//! scripts/lib/common.sh, `virtio_test_devices`): a workload served, then
//! the file server killed under its client (calls fail instead of hanging,
//! a restarted server serves again), and the block driver killed under a
//! disk workload (the file server sends its requests again to the
//! restarted driver; the workload completes). The long checks against the
//! disk (e2fsck, debugfs, a killed machine) are scripts/tests/file-server.
#![forbid(unsafe_code)]

use crate::kernel::with_kernel;
use crate::ktest::Failure;
use crate::task::TaskId;
use crate::usertest::{boot_manifest, end_bootstrap, output, task_ids, terminate, wait_for_any_text, wait_for_text};
use crate::{ensure, ktest};

const DRIVER: &str = "virtio registers=block,block1,block2,block3,random host-port\n";
/// The file server's line: it needs no device of its own, its wall clock
/// being the bootstrap task's one reading (`AT_MACH_BOOT_TIME`).
const FILE_SERVER: &str = "fs registers=fs needs=block,random\n";

/// The live task called `name` started after `before` was taken (a failed
/// earlier case may leave its own behind).
fn started_since(before: &[TaskId], name: &str) -> Option<TaskId> {
    with_kernel(|kernel| {
        kernel
            .tasks
            .iter()
            .find(|(id, task)| task.name == name && !task.terminated && !before.contains(id))
            .map(|(id, _)| id)
    })
}

/// Boots the driver, the file server and `client_line`.
fn boot_with(client_line: &str) -> Result<TaskId, Failure> {
    boot_manifest(&alloc::format!("{DRIVER}{FILE_SERVER}{client_line}\n"))
}

ktest! {
    fn a_killed_file_server_fails_its_calls_and_a_restarted_one_serves() {
        let before = task_ids();
        let bootstrap = boot_with("fs-workload needs=fs restart=no -- restart")?;
        let client = wait_for_any_text("fs-workload: first server: ", 60_000)?;
        let text = output(client).unwrap_or_default();
        ensure!(text.contains("fs-workload: first server: 20 passed, 0 failed"), "fs-workload said:\n{text}");
        wait_for_text(client, "fs-workload: working", 10_000)?;
        let server = started_since(&before, "fs").ok_or("no fs task")?;
        // Its wall clock came from the bootstrap task (which read the CMOS
        // on x86_64, the PL031 on aarch64).
        let server_text = output(server).unwrap_or_default();
        ensure!(!server_text.contains("no boot time"), "fs said:\n{server_text}");
        terminate(server)?;
        wait_for_text(bootstrap, "fs ended", 10_000)?;
        wait_for_text(client, "fs-workload: restarted server: ", 60_000)?;
        let text = output(client).unwrap_or_default();
        ensure!(text.contains("fs-workload: restarted server: 22 passed, 0 failed"), "fs-workload said:\n{text}");
        end_bootstrap(bootstrap, &before)
    }
}

ktest! {
    fn a_killed_block_driver_is_retried_and_the_disk_workload_completes() {
        let before = task_ids();
        let bootstrap = boot_with("fs-workload needs=fs restart=no -- disk")?;
        let client = wait_for_any_text("fs-workload: working", 60_000)?;
        // Kill the driver as the workload starts (it takes far longer than
        // this): its requests are in flight or about to be sent; the
        // bootstrap task restarts the driver.
        let driver = started_since(&before, "virtio").ok_or("no virtio task")?;
        terminate(driver)?;
        wait_for_text(client, "fs-workload: disk: ", 120_000)?;
        let text = output(client).unwrap_or_default();
        ensure!(text.contains("fs-workload: disk: 60 passed, 0 failed"), "fs-workload said:\n{text}");
        let server = started_since(&before, "fs").ok_or("no fs task")?;
        let server_text = output(server).unwrap_or_default();
        ensure!(server_text.contains("went away; sending the request again"), "fs said:\n{server_text}");
        end_bootstrap(bootstrap, &before)
    }
}
