#!/usr/bin/env python3
"""Boots the tutorial's system and types at its shell (scripts/tests/tutorial).

    tutorial_boot.py DIRECTORY COMMAND SECONDS [--until TEXT]... [--session FILE]...

Runs COMMAND (a `scripts/run ...` line of the document) in DIRECTORY with
the serial console on a Unix socket (QEMU arguments appended, as
scripts/tests/msh-console does), its output in DIRECTORY/build/tutorial-run.log (what the console showed
in DIRECTORY/build/tutorial-console.log);
waits until every TEXT has appeared (on the console or in the kernel log,
DIRECTORY/build/x86_64/kernel.log), then at msh's prompt plays each
session FILE in order, then stops QEMU. A session is what a person sees
at the prompt:

    root:/ # hello-client
    hello-client: the server says "Good morning, Rust client!"
    root:/ # echo $?
    0

A line beginning with the prompt (`root:/ # `, or any `USER:DIRECTORY # `) is
typed; the lines after it must each appear, in order, as whole lines of
what the command printed before the next prompt (other lines may come
between). Prints one line per step, "tutorial: WHAT ... ok" or
"... FAILED" (with what was seen), and exits 1 if any failed. SECONDS
bounds the build and boot.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serial_console import SerialConsole, Timeout  # noqa: E402

# msh's prompt: "USER:DIRECTORY # " (root's; "$ " for others), as
# /etc/profile sets it for the console's login shell.
PROMPT = re.compile(rb"(?:\A|\n)(?:[A-Za-z0-9_.-]+:)?/[^\r\n\x1b]* [#$] ")
TYPED = re.compile(r"^(?:[A-Za-z0-9_.-]+:)?/\S* [#$] (.*)$")
# A command under QEMU's TCG on a loaded machine is slow: generous bounds.
COMMAND_SECONDS = 90

failures = 0


def step(what, good, detail=b""):
    global failures
    if good:
        print(f"tutorial: {what} ... ok")
    else:
        failures += 1
        print(f"tutorial: {what} ... FAILED")
        if detail:
            print(f"    saw: {detail[-800:]!r}")
    sys.stdout.flush()


def lines(text):
    """The lines of what the console showed, as a screen would: a carriage
    return starts the line over (msh's editor redraws that way)."""
    return [line.split(b"\r")[-1].rstrip() for line in text.replace(b"\r\n", b"\n").split(b"\n")]


def sessions(path):
    """The commands of a session file with the lines each must print."""
    commands = []
    with open(path, encoding="utf-8") as file:
        for line in file.read().splitlines():
            typed = TYPED.match(line)
            if typed:
                commands.append((typed.group(1), []))
            elif line.strip():
                if not commands:
                    sys.exit(f"{path}: output `{line}` before any command (a line `root:/ # COMMAND`)")
                commands[-1][1].append(line.rstrip())
    return commands


def in_order(expected, seen):
    """Whether every line of `expected` is a line of `seen`, in order."""
    position = 0
    for line in expected:
        try:
            position = seen.index(line.encode(), position) + 1
        except ValueError:
            return False
    return True


def connect(socket_path, run, seconds):
    """The serial console, once QEMU made its socket (after the build)."""
    deadline = time.time() + seconds
    while not os.path.exists(socket_path):
        if run.poll() is not None:
            raise Timeout(f"the command ended (status {run.returncode}) before QEMU started")
        if time.time() > deadline:
            raise Timeout("QEMU did not start in time")
        time.sleep(0.5)
    return SerialConsole(socket_path)


def main():
    arguments = sys.argv[1:]
    if len(arguments) < 3:
        sys.exit(__doc__)
    directory, command, seconds = os.path.abspath(arguments[0]), arguments[1], float(arguments[2])
    texts, files = [], []
    rest = arguments[3:]
    while rest:
        if rest[0] == "--until" and len(rest) > 1:
            texts.append(rest[1].encode())
        elif rest[0] == "--session" and len(rest) > 1:
            files.append(rest[1])
        else:
            sys.exit(f"tutorial_boot.py: unknown argument {rest[0]}")
        rest = rest[2:]
    build = os.path.join(directory, "build")
    os.makedirs(build, exist_ok=True)
    socket_path = os.path.join(build, "tutorial-serial.sock")
    if os.path.exists(socket_path):
        os.remove(socket_path)
    kernel_log = os.path.join(build, "x86_64", "kernel.log")
    if os.path.exists(kernel_log):
        os.remove(kernel_log)
    played = [(os.path.basename(path), sessions(path)) for path in files]
    full = f"{command} -monitor none -serial unix:{socket_path},server=on,wait=on"
    print(f"$ {command}   (until: {' '.join(text.decode() for text in texts)})")
    with open(os.path.join(build, "tutorial-run.log"), "wb") as log:
        # Its own session, so stopping it stops what it started (cargo, QEMU).
        run = subprocess.Popen(["bash", "-c", full], cwd=directory, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    console = None
    try:
        console = connect(socket_path, run, seconds)
        deadline = time.time() + seconds
        missing = texts
        while missing and time.time() < deadline and run.poll() is None:
            console.receive(0.5)
            said = console.output
            if os.path.exists(kernel_log):
                with open(kernel_log, "rb") as file:
                    said += file.read()
            missing = [text for text in texts if text not in said]
        step(f"boot until {' '.join(text.decode() for text in texts)}", not missing,
             b"missing: " + b", ".join(missing) if missing else b"")
        if missing:
            return 1
        console.expect_match(PROMPT, COMMAND_SECONDS)
        # Boot messages that follow the prompt settle before typing.
        console.quiet(2)
        for name, commands in played:
            good, detail = True, b""
            for typed, expected in commands:
                print(f"    # {typed}")
                console.type(typed.encode() + b"\r")
                output = console.expect_match(PROMPT, COMMAND_SECONDS)
                if not in_order(expected, lines(output)):
                    good, detail = False, output
                    break
            step("at msh: " + "; ".join(typed for typed, _ in commands), good, detail)
    except Timeout as error:
        step("the boot and the session went on", False, str(error).encode())
    finally:
        if console is not None:
            console.close()
            with open(os.path.join(build, "tutorial-console.log"), "wb") as file:
                file.write(console.output)
        try:
            os.killpg(run.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        run.wait()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
