#!/usr/bin/env python3
"""What the workspace holds, for the build scripts: programs and interfaces
are found, not listed (scripts/lib/common.sh calls this).

    workspace.py programs [ARCH]       every boot-module program (built for ARCH): lines
                                       "rust PACKAGE BIN" and "c SOURCE NAME" (tab-separated)
    workspace.py commands              the programs that go in the root disk's /bin:
                                       lines "NAME"
    workspace.py definitions           every .defs file: lines "PATH SUBSYSTEM" (tab-separated)
    workspace.py host-packages         packages tested with plain `cargo test`
    workspace.py bare-metal-libraries  bare-metal packages whose library is
                                       tested on the host (`cargo test --lib`)

A package is a program crate when its Cargo.toml says
`[package.metadata.mach] bare-metal = true` (and not `kernel = true`):
each of its bins, and each `c/NAME.c` beside its Cargo.toml, is a program,
a boot module named after the bin or the file. Names are checked here: the
kernel refuses a module name over 48 bytes, and two programs with one name
would overwrite each other.

Such a crate may also list programs a person runs at the shell:
`[package.metadata.mach] commands = ["NAME", ...]`; each must be one of its
programs, and goes in the root disk's /bin (stage_user_programs).
"""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# mach-abi's BOOTSTRAP_MODULE_NAME_MAX: the kernel keeps no longer name.
MODULE_NAME_MAX = 48
MODULE_NAME = re.compile(r"^[A-Za-z0-9._+][A-Za-z0-9._+-]*$")
# Directories never searched for interfaces.
SKIPPED = {"target", "build", ".git", "node_modules"}


def fail(message):
    print(f"workspace.py: {message}", file=sys.stderr)
    sys.exit(1)


def packages():
    toolchain = os.environ.get("TOOLCHAIN")
    command = ["cargo"] + ([f"+{toolchain}"] if toolchain else []) + [
        "metadata", "--no-deps", "--format-version", "1", "--offline"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        fail("cargo metadata failed:\n" + result.stderr)
    return json.loads(result.stdout)["packages"]


def mach(package):
    return ((package.get("metadata") or {}).get("mach") or {})


def is_program_crate(package):
    return bool(mach(package).get("bare-metal")) and not mach(package).get("kernel")


def package_programs(package):
    """The programs of a program crate: (kind, where, name)."""
    found = []
    for target in package["targets"]:
        if "bin" in target["kind"]:
            found.append(("rust", package["name"], target["name"]))
    c_directory = os.path.join(os.path.dirname(package["manifest_path"]), "c")
    if os.path.isdir(c_directory):
        for entry in sorted(os.listdir(c_directory)):
            if entry.endswith(".c"):
                found.append(("c", os.path.join(c_directory, entry), entry[:-2]))
    return found


def builds_for(package, architecture):
    """`[package.metadata.mach] architectures = [...]` limits a program
    crate to some architectures (default: all)."""
    architectures = mach(package).get("architectures")
    return architectures is None or architectures == [] or architecture in architectures


def programs(architecture=None):
    """Every program; with an architecture, those built for it."""
    found = []  # (kind, where, name)
    for package in sorted(packages(), key=lambda package: package["manifest_path"]):
        if not is_program_crate(package):
            continue
        if architecture is not None and not builds_for(package, architecture):
            continue
        found.extend(package_programs(package))
    seen = {}
    for kind, where, name in found:
        if len(name.encode()) > MODULE_NAME_MAX or not MODULE_NAME.match(name):
            fail(f"program `{name}` ({where}): a boot module name is 1 to {MODULE_NAME_MAX} bytes of "
                 "A-Z a-z 0-9 . _ + - (not starting with -); rename it")
        if name in seen:
            fail(f"two programs are called `{name}` ({seen[name]} and {where}); rename one")
        seen[name] = where
    for kind, where, name in found:
        print(kind, where, name, sep="\t")


def commands():
    seen = {}
    for package in sorted(packages(), key=lambda package: package["manifest_path"]):
        listed = mach(package).get("commands")
        if listed is None:
            continue
        where = package["manifest_path"]
        if not is_program_crate(package):
            fail(f"{where}: `commands` lists programs, but this is not a program crate (`bare-metal = true`)")
        if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
            fail(f"{where}: `commands` must be a list of program names")
        names = {name for _, _, name in package_programs(package)}
        for name in listed:
            if name not in names:
                fail(f"{where}: `commands` lists `{name}`, which is not one of its programs "
                     f"({', '.join(sorted(names)) or 'none'})")
            if name in seen:
                fail(f"`{name}` is listed in `commands` twice ({seen[name]} and {where})")
            seen[name] = where
            print(name)


def subsystem(path):
    with open(path, encoding="utf-8", errors="replace") as file:
        text = file.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    match = re.search(r"\bsubsystem\s+([A-Za-z_][A-Za-z0-9_]*)", text)
    if not match:
        fail(f"{path}: no `subsystem NAME` line")
    return match.group(1)


def definitions():
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = sorted(name for name in subdirectories
                                   if name not in SKIPPED and not name.startswith("."))
        for name in sorted(files):
            if name.endswith(".defs"):
                path = os.path.join(directory, name)
                found.append((path, subsystem(path)))
    seen = {}
    for path, name in found:
        if name in seen:
            fail(f"{seen[name]} and {path} both define subsystem `{name}` (one header each); rename one")
        seen[name] = path
        print(path, name, sep="\t")


def host_packages():
    for package in packages():
        if not mach(package).get("bare-metal"):
            print(package["name"])


def bare_metal_libraries():
    for package in packages():
        if is_program_crate(package) and any(
                "lib" in target["kind"] and target.get("test", True) for target in package["targets"]):
            print(package["name"])


COMMANDS = {
    "programs": programs,
    "commands": commands,
    "definitions": definitions,
    "host-packages": host_packages,
    "bare-metal-libraries": bare_metal_libraries,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS or (len(sys.argv) > 2 and sys.argv[1] != "programs"):
        fail("usage: workspace.py " + "|".join(COMMANDS) + " (programs takes an architecture)")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
