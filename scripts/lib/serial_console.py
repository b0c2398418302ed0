"""Typing on Mach_R's serial console from a test, as a person would.

QEMU puts COM1 on a Unix socket (`-serial unix:PATH,server=on,wait=on`:
the guest starts once we connect, so nothing it prints is missed);
`SerialConsole` connects, types bytes and waits for text on the screen.

    console = SerialConsole(path)
    console.expect(b"console-checks: ready")      # waits (with a timeout) for text
    console.type(b"hello\\r")
    console.expect(b"got: hello\\r\\n")
    console.quiet(0.5)                            # the screen stays as it is

Everything received is kept in `console.output`; `expect` searches from
the end of the last match (`console.mark`) onward, so a check cannot be
satisfied by older output.
"""

import socket
import time


class Timeout(Exception):
    pass


class SerialConsole:
    def __init__(self, path, connect_seconds=30):
        self.output = b""
        self.mark = 0
        deadline = time.time() + connect_seconds
        while True:
            self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.socket.connect(path)
                break
            except OSError:
                self.socket.close()
                if time.time() > deadline:
                    raise Timeout(f"no serial console at {path}")
                time.sleep(0.1)
        self.socket.settimeout(0.05)

    def receive(self, seconds):
        """Takes what arrives within `seconds`."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                data = self.socket.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return
            self.output += data

    def type(self, keys, pause=0.0):
        """Sends `keys`; with `pause`, one key at a time."""
        if pause == 0:
            self.socket.sendall(keys)
            return
        for key in keys:
            self.socket.sendall(bytes([key]))
            time.sleep(pause)

    def expect(self, text, seconds=20):
        """Waits for `text` after the mark; returns what came before it
        (since the mark) and moves the mark past it."""
        deadline = time.time() + seconds
        while True:
            found = self.output.find(text, self.mark)
            if found >= 0:
                before = self.output[self.mark:found]
                self.mark = found + len(text)
                return before
            if time.time() > deadline:
                raise Timeout(f"{text!r} did not appear; after the mark: {self.output[self.mark:][-400:]!r}")
            self.receive(0.05)

    def expect_match(self, pattern, seconds=20):
        """Waits for a match of the compiled bytes regex `pattern` after
        the mark; returns what came before its end (since the mark) and
        moves the mark past it (a shell's prompt: `re.compile(rb"\n/.* # ")`)."""
        deadline = time.time() + seconds
        while True:
            match = pattern.search(self.output, self.mark)
            if match:
                before = self.output[self.mark : match.end()]
                self.mark = match.end()
                return before
            if time.time() > deadline:
                raise Timeout(f"{pattern.pattern!r} did not match; after the mark: {self.output[self.mark:][-400:]!r}")
            self.receive(0.05)

    def quiet(self, seconds):
        """True if nothing arrives within `seconds`."""
        before = len(self.output)
        self.receive(seconds)
        return len(self.output) == before

    def close(self):
        self.socket.close()
