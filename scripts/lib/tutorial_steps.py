#!/usr/bin/env python3
"""Extracts the marked steps of a tutorial document (scripts/tests/tutorial).

    tutorial_steps.py DOCUMENT NAME DIRECTORY

Replaces the server name `hello` by NAME, finds each marker
`<!-- tutorial: run|edit FILE|boot until "TEXT"...|at msh -->`, writes the
code block(s) after it to files in DIRECTORY and prints one line per step:
"KIND US ARGUMENT US FILE[ FILE]" (US: the unit separator, 0x1f).
"""

import os
import re
import sys

MARKER = re.compile(r"<!-- tutorial: (run|edit|boot until|at msh)\s*(.*?)\s*-->")
BLOCK = re.compile(r"```[a-z]*\n(.*?)```", re.S)


def main():
    document, name, directory = sys.argv[1:]
    with open(document, encoding="utf-8") as file:
        text = file.read().replace("hello", name)
    for number, marker in enumerate(MARKER.finditer(text)):
        kind, argument = marker.group(1), marker.group(2)
        following = BLOCK.finditer(text, marker.end())
        files = []
        for index in range(2 if kind == "edit" else 1):
            block = next(following, None)
            if block is None:
                sys.exit(f"{document}: the `{kind}` step {number} has no code block after it")
            path = os.path.join(directory, f"{number}-{index}")
            with open(path, "w", encoding="utf-8") as file:
                file.write(block.group(1))
            files.append(path)
        print(kind, argument, " ".join(files), sep="\x1f")


if __name__ == "__main__":
    main()
