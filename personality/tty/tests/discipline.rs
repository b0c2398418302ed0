//! The line discipline against what a Linux tty does with the same keys,
//! and against a model of canonical editing.

use proptest::prelude::*;
use tty::termios::{control, local};
use tty::{LineDiscipline, ReadOutcome, ReadTimer, Signal, Termios, INPUT_LIMIT};

/// Types `keys` and returns the echo and the signals.
fn type_keys(discipline: &mut LineDiscipline, keys: &[u8]) -> (Vec<u8>, Vec<Signal>) {
    let mut echo = Vec::new();
    let mut signals = Vec::new();
    for &key in keys {
        if let Some(signal) = discipline.receive(key, &mut echo) {
            signals.push(signal);
        }
    }
    (echo, signals)
}

fn read_all(discipline: &mut LineDiscipline) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buffer = [0u8; 64];
    while let ReadOutcome::Data(count) = discipline.read(&mut buffer, false) {
        if count == 0 {
            break;
        }
        out.extend_from_slice(&buffer[..count]);
    }
    out
}

fn raw(minimum: u8, tenths: u8) -> Termios {
    let mut termios = Termios::console();
    termios.local_flags &= !(local::ICANON | local::ECHO | local::ISIG | local::IEXTEN);
    termios.control_characters[control::VMIN] = minimum;
    termios.control_characters[control::VTIME] = tenths;
    termios
}

#[test]
fn a_typed_line_is_echoed_with_cr_nl_and_read_with_nl() {
    let mut tty = LineDiscipline::default();
    let (echo, signals) = type_keys(&mut tty, b"ls -l\r");
    assert_eq!(echo, b"ls -l\r\n");
    assert!(signals.is_empty());
    let mut buffer = [0u8; 64];
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Data(6));
    assert_eq!(&buffer[..6], b"ls -l\n");
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Wait);
}

#[test]
fn nothing_is_readable_until_the_line_ends() {
    let mut tty = LineDiscipline::default();
    type_keys(&mut tty, b"partial");
    assert!(!tty.readable());
    assert_eq!(tty.read(&mut [0u8; 8], false), ReadOutcome::Wait);
    type_keys(&mut tty, b"\n");
    assert!(tty.readable());
}

#[test]
fn a_short_read_leaves_the_rest_of_the_line() {
    let mut tty = LineDiscipline::default();
    type_keys(&mut tty, b"abcdef\nxy\n");
    let mut buffer = [0u8; 4];
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Data(4));
    assert_eq!(&buffer, b"abcd");
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Data(3));
    assert_eq!(&buffer[..3], b"ef\n");
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Data(3));
    assert_eq!(&buffer[..3], b"xy\n");
}

#[test]
fn delete_and_backspace_erase_one_character_on_screen() {
    let mut tty = LineDiscipline::default();
    let (echo, _) = type_keys(&mut tty, b"lx\x7fs\x08t\n");
    assert_eq!(echo, b"lx\x08 \x08s\x08 \x08t\r\n");
    assert_eq!(read_all(&mut tty), b"lt\n");
}

#[test]
fn erasing_a_control_character_takes_its_two_columns() {
    let mut tty = LineDiscipline::default();
    let (echo, _) = type_keys(&mut tty, b"a\x01\x7f\n");
    assert_eq!(echo, b"a^A\x08 \x08\x08 \x08\r\n");
    assert_eq!(read_all(&mut tty), b"a\n");
}

#[test]
fn erasing_a_tab_goes_back_to_where_it_started() {
    let mut tty = LineDiscipline::default();
    let (echo, _) = type_keys(&mut tty, b"ab\t\x7f");
    // "ab" leaves the cursor at column 2; the tab moved it to 8.
    assert_eq!(echo, b"ab\t\x08\x08\x08\x08\x08\x08");
    type_keys(&mut tty, b"c\n");
    assert_eq!(read_all(&mut tty), b"abc\n");
}

#[test]
fn erase_removes_a_whole_utf8_character() {
    let mut tty = LineDiscipline::default();
    let (echo, _) = type_keys(&mut tty, "é\x7f".as_bytes());
    assert_eq!(&echo[echo.len() - 3..], b"\x08 \x08");
    type_keys(&mut tty, b"e\n");
    assert_eq!(read_all(&mut tty), b"e\n");
}

#[test]
fn erase_on_an_empty_line_does_nothing() {
    let mut tty = LineDiscipline::default();
    let (echo, _) = type_keys(&mut tty, b"\x7f\x7fok\n");
    assert_eq!(echo, b"ok\r\n");
    assert_eq!(read_all(&mut tty), b"ok\n");
}

#[test]
fn kill_erases_the_whole_line() {
    let mut tty = LineDiscipline::default();
    let (echo, _) = type_keys(&mut tty, b"abc\x15de\n");
    assert_eq!(echo, b"abc\x08 \x08\x08 \x08\x08 \x08de\r\n");
    assert_eq!(read_all(&mut tty), b"de\n");
}

#[test]
fn kill_without_echoke_echoes_the_kill_character_and_a_newline() {
    let mut termios = Termios::console();
    termios.local_flags &= !local::ECHOKE;
    let mut tty = LineDiscipline::new(termios);
    let (echo, _) = type_keys(&mut tty, b"abc\x15");
    assert_eq!(echo, b"abc^U\r\n");
}

#[test]
fn word_erase_removes_the_last_word_and_the_blanks_after_it() {
    let mut tty = LineDiscipline::default();
    type_keys(&mut tty, b"echo hello  \x17world\n");
    assert_eq!(read_all(&mut tty), b"echo world\n");
}

#[test]
fn control_d_on_an_empty_line_is_end_of_file_and_otherwise_ends_the_line_without_newline() {
    let mut tty = LineDiscipline::default();
    type_keys(&mut tty, b"abc\x04\x04");
    let mut buffer = [0u8; 16];
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Data(3));
    assert_eq!(&buffer[..3], b"abc");
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::EndOfFile);
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Wait);
}

#[test]
fn interrupt_quit_and_suspend_become_signals_and_flush_the_line() {
    let mut tty = LineDiscipline::default();
    let (echo, signals) = type_keys(&mut tty, b"half\x03");
    assert_eq!(signals, [Signal::Interrupt]);
    assert_eq!(echo, b"half^C");
    type_keys(&mut tty, b"new\n");
    assert_eq!(read_all(&mut tty), b"new\n");
    let (_, signals) = type_keys(&mut tty, b"\x1c\x1a");
    assert_eq!(signals, [Signal::Quit, Signal::Suspend]);
}

#[test]
fn noflsh_keeps_the_input_across_a_signal() {
    let mut termios = Termios::console();
    termios.local_flags |= local::NOFLSH;
    let mut tty = LineDiscipline::new(termios);
    type_keys(&mut tty, b"keep\x03\n");
    assert_eq!(read_all(&mut tty), b"keep\n");
}

#[test]
fn without_isig_control_c_is_an_ordinary_byte() {
    let mut termios = raw(1, 0);
    termios.local_flags &= !local::ISIG;
    let mut tty = LineDiscipline::new(termios);
    let (echo, signals) = type_keys(&mut tty, b"\x03");
    assert!(signals.is_empty());
    assert!(echo.is_empty());
    assert_eq!(read_all(&mut tty), b"\x03");
}

#[test]
fn literal_next_stores_the_next_control_character() {
    let mut tty = LineDiscipline::default();
    let (_, signals) = type_keys(&mut tty, b"\x16\x03\n");
    assert!(signals.is_empty());
    assert_eq!(read_all(&mut tty), b"\x03\n");
}

#[test]
fn reprint_shows_the_line_again() {
    let mut tty = LineDiscipline::default();
    let (echo, _) = type_keys(&mut tty, b"abc\x12");
    assert_eq!(echo, b"abc^R\r\nabc");
}

#[test]
fn raw_mode_hands_over_every_byte_at_once_without_echo() {
    let mut tty = LineDiscipline::new(raw(1, 0));
    let (echo, _) = type_keys(&mut tty, b"\x1b[A\r");
    assert!(echo.is_empty());
    // ICRNL still applies, as on Linux with cfmakeraw not called.
    assert_eq!(read_all(&mut tty), b"\x1b[A\n");
}

#[test]
fn vmin_and_vtime_decide_when_a_read_returns() {
    let mut buffer = [0u8; 8];
    // VMIN=0, VTIME=0: a poll.
    let mut tty = LineDiscipline::new(raw(0, 0));
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Data(0));
    assert_eq!(tty.read_timer(), ReadTimer::None);
    // VMIN=3, VTIME=0: three bytes.
    let mut tty = LineDiscipline::new(raw(3, 0));
    type_keys(&mut tty, b"ab");
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Wait);
    type_keys(&mut tty, b"c");
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Data(3));
    // ... but never more than the buffer asks for.
    type_keys(&mut tty, b"xy");
    assert_eq!(tty.read(&mut buffer[..2], false), ReadOutcome::Data(2));
    // VMIN=0, VTIME=5: whatever came within half a second, or nothing.
    let mut tty = LineDiscipline::new(raw(0, 5));
    assert_eq!(tty.read_timer(), ReadTimer::FromStart(500));
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Wait);
    assert_eq!(tty.read(&mut buffer, true), ReadOutcome::Data(0));
    // VMIN=4, VTIME=2: an inter-byte timer once something arrived.
    let mut tty = LineDiscipline::new(raw(4, 2));
    assert_eq!(tty.read_timer(), ReadTimer::BetweenBytes(200));
    assert_eq!(tty.read(&mut buffer, true), ReadOutcome::Wait);
    type_keys(&mut tty, b"q");
    assert_eq!(tty.read(&mut buffer, false), ReadOutcome::Wait);
    assert_eq!(tty.read(&mut buffer, true), ReadOutcome::Data(1));
}

#[test]
fn leaving_and_entering_canonical_mode_loses_nothing_typed() {
    let mut tty = LineDiscipline::default();
    type_keys(&mut tty, b"one\ntw");
    tty.set_termios(raw(1, 0), false);
    assert_eq!(read_all(&mut tty), b"one\ntw");
    type_keys(&mut tty, b"xyz");
    tty.set_termios(Termios::console(), false);
    assert_eq!(read_all(&mut tty), b"xyz");
    type_keys(&mut tty, b"gone");
    tty.set_termios(Termios::console(), true);
    type_keys(&mut tty, b"\n");
    assert_eq!(read_all(&mut tty), b"\n");
}

#[test]
fn output_turns_newline_into_cr_nl() {
    let mut tty = LineDiscipline::default();
    let mut out = Vec::new();
    tty.write(b"a\nb\n", &mut out);
    assert_eq!(out, b"a\r\nb\r\n");
    let mut termios = Termios::console();
    termios.output_flags = 0;
    tty.set_termios(termios, false);
    out.clear();
    tty.write(b"a\n", &mut out);
    assert_eq!(out, b"a\n");
}

#[test]
fn control_s_stops_output_and_control_q_starts_it() {
    let mut tty = LineDiscipline::default();
    type_keys(&mut tty, b"\x13");
    assert!(tty.stopped());
    type_keys(&mut tty, b"\x11");
    assert!(!tty.stopped());
    assert!(!tty.readable());
}

#[test]
fn a_signal_key_restarts_stopped_output() {
    let mut tty = LineDiscipline::default();
    type_keys(&mut tty, b"\x13");
    assert!(tty.stopped());
    let (_, signals) = type_keys(&mut tty, b"\x03");
    assert_eq!(signals, [Signal::Interrupt]);
    assert!(!tty.stopped());
}

#[test]
fn input_past_the_limit_is_dropped_with_a_bell() {
    let mut tty = LineDiscipline::default();
    let keys = vec![b'x'; INPUT_LIMIT + 10];
    let (echo, _) = type_keys(&mut tty, &keys);
    assert_eq!(echo.iter().filter(|&&byte| byte == 0x07).count(), 10);
    type_keys(&mut tty, b"\x7f\n");
    assert_eq!(read_all(&mut tty).len(), INPUT_LIMIT);
}

#[test]
fn termios_bytes_round_trip_in_minilibc_layout() {
    let termios = Termios::console();
    let bytes = termios.to_bytes();
    assert_eq!(Termios::from_bytes(&bytes), termios);
    assert_eq!(&bytes[17 + control::VINTR], &3);
    assert_eq!(u32::from_le_bytes(bytes[12..16].try_into().unwrap()), termios.local_flags);
}

#[test]
fn a_peek_takes_nothing_until_consumed() {
    let mut tty = LineDiscipline::default();
    type_keys(&mut tty, b"abcdef\n\x04");
    let mut buffer = [0u8; 4];
    assert_eq!(tty.peek(&mut buffer, false), ReadOutcome::Data(4));
    assert_eq!(&buffer, b"abcd");
    // Not consumed: the same bytes again (a reader that went away lost nothing).
    assert_eq!(tty.peek(&mut buffer, false), ReadOutcome::Data(4));
    tty.consume(ReadOutcome::Data(4));
    assert_eq!(tty.peek(&mut buffer, false), ReadOutcome::Data(3));
    assert_eq!(&buffer[..3], b"ef\n");
    tty.consume(ReadOutcome::Data(3));
    assert_eq!(tty.peek(&mut buffer, false), ReadOutcome::EndOfFile);
    assert_eq!(tty.peek(&mut buffer, false), ReadOutcome::EndOfFile);
    tty.consume(ReadOutcome::EndOfFile);
    assert_eq!(tty.peek(&mut buffer, false), ReadOutcome::Wait);
}

#[test]
fn available_bytes_counts_finished_lines_or_every_raw_byte() {
    let mut tty = LineDiscipline::default();
    type_keys(&mut tty, b"one\ntwo\nthr");
    assert_eq!(tty.available_bytes(), 8);
    assert!(tty.is_editing());
    type_keys(&mut tty, b"ee\n");
    assert_eq!(tty.available_bytes(), 14);
    assert!(!tty.is_editing());
    let mut tty = LineDiscipline::new(raw(1, 0));
    type_keys(&mut tty, b"xyz");
    assert_eq!(tty.available_bytes(), 3);
    assert!(!tty.is_editing());
}

/// Canonical editing as a model: printable keys, erase, kill, newline.
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
                read.extend_from_slice(&line);
                read.push(b'\n');
                line.clear();
            }
            key => line.push(key),
        }
    }
    read
}

proptest! {
    #[test]
    fn canonical_editing_matches_the_model(keys in proptest::collection::vec(
        prop_oneof![8 => 0x20u8..0x7f, 1 => Just(0x7fu8), 1 => Just(0x15u8), 1 => Just(b'\n')], 0..300)) {
        let mut tty = LineDiscipline::default();
        type_keys(&mut tty, &keys);
        prop_assert_eq!(read_all(&mut tty), model(&keys));
    }

    #[test]
    fn peek_then_consume_reads_what_read_reads(
        keys in proptest::collection::vec(prop_oneof![6 => 0x20u8..0x7f, 1 => Just(b'\n'), 1 => Just(0x04u8)], 0..200),
        canonical in any::<bool>(),
        sizes in proptest::collection::vec(1usize..12, 1..40),
    ) {
        let termios = if canonical { Termios::console() } else { raw(1, 0) };
        let mut reading = LineDiscipline::new(termios);
        let mut peeking = LineDiscipline::new(termios);
        type_keys(&mut reading, &keys);
        type_keys(&mut peeking, &keys);
        for size in sizes {
            let mut read_buffer = vec![0u8; size];
            let mut peek_buffer = vec![0u8; size];
            let read = reading.read(&mut read_buffer, false);
            let peeked = peeking.peek(&mut peek_buffer, false);
            prop_assert_eq!(read, peeked);
            if let ReadOutcome::Data(count) = read {
                prop_assert_eq!(&read_buffer[..count], &peek_buffer[..count]);
            }
            peeking.consume(peeked);
            prop_assert_eq!(reading.available_bytes(), peeking.available_bytes());
        }
    }

    #[test]
    fn any_input_in_any_mode_never_panics_and_stays_bounded(
        keys in proptest::collection::vec(any::<u8>(), 0..2000),
        local_flags in any::<u32>(),
        input_flags in any::<u32>(),
        minimum in any::<u8>(),
        tenths in any::<u8>(),
    ) {
        let mut termios = Termios::console();
        termios.local_flags = local_flags;
        termios.input_flags = input_flags;
        termios.control_characters[control::VMIN] = minimum;
        termios.control_characters[control::VTIME] = tenths;
        let mut tty = LineDiscipline::new(termios);
        let mut echo = Vec::new();
        for (index, &key) in keys.iter().enumerate() {
            tty.receive(key, &mut echo);
            if index % 97 == 0 {
                let _ = tty.read(&mut [0u8; 16], index % 2 == 0);
            }
        }
        let mut total = 0;
        let mut buffer = [0u8; 256];
        while let ReadOutcome::Data(count) = tty.read(&mut buffer, true) {
            if count == 0 { break; }
            total += count;
        }
        prop_assert!(total <= INPUT_LIMIT);
    }
}
