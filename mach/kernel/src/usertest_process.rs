//! Kernel tests of the process and memory servers (docs/process-server.md)
//! booted by manifest with the driver, the file server and the console on
//! the test machine's root disk: the frames fork and exit take, counted by
//! the kernel while `process-frames` (personality/process-checks) waits at
//! each step. The checks of the POSIX behaviour itself (signals, exec,
//! wait...) are scripts/tests/process (`proc-checks`, through scripts/run).
#![forbid(unsafe_code)]

use crate::kernel::with_kernel;
use crate::ktest::Failure;
use crate::memory::{frame, heap, PAGE_SIZE};
use crate::task::TaskId;
use crate::usertest::{
    boot_manifest, end_bootstrap, exists, output, task_ids, wait_for_any_text, wait_for_text, wait_until,
};
use crate::{ensure, ktest};
use alloc::string::String;
use alloc::vec::Vec;

#[cfg(target_arch = "x86_64")]
const SERVERS: &str = "console registers=console io-ports=0x3f8-0x3ff host-port\n\
    virtio registers=block,block1,block2,block3,random host-port\n\
    fs registers=fs needs=block,random io-ports=0x70-0x71\n\
    memory registers=memory host-port\n";
/// aarch64: the console maps its PL011 with the host port; no I/O ports.
#[cfg(target_arch = "aarch64")]
const SERVERS: &str = "console registers=console host-port\n\
    virtio registers=block,block1,block2,block3,random host-port\n\
    fs registers=fs needs=block,random\n\
    memory registers=memory host-port\n";
/// The process server's line before its arguments. It is not granted
/// `power-off` (docs/bootstrap.md, the manifest): when init ends, the
/// system goes down and the test machine stays on (on aarch64 the host
/// port alone would let the server power it off; on x86_64 it has no
/// power-off registers among its ports).
#[cfg(target_arch = "x86_64")]
const PROCESS_SERVER: &str = "proc registers=proc needs=fs,memory,console host-port io-ports=0x70-0x71";
#[cfg(target_arch = "aarch64")]
const PROCESS_SERVER: &str = "proc registers=proc needs=fs,memory,console host-port";

/// Free frames, counting what the kernel heap holds as free (it grows and
/// gives back whole chunks as it goes).
fn free_frames() -> usize {
    heap::frames_free_counting_the_heap()
}

/// Waits for `process-frames`' step `step`; the gate's address. Fails at
/// once if the program ended (killed for lack of memory, say).
fn reached(task: TaskId, step: u32) -> Result<u64, Failure> {
    let suffix = alloc::format!(" step {step}\n");
    let seen =
        wait_until(600_000, || output(task).is_some_and(|output| output.contains(suffix.as_str())) || !exists(task));
    let text = output(task).unwrap_or_default();
    ensure!(seen && exists(task), "process-frames never reached step {step}; it printed:\n{text}");
    let line = text.lines().find(|line| line.ends_with(suffix.trim_end())).ok_or("no step line")?;
    let gate = line.split(" gate 0x").nth(1).and_then(|rest| rest.split(' ').next()).ok_or("no gate")?;
    Ok(u64::from_str_radix(gate, 16).map_err(|_| "bad gate")?)
}

/// Lets `process-frames` go on past step `step`.
fn open_gate(task: TaskId, gate: u64, step: u32) -> Result<(), Failure> {
    with_kernel(|kernel| -> Result<(), Failure> {
        let mut space = kernel.user_space(task)?;
        crate::memory::user::write_u32(&mut space, gate, step).map_err(|_| "cannot write the gate")?;
        Ok(())
    })
}

/// The live task whose process id (its credential's) is `pid`.
fn task_of_pid(pid: u32) -> Option<TaskId> {
    with_kernel(|kernel| {
        kernel
            .tasks
            .iter()
            .find(|(_, task)| {
                !task.terminated && kernel.ipc.space(task.space).is_some_and(|space| space.credential().pid == pid)
            })
            .map(|(id, _)| id)
    })
}

/// The pid after "forked " in `process-frames`' output.
fn forked_pid(task: TaskId, mib: u64) -> Option<u32> {
    let text: String = output(task)?;
    let marker = alloc::format!("resident {mib} forked ");
    let rest = text.rsplit(marker.as_str()).next()?;
    rest.split(' ').next()?.parse().ok()
}

/// The live task called `name` (the bootstrap task names each program
/// after its module).
fn live_task_named(name: &str) -> Option<TaskId> {
    with_kernel(|kernel| kernel.tasks.iter().find(|(_, task)| task.name == name && !task.terminated).map(|(id, _)| id))
}

/// Ends init while every server still runs, as the end of a system: the
/// process server ends every process, has the file server write
/// everything back, and (not granted power-off) leaves the machine on.
/// The test's own tear-down then ends the servers. Ending init only
/// there, among the others in task-slot order, once let the file server
/// end first: the write-back failed and, on aarch64, the process server
/// powered the test machine off.
fn system_goes_down(init: TaskId) -> Result<(), Failure> {
    let server = live_task_named("proc").ok_or("no process server")?;
    crate::usertest::terminate(init)?;
    wait_for_text(server, "proc: the system is down; the machine stays on", 60_000)?;
    let text = output(server).unwrap_or_default();
    ensure!(!text.contains("could not write everything back"), "the process server said:\n{text}");
    ensure!(!text.contains("powering off"), "the process server said:\n{text}");
    Ok(())
}

/// The steps of `process-frames` (started with `cycles` and `sizes`),
/// measured; the bootstrap task is ended by the caller whatever happens.
fn measure(program: TaskId, cycles: u32, sizes: &[u64]) -> Result<(), Failure> {
    let gate = reached(program, 1)?;
    let warm = free_frames();
    open_gate(program, gate, 1)?;
    reached(program, 2)?;
    let after = free_frames();
    let text = output(program).unwrap_or_default();
    ensure!(text.contains("cycles done (0 failed)"), "process-frames said:\n{text}");
    ensure!(after == warm, "free frames after {cycles} fork+exit cycles: {after}, after the warm-up: {warm}");
    open_gate(program, gate, 2)?;

    let mut costs = Vec::new();
    for (index, &mib) in sizes.iter().enumerate() {
        let step = 3 + 2 * index as u32;
        reached(program, step)?;
        let heap_then = heap::usage().1;
        let free_before = free_frames();
        open_gate(program, gate, step)?;
        reached(program, step + 1)?;
        let heap_growth = heap::usage().1.saturating_sub(heap_then) / PAGE_SIZE;
        let taken = free_before - free_frames();
        let pid = forked_pid(program, mib).ok_or("no child pid")?;
        let child = task_of_pid(pid).ok_or("no child task")?;
        let tables = with_kernel(|kernel| {
            kernel.tasks.get(child).and_then(|task| task.page_tables.as_ref()).map(|tables| tables.table_pages())
        })
        .ok_or("no child page tables")?;
        costs.push((mib, taken - tables));
        crate::println!(
            "fork with {mib} MiB resident: {taken} frames, {tables} of them the child's page tables, heap +{heap_growth} pages"
        );
        open_gate(program, gate, step + 1)?;
    }
    ensure!(
        costs.windows(2).all(|pair| pair[0].1 == pair[1].1),
        "frames a fork takes besides page tables, by MiB resident: {costs:?}"
    );
    wait_for_text(program, "process-frames: done (0 failed)", 60_000)
}

ktest! {
    fn fork_and_exit_give_every_frame_back_and_forks_cost_the_same_whatever_the_memory() {
        // 1 MiB against 64 MiB resident on the 4 GiB machine, against 8 MiB
        // on the 128 MiB one (no room for 64 MiB besides the servers); the
        // 32 MiB machine, whose memory the earlier cases' servers leave
        // short, counts the cycles only. Decided by the machine's size,
        // never by what happens to be free. 1,000 fork+exit cycles keep the
        // suites within their time; scripts/tests/process boots this case
        // alone with `ktest.process_cycles=10000`, the figure.
        let sizes: &[u64] = match frame::statistics().usable / 256 {
            1024.. => &[1, 64],
            96.. => &[1, 8],
            _ => &[],
        };
        let cycles: u32 = crate::command_line::option(&crate::boot_info::get().command_line, "ktest.process_cycles")
            .and_then(|text| text.parse().ok())
            .unwrap_or(1_000);
        // Earlier cases' dead drivers' DMA frames come free only once their
        // quarantine is over (docs/resources.md): counted here, they would
        // come back in the middle of the cycles and look like frames the
        // cycles held at warm-up. Measure from that quiescent point.
        crate::usertest::drain_dma_quarantine()?;
        let before = task_ids();
        let mut arguments = alloc::format!("{cycles}");
        for mib in sizes {
            arguments.push_str(&alloc::format!(" {mib}"));
        }
        let manifest = alloc::format!(
            "{SERVERS}{PROCESS_SERVER} -- /bin/process-frames {arguments}\n"
        );
        let bootstrap = boot_manifest(&manifest)?;
        let measured = wait_for_any_text("process-frames: cycles warm", 120_000)
            .and_then(|program| measure(program, cycles, sizes).and_then(|()| system_goes_down(program)));
        let ended = end_bootstrap(bootstrap, &before);
        measured.and(ended)
    }
}
