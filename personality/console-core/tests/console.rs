//! The console core request by request: readers waiting and woken, input
//! taken only when delivered, VMIN/VTIME timers, job control, signals,
//! opens and closes, writes and flow control, the terminal requests, and
//! kernel log lines on the screen.

use mach_console_core::console::{
    open_flags, poll_events, FlushQueue, JobControlOutcome, SetAction, SignalRecord, OPENS_MAX, READ_MAX, WAITS_MAX,
    WRITE_LIMIT,
};
use mach_console_core::uart::Line;
use mach_console_core::{Answer, Caller, Completion, Console, Errno, Offer, Outgoing, Signal, Unit};
use proptest::prelude::*;
use tty::termios::{control, local};
use tty::{Termios, WindowSize};

const SERVER: Caller = Caller::SERVER;

fn process(pid: u32, pgid: u32, sid: u32) -> Caller {
    Caller { pid, pgid, sid, uid: 1000, gid: 1000 }
}

fn type_keys(console: &mut Console, keys: &[u8]) {
    for &key in keys {
        console.received(key);
    }
}

/// Everything the UART would send now.
fn sent(console: &mut Console) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buffer = [0u8; 16];
    loop {
        let count = console.transmit(&mut buffer);
        if count == 0 {
            return out;
        }
        out.extend_from_slice(&buffer[..count]);
    }
}

/// Delivers every offer that can be made now.
fn deliver(console: &mut Console) -> Vec<Offer> {
    let mut offers = Vec::new();
    while let Some(offer) = console.next_offer() {
        console.finish(offer.wait, true);
        offers.push(offer);
    }
    offers
}

fn later<T: std::fmt::Debug>(answer: Answer<T>) -> u64 {
    match answer {
        Answer::Later(wait) => wait,
        other => panic!("expected a wait, got {other:?}"),
    }
}

fn raw(minimum: u8, tenths: u8) -> Termios {
    let mut termios = Termios::console();
    termios.local_flags &= !(local::ICANON | local::ECHO | local::ISIG | local::IEXTEN);
    termios.control_characters[control::VMIN] = minimum;
    termios.control_characters[control::VTIME] = tenths;
    termios
}

/// A console open as handle 1 by a server (no job control).
fn opened() -> Console {
    let mut console = Console::new();
    console.open(1, Unit::Console, open_flags::READ_WRITE, &SERVER).unwrap();
    console
}

/// A console whose controlling session is 100 (leader 100, group 100),
/// open as handle 1 by the leader; handle 2 is group 200's (pid 201).
fn session() -> Console {
    let mut console = Console::new();
    console.open(1, Unit::Console, open_flags::READ_WRITE, &process(100, 100, 100)).unwrap();
    console.open(2, Unit::Controlling, open_flags::READ_WRITE, &process(201, 200, 100)).unwrap();
    assert_eq!(console.session(), Some(100));
    assert_eq!(console.foreground(), Some(100));
    console
}

#[test]
fn a_reader_waits_for_a_line_and_gets_it_once_typed() {
    let mut console = opened();
    let wait = later(console.read(1, 64, &SERVER));
    type_keys(&mut console, b"partial");
    assert!(console.next_offer().is_none(), "a canonical read waits for the whole line");
    type_keys(&mut console, b" line\r");
    assert_eq!(sent(&mut console), b"partial line\r\n");
    let offers = deliver(&mut console);
    assert_eq!(offers, [Offer { wait, completion: Completion::Read(Ok(b"partial line\n".to_vec())) }]);
    assert_eq!(console.waiting_count(), 0);
}

#[test]
fn input_is_taken_only_when_the_reply_was_delivered() {
    let mut console = opened();
    type_keys(&mut console, b"keep me\n");
    let first = later(console.read(1, 64, &SERVER));
    let second = later(console.read(1, 64, &SERVER));
    let offer = console.next_offer().unwrap();
    assert_eq!(offer.wait, first);
    // The first reader was interrupted: its reply right is dead.
    console.finish(first, false);
    let offer = console.next_offer().unwrap();
    assert_eq!(offer, Offer { wait: second, completion: Completion::Read(Ok(b"keep me\n".to_vec())) });
    console.finish(second, true);
    assert_eq!(console.readable_bytes(1), Ok(0));
}

#[test]
fn editing_keys_echo_and_end_of_file() {
    let mut console = opened();
    type_keys(&mut console, b"lx\x7fs\x08t\r");
    assert_eq!(sent(&mut console), b"lx\x08 \x08s\x08 \x08t\r\n");
    type_keys(&mut console, b"gone\x15kept\r\x04");
    sent(&mut console);
    let mut got = Vec::new();
    for _ in 0..3 {
        later(console.read(1, 64, &SERVER));
        for offer in deliver(&mut console) {
            got.push(offer.completion);
        }
    }
    assert_eq!(
        got,
        [
            Completion::Read(Ok(b"lt\n".to_vec())),
            Completion::Read(Ok(b"kept\n".to_vec())),
            Completion::Read(Ok(Vec::new())),
        ]
    );
}

#[test]
fn one_waiting_reader_does_not_hold_up_other_requests() {
    let mut console = opened();
    console.open(2, Unit::Serial, open_flags::READ_WRITE, &SERVER).unwrap();
    later(console.read(1, 64, &SERVER));
    assert_eq!(console.write(2, b"hello\n", &SERVER), Answer::Now(Ok(6)));
    assert_eq!(console.get_termios(2), Ok(Termios::console()));
    assert_eq!(sent(&mut console), b"hello\r\n");
}

#[test]
fn a_non_blocking_read_of_nothing_is_eagain() {
    let mut console = Console::new();
    console.open(1, Unit::Console, open_flags::READ_WRITE | open_flags::NONBLOCK, &SERVER).unwrap();
    assert_eq!(console.read(1, 64, &SERVER), Answer::Now(Err(Errno::WouldBlock)));
    type_keys(&mut console, b"x\n");
    later(console.read(1, 64, &SERVER));
    assert_eq!(deliver(&mut console)[0].completion, Completion::Read(Ok(b"x\n".to_vec())));
}

#[test]
fn a_read_returns_at_most_read_max_bytes() {
    let mut console = opened();
    assert_eq!(console.set_termios(1, raw(1, 0), SetAction::Now, &SERVER), Answer::Now(Ok(())));
    type_keys(&mut console, &vec![b'r'; 3000]);
    later(console.read(1, 1 << 30, &SERVER));
    let Completion::Read(Ok(data)) = &deliver(&mut console)[0].completion else { panic!("no data") };
    assert_eq!(data.len(), 3000);
    assert!(data.len() <= READ_MAX);
}

#[test]
fn vtime_alone_ends_a_read_after_its_time() {
    let mut console = opened();
    console.set_time(1000);
    assert_eq!(console.set_termios(1, raw(0, 5), SetAction::Now, &SERVER), Answer::Now(Ok(())));
    let wait = later(console.read(1, 16, &SERVER));
    assert_eq!(console.next_deadline(), Some(1500));
    console.set_time(1499);
    assert!(console.next_offer().is_none());
    console.set_time(1500);
    assert_eq!(deliver(&mut console), [Offer { wait, completion: Completion::Read(Ok(Vec::new())) }]);
    // A byte before the time ends it at once.
    later(console.read(1, 16, &SERVER));
    type_keys(&mut console, b"k");
    assert_eq!(deliver(&mut console)[0].completion, Completion::Read(Ok(b"k".to_vec())));
}

#[test]
fn vmin_with_vtime_times_the_gap_after_the_last_byte() {
    let mut console = opened();
    console.set_time(0);
    assert_eq!(console.set_termios(1, raw(4, 2), SetAction::Now, &SERVER), Answer::Now(Ok(())));
    later(console.read(1, 16, &SERVER));
    assert_eq!(console.next_deadline(), None, "no timer before the first byte");
    console.set_time(100);
    type_keys(&mut console, b"q");
    assert_eq!(console.next_deadline(), Some(300));
    console.set_time(250);
    type_keys(&mut console, b"r");
    assert_eq!(console.next_deadline(), Some(450));
    console.set_time(449);
    assert!(console.next_offer().is_none());
    console.set_time(450);
    assert_eq!(deliver(&mut console)[0].completion, Completion::Read(Ok(b"qr".to_vec())));
    // VMIN bytes end it without the timer.
    later(console.read(1, 16, &SERVER));
    type_keys(&mut console, b"abcd");
    assert_eq!(deliver(&mut console)[0].completion, Completion::Read(Ok(b"abcd".to_vec())));
}

#[test]
fn control_c_is_sigint_for_the_foreground_group_and_recorded() {
    let mut console = session();
    type_keys(&mut console, b"half a line\x03");
    assert_eq!(console.take_outgoing(), [Outgoing::SignalGroup { group: 100, signal: Signal::Interrupt }]);
    type_keys(&mut console, b"\x1a\x1c");
    assert_eq!(
        console.take_outgoing(),
        [
            Outgoing::SignalGroup { group: 100, signal: Signal::TerminalStop },
            Outgoing::SignalGroup { group: 100, signal: Signal::Quit },
        ]
    );
    let records: Vec<SignalRecord> = console.recorded_signals().copied().collect();
    assert_eq!(records[0], SignalRecord { group: Some(100), signal: Signal::Interrupt });
    assert_eq!(records.len(), 3);
    assert_eq!(console.signals_recorded_total(), 3);
    let since: Vec<Signal> = console.signals_recorded_since(1).map(|record| record.signal).collect();
    assert_eq!(since, [Signal::TerminalStop, Signal::Quit]);
    assert_eq!(console.signals_recorded_since(3).count(), 0);
    assert!(sent(&mut console).ends_with(b"^C^Z^\\"));
    // The interrupted line was thrown away.
    type_keys(&mut console, b"new\n");
    later(console.read(1, 64, &process(100, 100, 100)));
    assert_eq!(deliver(&mut console)[0].completion, Completion::Read(Ok(b"new\n".to_vec())));
}

#[test]
fn a_signal_with_no_foreground_group_goes_nowhere_but_is_recorded() {
    let mut console = opened();
    type_keys(&mut console, b"\x03");
    assert!(console.take_outgoing().is_empty());
    assert_eq!(console.recorded_signals().last(), Some(&SignalRecord { group: None, signal: Signal::Interrupt }));
}

#[test]
fn opening_the_terminal_makes_it_a_session_leaders_controlling_terminal() {
    let mut console = Console::new();
    // Not a session leader: nothing.
    console.open(1, Unit::Console, open_flags::READ_WRITE, &process(7, 7, 5)).unwrap();
    assert_eq!(console.session(), None);
    // O_NOCTTY: nothing.
    console
        .open(2, Unit::Console, open_flags::READ_WRITE | open_flags::NO_CONTROLLING_TERMINAL, &process(5, 5, 5))
        .unwrap();
    assert_eq!(console.session(), None);
    // /dev/tty without a controlling terminal.
    assert_eq!(console.open(3, Unit::Controlling, open_flags::READ_WRITE, &process(5, 5, 5)), Err(Errno::NoSuchDevice));
    console.open(3, Unit::Serial, open_flags::READ_ONLY, &process(5, 5, 5)).unwrap();
    assert_eq!((console.session(), console.foreground()), (Some(5), Some(5)));
    console.open(4, Unit::Controlling, open_flags::READ_WRITE, &process(9, 5, 5)).unwrap();
    // Another session's leader does not take it.
    console.open(5, Unit::Console, open_flags::READ_WRITE, &process(50, 50, 50)).unwrap();
    assert_eq!(console.session(), Some(5));
    assert_eq!(
        console.open(6, Unit::Controlling, open_flags::READ_WRITE, &process(51, 50, 50)),
        Err(Errno::NoSuchDevice)
    );
    assert_eq!(console.open(7, Unit::Console, 3, &SERVER), Err(Errno::InvalidArgument));
    assert_eq!(console.open(5, Unit::Console, 0, &SERVER), Err(Errno::InvalidArgument), "a handle in use");
    assert_eq!(console.open_count(), 5);
}

#[test]
fn the_access_mode_is_enforced() {
    let mut console = Console::new();
    console.open(1, Unit::Console, open_flags::WRITE_ONLY, &SERVER).unwrap();
    console.open(2, Unit::Console, open_flags::READ_ONLY, &SERVER).unwrap();
    assert_eq!(console.read(1, 8, &SERVER), Answer::Now(Err(Errno::BadFile)));
    assert_eq!(console.write(2, b"x", &SERVER), Answer::Now(Err(Errno::BadFile)));
    assert_eq!(console.read(9, 8, &SERVER), Answer::Now(Err(Errno::BadFile)));
    assert_eq!(console.flags(1), Ok(open_flags::WRITE_ONLY));
    console.set_flags(1, open_flags::NONBLOCK | 0o100000).unwrap();
    assert_eq!(console.flags(1), Ok(open_flags::WRITE_ONLY | open_flags::NONBLOCK));
}

#[test]
fn closing_an_open_file_ends_its_waits_with_ebadf() {
    let mut console = opened();
    let wait = later(console.read(1, 8, &SERVER));
    console.close(1);
    assert_eq!(deliver(&mut console), [Offer { wait, completion: Completion::Read(Err(Errno::BadFile)) }]);
    assert_eq!(console.open_count(), 0);
}

#[test]
fn a_background_reader_gets_sigttin_and_waits_for_the_foreground() {
    let mut console = session();
    let background = process(201, 200, 100);
    let wait = later(console.read(2, 64, &background));
    let [Outgoing::JobControl { request, pid: 201, group: 200, signal: Signal::TerminalInput }] =
        console.take_outgoing()[..]
    else {
        panic!("no SIGTTIN request")
    };
    type_keys(&mut console, b"for the foreground\n");
    assert!(console.next_offer().is_none(), "held while the process server decides");
    console.job_control_outcome(request, JobControlOutcome::Signalled);
    assert!(console.next_offer().is_none(), "stopped: held until it is in the foreground");
    // The shell puts group 200 in the foreground (`fg`).
    let leader = process(100, 100, 100);
    let foreground = later(console.set_foreground_group(1, 200, &leader));
    let [Outgoing::GroupInSession { request: lookup, group: 200, session: 100 }] = console.take_outgoing()[..] else {
        panic!("no group lookup")
    };
    console.group_in_session(lookup, true);
    let offers = deliver(&mut console);
    assert_eq!(offers[0], Offer { wait: foreground, completion: Completion::Done(Ok(())) });
    assert_eq!(console.foreground(), Some(200));
    // Delivered in the same pass: the reader is in the foreground now.
    assert_eq!(offers[1], Offer { wait, completion: Completion::Read(Ok(b"for the foreground\n".to_vec())) });
}

#[test]
fn a_background_reader_that_ignores_sigttin_or_is_orphaned_gets_eio() {
    for outcome in [JobControlOutcome::IgnoredOrBlocked, JobControlOutcome::Orphaned] {
        let mut console = session();
        let wait = later(console.read(2, 64, &process(201, 200, 100)));
        let [Outgoing::JobControl { request, .. }] = console.take_outgoing()[..] else { panic!("no request") };
        console.job_control_outcome(request, outcome);
        assert_eq!(deliver(&mut console), [Offer { wait, completion: Completion::Read(Err(Errno::InputOutput)) }]);
    }
}

#[test]
fn background_writes_need_sigttou_only_with_tostop() {
    let mut console = session();
    let background = process(201, 200, 100);
    assert_eq!(console.write(2, b"free\n", &background), Answer::Now(Ok(5)));
    assert!(console.take_outgoing().is_empty());
    let mut termios = Termios::console();
    termios.local_flags |= local::TOSTOP;
    assert_eq!(console.set_termios(1, termios, SetAction::Now, &process(100, 100, 100)), Answer::Now(Ok(())));
    let wait = later(console.write(2, b"held\n", &background));
    let [Outgoing::JobControl { request, signal: Signal::TerminalOutput, .. }] = console.take_outgoing()[..] else {
        panic!("no SIGTTOU request")
    };
    assert!(console.next_offer().is_none());
    // SIGTTOU ignored: the write goes ahead.
    console.job_control_outcome(request, JobControlOutcome::IgnoredOrBlocked);
    assert_eq!(deliver(&mut console), [Offer { wait, completion: Completion::Write(Ok(5)) }]);
    assert_eq!(sent(&mut console), b"free\r\nheld\r\n");
}

#[test]
fn a_background_process_changing_the_settings_needs_sigttou() {
    let mut console = session();
    let background = process(201, 200, 100);
    let wait = later(console.set_termios(2, raw(1, 0), SetAction::Now, &background));
    let [Outgoing::JobControl { request, signal: Signal::TerminalOutput, .. }] = console.take_outgoing()[..] else {
        panic!("no SIGTTOU request")
    };
    console.job_control_outcome(request, JobControlOutcome::Orphaned);
    assert_eq!(deliver(&mut console), [Offer { wait, completion: Completion::Done(Err(Errno::InputOutput)) }]);
    assert_eq!(console.termios(), &Termios::console(), "refused: nothing changed");
}

#[test]
fn job_control_leaves_other_sessions_and_servers_alone() {
    let mut console = session();
    console.open(3, Unit::Console, open_flags::READ_WRITE, &process(300, 300, 300)).unwrap();
    type_keys(&mut console, b"a\nb\n");
    later(console.read(3, 64, &process(300, 300, 300)));
    later(console.read(1, 64, &SERVER));
    assert!(console.take_outgoing().is_empty());
    assert_eq!(deliver(&mut console).len(), 2);
}

#[test]
fn the_controlling_terminal_and_its_foreground_group() {
    let mut console = Console::new();
    console.open(1, Unit::Console, open_flags::READ_WRITE | open_flags::NO_CONTROLLING_TERMINAL, &SERVER).unwrap();
    let leader = process(10, 10, 10);
    assert_eq!(console.foreground_group(1, &leader), Err(Errno::NotTerminal));
    assert_eq!(console.set_controlling_terminal(1, false, &process(11, 10, 10)), Err(Errno::NotPermitted));
    assert_eq!(console.set_controlling_terminal(1, false, &leader), Ok(()));
    assert_eq!(console.foreground_group(1, &leader), Ok(10));
    assert_eq!(console.foreground_group(1, &process(12, 12, 10)), Ok(10), "any process of the session");
    let other = process(20, 20, 20);
    assert_eq!(console.set_controlling_terminal(1, true, &other), Err(Errno::NotPermitted), "stealing is root's");
    let root = Caller { uid: 0, ..other };
    assert_eq!(console.set_controlling_terminal(1, true, &root), Ok(()));
    assert_eq!(console.session(), Some(20));
    assert_eq!(console.set_foreground_group(1, 5, &leader), Answer::Now(Err(Errno::NotTerminal)));
    assert_eq!(console.set_foreground_group(1, 0, &root), Answer::Now(Err(Errno::InvalidArgument)));
    // A group of another session is refused once the process server says so.
    let wait = later(console.set_foreground_group(1, 30, &root));
    let [Outgoing::GroupInSession { request, .. }] = console.take_outgoing()[..] else { panic!("no lookup") };
    console.group_in_session(request, false);
    assert_eq!(deliver(&mut console), [Offer { wait, completion: Completion::Done(Err(Errno::NotPermitted)) }]);
    assert_eq!(console.foreground(), Some(20));
}

#[test]
fn a_new_foreground_group_takes_effect_only_when_delivered() {
    let mut console = session();
    let wait = later(console.set_foreground_group(1, 200, &process(100, 100, 100)));
    let [Outgoing::GroupInSession { request, .. }] = console.take_outgoing()[..] else { panic!("no lookup") };
    console.group_in_session(request, true);
    let offer = console.next_offer().unwrap();
    assert_eq!(offer.wait, wait);
    console.finish(wait, false);
    assert_eq!(console.foreground(), Some(100));
}

#[test]
fn one_waits_offer_can_be_taken_alone() {
    let mut console = session();
    type_keys(&mut console, b"line\n");
    let read = later(console.read(1, 64, &process(100, 100, 100)));
    let foreground = later(console.set_foreground_group(1, 200, &process(100, 100, 100)));
    assert_eq!(console.offer_for(foreground), None, "the group is not checked yet");
    let [Outgoing::GroupInSession { request, .. }] = console.take_outgoing()[..] else { panic!("no lookup") };
    console.group_in_session(request, true);
    let offer = console.offer_for(foreground).unwrap();
    assert_eq!(offer, Offer { wait: foreground, completion: Completion::Done(Ok(())) });
    console.finish(foreground, true);
    assert_eq!(console.foreground(), Some(200));
    assert_eq!(console.waiting_count(), 1, "the read is still there");
    // It passed job control when it started (as on Linux, a read already
    // waiting is not stopped when its group leaves the foreground).
    assert_eq!(deliver(&mut console), [Offer { wait: read, completion: Completion::Read(Ok(b"line\n".to_vec())) }]);
}

#[test]
fn the_end_of_the_session_hangs_up_its_foreground_group() {
    let mut console = session();
    console.session_ended(999);
    assert!(console.take_outgoing().is_empty());
    console.session_ended(100);
    assert_eq!(
        console.take_outgoing(),
        [
            Outgoing::SignalGroup { group: 100, signal: Signal::Hangup },
            Outgoing::SignalGroup { group: 100, signal: Signal::Continue },
        ]
    );
    assert_eq!((console.session(), console.foreground()), (None, None));
}

#[test]
fn a_window_size_change_is_sigwinch_for_the_foreground() {
    let mut console = session();
    assert_eq!(console.window_size(1), Ok(WindowSize::console()));
    console.set_window_size(1, WindowSize::console()).unwrap();
    assert!(console.take_outgoing().is_empty(), "no change, no signal");
    let window = WindowSize { rows: 50, columns: 132, x_pixels: 0, y_pixels: 0 };
    console.set_window_size(1, window).unwrap();
    assert_eq!(console.window_size(2), Ok(window));
    assert_eq!(console.take_outgoing(), [Outgoing::SignalGroup { group: 100, signal: Signal::WindowChange }]);
}

#[test]
fn writes_past_the_limit_wait_for_the_uart_and_keep_their_order() {
    let mut console = opened();
    let big = vec![b'a'; WRITE_LIMIT + 1000];
    let first = later(console.write(1, &big, &SERVER));
    let second = later(console.write(1, b"after", &SERVER));
    assert!(console.next_offer().is_none());
    assert_eq!(console.queued(), WRITE_LIMIT);
    let out = sent(&mut console);
    assert_eq!(
        deliver(&mut console),
        [
            Offer { wait: first, completion: Completion::Write(Ok(WRITE_LIMIT + 1000)) },
            Offer { wait: second, completion: Completion::Write(Ok(5)) },
        ]
    );
    let mut all = out;
    all.extend(sent(&mut console));
    assert_eq!(all.len(), WRITE_LIMIT + 1005);
    assert!(all.ends_with(b"aaafter"));
}

#[test]
fn a_non_blocking_write_takes_what_fits() {
    let mut console = Console::new();
    console.open(1, Unit::Console, open_flags::READ_WRITE | open_flags::NONBLOCK, &SERVER).unwrap();
    assert_eq!(console.write(1, &vec![b'x'; WRITE_LIMIT + 10], &SERVER), Answer::Now(Ok(WRITE_LIMIT)));
    assert_eq!(console.write(1, b"more", &SERVER), Answer::Now(Err(Errno::WouldBlock)));
    assert_eq!(console.poll(1, poll_events::OUT, false, 0, &SERVER), Answer::Now(Ok(0)));
}

#[test]
fn control_s_holds_output_and_control_q_releases_it() {
    let mut console = opened();
    type_keys(&mut console, b"\x13");
    assert_eq!(console.write(1, b"later", &SERVER), Answer::Now(Ok(5)));
    assert!(sent(&mut console).is_empty());
    assert!(!console.wants_to_transmit());
    type_keys(&mut console, b"\x11");
    assert!(console.wants_to_transmit());
    assert_eq!(sent(&mut console), b"later");
}

#[test]
fn drain_waits_for_the_last_byte_to_leave_the_uart() {
    let mut console = opened();
    assert_eq!(console.drain(1, &SERVER), Answer::Now(Ok(())));
    console.write(1, b"bytes", &SERVER);
    let wait = later(console.drain(1, &SERVER));
    sent(&mut console);
    assert!(console.next_offer().is_none(), "the UART still sends");
    console.set_transmitter_empty(true);
    assert_eq!(deliver(&mut console), [Offer { wait, completion: Completion::Done(Ok(())) }]);
}

#[test]
fn tcsadrain_applies_the_settings_after_the_output_and_only_if_delivered() {
    let mut console = opened();
    console.write(1, b"old mode", &SERVER);
    let wait = later(console.set_termios(1, raw(1, 0), SetAction::Drain, &SERVER));
    sent(&mut console);
    console.set_transmitter_empty(true);
    let offer = console.next_offer().unwrap();
    assert_eq!(offer.wait, wait);
    console.finish(wait, false);
    assert_eq!(console.termios(), &Termios::console(), "the caller went away: nothing changes");
    let wait = later(console.set_termios(1, raw(1, 0), SetAction::Flush, &SERVER));
    type_keys(&mut console, b"typed ahead");
    console.write(1, b"x", &SERVER);
    sent(&mut console);
    console.set_transmitter_empty(true);
    assert_eq!(deliver(&mut console), [Offer { wait, completion: Completion::Done(Ok(())) }]);
    assert_eq!(console.termios(), &raw(1, 0));
    assert_eq!(console.readable_bytes(1), Ok(0), "TCSAFLUSH threw the input away");
}

#[test]
fn flush_throws_away_input_or_output() {
    let mut console = opened();
    type_keys(&mut console, b"line\n");
    console.write(1, b"unsent", &SERVER);
    sent(&mut console);
    console.write(1, b"unsent", &SERVER);
    console.flush(1, FlushQueue::Output).unwrap();
    assert!(sent(&mut console).is_empty());
    assert_eq!(console.readable_bytes(1), Ok(5));
    console.flush(1, FlushQueue::Both).unwrap();
    assert_eq!(console.readable_bytes(1), Ok(0));
}

#[test]
fn poll_reports_readiness_waits_for_it_and_can_be_cancelled() {
    let mut console = opened();
    assert_eq!(
        console.poll(1, poll_events::IN | poll_events::OUT, false, 1, &SERVER),
        Answer::Now(Ok(poll_events::OUT))
    );
    let waiting = later(console.poll(1, poll_events::IN, true, 7, &SERVER));
    type_keys(&mut console, b"ready\n");
    assert_eq!(deliver(&mut console), [Offer { wait: waiting, completion: Completion::Poll(Ok(poll_events::IN)) }]);
    console.flush(1, FlushQueue::Input).unwrap();
    let cancelled = later(console.poll(1, poll_events::IN, true, 8, &SERVER));
    console.poll_cancel(1, 7);
    assert!(console.next_offer().is_none(), "another poll's id");
    console.poll_cancel(1, 8);
    assert_eq!(deliver(&mut console), [Offer { wait: cancelled, completion: Completion::Poll(Ok(0)) }]);
    assert_eq!(console.poll(42, poll_events::IN, true, 9, &SERVER), Answer::Now(Ok(poll_events::INVALID)));
}

#[test]
fn stat_names_the_device_opened() {
    let mut console = opened();
    console.open(2, Unit::Serial, open_flags::READ_ONLY, &SERVER).unwrap();
    let stat = console.stat(2).unwrap();
    assert_eq!((stat.device_major, stat.device_minor, stat.mode), (4, 64, 0o020620));
    assert_eq!(console.stat(1).unwrap().device_minor, 1);
    assert_eq!(console.stat(3), Err(Errno::BadFile));
}

#[test]
fn the_owner_or_root_changes_the_mode_and_root_the_owner() {
    let mut console = opened();
    let user = process(500, 500, 500);
    assert_eq!(console.change_mode(1, 0o600, &user), Err(Errno::NotPermitted));
    assert_eq!(console.change_owner(1, user.uid, u32::MAX, &user), Err(Errno::NotPermitted));
    assert_eq!(console.change_owner(1, user.uid, u32::MAX, &SERVER), Ok(()));
    assert_eq!(console.change_mode(1, 0o100600, &user), Ok(()));
    let stat = console.stat(1).unwrap();
    assert_eq!((stat.mode, stat.uid, stat.gid), (0o020600, user.uid, 5));
}

#[test]
fn open_files_are_bounded() {
    let mut console = Console::new();
    for handle in 0..OPENS_MAX as u64 {
        console.open(handle, Unit::Console, open_flags::READ_WRITE, &SERVER).unwrap();
    }
    assert_eq!(console.open(u64::MAX, Unit::Console, open_flags::READ_WRITE, &SERVER), Err(Errno::TooManyOpenFiles));
    console.close(0);
    assert_eq!(console.open(u64::MAX, Unit::Console, open_flags::READ_WRITE, &SERVER), Ok(()));
}

#[test]
fn waiting_requests_are_bounded() {
    let mut console = opened();
    for _ in 0..WAITS_MAX {
        later(console.read(1, 8, &SERVER));
    }
    assert_eq!(console.read(1, 8, &SERVER), Answer::Now(Err(Errno::WouldBlock)));
}

#[test]
fn kernel_lines_at_the_start_of_a_line_are_written_as_they_are() {
    let mut console = opened();
    assert_eq!(console.kernel_log_wanted(), None, "no notice yet");
    console.kernel_log_waiting();
    assert!(console.kernel_log_wanted().is_some());
    console.show_kernel_lines(b"[fs] mounted /\n[fs] \x1b[31mred\x07\n", 0);
    assert_eq!(sent(&mut console), b"[fs] mounted /\r\n[fs] ^[[31mred^G\r\n");
    console.show_kernel_lines(b"", 0);
    assert_eq!(console.kernel_log_wanted(), None, "the kernel had no more");
}

#[test]
fn kernel_lines_go_above_a_prompt_and_what_is_being_typed() {
    let mut console = opened();
    console.write(1, b"$ ", &SERVER);
    type_keys(&mut console, b"ls -l");
    sent(&mut console);
    console.kernel_log_waiting();
    assert!(console.kernel_log_wanted().is_some());
    console.show_kernel_lines(b"kernel line\n", 2);
    let out = sent(&mut console);
    let expected: &[u8] =
        b"\r\x1b[K[console: 2 kernel log lines were overwritten before they could be shown]\r\nkernel line\r\n$ ls -l";
    assert_eq!(out, expected);
    // Typing goes on where it was, and the line read is whole.
    type_keys(&mut console, b"a\n");
    later(console.read(1, 64, &SERVER));
    assert_eq!(deliver(&mut console)[0].completion, Completion::Read(Ok(b"ls -la\n".to_vec())));
}

#[test]
fn kernel_lines_wait_while_a_program_draws_the_screen() {
    let mut console = opened();
    console.kernel_log_waiting();
    assert_eq!(console.set_termios(1, raw(1, 0), SetAction::Now, &SERVER), Answer::Now(Ok(())));
    assert_eq!(console.kernel_log_wanted(), None, "not in raw mode");
    assert_eq!(console.set_termios(1, Termios::console(), SetAction::Now, &SERVER), Answer::Now(Ok(())));
    console.write(1, b"\x1b[2J\x1b[Hfull screen", &SERVER);
    assert_eq!(console.kernel_log_wanted(), None, "a line with escapes cannot be redrawn");
    console.write(1, b"\n", &SERVER);
    assert!(console.kernel_log_wanted().is_some(), "the next line is known again");
}

/// Random typing, readers that get their reply or go away, writes and the
/// UART sending: every line typed is read exactly once, in order, whoever
/// gave up in between.
#[derive(Clone, Debug)]
enum Step {
    Type(Vec<u8>),
    Read(usize),
    Deliver { abandon: bool },
    Transmit,
    Write(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let key = prop_oneof![8 => b'a'..=b'z', 1 => Just(b'\n'), 1 => Just(0x7fu8), 1 => Just(0x15u8)];
    prop_oneof![
        3 => proptest::collection::vec(key, 1..20).prop_map(Step::Type),
        2 => (1usize..12).prop_map(Step::Read),
        3 => any::<bool>().prop_map(|abandon| Step::Deliver { abandon }),
        1 => Just(Step::Transmit),
        1 => (1usize..6000).prop_map(Step::Write),
    ]
}

fn model(keys: &[u8]) -> Vec<u8> {
    let mut read = Vec::new();
    let mut line = Vec::new();
    for &key in keys {
        match key {
            0x7f => {
                line.pop();
            }
            0x15 => line.clear(),
            b'\n' => {
                read.append(&mut line);
                read.push(b'\n');
            }
            key => line.push(key),
        }
    }
    read
}

proptest! {
    #[test]
    fn nothing_typed_is_lost_or_read_twice(steps in proptest::collection::vec(step(), 1..120)) {
        let mut console = opened();
        let mut typed = Vec::new();
        let mut read = Vec::new();
        let mut written = 0usize;
        let mut write_answers = 0usize;
        let mut out = Vec::new();
        for step in steps {
            match step {
                Step::Type(keys) => {
                    type_keys(&mut console, &keys);
                    typed.extend(keys);
                }
                Step::Read(count) => {
                    prop_assert!(matches!(console.read(1, count, &SERVER), Answer::Later(_)));
                }
                Step::Deliver { abandon } => {
                    if let Some(offer) = console.next_offer() {
                        console.finish(offer.wait, !abandon);
                        match offer.completion {
                            Completion::Read(Ok(data)) if !abandon => read.extend(data),
                            Completion::Write(Ok(count)) => write_answers += count,
                            _ => {}
                        }
                    }
                }
                Step::Transmit => out.extend(sent(&mut console)),
                Step::Write(size) => {
                    written += size;
                    if let Answer::Now(Ok(count)) = console.write(1, &vec![b'.'; size], &SERVER) {
                        write_answers += count;
                    }
                }
            }
            prop_assert!(console.queued() <= mach_console_core::console::QUEUE_LIMIT);
        }
        // Drain everything: the UART sends, one last reader takes the rest.
        for _ in 0..64 {
            out.extend(sent(&mut console));
            later(console.read(1, READ_MAX, &SERVER));
            while let Some(offer) = console.next_offer() {
                console.finish(offer.wait, true);
                match offer.completion {
                    Completion::Read(Ok(data)) => read.extend(data),
                    Completion::Write(Ok(count)) => write_answers += count,
                    _ => {}
                }
            }
        }
        let expected = model(&typed);
        prop_assert_eq!(read, expected);
        prop_assert_eq!(write_answers, written, "every write answered with its whole length");
        prop_assert_eq!(out.iter().filter(|&&byte| byte == b'.').count(), written);
    }
}
