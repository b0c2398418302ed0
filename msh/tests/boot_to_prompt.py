#!/usr/bin/env python3
"""Measures Mach_R's boot to msh's first prompt on the serial console, for
scripts/benches/msh. QEMU (started by scripts/run) has COM1 on a Unix
socket that it waits on (`server=on,wait=on`: the guest starts once we
connect) and QMP on another.

    boot_to_prompt.py wall SERIAL QMP
        Prints `wall_ms N`: milliseconds from the moment QEMU's serial
        socket appears (QEMU has read its arguments and waits for us; the
        guest has not run) to the prompt on the screen; `cpu_ms N`: the
        processor time QEMU (every thread of it, from /proc) used over the
        same span, which a loaded host changes much less than the wall
        time; then `true_ms N` three times: /bin/true typed at the prompt,
        Enter to the next one.

    boot_to_prompt.py instructions SERIAL QMP KERNEL_LOG [COMMAND...]
        QEMU runs with `-icount shift=0,rr=record`, whose QMP query-replay
        gives the guest instructions executed since reset. Prints
        `prompt N` (instructions at the first prompt), `milestone N TEXT`
        for the servers' start-up lines as they reach the kernel's debug
        console, the file KERNEL_LOG (within a million instructions or so:
        the guest runs on while we look and ask; `line N TEXT` for every
        line), then for
        each COMMAND typed at the prompt `command N TEXT`: the instructions
        from its Enter to the next prompt (the idle guest between them
        executes about 40,000 a second of timer ticks, and we ask within a
        few milliseconds).

Then it quits QEMU. Exits 1 (with the screen so far) if no prompt comes.
"""

import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "lib"))
from serial_console import SerialConsole, Timeout  # noqa: E402

PROMPT = re.compile(rb"(?:\A|\n)root:/[^\r\n\x1b]* # ")
BOOT_SECONDS = 300
COMMAND_SECONDS = 120
# Lines the servers print once, in the order the boot reaches them.
MILESTONES = [
    b"mach_kernel: ready",
    b"console: serving the serial line",
    b"bootstrap: started fs",
    b"fs: serving",
    b"bootstrap: started proc",
    b"proc: serving; init started",
]


class Monitor:
    """QEMU's QMP socket."""

    def __init__(self, path):
        deadline = time.time() + 60
        while True:
            self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.socket.connect(path)
                break
            except OSError:
                self.socket.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.01)
        self.file = self.socket.makefile("rwb", buffering=0)
        self.file.readline()
        self.ask("qmp_capabilities")

    def ask(self, command):
        self.file.write(json.dumps({"execute": command}).encode() + b"\n")
        while True:
            answer = json.loads(self.file.readline())
            if "return" in answer:
                return answer["return"]
            if "error" in answer:
                raise RuntimeError(f"QMP {command}: {answer['error']}")

    def instructions(self):
        return self.ask("query-replay")["icount"]

    def quit(self):
        try:
            self.ask("quit")
        except (OSError, ValueError, RuntimeError):
            pass


class KernelLog:
    """The kernel's debug console (QEMU writes it to a file as the guest
    writes each byte, unlike the serial line, where the console server
    passes kernel lines on in batches): its new complete lines."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""

    def new_lines(self):
        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                data = file.read()
        except OSError:
            return []
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        return [line.rstrip(b"\r") for line in lines if line.strip()]


def wait_for_prompt(console, start, seconds, on_lines=None):
    """Reads until a prompt after offset `start`; True if one came."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if on_lines is not None:
            on_lines()
        if PROMPT.search(console.output, start):
            return True
        console.receive(0.001)
    return False


def qemu_process(serial):
    """The pid of the QEMU whose command line names the socket SERIAL."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                words = file.read().split(b"\0")
        except OSError:
            continue
        if words and b"qemu-system" in words[0] and any(serial.encode() in word for word in words):
            return int(entry)
    return None


def processor_seconds(pid):
    """User and system time of process `pid` (all its threads), seconds."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    # utime and stime: the 14th and 15th fields, 12th and 13th after ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wall(serial, qmp):
    while not os.path.exists(serial):
        time.sleep(0.001)
    start = time.monotonic()
    pid = qemu_process(serial)
    cpu_start = processor_seconds(pid)
    console = SerialConsole(serial, 60)
    monitor = Monitor(qmp)
    came = wait_for_prompt(console, 0, BOOT_SECONDS)
    elapsed = time.monotonic() - start
    cpu_end = processor_seconds(pid)
    if not came:
        monitor.quit()
        sys.stderr.write(f"no prompt; the screen: {console.output[-600:]!r}\n")
        return 1
    print(f"wall_ms {elapsed * 1000:.0f}")
    if cpu_start is not None and cpu_end is not None:
        print(f"cpu_ms {(cpu_end - cpu_start) * 1000:.0f}")
    # A program started at the prompt: Enter to the next prompt, 3 times.
    for _ in range(3):
        console.type(b"/bin/true")
        console.expect(b"/bin/true", COMMAND_SECONDS)
        begin = len(console.output)
        started = time.monotonic()
        console.type(b"\r")
        if not wait_for_prompt(console, begin, COMMAND_SECONDS):
            break
        print(f"true_ms {(time.monotonic() - started) * 1000:.0f}")
    monitor.quit()
    return 0


def instructions(serial, qmp, kernel_log, commands):
    console = SerialConsole(serial, 600)
    monitor = Monitor(qmp)
    log = KernelLog(kernel_log)
    pending = list(MILESTONES)

    def on_lines():
        lines = log.new_lines()
        if not lines:
            return
        count = monitor.instructions()
        for line in lines:
            print(f"line {count} {line.decode(errors='replace')}", flush=True)
            for milestone in list(pending):
                if milestone in line:
                    pending.remove(milestone)
                    print(f"milestone {count} {milestone.decode()}", flush=True)

    if not wait_for_prompt(console, 0, BOOT_SECONDS, on_lines):
        sys.stderr.write(f"no prompt; the screen: {console.output[-600:]!r}\n")
        monitor.quit()
        return 1
    print(f"prompt {monitor.instructions()}", flush=True)
    status = 0
    for command in commands:
        # A key at a time (under rr=record QEMU does not hold keys back
        # while the UART is full: typed at once, they are lost), then
        # Enter once the line editor shows the whole line.
        console.type(command.encode(), pause=0.01)
        try:
            console.expect(command.encode()[-8:], COMMAND_SECONDS)
        except Timeout:
            sys.stderr.write(f"`{command}` did not show; the screen: {console.output[-600:]!r}\n")
            print(f"command failed {command}")
            status = 1
            break
        start = len(console.output)
        before = monitor.instructions()
        console.type(b"\r")
        if not wait_for_prompt(console, start, COMMAND_SECONDS):
            sys.stderr.write(f"`{command}`: no prompt; the screen: {console.output[start:][-600:]!r}\n")
            print(f"command failed {command}")
            status = 1
            break
        print(f"command {monitor.instructions() - before} {command}", flush=True)
    monitor.quit()
    return status


def main():
    mode, serial, qmp = sys.argv[1:4]
    if mode == "wall":
        return wall(serial, qmp)
    if mode == "instructions":
        return instructions(serial, qmp, sys.argv[4], sys.argv[5:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
