#!/usr/bin/env python3
"""Attributes the instructions of a profiled run (scripts/profile) to
programs and functions: the blocks of RUN minus those of BASE (the same
boot without the operations), divided by COUNT operations. A block belongs
to the first binary that holds its bytes at its address (the kernel, the
system's programs and the added ones all have symbols).

attribute.py BASE RUN COUNT TOP BINARY..."""
import bisect, collections, struct, subprocess, sys


class Binary:
    def __init__(self, path):
        self.name = path.rsplit('/', 1)[-1]
        data = open(path, 'rb').read()
        self.data = data
        program_headers, = struct.unpack_from('<Q', data, 0x20)
        entry_size, count = struct.unpack_from('<HH', data, 0x36)
        self.segments = []
        for index in range(count):
            kind, flags, offset, address, _, file_size, _, _ = struct.unpack_from(
                '<IIQQQQQQ', data, program_headers + index * entry_size)
            if kind == 1 and flags & 1:
                self.segments.append((address, address + file_size, offset))
        listing = subprocess.run(['nm', '-n', '-C', '--defined-only', path],
                                 capture_output=True, text=True).stdout
        self.addresses, self.names = [], []
        for line in listing.splitlines():
            parts = line.split(' ', 2)
            if len(parts) == 3 and parts[1] in 'tTwW':
                self.addresses.append(int(parts[0], 16))
                self.names.append(parts[2])

    def holds(self, address, code):
        for start, end, offset in self.segments:
            if start <= address < end:
                at = offset + address - start
                return self.data[at:at + len(code)] == code
        return False

    def function(self, address):
        index = bisect.bisect_right(self.addresses, address) - 1
        return self.names[index] if index >= 0 else '?'


def blocks(path):
    found = collections.Counter()
    for line in open(path):
        words = line.split()
        key = (int(words[0], 16), words[2], words[3] if len(words) > 3 else '')
        found[key] += int(words[1]) * int(words[2])
    return found


def main():
    base, run, count, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    binaries = []
    for path in sys.argv[5:]:
        try:
            binaries.append(Binary(path))
        except (OSError, struct.error):
            pass
    before, after = blocks(base), blocks(run)
    programs, functions = collections.Counter(), collections.Counter()
    for key, instructions in after.items():
        difference = instructions - before.get(key, 0)
        if difference == 0:
            continue
        address, _, code = key
        owner = next((binary for binary in binaries if binary.holds(address, bytes.fromhex(code))), None)
        name = owner.name if owner else '?'
        programs[name] += difference
        functions[(name, owner.function(address) if owner else hex(address))] += difference
    print(f'instructions per operation: {sum(programs.values()) / count:.0f}')
    for name, instructions in programs.most_common():
        if abs(instructions) >= count:
            print(f'  {name:<16} {instructions / count:10.0f}')
    print()
    for (name, function), instructions in functions.most_common(top):
        print(f'{instructions / count:10.0f}  {name:<10} {function[:140]}')


main()
