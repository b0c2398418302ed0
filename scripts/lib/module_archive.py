#!/usr/bin/env python3
"""Writes the boot-module archive aarch64's kernel reads from its initrd.

    module_archive.py OUTPUT "PATH [ARGS],PATH [ARGS],..."

The list has the form x86_64's Multiboot `-initrd` takes: comma-separated
modules, each a path and optional words (`scripts/lib/common.sh` passes the
same list to both). QEMU's aarch64 loader takes one initrd only, so the
modules travel in one file (mach/kcore/src/boot_info.rs, `archive`):

    0   "MACHMODS"
    8   u32 version (1)
    12  u32 module count
    16  count x { u64 offset, u64 size, 256 bytes: the module's line, NUL padded }
        then each module's bytes at a page-aligned offset

Nothing is checked here that the kernel checks (module count, name length):
a list the kernel must refuse is written as it is, so that the refusal can
be tested. Only what cannot be written at all is an error here: a line of
256 bytes or more.
"""
import struct
import sys

MAGIC = b"MACHMODS"
VERSION = 1
LINE_SIZE = 256
ENTRY_SIZE = 16 + LINE_SIZE
PAGE = 4096


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    output, listing = sys.argv[1], sys.argv[2]
    lines = [line for line in listing.split(",") if line]
    contents = []
    for line in lines:
        encoded = line.encode()
        if len(encoded) >= LINE_SIZE:
            print(f"module_archive: module line longer than {LINE_SIZE - 1} bytes: {line}", file=sys.stderr)
            return 1
        path = line.split()[0]
        try:
            with open(path, "rb") as module:
                contents.append(module.read())
        except OSError as error:
            print(f"module_archive: {path}: {error.strerror}", file=sys.stderr)
            return 1
    offset = -(-(16 + len(lines) * ENTRY_SIZE) // PAGE) * PAGE
    header = bytearray(MAGIC + struct.pack("<II", VERSION, len(lines)))
    for line, content in zip(lines, contents):
        header += struct.pack("<QQ", offset, len(content)) + line.encode().ljust(LINE_SIZE, b"\0")
        offset += -(-len(content) // PAGE) * PAGE
    with open(output, "wb") as archive:
        archive.write(header)
        for content in contents:
            archive.write(b"\0" * (-archive.tell() % PAGE))
            archive.write(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
