//! The process table against POSIX's rules, case by case, and under random
//! sequences of operations with its invariants checked after each.

use process_core::credentials::Credentials;
use process_core::limits::{resource, Limit};
use process_core::signal::{ChildCode, Disposition, Dispositions, Origin, Signal, SignalSet};
use process_core::table::{
    Effect, JobControl, KillTarget, Pid, ProcessTable, Sender, State, Usage, WaitOptions, WaitOutcome, WaitSelector,
    INIT,
};
use process_core::{Errno, WaitStatus};
use proptest::prelude::*;

fn table() -> ProcessTable {
    ProcessTable::new("/sbin/init", 0)
}

fn wait_any(table: &mut ProcessTable, caller: Pid, options: WaitOptions) -> Result<WaitOutcome, Errno> {
    let result = table.wait(caller, WaitSelector::AnyChild, options).map(|(outcome, _)| outcome);
    table.check().unwrap();
    result
}

fn catching(signals: &[Signal]) -> Dispositions {
    let mut caught = SignalSet::EMPTY;
    for &signal in signals {
        caught.insert(signal);
    }
    Dispositions { caught, ..Dispositions::default() }
}

fn posted(effects: &[Effect], pid: Pid, signal: Signal) -> bool {
    effects.iter().any(|effect| matches!(effect, Effect::Post { pid: p, signal: s, .. } if *p == pid && *s == signal))
}

#[test]
fn a_child_exit_is_collected_by_wait_then_the_child_is_gone() {
    let mut table = table();
    let child = table.fork(INIT, 5).unwrap();
    assert_eq!(wait_any(&mut table, INIT, WaitOptions::default()), Ok(WaitOutcome::MustWait));
    let effects = table.exit_process(child, WaitStatus::Exited(3));
    assert!(effects.contains(&Effect::Terminate { pid: child }));
    assert!(effects.contains(&Effect::WakeWaiters { parent: INIT }));
    table.check().unwrap();
    let (outcome, effects) = table.wait(INIT, WaitSelector::Child(child), WaitOptions::default()).unwrap();
    assert_eq!(outcome, WaitOutcome::Child { pid: child, status: WaitStatus::Exited(3), usage: Usage::default() });
    assert_eq!(effects, vec![Effect::Reaped { pid: child }]);
    assert!(table.get(child).is_none());
    assert_eq!(wait_any(&mut table, INIT, WaitOptions::default()), Err(Errno::ECHILD));
}

#[test]
fn init_ending_stays_in_the_table_with_its_children() {
    let mut table = table();
    let child = table.fork(INIT, 0).unwrap();
    let effects = table.exit_process(INIT, WaitStatus::Exited(0));
    assert!(effects.contains(&Effect::Terminate { pid: INIT }));
    assert!(!effects.iter().any(|effect| matches!(effect, Effect::Reaped { .. })));
    assert!(table.get(INIT).unwrap().is_zombie());
    assert_eq!(table.get(child).unwrap().parent, INIT);
    table.check().unwrap();
    // The child can still end and wait for nothing.
    table.exit_process(child, WaitStatus::Exited(1));
    table.check().unwrap();
}

#[test]
fn wnohang_answers_nothing_yet_and_wait_for_a_stranger_is_echild() {
    let mut table = table();
    let child = table.fork(INIT, 0).unwrap();
    let other = table.fork(INIT, 0).unwrap();
    let options = WaitOptions { no_hang: true, ..WaitOptions::default() };
    assert_eq!(wait_any(&mut table, INIT, options), Ok(WaitOutcome::NothingYet));
    assert_eq!(table.wait(child, WaitSelector::Child(other), options).map(|(outcome, _)| outcome), Err(Errno::ECHILD));
}

#[test]
fn orphans_go_to_init_which_reaps_them() {
    let mut table = table();
    let parent = table.fork(INIT, 0).unwrap();
    let child = table.fork(parent, 0).unwrap();
    let grandchild = table.fork(child, 0).unwrap();
    table.exit_process(grandchild, WaitStatus::Exited(0));
    let effects = table.exit_process(child, WaitStatus::Exited(1));
    table.check().unwrap();
    // The zombie grandchild went to init, which is told.
    assert_eq!(table.get(grandchild).unwrap().parent, INIT);
    assert!(effects.contains(&Effect::WakeWaiters { parent: INIT }));
    let (outcome, _) = table.wait(INIT, WaitSelector::Child(grandchild), WaitOptions::default()).unwrap();
    assert!(matches!(outcome, WaitOutcome::Child { pid, .. } if pid == grandchild));
    // The parent still reaps its own child.
    let (outcome, _) = table.wait(parent, WaitSelector::AnyChild, WaitOptions::default()).unwrap();
    assert!(matches!(outcome, WaitOutcome::Child { pid, status: WaitStatus::Exited(1), .. } if pid == child));
}

#[test]
fn a_parent_ignoring_sigchld_never_has_zombies() {
    let mut table = table();
    let parent = table.fork(INIT, 0).unwrap();
    let child = table.fork(parent, 0).unwrap();
    let mut ignored = SignalSet::EMPTY;
    ignored.insert(Signal::CHILD);
    table.set_dispositions(parent, Dispositions { ignored, ..Dispositions::default() }).unwrap();
    let effects = table.exit_process(child, WaitStatus::Exited(0));
    assert!(effects.contains(&Effect::Reaped { pid: child }));
    assert!(table.get(child).is_none());
    assert_eq!(wait_any(&mut table, parent, WaitOptions::default()), Err(Errno::ECHILD));
}

#[test]
fn setting_sigchld_to_ignore_reaps_existing_zombies() {
    let mut table = table();
    let parent = table.fork(INIT, 0).unwrap();
    let child = table.fork(parent, 0).unwrap();
    table.exit_process(child, WaitStatus::Exited(0));
    let effects =
        table.set_dispositions(parent, Dispositions { no_child_wait: true, ..Dispositions::default() }).unwrap();
    assert!(effects.contains(&Effect::Reaped { pid: child }));
    table.check().unwrap();
}

#[test]
fn sigchld_is_posted_to_a_parent_that_catches_it_with_the_childs_status() {
    let mut table = table();
    let parent = table.fork(INIT, 0).unwrap();
    table.set_dispositions(parent, catching(&[Signal::CHILD])).unwrap();
    let child = table.fork(parent, 0).unwrap();
    let effects = table.exit_process(child, WaitStatus::Exited(7));
    let origin = effects.iter().find_map(|effect| match effect {
        Effect::Post { pid, signal, origin } if *pid == parent && *signal == Signal::CHILD => Some(*origin),
        _ => None,
    });
    assert_eq!(origin, Some(Origin::Child { pid: child, uid: 0, code: ChildCode::Exited, status: 7 << 8 }));
}

#[test]
fn kill_checks_permissions_and_existence() {
    let mut table = table();
    let root_child = table.fork(INIT, 0).unwrap();
    let user = table.fork(INIT, 0).unwrap();
    table.change_credentials(user, |credentials| credentials.set_user(1000)).unwrap();
    let other_user = table.fork(user, 0).unwrap();
    table.change_credentials(other_user, |credentials| credentials.set_user(1000)).unwrap();
    let sender = Sender::Process(user);
    assert_eq!(table.kill(&sender, KillTarget::Process(root_child), Some(Signal::TERMINATE)), Err(Errno::EPERM));
    assert_eq!(table.kill(&sender, KillTarget::Process(9999), Some(Signal::TERMINATE)), Err(Errno::ESRCH));
    // kill(pid, 0) only checks.
    assert_eq!(table.kill(&sender, KillTarget::Process(other_user), None), Ok(vec![]));
    let effects = table.kill(&sender, KillTarget::Process(other_user), Some(Signal::TERMINATE)).unwrap();
    assert!(effects.contains(&Effect::Terminate { pid: other_user }));
    // Root may signal anyone.
    let effects = table.kill(&Sender::Process(root_child), KillTarget::Process(user), Some(Signal::KILL)).unwrap();
    assert!(effects.contains(&Effect::Terminate { pid: user }));
    table.check().unwrap();
}

#[test]
fn sigcont_is_allowed_within_a_session_whatever_the_ids() {
    let mut table = table();
    let user = table.fork(INIT, 0).unwrap();
    table.change_credentials(user, |credentials| credentials.set_user(1000)).unwrap();
    let root_process = table.fork(INIT, 0).unwrap();
    assert_eq!(
        table.kill(&Sender::Process(user), KillTarget::Process(root_process), Some(Signal::CONTINUE)),
        Ok(vec![])
    );
    assert_eq!(
        table.kill(&Sender::Process(user), KillTarget::Process(root_process), Some(Signal::HANGUP)),
        Err(Errno::EPERM)
    );
}

#[test]
fn kill_all_and_own_group_pick_the_right_processes() {
    let mut table = table();
    let shell = table.fork(INIT, 0).unwrap();
    let first = table.fork(shell, 0).unwrap();
    let second = table.fork(shell, 0).unwrap();
    table.set_process_group(shell, first, first).unwrap();
    table.set_process_group(shell, second, first).unwrap();
    let effects = table.kill(&Sender::Process(first), KillTarget::OwnGroup, Some(Signal::TERMINATE)).unwrap();
    assert!(effects.contains(&Effect::Terminate { pid: first }));
    assert!(effects.contains(&Effect::Terminate { pid: second }));
    assert!(!effects.contains(&Effect::Terminate { pid: shell }));
    let effects = table.kill(&Sender::Process(shell), KillTarget::All, Some(Signal::KILL)).unwrap();
    assert!(!effects.contains(&Effect::Terminate { pid: INIT }));
    assert!(!effects.contains(&Effect::Terminate { pid: shell }));
    table.check().unwrap();
}

#[test]
fn init_gets_only_the_signals_it_catches() {
    let mut table = table();
    assert_eq!(table.signal(INIT, Signal::KILL, Origin::System), vec![]);
    assert_eq!(table.signal(INIT, Signal::HANGUP, Origin::Terminal), vec![]);
    table.set_dispositions(INIT, catching(&[Signal::TERMINATE])).unwrap();
    assert!(posted(&table.signal(INIT, Signal::TERMINATE, Origin::System), INIT, Signal::TERMINATE));
    assert_eq!(table.get(INIT).unwrap().state, State::Running);
}

#[test]
fn each_default_action_does_what_posix_says() {
    let mut table = table();
    let child = table.fork(INIT, 0).unwrap();
    assert_eq!(table.signal(child, Signal::CHILD, Origin::System), vec![]);
    assert_eq!(table.signal(child, Signal::WINDOW_CHANGE, Origin::Terminal), vec![]);
    let effects = table.signal(child, Signal::SEGMENTATION, Origin::Fault { code: 1, address: 0 });
    assert!(effects.contains(&Effect::Terminate { pid: child }));
    assert_eq!(
        table.get(child).unwrap().state,
        State::Zombie(WaitStatus::Signaled { signal: Signal::SEGMENTATION, core: true })
    );
    let child = table.fork(INIT, 0).unwrap();
    table.signal(child, Signal::TERMINATE, Origin::System);
    assert_eq!(
        table.get(child).unwrap().state,
        State::Zombie(WaitStatus::Signaled { signal: Signal::TERMINATE, core: false })
    );
}

#[test]
fn caught_signals_are_posted_and_ignored_ones_dropped_but_kill_and_stop_always_act() {
    let mut table = table();
    let child = table.fork(INIT, 0).unwrap();
    let mut dispositions = catching(&[Signal::USER1, Signal::KILL]);
    dispositions.ignored.insert(Signal::TERMINATE);
    dispositions.ignored.insert(Signal::STOP);
    table.set_dispositions(child, dispositions).unwrap();
    assert!(posted(&table.signal(child, Signal::USER1, Origin::System), child, Signal::USER1));
    assert_eq!(table.signal(child, Signal::TERMINATE, Origin::System), vec![]);
    let effects = table.signal(child, Signal::STOP, Origin::System);
    assert!(effects.contains(&Effect::Suspend { pid: child }));
    let effects = table.signal(child, Signal::KILL, Origin::System);
    assert!(effects.contains(&Effect::Terminate { pid: child }));
}

#[test]
fn blocked_signals_are_posted_even_if_ignored_and_exec_keeps_the_mask_but_not_handlers() {
    let mut table = table();
    let child = table.fork(INIT, 0).unwrap();
    let mut dispositions = catching(&[Signal::USER1]);
    dispositions.blocked.insert(Signal::TERMINATE);
    dispositions.blocked.insert(Signal::USER2);
    dispositions.ignored.insert(Signal::USER2);
    dispositions.blocked.insert(Signal::KILL);
    table.set_dispositions(child, dispositions).unwrap();
    assert!(
        posted(&table.signal(child, Signal::TERMINATE, Origin::System), child, Signal::TERMINATE),
        "blocked: pending with the process"
    );
    assert!(
        posted(&table.signal(child, Signal::USER2, Origin::System), child, Signal::USER2),
        "blocked and ignored: pending too"
    );
    let mut blocked = SignalSet::EMPTY;
    blocked.insert(Signal::TERMINATE);
    table.exec(child, "prog", None, None, blocked).unwrap();
    let after = table.get(child).unwrap().dispositions;
    assert_eq!(after.caught, SignalSet::EMPTY, "handlers do not survive exec");
    assert_eq!(after.blocked, blocked, "the mask is the new image's");
    assert!(after.ignored.contains(Signal::USER2), "ignored signals stay ignored");
    let effects = table.signal(child, Signal::USER1, Origin::System);
    assert!(effects.contains(&Effect::Terminate { pid: child }), "SIGUSR1 is default again");
}

#[test]
fn a_wait_answer_is_consumed_only_when_the_caller_took_it() {
    let mut table = table();
    let child = table.fork(INIT, 0).unwrap();
    table.exit_process(child, WaitStatus::Exited(4));
    let outcome = table.peek_wait(INIT, WaitSelector::AnyChild, WaitOptions::default()).unwrap();
    assert!(matches!(outcome, WaitOutcome::Child { pid, status: WaitStatus::Exited(4), .. } if pid == child));
    // The caller gave up: nothing consumed, the same answer again.
    assert_eq!(table.peek_wait(INIT, WaitSelector::AnyChild, WaitOptions::default()), Ok(outcome));
    assert_eq!(table.consume_wait(INIT, child), vec![Effect::Reaped { pid: child }]);
    assert!(table.get(child).is_none());
    assert_eq!(table.peek_wait(INIT, WaitSelector::AnyChild, WaitOptions::default()), Err(Errno::ECHILD));
    // A stop report, the same way.
    let stopped = table.fork(INIT, 0).unwrap();
    table.signal(stopped, Signal::STOP, Origin::System);
    let untraced = WaitOptions { untraced: true, no_hang: true, ..WaitOptions::default() };
    let outcome = table.peek_wait(INIT, WaitSelector::Child(stopped), untraced).unwrap();
    assert!(matches!(outcome, WaitOutcome::Child { status: WaitStatus::Stopped(Signal::STOP), .. }));
    assert_eq!(table.peek_wait(INIT, WaitSelector::Child(stopped), untraced), Ok(outcome));
    assert_eq!(table.consume_wait(INIT, stopped), vec![]);
    assert_eq!(table.peek_wait(INIT, WaitSelector::Child(stopped), untraced), Ok(WaitOutcome::NothingYet));
    // Another process cannot consume someone else's child.
    let other = table.fork(INIT, 0).unwrap();
    table.exit_process(stopped, WaitStatus::Exited(0));
    assert_eq!(table.consume_wait(other, stopped), vec![]);
    assert!(table.get(stopped).is_some());
    table.check().unwrap();
}

#[test]
fn an_abandoned_fork_leaves_no_trace() {
    let mut table = table();
    let parent = table.fork(INIT, 0).unwrap();
    let before = table.get(parent).unwrap().children().count();
    let child = table.fork(parent, 0).unwrap();
    table.abandon_fork(child);
    assert!(table.get(child).is_none());
    assert_eq!(table.get(parent).unwrap().children().count(), before);
    assert_eq!(table.peek_wait(parent, WaitSelector::AnyChild, WaitOptions::default()), Err(Errno::ECHILD));
    table.check().unwrap();
}

#[test]
fn job_control_signals_the_group_unless_it_ignores_blocks_or_is_orphaned() {
    let mut table = table();
    let shell = table.fork(INIT, 0).unwrap();
    table.new_session(shell).unwrap();
    let job = table.fork(shell, 0).unwrap();
    table.set_process_group(shell, job, job).unwrap();
    let (outcome, effects) = table.job_control(job, job, Signal::TERMINAL_INPUT).unwrap();
    assert_eq!(outcome, JobControl::Signalled);
    assert!(effects.contains(&Effect::Suspend { pid: job }));
    table.signal(job, Signal::CONTINUE, Origin::System);
    let mut dispositions = Dispositions::default();
    dispositions.blocked.insert(Signal::TERMINAL_OUTPUT);
    table.set_dispositions(job, dispositions).unwrap();
    assert_eq!(table.job_control(job, job, Signal::TERMINAL_OUTPUT).unwrap().0, JobControl::IgnoredOrBlocked);
    assert_eq!(
        table.job_control(job, shell, Signal::TERMINAL_OUTPUT).map(|(outcome, _)| outcome),
        Err(Errno::ESRCH),
        "not its group"
    );
    assert!(table.group_in_session(job, shell));
    assert!(!table.group_in_session(job, INIT));
    table.exit_process(shell, WaitStatus::Exited(0));
    assert_eq!(table.job_control(job, job, Signal::TERMINAL_INPUT).unwrap().0, JobControl::Orphaned);
    table.check().unwrap();
}

#[test]
fn a_stopped_child_is_reported_with_wuntraced_and_a_continued_one_with_wcontinued() {
    let mut table = table();
    let shell = table.fork(INIT, 0).unwrap();
    table.new_session(shell).unwrap();
    let job = table.fork(shell, 0).unwrap();
    table.set_process_group(shell, job, job).unwrap();
    let effects = table.signal(job, Signal::TERMINAL_STOP, Origin::Terminal);
    assert!(effects.contains(&Effect::Suspend { pid: job }));
    assert!(effects.contains(&Effect::WakeWaiters { parent: shell }));
    assert_eq!(wait_any(&mut table, shell, WaitOptions::default()), Ok(WaitOutcome::MustWait));
    let untraced = WaitOptions { untraced: true, ..WaitOptions::default() };
    assert_eq!(
        wait_any(&mut table, shell, untraced),
        Ok(WaitOutcome::Child {
            pid: job,
            status: WaitStatus::Stopped(Signal::TERMINAL_STOP),
            usage: Usage::default()
        })
    );
    // Reported once.
    assert_eq!(wait_any(&mut table, shell, WaitOptions { no_hang: true, ..untraced }), Ok(WaitOutcome::NothingYet));
    let effects = table.kill(&Sender::Process(shell), KillTarget::Process(job), Some(Signal::CONTINUE)).unwrap();
    assert!(effects.contains(&Effect::Resume { pid: job }));
    let continued = WaitOptions { continued: true, ..WaitOptions::default() };
    assert_eq!(
        wait_any(&mut table, shell, continued),
        Ok(WaitOutcome::Child { pid: job, status: WaitStatus::Continued, usage: Usage::default() })
    );
}

#[test]
fn sa_nocldstop_keeps_sigchld_away_on_stop_but_not_on_exit() {
    let mut table = table();
    let shell = table.fork(INIT, 0).unwrap();
    let mut dispositions = catching(&[Signal::CHILD]);
    dispositions.no_child_stop = true;
    table.set_dispositions(shell, dispositions).unwrap();
    let job = table.fork(shell, 0).unwrap();
    assert!(!posted(&table.signal(job, Signal::STOP, Origin::System), shell, Signal::CHILD));
    assert!(posted(&table.signal(job, Signal::KILL, Origin::System), shell, Signal::CHILD));
}

#[test]
fn a_group_orphaned_while_stopped_gets_sighup_and_sigcont() {
    let mut table = table();
    let shell = table.fork(INIT, 0).unwrap();
    table.new_session(shell).unwrap();
    let job = table.fork(shell, 0).unwrap();
    table.set_process_group(shell, job, job).unwrap();
    let mut dispositions = catching(&[Signal::HANGUP]);
    dispositions.ignored.insert(Signal::TERMINATE);
    table.set_dispositions(job, dispositions).unwrap();
    table.signal(job, Signal::STOP, Origin::System);
    let effects = table.exit_process(shell, WaitStatus::Exited(0));
    assert!(posted(&effects, job, Signal::HANGUP));
    assert!(effects.contains(&Effect::Resume { pid: job }));
    table.check().unwrap();
}

#[test]
fn terminal_stops_are_discarded_in_an_orphaned_group() {
    let mut table = table();
    let shell = table.fork(INIT, 0).unwrap();
    table.new_session(shell).unwrap();
    let job = table.fork(shell, 0).unwrap();
    table.set_process_group(shell, job, job).unwrap();
    table.exit_process(shell, WaitStatus::Exited(0));
    assert_eq!(table.signal(job, Signal::TERMINAL_STOP, Origin::Terminal), vec![]);
    assert_eq!(table.get(job).unwrap().state, State::Running);
    // SIGSTOP still stops.
    assert!(table.signal(job, Signal::STOP, Origin::System).contains(&Effect::Suspend { pid: job }));
}

#[test]
fn setpgid_follows_every_posix_rule() {
    let mut table = table();
    let shell = table.fork(INIT, 0).unwrap();
    table.new_session(shell).unwrap();
    let child = table.fork(shell, 0).unwrap();
    let stranger = table.fork(INIT, 0).unwrap();
    // Not the caller or its child.
    assert_eq!(table.set_process_group(shell, stranger, stranger), Err(Errno::ESRCH));
    // A session leader cannot move.
    assert_eq!(table.set_process_group(shell, shell, child), Err(Errno::EPERM));
    // A group that does not exist in the session.
    assert_eq!(table.set_process_group(shell, child, stranger), Err(Errno::EPERM));
    assert!(table.set_process_group(shell, child, child).unwrap().contains(&Effect::UpdateCredential { pid: child }));
    assert_eq!(table.process_group(child), Ok(child));
    // After exec the parent may not change it.
    table.exec(child, "ls", None, None, SignalSet::EMPTY).unwrap();
    assert_eq!(table.set_process_group(shell, child, shell), Err(Errno::EACCES));
    // The child itself still may.
    table.set_process_group(child, child, shell).unwrap();
    table.check().unwrap();
}

#[test]
fn setsid_refuses_a_group_leader_and_makes_a_terminal_less_session() {
    let mut table = table();
    let daemon = table.fork(INIT, 0).unwrap();
    let (session, _) = table.new_session(daemon).unwrap();
    assert_eq!(session, daemon);
    assert_eq!(table.new_session(daemon), Err(Errno::EPERM));
    assert_eq!(table.session(daemon), Ok(daemon));
    assert_eq!(table.terminal_of_session(daemon), None);
    table.check().unwrap();
}

#[test]
fn the_controlling_terminal_belongs_to_one_session_and_its_leader_exit_hangs_it_up() {
    let mut table = table();
    let login = table.fork(INIT, 0).unwrap();
    table.new_session(login).unwrap();
    table.set_controlling_terminal(login, 0, false).unwrap();
    assert_eq!(table.foreground(0), Some(login));
    let other = table.fork(INIT, 0).unwrap();
    table.new_session(other).unwrap();
    table.change_credentials(other, |credentials| credentials.set_user(1000)).unwrap();
    assert_eq!(table.set_controlling_terminal(other, 0, true), Err(Errno::EPERM));
    let job = table.fork(login, 0).unwrap();
    table.set_process_group(login, job, job).unwrap();
    table.set_foreground(login, 0, job).unwrap();
    assert_eq!(table.foreground(0), Some(job));
    assert_eq!(table.set_foreground(other, 0, other), Err(Errno::ENOTTY));
    assert_eq!(table.set_foreground(login, 0, other), Err(Errno::EPERM));
    let effects = table.exit_process(login, WaitStatus::Exited(0));
    assert!(effects.contains(&Effect::Terminate { pid: job }), "SIGHUP's default action ends the foreground job");
    assert!(effects.contains(&Effect::TerminalReleased { terminal: 0 }));
    assert_eq!(table.foreground(0), None);
    table.check().unwrap();
}

#[test]
fn rlimit_nproc_stops_a_fork_bomb_of_an_unprivileged_user() {
    let mut table = table();
    let user = table.fork(INIT, 0).unwrap();
    table.change_credentials(user, |credentials| credentials.set_user(1000)).unwrap();
    table.set_limit(user, resource::PROCESSES, Limit { current: 5, maximum: 5 }).unwrap();
    let mut made = 0;
    loop {
        match table.fork(user, 0) {
            Ok(_) => made += 1,
            Err(error) => {
                assert_eq!(error, Errno::EAGAIN);
                break;
            }
        }
    }
    assert_eq!(made, 4);
    // Root is not limited by it.
    for _ in 0..10 {
        table.fork(INIT, 0).unwrap();
    }
    // A user cannot raise its hard limit.
    assert_eq!(table.set_limit(user, resource::PROCESSES, Limit { current: 6, maximum: 6 }), Err(Errno::EPERM));
}

#[test]
fn the_alarm_fires_once_or_every_interval_and_reports_time_left() {
    let mut table = table();
    let child = table.fork(INIT, 0).unwrap();
    table.set_dispositions(child, catching(&[Signal::ALARM])).unwrap();
    assert_eq!(table.set_timer(child, 1000, 5000, 0), Ok((0, 0)));
    assert_eq!(table.next_deadline(), Some(6000));
    assert_eq!(table.set_timer(child, 2000, 3000, 1000), Ok((4000, 0)));
    assert!(table.expire_timers(4999).is_empty());
    assert!(posted(&table.expire_timers(5000), child, Signal::ALARM));
    assert_eq!(table.next_deadline(), Some(6000));
    assert_eq!(table.set_timer(child, 5500, 0, 0), Ok((500, 1000)));
    assert_eq!(table.next_deadline(), None);
}

#[test]
fn reaped_usage_accumulates_in_the_parent() {
    let mut table = table();
    let parent = table.fork(INIT, 0).unwrap();
    let child = table.fork(parent, 0).unwrap();
    let grandchild = table.fork(child, 0).unwrap();
    table.record_usage(grandchild, Usage { user_milliseconds: 5, system_milliseconds: 1 });
    table.exit_process(grandchild, WaitStatus::Exited(0));
    table.wait(child, WaitSelector::AnyChild, WaitOptions::default()).unwrap();
    table.record_usage(child, Usage { user_milliseconds: 10, system_milliseconds: 2 });
    table.exit_process(child, WaitStatus::Exited(0));
    let (outcome, _) = table.wait(parent, WaitSelector::AnyChild, WaitOptions::default()).unwrap();
    let expected = Usage { user_milliseconds: 15, system_milliseconds: 3 };
    assert!(matches!(outcome, WaitOutcome::Child { usage, .. } if usage == expected));
    assert_eq!(table.get(parent).unwrap().children_usage, expected);
}

#[test]
fn exec_resets_caught_signals_and_applies_set_user_id() {
    let mut table = table();
    let child = table.fork(INIT, 0).unwrap();
    table.change_credentials(child, |credentials| credentials.set_user(1000)).unwrap();
    let mut dispositions = catching(&[Signal::INTERRUPT]);
    dispositions.ignored.insert(Signal::QUIT);
    table.set_dispositions(child, dispositions).unwrap();
    table.exec(child, "passwd", Some(0), None, SignalSet::EMPTY).unwrap();
    let process = table.get(child).unwrap();
    assert_eq!(process.dispositions.of(Signal::INTERRUPT), Disposition::Default);
    assert_eq!(process.dispositions.of(Signal::QUIT), Disposition::Ignore);
    assert_eq!(process.credentials.effective_user, 0);
    assert_eq!(process.credentials.real_user, 1000);
    assert_eq!(process.credentials.saved_user, 0);
    assert_eq!(process.command, "passwd");
}

#[test]
fn the_setuid_family_follows_posix() {
    let mut credentials = Credentials::user(1000, 100);
    assert_eq!(credentials.set_user(0), Err(Errno::EPERM));
    let mut setuid_program = Credentials::user(1000, 100);
    setuid_program.exec(Some(0), None);
    // Drop privilege temporarily, then take it back through the saved id.
    setuid_program.set_effective_user(1000).unwrap();
    assert!(!setuid_program.is_privileged());
    setuid_program.set_effective_user(0).unwrap();
    assert!(setuid_program.is_privileged());
    // setuid by root sets all three: no way back.
    setuid_program.set_user(1000).unwrap();
    assert_eq!(setuid_program.set_effective_user(0), Err(Errno::EPERM));
    // setreuid swaps.
    let mut swapped = Credentials::user(1000, 100);
    swapped.exec(Some(2000), None);
    swapped.set_real_and_effective_user(Some(2000), Some(1000)).unwrap();
    assert_eq!((swapped.real_user, swapped.effective_user, swapped.saved_user), (2000, 1000, 1000));
    assert_eq!(credentials.set_groups(&[1, 2]), Err(Errno::EPERM));
    assert_eq!(Credentials::root().set_groups(&[0; 17]), Err(Errno::EINVAL));
    assert_eq!(credentials.set_user_ids(Some(1000), None, Some(5)), Err(Errno::EPERM));
}

/// Random operations; the invariants hold after each, and every ended
/// process whose parent waits is eventually collected.
#[derive(Clone, Debug)]
enum Operation {
    Fork(usize),
    Exit(usize, u8),
    Wait(usize, bool),
    Kill(usize, usize, u8),
    SetGroup(usize, usize),
    NewSession(usize),
    Ignore(usize, bool),
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        3 => any::<usize>().prop_map(Operation::Fork),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Operation::Exit(a, b)),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(a, b)| Operation::Wait(a, b)),
        2 => (any::<usize>(), any::<usize>(), 1u8..=31).prop_map(|(a, b, c)| Operation::Kill(a, b, c)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Operation::SetGroup(a, b)),
        1 => any::<usize>().prop_map(Operation::NewSession),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(a, b)| Operation::Ignore(a, b)),
    ]
}

proptest! {
    #[test]
    fn the_invariants_hold_under_random_operations(operations in proptest::collection::vec(operation(), 1..200)) {
        let mut table = table();
        for operation in operations {
            let living: Vec<Pid> = table.processes().filter(|process| !process.is_zombie()).map(|process| process.pid).collect();
            let pick = |index: usize| living[index % living.len()];
            match operation {
                Operation::Fork(parent) => { let _ = table.fork(pick(parent), 0); }
                Operation::Exit(pid, code) => {
                    let pid = pick(pid);
                    if pid != INIT { table.exit_process(pid, WaitStatus::Exited(code)); }
                }
                Operation::Wait(pid, untraced) => {
                    let options = WaitOptions { no_hang: true, untraced, continued: true };
                    let _ = table.wait(pick(pid), WaitSelector::AnyChild, options);
                }
                Operation::Kill(sender, target, signal) => {
                    let target = pick(target);
                    if target != INIT {
                        let _ = table.kill(&Sender::Process(pick(sender)), KillTarget::Process(target), Signal::new(signal as u32));
                    }
                }
                Operation::SetGroup(caller, target) => {
                    let (caller, target) = (pick(caller), pick(target));
                    let _ = table.set_process_group(caller, target, target);
                }
                Operation::NewSession(pid) => {
                    let pid = pick(pid);
                    if pid != INIT { let _ = table.new_session(pid); }
                }
                Operation::Ignore(pid, ignore) => {
                    let mut dispositions = Dispositions::default();
                    if ignore { dispositions.ignored.insert(Signal::CHILD); }
                    let _ = table.set_dispositions(pick(pid), dispositions);
                }
            }
            prop_assert_eq!(table.check(), Ok(()));
        }
        // Everyone but init exits; init then collects every zombie.
        let others: Vec<Pid> = table.processes().filter(|process| process.pid != INIT).map(|process| process.pid).collect();
        for pid in others { table.exit_process(pid, WaitStatus::Exited(0)); }
        let _ = table.set_dispositions(INIT, Dispositions::default());
        loop {
            match table.wait(INIT, WaitSelector::AnyChild, WaitOptions { no_hang: true, ..WaitOptions::default() }) {
                Ok((WaitOutcome::Child { .. }, _)) => continue,
                Err(error) => { prop_assert_eq!(error, Errno::ECHILD); break; }
                Ok(other) => prop_assert!(false, "init could not collect everything: {:?}", other),
            }
        }
        prop_assert_eq!(table.processes().count(), 1);
        prop_assert_eq!(table.check(), Ok(()));
    }
}
