#!/usr/bin/env python3
"""The virtio driver's test disk (64 MiB, every byte known) and the check of
what block-checks wrote to it.

    test_disk.py make FILE     writes the disk
    test_disk.py check FILE    prints one line per check and
                               "test-disk: N passed, N failed"

The patterns are mach_virtio::test_disk_byte and written_byte
(personality/virtio/src/lib.rs); the written regions are block-checks'
(personality/virtio/src/bin/block-checks.rs).
"""
import sys

SECTOR = 512
SECTORS = 128 * 1024
BASE = bytes(((offset & 0xff) * 3 & 0xff) ^ 0x5a for offset in range(SECTOR))
ROWS = [bytes(byte ^ value for byte in BASE) for value in range(256)]
# (first block, blocks, pass) written by block-checks (mode 0).
WRITTEN = [(16384, 1, 1), (16400, 2048, 1), (20000, 300, 1)] + [
    (24000 + 1024 * thread, 256, 2 + thread) for thread in range(4)
]


def original(sector):
    return ROWS[((sector * 31) ^ (sector >> 8)) & 0xff]


def written(sector, pass_number):
    start = sector * SECTOR
    return bytes(
        (((sector & 0xff) * 17) ^ (((start + index) & 0xff) * 5) ^ (pass_number * 0x3b) ^ 0xa5) & 0xff
        for index in range(SECTOR)
    )


def make(path):
    with open(path, "wb") as disk:
        disk.write(b"".join(original(sector) for sector in range(SECTORS)))


def check(path):
    with open(path, "rb") as disk:
        image = disk.read()
    passed = failed = 0

    def result(name, good):
        nonlocal passed, failed
        print(f"{name} ... {'ok' if good else 'FAILED'}")
        if good:
            passed += 1
        else:
            failed += 1

    result("size is 64 MiB", len(image) == SECTORS * SECTOR)
    expected_written = {}
    for first, blocks, pass_number in WRITTEN:
        for sector in range(first, first + blocks):
            expected_written[sector] = pass_number
    for first, blocks, pass_number in WRITTEN:
        good = all(
            image[sector * SECTOR:(sector + 1) * SECTOR] == written(sector, pass_number)
            for sector in range(first, first + blocks)
        )
        result(f"blocks {first}..{first + blocks} hold what block-checks wrote (pass {pass_number})", good)
    untouched = [sector for sector in range(SECTORS) if sector not in expected_written]
    bad = [sector for sector in untouched if image[sector * SECTOR:(sector + 1) * SECTOR] != original(sector)]
    result(f"the other {len(untouched)} blocks are as made" + (f" (first changed: {bad[0]})" if bad else ""), not bad)
    print(f"test-disk: {passed} passed, {failed} failed")
    return failed == 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        sys.exit(0 if check(sys.argv[2]) else 1)
