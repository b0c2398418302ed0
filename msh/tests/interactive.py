#!/usr/bin/env python3
"""Drives the real msh through a pseudo-terminal as a person would: types
keys (with the escape sequences a VT100/xterm sends) and checks what comes
back: the prompt, line editing, history (and its file), tab completion,
job control (^C, ^Z, fg, bg, jobs, finished-job notices), multi-line
input, ^D.

Usage: interactive.py MSH. Prints PASS/FAIL per check and ends with
"N passed, N failed"; exits non-zero if any failed.
"""

import os
import pty
import re
import select
import shutil
import signal
import sys
import tempfile
import time

MSH = os.path.abspath(sys.argv[1])
LEFT, RIGHT, UP, DOWN = b"\x1b[D", b"\x1b[C", b"\x1b[A", b"\x1b[B"
HOME_KEY, END_KEY, DELETE = b"\x1b[H", b"\x1b[F", b"\x1b[3~"

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail!r}"[:800])


class Session:
    """One msh on a new pseudo-terminal, in its own session."""

    def __init__(self, home, cwd, extra_environment=None, detached=False):
        environment = {
            "HOME": home,
            "PATH": "/usr/bin:/bin",
            "TERM": "xterm",
            "LANG": "C",
            "PWD": cwd,
        }
        environment.update(extra_environment or {})
        if detached:
            # As init starts it on Mach_R's console: the terminal on 0, 1
            # and 2 but in a session that has no controlling terminal, and
            # not leading one (a shell in between runs it).
            self.fd, secondary = os.openpty()
            self.pid = os.fork()
            if self.pid == 0:
                os.close(self.fd)
                os.setsid()
                for fd in (0, 1, 2):
                    os.dup2(secondary, fd)
                os.close(secondary)
                os.chdir(cwd)
                os.execve("/bin/sh", ["sh", "-c", f"'{MSH}'; exit $?"], environment)
            os.close(secondary)
        else:
            self.pid, self.fd = pty.fork()
            if self.pid == 0:
                os.chdir(cwd)
                os.execve(MSH, [MSH], environment)
        self.output = b""
        self.expect_prompt()

    def send(self, data):
        os.write(self.fd, data)

    def read_for(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, end - time.time()))
            if not ready:
                break
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.output += chunk

    def expect(self, pattern, timeout=5.0):
        """Reads until `pattern` (a regex over bytes) matches the output
        since the last expect; returns that output (None on timeout)."""
        end = time.time() + timeout
        regex = re.compile(pattern, re.S)
        while True:
            match = regex.search(self.output)
            if match:
                seen = self.output[: match.end()]
                self.output = self.output[match.end():]
                return seen
            remaining = end - time.time()
            if remaining <= 0:
                seen = self.output
                self.output = b""
                print(f"   (timed out waiting for {pattern!r}; saw {seen[-300:]!r})")
                return None
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    seen = self.output
                    self.output = b""
                    return None if not regex.search(seen) else seen
                self.output += chunk

    def expect_prompt(self, timeout=5.0):
        return self.expect(rb"[$#] $", timeout)

    def run(self, line, timeout=5.0):
        """Types a line and Enter; returns the output up to the next prompt."""
        self.send(line + b"\r")
        return self.expect_prompt(timeout)

    def close(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0
        os.close(self.fd)

    def wait_exit(self, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            self.read_for(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = 0
                return status
        return None


def lines_of(output):
    """The output as lines, escape sequences and carriage returns removed."""
    text = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", output or b"")
    return [line.split(b"\r")[-1] for line in text.replace(b"\r\n", b"\n").split(b"\n")]


def main():
    work = tempfile.mkdtemp(prefix="msh-interactive-")
    home = os.path.join(work, "home")
    project = os.path.join(work, "project")
    os.makedirs(home)
    os.makedirs(os.path.join(project, "subdirectory"))
    with open(os.path.join(project, "uniquefile.txt"), "w") as file:
        file.write("unique contents\n")
    for name in ("alpha-one", "alpha-two"):
        open(os.path.join(project, name), "w").close()
    try:
        session = Session(home, project)
        prompt_line = lines_of(session.run(b""))[-1]
        sign = b" # " if os.geteuid() == 0 else b" $ "
        check("prompt shows the directory and $ (# for root)", prompt_line == project.encode() + sign, prompt_line)

        output = session.run(b"echo hello")
        check("a command runs", b"\nhello\r\n" in output or b"hello\r\n" in output, output)

        # Line editing.
        output = session.run(b"echo abc" + LEFT + LEFT + b"X")
        check("left arrow and insert", b"aXbc\r\n" in output, output)
        output = session.run(b"cho xy" + b"\x01" + b"e" + b"\x05" + b"z")
        check("^A and ^E", b"xyz\r\n" in output, output)
        output = session.run(b"echo abcd" + HOME_KEY + RIGHT * 6 + DELETE + END_KEY + b"\x7f")
        check("home, delete, end, backspace", b"\nac\r\n" in output, output)
        output = session.run(b"echo keep this-goes" + LEFT * 9 + b"\x0b")
        check("^K kills to the end", b"keep \r\n" in output or b"keep\r\n" in output, output)
        output = session.run(b"garbage" + b"\x15" + b"echo killed-line")
        check("^U kills to the start", b"killed-line\r\n" in output and b"garbage" not in lines_of(output)[-2], output)
        output = session.run(b"echo one two three" + b"\x17" + b"\x17" + b"four")
        check("^W kills words", b"one four\r\n" in output, output)
        output = session.run(b"echo \xc3\xa9t\xc3\xa9" + LEFT + b"\x7f" + b"e")
        check("UTF-8 characters edit as one", "\néeé\r\n".encode() in output, output)

        # History.
        session.run(b"echo first-entry")
        session.run(b"echo second-entry")
        output = session.run(UP + UP)
        check("up arrow recalls history", output is not None and b"first-entry\r\n" in output, output)
        # The history now ends: second-entry, first-entry (run again above).
        output = session.run(UP + UP + UP + DOWN)
        check("down arrow moves forward", output is not None and b"second-entry\r\n" in output, output)
        history_file = os.path.join(home, ".msh_history")
        with open(history_file, "rb") as file:
            history = file.read()
        check("history is kept in ~/.msh_history", b"echo first-entry\n" in history and b"echo second-entry\n" in history, history)

        # Completion.
        output = session.run(b"cat uniq\t")
        check("tab completes a file name", output is not None and b"unique contents" in output, output)
        output = session.run(b"ech\t completed-command")
        check("tab completes a command", output is not None and b"\ncompleted-command\r\n" in output, output)
        session.send(b"ls alph\t")
        session.read_for(0.3)
        session.send(b"\t")
        listing = session.expect(rb"alpha-two", 3.0)
        check("double tab lists the candidates", listing is not None and b"alpha-one" in listing, listing)
        session.send(b"\x15")
        output = session.run(b"cd subdir\t\r" + b"pwd")
        check("tab completes a directory with a slash", output is not None and b"/project/subdirectory\r\n" in output, output)
        session.run(b"cd ..")

        # Interrupting.
        session.send(b"this line is abandoned\x03")
        check("^C at the prompt abandons the line", session.expect_prompt() is not None)
        output = session.run(b"echo $?")
        check("and sets the status to 130", output is not None and b"130\r\n" in output, output)
        session.send(b"sleep 30\r")
        time.sleep(0.5)
        session.send(b"\x03")
        output = session.expect_prompt()
        check("^C stops the foreground job, not the shell", output is not None, output)
        output = session.run(b"echo status $?")
        check("the job's status is 130", output is not None and b"status 130\r\n" in output, output)

        session.send(b"while true; do :; done\r")
        time.sleep(0.5)
        session.send(b"\x03")
        output = session.expect_prompt(3.0)
        check("^C breaks a loop of builtins", output is not None, output)
        session.send(b"for i in 1 2 3; do sleep 5; done; echo not-reached\r")
        time.sleep(0.5)
        started = time.time()
        session.send(b"\x03")
        output = session.expect_prompt(3.0)
        check("^C of a job in a loop abandons the loop", output is not None and b"\nnot-reached\r\n" not in output
              and time.time() - started < 2.5, output)

        # Stopping and resuming.
        session.send(b"sleep 30\r")
        time.sleep(0.5)
        session.send(b"\x1a")
        output = session.expect_prompt()
        check("^Z stops the job", output is not None and re.search(rb"\[1\]\+\s+Stopped\s+sleep 30", output), output)
        output = session.run(b"jobs")
        check("jobs lists the stopped job", output is not None and re.search(rb"\[1\]\+\s+Stopped\s+sleep 30", output), output)
        output = session.run(b"bg")
        check("bg resumes it in the background", output is not None and b"[1]+ sleep 30 &" in output, output)
        output = session.run(b"jobs")
        check("jobs shows it running", output is not None and re.search(rb"\[1\]\+\s+Running\s+sleep 30 &", output), output)
        session.send(b"fg\r")
        fg_output = session.expect(rb"sleep 30\r\n", 3.0)
        check("fg names the job", fg_output is not None, fg_output)
        time.sleep(0.3)
        session.send(b"\x03")
        output = session.expect_prompt()
        check("fg gave it the terminal: ^C reaches it", output is not None, output)
        output = session.run(b"jobs; echo jobs-done")
        check("the job is gone", output is not None and b"Running" not in output and b"Stopped" not in output, output)

        # A foreground job reading the terminal.
        session.send(b"cat\r")
        time.sleep(0.3)
        session.send(b"typed to cat\r")
        echoed = session.expect(rb"typed to cat\r\ntyped to cat\r\n", 3.0)
        check("a foreground job reads the terminal", echoed is not None, echoed)
        session.send(b"\x04")
        check("^D ends its input", session.expect_prompt() is not None)

        # Finished background jobs are reported before the next prompt.
        output = session.run(b"sleep 0.2 &")
        check("a background job is announced", output is not None and re.search(rb"\[1\] \d+", output), output)
        time.sleep(0.6)
        output = session.run(b"")
        check("its end is reported", output is not None and re.search(rb"\[1\]\+\s+Done\s+sleep 0\.2", output), output)

        # A pipeline is one job.
        session.send(b"sleep 30 | cat\r")
        time.sleep(0.5)
        session.send(b"\x1a")
        output = session.expect_prompt()
        check("^Z stops a whole pipeline", output is not None and re.search(rb"Stopped\s+sleep 30 \| cat", output), output)
        number = re.search(rb"\[(\d+)\]\+\s+Stopped\s+sleep 30 \| cat", output or b"")
        number = number.group(1) if number else b"1"
        output = session.run(b"kill %" + number + b"; wait; echo killed")
        check("kill %n ends the stopped job", output is not None and b"killed\r\n" in output, output)

        # Multi-line commands.
        session.send(b"for i in 1 2; do\r")
        continuation = session.expect(rb"> $", 3.0)
        check("an unfinished command prompts with PS2", continuation is not None, continuation)
        output = session.run(b"echo loop-$i; done")
        check("and runs once complete", output is not None and b"loop-1\r\nloop-2\r\n" in output, output)

        # Errors.
        output = session.run(b"nosuchcommand")
        check("command not found", output is not None and b"msh: nosuchcommand: command not found" in output, output)
        output = session.run(b"echo $?")
        check("with status 127", output is not None and b"127\r\n" in output, output)

        session.run(b"echo last-of-the-session")

        # ^D leaves.
        session.send(b"\x04")
        status = session.wait_exit()
        check("^D on an empty line exits", status is not None and os.WIFEXITED(status), status)
        session.close()

        # A new session finds the history.
        session = Session(home, project)
        output = session.run(UP)
        check("history survives a new session", output is not None and b"\nlast-of-the-session\r\n" in output, output)
        session.send(b"exit 3\r")
        status = session.wait_exit()
        check("exit with a status", status is not None and os.WEXITSTATUS(status) == 3, status)
        session.close()

        # HISTFILE names the file and HISTSIZE bounds it: a file grown past
        # twice the size is cut back to the newest entries when the next
        # session starts, and older entries are gone from the Up key.
        history_file = os.path.join(home, "bounded-history")
        bounded = {"HISTFILE": history_file, "HISTSIZE": "3"}
        session = Session(home, project, bounded)
        for number in range(1, 8):
            session.run(b"echo bounded-%d" % number)
        session.send(b"\x04")
        session.wait_exit()
        session.close()
        with open(history_file, "rb") as file:
            written = file.read()
        check("HISTFILE names the history file", written.count(b"echo bounded-") == 7, written)
        check("the default file is not written meanwhile", b"bounded-" not in open(os.path.join(home, ".msh_history"), "rb").read())
        session = Session(home, project, bounded)
        with open(history_file, "rb") as file:
            kept = file.read()
        check("HISTSIZE bounds the file at the next start", kept == b"echo bounded-5\necho bounded-6\necho bounded-7\n", kept)
        output = session.run(UP * 5)
        check("and the history: the oldest kept entry is the last Up reaches", output is not None and b"\nbounded-5\r\n" in output, output)
        session.send(b"\x04")
        session.wait_exit()
        session.close()
        session = Session(home, project, {"HISTFILE": history_file, "HISTSIZE": "0"})
        session.run(b"echo not-kept")
        session.send(b"\x04")
        session.wait_exit()
        session.close()
        check("HISTSIZE=0 keeps no history", b"not-kept" not in open(history_file, "rb").read())

        # Started on a terminal outside any session that has one (as init
        # starts it on Mach_R's console): it takes the terminal, so ^C
        # reaches its job.
        session = Session(home, project, detached=True)
        output = session.run(b"echo detached")
        check("a shell outside a terminal's session starts", output is not None and b"detached\r\n" in output, output)
        session.send(b"sleep 30\r")
        time.sleep(0.5)
        session.send(b"\x03")
        output = session.expect_prompt(timeout=5.0)
        check("it took the terminal: ^C stops its job", output is not None, output)
        output = session.run(b"echo status $?")
        check("and the job's status is 130", output is not None and b"status 130\r\n" in output, output)
        session.send(b"exit 5\r")
        status = session.wait_exit()
        check("it exits", status is not None and os.WEXITSTATUS(status) == 5, status)
        session.close()

        # PS1 is expanded; $ENV names a start-up file.
        with open(os.path.join(home, "environment"), "w") as file:
            file.write("FROM_ENV=read\n")
        session = Session(home, project, {"PS1": "[$((1+1))] $ ", "ENV": "$HOME/environment"})
        output = session.run(b"echo ok")
        check("PS1 is expanded", output is not None and output.endswith(b"[2] $ "), output)
        output = session.run(b"echo $FROM_ENV")
        check("$ENV is read at start", output is not None and b"\nread\r\n" in output, output)
        session.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
