#!/usr/bin/env python3
"""A person at Mach_R's serial console: msh, started by init on the
console (scripts/run with no -c), is typed at through QEMU's COM1 on a Unix
socket (scripts/lib/serial_console.py) and what comes back is checked: the
prompt, cd and pwd, a pipeline and redirections through coreutils, the
status of failing commands, line editing, ^C of a running job, ^Z with
jobs/bg/kill, a second shell (`msh -l`) with the first one's history,
`kill -9` of the login shell (init starts another) and its `exit` (the
machine goes off with its status). The shell is a login shell (init
starts it as `-msh`): root's account from /etc/passwd, /etc/profile's PATH
and prompt (`root:DIRECTORY # `), the history in /root/.msh_history.
With --poweroff, a short session instead: `poweroff` at the first prompt.

Usage: serial.py [--poweroff] SOCKET [SECONDS [KERNEL_LOG]] (SECONDS: how long to wait
for the socket: QEMU makes it once scripts/run has built everything;
KERNEL_LOG: where the power-off line is looked for). Prints PASS/FAIL per check and ends with
"N passed, N failed"; exits 1 if any failed.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "lib"))
from serial_console import SerialConsole, Timeout  # noqa: E402

LEFT = b"\x1b[D"
PROMPT = re.compile(rb"(?:\A|\n)root:/[^\r\n\x1b]* # ")
# Spawning under QEMU's TCG on a loaded machine is slow: generous bounds.
BOOT_SECONDS = 240
COMMAND_SECONDS = 60

passed = 0
failed = 0


def check(name, condition, detail=b""):
    global passed, failed
    if condition:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail[-600:]!r}")


def lines(text):
    """The lines of what the console showed, as a screen would: a carriage
    return starts the line over (the editor redraws that way)."""
    return [line.split(b"\r")[-1] for line in text.replace(b"\r\n", b"\n").split(b"\n")]


class Shell:
    def __init__(self, console):
        self.console = console

    def prompt(self, seconds=COMMAND_SECONDS):
        """What came up to the next prompt ("root:DIRECTORY # " at the start of
        a line: the editor's redraws of the line start with a carriage
        return instead)."""
        console = self.console
        deadline = time.time() + seconds
        while True:
            match = PROMPT.search(console.output, console.mark)
            if match:
                before = console.output[console.mark : match.end()]
                console.mark = match.end()
                return before
            if time.time() > deadline:
                raise Timeout(f"no prompt; after the mark: {console.output[console.mark:][-400:]!r}")
            console.receive(0.05)

    def run(self, line, seconds=COMMAND_SECONDS):
        """Types `line` and Enter; the output up to the next prompt."""
        self.console.type(line + b"\r")
        return self.prompt(seconds)


def wait_closed(console, seconds):
    """True once QEMU closes the serial line (within `seconds`)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            data = console.socket.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return True
        if not data:
            return True
        console.output += data
    return False


def power_off():
    """`--poweroff SOCKET SECONDS KERNEL_LOG`: a second, short session:
    poweroff typed at the first prompt."""
    console = SerialConsole(sys.argv[2], connect_seconds=float(sys.argv[3]))
    try:
        Shell(console).prompt(BOOT_SECONDS)
        console.type(b"poweroff\r")
        check("poweroff ends the system", wait_closed(console, 120), console.output[console.mark :])
        with open(sys.argv[4], "rb") as log:
            said = b"proc: powering off (status 0)" in log.read()
        check("the process server powered off with status 0", said)
    except Timeout as error:
        check("the session went on", False, str(error).encode())
    finally:
        console.close()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main():
    if sys.argv[1] == "--poweroff":
        return power_off()
    console = SerialConsole(sys.argv[1], connect_seconds=float(sys.argv[2]) if len(sys.argv) > 2 else 30)
    shell = Shell(console)
    try:
        before = shell.prompt(BOOT_SECONDS)
        check("the system boots to msh's prompt on the console", True)
        check(
            "the prompt is /etc/profile's: user, home directory and # for root",
            lines(console.output[: console.mark])[-1] == b"root:/root # ",
            before,
        )
        output = shell.run(b'echo "$HOME $USER $LOGNAME $SHELL"; pwd')
        check(
            "a login shell: the account from /etc/passwd, started in HOME",
            b"\n/root root root /bin/msh\r\n/root\r\n" in output,
            output,
        )
        output = shell.run(b"echo $PATH")
        check("a variable set in /etc/profile is seen at the prompt", b"\n/bin:/sbin:/usr/bin\r\n" in output, output)

        output = shell.run(b"cd /tmp")
        output = shell.run(b"pwd")
        check("cd and pwd", b"\n/tmp\r\n" in output.replace(b"pwd\r\n", b"\n"), output)
        check("the prompt follows the directory", lines(console.output[: console.mark])[-1] == b"root:/tmp # ")
        output = shell.run(b"cd; pwd")
        check("cd with no argument goes $HOME", b"\n/root\r\n" in output, output)
        output = shell.run(b"cd /bin && cd - && pwd")
        check("cd - goes back", output.count(b"/root\r\n") >= 2, output)

        output = shell.run(b"printf 'pear\\napple\\nfig\\n' | sort | head -n 1")
        check("a pipeline of three programs", b"\napple\r\n" in output, output)
        output = shell.run(b"echo one two three | wc -w")
        check("a builtin into a program", re.search(rb"\n\s*3\r\n", output) is not None, output)

        output = shell.run(b"echo first > /tmp/file; echo second >> /tmp/file; cat < /tmp/file")
        check("> and >> then <", b"\nfirst\r\nsecond\r\n" in output, output)
        output = shell.run(b"ls /nonexistent 2> /tmp/errors; echo status $?; wc -l < /tmp/errors")
        check("2> catches the error", b"No such file" not in output and re.search(rb"\n\s*1\r\n", output), output)
        check("a failing program's $? is its status", re.search(rb"status [1-9]\d*\r\n", output) is not None, output)
        output = shell.run(b"false; echo status $?")
        check("false gives $? 1", b"status 1\r\n" in output, output)
        output = shell.run(b"nosuchcommand; echo status $?")
        check("an unknown command is reported", b"msh: nosuchcommand: command not found\r\n" in output, output)
        check("with status 127", b"status 127\r\n" in output, output)

        output = shell.run(b"echo abc" + LEFT + LEFT + b"X")
        check("line editing: left arrow and insert", b"\naXbc\r\n" in output, output)
        output = shell.run(b"\x1b[A")
        check("the up arrow recalls the last line", b"\naXbc\r\n" in output, output)

        output = shell.run(b"printf '#!/bin/msh\\necho script $1\\n' > /tmp/script; chmod +x /tmp/script; /tmp/script arg")
        check("a #!/bin/msh script runs", b"\nscript arg\r\n" in output, output)
        output = shell.run(b"msh -c 'exit 3'; echo status $?")
        check("msh -c gives its status", b"status 3\r\n" in output, output)

        output = shell.run(b"ech\t tab-completed")
        check("tab completes a command", b"\ntab-completed\r\n" in output, output)
        output = shell.run(b"ls /et\t")
        check("tab completes a path", b"\ngroup\r\n" in output or b"group" in output.split(b"\n", 1)[-1], output)
        console.type(b"cat <<END | wc -l\r")
        console.expect(b"> ")
        console.type(b"one\r")
        console.expect(b"> ")
        console.type(b"two\rEND\r")
        output = shell.prompt()
        check("a here-document over two prompts", re.search(rb"\n\s*2\r\n", output) is not None, output)

        console.type(b"sleep 100\r")
        console.quiet(3)
        console.type(b"\x03")
        output = shell.prompt(30)
        check("^C stops a running job and the shell prompts again", True)
        output = shell.run(b"echo status $?")
        check("the job's status is 130", b"status 130\r\n" in output, output)

        # ^C as soon as the line is taken: it can reach the shell before its
        # job has the terminal (the shell passes it on), or cut the line.
        console.type(b"sleep 100\r")
        console.expect(b"sleep 100\r\n")
        console.type(b"\x03")
        output = shell.prompt(30)
        check("^C at once still stops the job and the shell prompts again", True)
        output = shell.run(b"echo status $?")
        check("with status 130", b"status 130\r\n" in output, output)

        console.type(b"sleep 200\r")
        console.quiet(3)
        console.type(b"\x1a")
        output = shell.prompt(30)
        check("^Z stops the job", b"Stopped" in output, output)
        output = shell.run(b"bg")
        check("bg resumes it", b"sleep 200" in output, output)
        output = shell.run(b"jobs")
        check("jobs shows it running", b"Running" in output and b"sleep 200" in output, output)
        output = shell.run(b"kill %1; wait %1; echo status $?")
        check("kill %1 ends it", b"status 143\r\n" in output, output)

        shell.run(b"echo from-the-first-shell")
        output = shell.run(b"msh -l")
        check("msh -l starts a second login shell, with the profile's prompt", output.endswith(b"root:/root # "), output)
        output = shell.run(b"\x1b[A\x1b[A")
        check("it has the first shell's history (two Ups)", b"\nfrom-the-first-shell\r\n" in output, output)
        output = shell.run(b"exit 7")
        output = shell.run(b"echo status $?")
        check("its exit returns to the first shell with its status", b"\nstatus 7\r\n" in output, output)
        output = shell.run(b"tail -n 5 ~/.msh_history")
        check(
            "both shells add to /root/.msh_history",
            b"\nmsh -l\r\necho from-the-first-shell\r\nexit 7\r\necho status $?\r\n" in output,
            output,
        )

        output = shell.run(b"kill -9 $$", 120)
        output = shell.run(b"echo after-the-kill; pwd")
        check("a killed login shell: init starts another, in /root", b"\nafter-the-kill\r\n/root\r\n" in output, output)

        # The login shell's exit ends the session: the machine goes off
        # with its status. The console server ends with the system: its
        # last words are in the kernel log (scripts/run keeps it), and
        # QEMU closes the line.
        console.type(b"exit 5\r")
        closed = wait_closed(console, 120)
        check("the login shell's exit ends the system", closed, console.output[console.mark :])
        if len(sys.argv) > 3:
            with open(sys.argv[3], "rb") as log:
                said = log.read()
            check("init says why the shell was started again", b"the login shell was killed (status 137)" in said)
            check("and powers off with the login shell's status", b"proc: powering off (status 5)" in said)
    except Timeout as error:
        check("the session went on", False, str(error).encode())
    finally:
        console.close()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
