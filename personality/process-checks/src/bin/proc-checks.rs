//! `proc-checks`: the process and memory servers from a process's side,
//! over the generated clients (until minilibc runs on Mach_R). Run by init
//! (`scripts/run --add ... -c proc-checks`, scripts/tests/process); ends
//! with `proc-checks: N passed, N failed` and exits with the number of
//! failures. Each check is one child (or a few) whose exit status, signal
//! or shared memory tells what it saw.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use libmach::abi::thread_state::{NativeThreadState, ThreadState};
use libmach::abi::{KernReturn, PortName};
use libmach::{Context, ReceiveRight, SendOnceRight, SendRight, ServeOptions, SystemKernel};
use mach_process_checks::{exited, killed_by, println, Checks, Process};
use personality_interfaces::{proc, signal};

libmach::entry!(main);

const SIGKILL: i32 = 9;
const SIGUSR1: i32 = 10;
const SIGSEGV: i32 = 11;
const SIGALRM: i32 = 14;
const SIGTERM: i32 = 15;
const SIGCHLD: i32 = 17;
const SIGCONT: i32 = 18;
const SIGSTOP: i32 = 19;
const WUNTRACED: i32 = 2;
const WCONTINUED: i32 = 8;
const PRIVATE_ANONYMOUS: u32 = 0x22;
const SHARED_ANONYMOUS: u32 = 0x21;
const READ_WRITE: u32 = 3;

fn bit(signal: i32) -> u64 {
    1 << (signal - 1)
}

/// A value in the data segment: copied on write between parent and child.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Where the faulting instruction of the caught-fault check goes on.
static RESUME_AT: AtomicU64 = AtomicU64::new(0);

/// Reads a word of this process's memory.
fn peek(address: u64) -> u64 {
    // SAFETY: the callers pass addresses of memory mapped for this
    // process (an allocation they just made), 8-byte aligned.
    unsafe { (address as *const u64).read_volatile() }
}

/// Writes a word of this process's memory.
fn poke(address: u64, value: u64) {
    // SAFETY: as for `peek`, mapped writable.
    unsafe { (address as *mut u64).write_volatile(value) }
}

/// What a signal thread received.
#[derive(Default)]
struct Received {
    posts: Vec<signal::Information>,
    faults: Vec<signal::Information>,
}

impl signal::Server<SystemKernel> for Received {
    fn post(&mut self, context: &Context<'_, SystemKernel>, information: &signal::Information) {
        // Only the process server (pid 0) sends signals.
        if context.credential().is_some_and(|credential| credential.pid == 0) {
            self.posts.push(*information);
        }
    }
    fn fault(
        &mut self,
        _context: &Context<'_, SystemKernel>,
        thread: SendRight<SystemKernel>,
        reply: SendOnceRight<SystemKernel>,
        information: &signal::Information,
    ) {
        self.faults.push(*information);
        // Run on: skip the faulting instruction, then let the thread go.
        let mut words = [0u32; NativeThreadState::COUNT as usize];
        let flavor = NativeThreadState::FLAVOR;
        let resumed = libmach::trap::thread_get_state(thread.name(), flavor, &mut words).and_then(|_| {
            let mut state = NativeThreadState::load_words(&words).ok_or(KernReturn::Failure)?;
            state.set_pc(RESUME_AT.load(Ordering::Relaxed));
            state.store_words(&mut words);
            libmach::trap::thread_set_state(thread.name(), flavor, &words)
        });
        let code = if resumed.is_ok() { KernReturn::Success } else { KernReturn::Failure };
        let header = libmach::abi::MachMsgHeader {
            bits: libmach::abi::msgh_bits(libmach::abi::Disposition::MoveSendOnce as u32, 0),
            size: 0,
            remote_port: reply.into_name(),
            local_port: 0,
            voucher_port: 0,
            id: libmach::abi::EXCEPTION_RAISE_ID,
        };
        let mut buffer = [0u8; 64];
        if let libmach::Dispatch::Reply(length) =
            libmach::server::reply_with_code(&SystemKernel, &header, code as i32, &mut buffer)
        {
            let _ = libmach::server::send_reply(&SystemKernel, &mut buffer, length);
        }
    }
}

/// Receives what the signal port gets within `milliseconds`.
fn receive_signals(port: PortName, received: &mut Received, milliseconds: u32) {
    let mut request = [0u8; signal::BUFFER_SIZE];
    let mut reply = [0u8; signal::BUFFER_SIZE];
    while libmach::server::handle_one_with(
        &SystemKernel,
        port,
        ServeOptions { audit: true },
        &mut request,
        &mut reply,
        Some(milliseconds),
        &mut |request, reply| signal::dispatch(received, &SystemKernel, request, reply),
    )
    .is_ok()
    {}
}

/// Forks; the child runs `child` and exits with what it returns.
fn child(process: &mut Process, child: impl FnOnce(&mut Process) -> i32) -> i32 {
    match process.fork() {
        Ok(0) => {
            let status = child(process);
            process.exit(status)
        }
        Ok(pid) => pid,
        Err(error) => {
            println!("proc-checks: fork failed: {error:?}");
            -1
        }
    }
}

/// `pid`'s state in the listing (R, S, T, Z), if it is listed.
fn state_of(process: &mut Process, pid: i32) -> Option<u8> {
    let entries = process.proc.list(pid - 1).ok()?;
    entries.as_slice().iter().find(|entry| entry.pid == pid).map(|entry| entry.state)
}

fn status_of(process: &mut Process, pid: i32) -> i32 {
    process.wait(pid, 0).map_or(-1, |(_, status)| status)
}

fn main(_bootstrap: u64) {
    let Some(mut process) = Process::new() else {
        println!("proc-checks: not started as a process");
        return;
    };
    let mut checks = Checks::new("proc-checks");

    // Who we are: init spawned us.
    let identity = process.proc.identity();
    checks.equal(
        "identity",
        identity.as_ref().map(|identity| (identity.pid, identity.parent)).ok(),
        Some((process.names.pid, 1)),
    );
    checks.equal("getppid", process.proc.get_parent().ok(), Some(1));

    // fork and exit: the parent's wait sees the status.
    let pid = child(&mut process, |_| 7);
    checks.equal("fork then exit(7)", exited(status_of(&mut process, pid)), Some(7));

    // Copy-on-write: the data segment, private and shared anonymous memory.
    COUNTER.store(1, Ordering::Relaxed);
    let private = process.memory.allocate(0, 4096, READ_WRITE, PRIVATE_ANONYMOUS).unwrap_or(0);
    let shared = process.memory.allocate(0, 4096, READ_WRITE, SHARED_ANONYMOUS).unwrap_or(0);
    checks.equal("mmap private and shared", private != 0 && shared != 0, true);
    if private != 0 && shared != 0 {
        poke(private, 11);
        poke(shared, 21);
        let pid = child(&mut process, |_| {
            let saw = COUNTER.load(Ordering::Relaxed) == 1 && peek(private) == 11 && peek(shared) == 21;
            COUNTER.store(2, Ordering::Relaxed);
            poke(private, 12);
            poke(shared, 22);
            if saw {
                0
            } else {
                1
            }
        });
        checks.equal("the child sees the parent's memory as at fork", exited(status_of(&mut process, pid)), Some(0));
        checks.equal("the child's writes stay its own", (COUNTER.load(Ordering::Relaxed), peek(private)), (1, 11));
        checks.equal("shared memory is shared", peek(shared), 22);
    }

    // exec: a new image under the same pid, with 128 KiB of arguments.
    let long: Vec<Vec<u8>> = (0..128).map(|index| alloc::vec![b'a' + (index % 26) as u8; 1023]).collect();
    let pid = child(&mut process, |process| {
        let mut arguments: Vec<&[u8]> = alloc::vec![b"echo-args", b"128", b"1023"];
        arguments.extend(long.iter().map(Vec::as_slice));
        let failed = process.exec(b"/bin/echo-args", &arguments, &[b"CHECK=yes"]);
        println!("proc-checks: exec failed: {failed:?}");
        9
    });
    checks.equal("exec with 128 KiB of arguments", exited(status_of(&mut process, pid)), Some(0));
    // A file without execute permission (EACCES, as Linux answers), and an
    // executable file that is no program (ENOEXEC: scripts/tests/process
    // puts a text file at /bin/not-a-program, mode 755); the caller goes on.
    let not_executable = process.exec(b"/etc/passwd", &[b"passwd"], &[]);
    checks.equal(
        "exec of a file without execute permission fails with EACCES",
        matches!(
            not_executable,
            Err(mach_process_checks::ExecError::Exec(libmach::CallError::Interface(proc::Error::Eacces)))
        ),
        true,
    );
    let not_a_program = process.exec(b"/bin/not-a-program", &[b"not-a-program"], &[]);
    checks.equal(
        "exec of a text file fails with ENOEXEC and leaves the caller intact",
        matches!(
            not_a_program,
            Err(mach_process_checks::ExecError::Exec(libmach::CallError::Interface(proc::Error::Enoexec)))
        ),
        true,
    );

    // posix_spawn.
    let spawned = process.spawn(b"/bin/exit-code", &[b"exit-code", b"5"]);
    let status = spawned.as_ref().map_or(-1, |&pid| status_of(&mut process, pid));
    checks.equal("spawn, then its exit status", exited(status), Some(5));

    // Signals to a signal port: a caught SIGUSR1 and SIGCHLD.
    let port = ReceiveRight::allocate(&SystemKernel).expect("a port");
    let mut received = Received::default();
    let set = process
        .proc
        .set_signal_port(&port)
        .and_then(|()| process.proc.set_dispositions(bit(SIGUSR1) | bit(SIGCHLD), 0, 0, false, false));
    checks.equal("signal port and dispositions", set.is_ok(), true);
    let _ = process.proc.kill(process.names.pid, SIGUSR1);
    let pid = child(&mut process, |_| 3);
    let _ = status_of(&mut process, pid);
    receive_signals(port.name(), &mut received, 500);
    let posts: Vec<(i32, i32, i32)> = received.posts.iter().map(|post| (post.signal, post.code, post.pid)).collect();
    checks.equal(
        "SIGUSR1 then SIGCHLD (CLD_EXITED) posted",
        posts,
        alloc::vec![(SIGUSR1, 0, process.names.pid), (SIGCHLD, 1, pid)],
    );
    let _ = process.proc.set_dispositions(0, 0, 0, false, false);

    // Stop, continue, kill.
    let pid = child(&mut process, |_| loop {
        let _ = libmach::trap::thread_sleep(1000);
    });
    let _ = process.proc.kill(pid, SIGSTOP);
    checks.equal(
        "SIGSTOP: WUNTRACED sees it",
        process.wait(pid, WUNTRACED).map(|(_, status)| status).ok(),
        Some((SIGSTOP << 8) | 0x7f),
    );
    let _ = process.proc.kill(pid, SIGCONT);
    checks.equal(
        "SIGCONT: WCONTINUED sees it",
        process.wait(pid, WCONTINUED).map(|(_, status)| status).ok(),
        Some(0xffff),
    );
    let _ = process.proc.kill(pid, SIGTERM);
    checks.equal("SIGTERM kills", killed_by(status_of(&mut process, pid)), Some(SIGTERM));

    // A fault: the parent's wait sees WTERMSIG == SIGSEGV (with a core).
    let pid = child(&mut process, |_| peek(0x10) as i32);
    let status = status_of(&mut process, pid);
    checks.equal(
        "a segmentation fault kills with SIGSEGV",
        (killed_by(status), status & 0x80 != 0),
        (Some(SIGSEGV), true),
    );

    // A caught fault: the signal thread gets it with the address, moves
    // the thread past the fault and lets it run on.
    let pid = child(&mut process, |process| {
        let Ok(port) = ReceiveRight::allocate(&SystemKernel) else { return 20 };
        if process.proc.set_signal_port(&port).is_err()
            || process.proc.set_dispositions(bit(SIGSEGV), 0, 0, false, false).is_err()
        {
            return 21;
        }
        let port_name = port.name();
        let thread = libmach::thread::spawn(
            |port| {
                let mut received = Received::default();
                receive_signals(port as PortName, &mut received, 5000);
            },
            port_name as usize,
            64 * 1024,
        );
        if thread.is_err() {
            return 22;
        }
        fault_and_resume();
        0
    });
    checks.equal("a caught fault runs on", exited(status_of(&mut process, pid)), Some(0));

    // Orphans go to init: a grandchild whose parent ended reports its
    // parent through shared memory.
    if shared != 0 {
        poke(shared, 0);
        let pid = child(&mut process, |process| {
            child(process, |process| {
                for _ in 0..100 {
                    if process.proc.get_parent().ok() == Some(1) {
                        poke(shared, 1);
                        return 0;
                    }
                    let _ = libmach::trap::thread_sleep(50);
                }
                poke(shared, 2);
                1
            });
            0
        });
        let _ = status_of(&mut process, pid);
        let mut seen = 0;
        for _ in 0..100 {
            seen = peek(shared);
            if seen != 0 {
                break;
            }
            let _ = libmach::trap::thread_sleep(50);
        }
        checks.equal("an orphan's parent is init", seen, 1);
    }

    // Zombies until reaped, in the listing.
    let pid = child(&mut process, |_| 0);
    let _ = libmach::trap::thread_sleep(200);
    checks.equal("a child that ended is a zombie", state_of(&mut process, pid), Some(b'Z'));
    let _ = status_of(&mut process, pid);
    checks.equal("reaped, it is gone", state_of(&mut process, pid), None);

    // A wait the caller gave up (its call timed out, as a signal's
    // thread_abort would end it) consumes nothing: the child's status is
    // there for the next wait. Meanwhile the listing shows the sleeper as S.
    let pid = child(&mut process, |_| {
        let _ = libmach::trap::thread_sleep(400);
        5
    });
    let _ = libmach::trap::thread_sleep(100);
    let sleeping = state_of(&mut process, pid);
    process.proc.set_timeout(Some(50));
    let given_up = process.proc.wait(pid, 0);
    process.proc.set_timeout(None);
    let _ = libmach::trap::thread_sleep(600);
    checks.equal("a sleeping child is S in the listing", sleeping, Some(b'S'));
    checks.equal("the wait timed out", given_up.is_err(), true);
    checks.equal("a wait given up consumes nothing", exited(status_of(&mut process, pid)), Some(5));

    // The alarm clock.
    let pid = child(&mut process, |process| {
        let _ = process.proc.set_timer(100_000, 0);
        loop {
            let _ = libmach::trap::thread_sleep(1000);
        }
    });
    checks.equal("SIGALRM's default action", killed_by(status_of(&mut process, pid)), Some(SIGALRM));

    // RLIMIT_NPROC stops a fork bomb of an unprivileged user; the system
    // keeps answering.
    let pid = child(&mut process, |process| {
        let _ = process.proc.set_group(0, 0);
        if process.proc.set_ids(0, 2, 1000, 1000, 1000).is_err() || process.proc.limit(6, true, 16, 16).is_err() {
            return 30;
        }
        let mut made = 1;
        let refused = loop {
            match process.fork() {
                Ok(0) => loop {
                    let _ = libmach::trap::thread_sleep(1000);
                },
                Ok(_) => made += 1,
                Err(error) => break error,
            }
            if made > 64 {
                return 31;
            }
        };
        let answered = process.proc.identity().is_ok();
        let good = made == 16 && matches!(refused, libmach::CallError::Interface(proc::Error::Eagain)) && answered;
        let _ = process.proc.kill(0, SIGKILL);
        if good {
            0
        } else {
            32
        }
    });
    checks.equal("a fork bomb stops at RLIMIT_NPROC", killed_by(status_of(&mut process, pid)), Some(SIGKILL));
    checks.equal("the system keeps answering", process.proc.get_parent().ok(), Some(1));

    // RLIMIT_AS: a mapping past it is refused; memory exhaustion kills
    // only the process that exhausts it.
    let pid = child(&mut process, |process| {
        if process.proc.limit(9, true, 16 << 20, 16 << 20).is_err() {
            return 40;
        }
        match process.memory.allocate(0, 32 << 20, READ_WRITE, PRIVATE_ANONYMOUS) {
            Err(libmach::CallError::Interface(personality_interfaces::memory::Error::Enomem)) => 0,
            _ => 41,
        }
    });
    checks.equal("RLIMIT_AS refuses a mapping past it", exited(status_of(&mut process, pid)), Some(0));
    let hog = process.spawn(b"/bin/memory-hog", &[b"memory-hog"]);
    let status = hog.as_ref().map_or(-1, |&pid| status_of(&mut process, pid));
    checks.equal("a process that exhausts memory is killed", killed_by(status), Some(SIGKILL));
    checks.equal("and the others go on", process.proc.get_parent().ok(), Some(1));

    // brk.
    let start = process.memory.set_break(0).unwrap_or(0);
    let grown = process.memory.set_break(start + 3 * 4096).unwrap_or(0);
    checks.equal("brk grows", grown, start + 3 * 4096);
    if grown == start + 3 * 4096 {
        poke(start.next_multiple_of(8), 5);
        checks.equal("the break is memory", peek(start.next_multiple_of(8)), 5);
    }

    checks.finish();
    process.exit(checks.failed() as i32);
}

/// Faults on a read of address 0x10 and goes on after it (the signal
/// thread sets the thread's instruction pointer to the label).
fn fault_and_resume() {
    // SAFETY: the read faults (nothing is mapped at 0x10); the signal
    // thread resumes the thread at label 2, past it, with every other
    // register as it was; the block touches no memory of ours otherwise.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!(
            "lea {resume}, [rip + 2f]",
            "mov [{at}], {resume}",
            "mov {scratch}, qword ptr [0x10]",
            "2:",
            resume = out(reg) _,
            scratch = out(reg) _,
            at = in(reg) RESUME_AT.as_ptr(),
        );
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!(
            "adr {resume}, 2f",
            "str {resume}, [{at}]",
            "mov {scratch}, #0x10",
            "ldr {scratch}, [{scratch}]",
            "2:",
            resume = out(reg) _,
            scratch = out(reg) _,
            at = in(reg) RESUME_AT.as_ptr(),
        );
    }
}
