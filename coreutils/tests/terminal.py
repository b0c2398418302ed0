#!/usr/bin/env python3
"""Drives a full-screen program on a pseudo-terminal for scripts/tests/coreutils.

usage: terminal.py ROWSxCOLUMNS KEYS COMMAND [ARGUMENT...]

Starts COMMAND on a new pseudo-terminal of that size (TERM=xterm), waits
for its first screen, then types KEYS: chunks separated by '|', with
Python escapes (\\x1b for Escape, \\r for Enter), each typed once the
program has answered the one before (output, then a short silence). Then
waits for the program to end and prints the screen it left, as a small
VT100 emulator sees it (trailing blanks and blank rows dropped; for a
program that used the alternate screen, that screen as it last was), and
"status N". Nothing here is timed to the millisecond: a slow machine only
makes it wait longer.
"""

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


class Screen:
    """Enough of a VT100/xterm for our tools and util-linux's more."""

    def __init__(self, rows, columns):
        self.rows, self.columns = rows, columns
        self.cells = self.blank()
        self.saved_main = None
        self.alternate = None  # the alternate screen as it was left
        self.row = self.column = 0
        self.pending_wrap = False
        self.state = None  # None, 'escape', or the CSI bytes so far

    def blank(self):
        return [[' '] * self.columns for _ in range(self.rows)]

    def line_feed(self):
        if self.row == self.rows - 1:
            self.cells.pop(0)
            self.cells.append([' '] * self.columns)
        else:
            self.row += 1

    def put(self, char):
        if self.pending_wrap:
            self.column = 0
            self.line_feed()
            self.pending_wrap = False
        self.cells[self.row][self.column] = char
        if self.column == self.columns - 1:
            self.pending_wrap = True
        else:
            self.column += 1

    def csi(self, body):
        final = body[-1]
        private = body[:1] == '?'
        parameters = [int(p) if p.isdigit() else 0 for p in body[1 if private else 0:-1].split(';')]
        first = parameters[0] if parameters else 0
        self.pending_wrap = False
        if private:
            if first == 1049 and final == 'h':
                self.saved_main = (self.cells, self.row, self.column)
                self.cells = self.blank()
            elif first == 1049 and final == 'l' and self.saved_main:
                self.alternate = self.cells
                self.cells, self.row, self.column = self.saved_main
                self.saved_main = None
        elif final in 'Hf':
            row = parameters[0] if parameters and parameters[0] else 1
            column = parameters[1] if len(parameters) > 1 and parameters[1] else 1
            self.row, self.column = min(row, self.rows) - 1, min(column, self.columns) - 1
        elif final == 'K':
            line = self.cells[self.row]
            span = {0: range(self.column, self.columns), 1: range(0, self.column + 1)}.get(first, range(self.columns))
            for i in span:
                line[i] = ' '
        elif final == 'J':
            if first == 2:
                self.cells = self.blank()
            elif first == 0:
                self.csi('K')
                for row in range(self.row + 1, self.rows):
                    self.cells[row] = [' '] * self.columns
        elif final == 'A':
            self.row = max(0, self.row - max(first, 1))
        elif final == 'B':
            self.row = min(self.rows - 1, self.row + max(first, 1))
        elif final == 'C':
            self.column = min(self.columns - 1, self.column + max(first, 1))
        elif final == 'D':
            self.column = max(0, self.column - max(first, 1))
        # m (attributes) and the rest change nothing we look at.

    def feed(self, data):
        for char in data.decode('utf-8', 'replace'):
            if self.state == 'escape':
                if char == '[':
                    self.state = ''
                else:
                    self.state = None
                    if char == 'M':  # reverse index
                        if self.row == 0:
                            self.cells.insert(0, [' '] * self.columns)
                            self.cells.pop()
                        else:
                            self.row -= 1
                continue
            if self.state is not None:
                self.state += char
                if '\x40' <= char <= '\x7e':
                    body, self.state = self.state, None
                    self.csi(body)
                continue
            if char == '\x1b':
                self.state = 'escape'
            elif char == '\r':
                self.column, self.pending_wrap = 0, False
            elif char == '\n':
                self.pending_wrap = False
                self.line_feed()
            elif char == '\b':
                self.column, self.pending_wrap = max(0, self.column - 1), False
            elif char == '\t':
                self.column = min(self.columns - 1, (self.column // 8 + 1) * 8)
            elif char == '\a' or ord(char) < 0x20:
                pass
            else:
                self.put(char)

    def text(self):
        cells = self.alternate if self.alternate and self.saved_main is None else self.cells
        lines = [''.join(row).rstrip() for row in cells]
        while lines and not lines[-1]:
            lines.pop()
        return '\n'.join(lines)


def main():
    size, keys, command = sys.argv[1], sys.argv[2], sys.argv[3:]
    rows, columns = (int(n) for n in size.split('x'))
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, columns, 0, 0))
        os.environ['TERM'] = 'xterm'
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    screen = Screen(rows, columns)
    ended = False

    def pump(first_wait, silence):
        """Reads until output came and then stopped for `silence` seconds
        (or nothing came for `first_wait`); False once the program is gone."""
        nonlocal ended
        seen = False
        deadline = time.monotonic() + first_wait
        while not ended:
            wait = silence if seen else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                if seen or time.monotonic() >= deadline:
                    return
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b''
            if not data:
                ended = True
                return
            screen.feed(data)
            seen = True

    pump(10.0, 0.1)
    for chunk in keys.split('|') if keys else []:
        if ended:
            break
        os.write(fd, chunk.encode('latin-1').decode('unicode_escape').encode('latin-1'))
        pump(10.0, 0.1)
    deadline = time.monotonic() + 10.0
    while not ended and time.monotonic() < deadline:
        pump(0.5, 0.1)
    # The terminal closes as the program's files do, a moment before it
    # can be waited for.
    deadline = time.monotonic() + (5.0 if ended else 0.0)
    while True:
        waited, status = os.waitpid(pid, os.WNOHANG)
        if waited != 0 or time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    if waited == 0:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        print(screen.text())
        print('still running: killed')
        sys.exit(1)
    print(screen.text())
    print('status', os.waitstatus_to_exitcode(status))


main()
