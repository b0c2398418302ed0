"""The console's system test, typing on the serial line (scripts/tests/console
starts QEMU; this drives it).

    console_checks.py SOCKET KERNEL_LOG

SOCKET is COM1 (a Unix socket QEMU serves, waiting for us), KERNEL_LOG the
file QEMU writes the kernel's debug console to. The guest runs the console
server and `console-checks` (personality/console/src/bin/console-checks.rs),
which answers each line it reads with `got: LINE`. Prints one line per
check and ends with "console: N passed, N failed".
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serial_console import SerialConsole, Timeout  # noqa: E402

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"console: {name} ... ok")
    else:
        failed += 1
        print(f"console: {name} ... FAILED {detail}")


def step(name, action):
    """Runs `action` (which expects text); a timeout fails the check."""
    try:
        result = action()
        check(name, result is not False)
    except Timeout as error:
        check(name, False, str(error))


def main():
    socket_path, kernel_log = sys.argv[1], sys.argv[2]
    console = SerialConsole(socket_path)

    step("the kernel writes its boot log on the serial line", lambda: console.expect(b"INFO  mach_kernel: Mach_R", 60))
    step("the console server shows the log after the hand-over",
         lambda: console.expect(b"[console] console: serving the serial line", 60))
    step("the test program is ready", lambda: console.expect(b"[console-checks] console-checks: ready\r\n", 60))
    console.expect(b"> ")

    console.type(b"hello\r")
    step("a line is echoed with CR NL and read with NL", lambda: console.expect(b"hello\r\ngot: hello\r\n"))
    console.expect(b"> ")

    console.type(b"lx\x7fs\x08t\r", pause=0.02)
    step("DEL and ^H erase a character on screen and in the line",
         lambda: console.expect(b"lx\x08 \x08s\x08 \x08t\r\ngot: lt\r\n"))
    console.expect(b"> ")

    console.type(b"abc\x15de\r", pause=0.02)
    step("^U kills the line", lambda: console.expect(b"abc\x08 \x08\x08 \x08\x08 \x08de\r\ngot: de\r\n"))
    console.expect(b"> ")

    console.type(b"echo hello  \x17world\r", pause=0.02)
    step("^W erases a word", lambda: console.expect(b"got: echo world\r\n"))
    console.expect(b"> ")

    console.type(b"abc\x04", pause=0.02)
    step("^D ends a line without a newline", lambda: console.expect(b"abcgot: abc\r\n"))
    console.expect(b"> ")
    console.type(b"\x04")
    step("^D on an empty line is end of file", lambda: console.expect(b"got end of file\r\n"))
    console.expect(b"> ")

    console.type(b"pgrp\r")
    step("the program's session has the terminal, its group in the foreground",
         lambda: console.expect(b"foreground group 42\r\n"))
    console.expect(b"> ")

    console.type(b"half\x03", pause=0.02)
    step("^C echoes ^C", lambda: console.expect(b"half^C"))
    step("^C is recorded as SIGINT for the foreground group",
         lambda: console.expect(b"console: SIGINT (2) for process group 42 recorded"))
    console.type(b"after\r")
    step("^C threw the half line away", lambda: console.expect(b"got: after\r\n"))
    console.expect(b"> ")

    console.type(b"raw\r")
    step("raw mode is set through termios", lambda: console.expect(b"raw mode\r\n"))
    console.type(b"x")
    echoed = []
    step("raw mode hands over a byte at once", lambda: echoed.append(console.expect(b"raw: 78\r\n")))
    console.type(b"\x03")
    step("raw mode without ISIG reads ^C as a byte", lambda: echoed.append(console.expect(b"raw: 03\r\n")))
    check("raw mode does not echo", echoed == [b"", b""], repr(echoed))
    console.type(b"q")
    step("back to canonical mode", lambda: console.expect(b"canonical mode\r\n"))
    console.expect(b"> ")

    console.type(b"\x13")
    console.type(b"held\r")
    check("^S stops output", console.quiet(0.7), repr(console.output[console.mark:]))
    console.type(b"\x11")
    step("^Q lets it through, echo first", lambda: console.expect(b"held\r\ngot: held\r\n"))
    console.expect(b"> ")

    # A kernel log line that comes while a line is being typed: shown above
    # it, the line redrawn after it, never inside it.
    console.type(b"later\r")
    console.expect(b"later\r\n")
    console.type(b"part", pause=0.02)
    step("a kernel line arriving while typing goes above the line being typed",
         lambda: console.expect(b"\r\x1b[K[console-checks] console-checks: the delayed kernel line\r\npart"))
    console.type(b"ial\r")
    step("and the line typed is read whole", lambda: console.expect(b"got: partial\r\n"))
    console.expect(b"> ")

    console.type(b"klog\r")
    step("the kernel log is readable with kernel_log_read", lambda: console.expect(b"found my line with kernel_log_read\r\n"))
    console.expect(b"> ")

    console.type(b"bench\r")
    started = time.time()
    step("64 KiB written through the UART", lambda: console.expect(b"bench done\r\n", 60))
    seconds = time.time() - started
    console.expect(b"> ")
    figure = [line for line in console.output.split(b"\r\n") if b"console-checks: wrote" in line]
    if figure:
        print(f"console: figure: {figure[-1].decode(errors='replace').split('] ')[-1]} "
              f"(the writer's view; {65536 / seconds / 1024:.0f} KiB/s on the wire as the test saw it)")

    console.type(b"dmesg\r")
    step("the kernel log is refused to a user (uid 1000) through the console",
         lambda: console.expect(b"dmesg: not permitted\r\n"))
    console.expect(b"> ")

    console.type(b"quit\r")
    step("the program ends", lambda: console.expect(b"bye\r\n"))
    step("its last line is shown", lambda: console.expect(b"[console-checks] console-checks: done\r\n"))
    console.receive(0.5)
    console.close()

    # The kernel's side: every line is in its log (the debug console), and
    # after the hand-over the kernel wrote nothing on the serial line itself:
    # each line the console showed appears there once.
    # "-": the machine has no debug console (aarch64's normal kernel): the
    # log's lines are checked as the console showed them.
    output = console.output
    if kernel_log == "-":
        log, where = output, " (as the console showed it: no debug console)"
    else:
        with open(kernel_log, "rb") as file:
            log, where = file.read(), ""
    check(f"the kernel log has the delayed line{where}", b"console-checks: the delayed kernel line" in log)
    check(f"the kernel log has the signal record{where}", b"console: SIGINT (2) for process group 42" in log)
    for line in [b"console-checks: the delayed kernel line", b"console-checks: ready", b"console: serving the serial line",
                 b"INFO  mach_kernel: ready"]:
        count = output.count(line)
        check(f"{line.decode()!r} is on the serial line once", count == 1, f"({count} times)")
    print(f"console: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
