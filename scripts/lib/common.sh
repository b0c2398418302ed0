# Shared helpers for the entry points (sourced, not run).
# Paths are relative to the repository root, where every script cds first.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$ROOT/build"
# scripts/test's lanes (docs/testing.md, "The schedule") each build into a
# directory of their own, so that two steps at once never write the same
# kernel, program directory or disk: MACH_BUILD, taken only by the scripts
# of the tree it was set for (MACH_BUILD_ROOT), not by a copy of the tree
# that a test makes and runs (scripts/tests/tutorial).
if [ -n "${MACH_BUILD:-}" ] && [ "${MACH_BUILD_ROOT:-}" = "$ROOT" ]; then
    BUILD=$MACH_BUILD
fi
TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# The architecture the kernel, the programs and QEMU are for: MACH_ARCH
# (the entry points' `--arch NAME` sets it before sourcing this file).
# Builds go to $BUILD/$ARCH.
ARCH=${MACH_ARCH:-x86_64}
case $ARCH in
x86_64 | aarch64) ;;
*) echo "unknown architecture $ARCH (MACH_ARCH): x86_64 or aarch64" >&2 && exit 2 ;;
esac

# The root disk scripts/run boots. A person's disk persists between runs
# (MACH_ROOT_DISK, default build/<arch>/persistent-root.img; docs/boot.md,
# "The root disk"); every other script that sources this file (the tests,
# the benches) and then starts scripts/run gets a scratch disk instead,
# made afresh at build/<arch>/root.img for that run, so that no test sees
# or changes a person's disk: MACH_SCRATCH_DISK=1, exported for them here
# (a test of the persistent disk itself sets it to 0 and its own
# MACH_ROOT_DISK).
if [ "$(basename "$0")" != run ]; then
    export MACH_SCRATCH_DISK=${MACH_SCRATCH_DISK:-1}
fi

sysroot_tool() {
    # $1: an llvm-tools binary name (llvm-objcopy, ...)
    echo "$(rustc +"$TOOLCHAIN" --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/$1"
}

# build_kernel VARIANT [ARCHITECTURE]: VARIANT is "run" (normal) or "test"
# (ktest feature). Leaves $BUILD/<arch>/mach-VARIANT.elf (symbols) and .bin
# (the image QEMU loads: a Multiboot flat image on x86_64, an arm64 Image
# on aarch64).
build_kernel() {
    local variant=$1 architecture=${2:-$ARCH} features=() target
    [ "$variant" = test ] && features=(--features ktest)
    target=$(rust_target "$architecture") || return
    local target_dir="$ROOT/target/kernel-$variant"
    # LTO: the kernel is two crates (mach-kcore, mach-kernel) and the
    # services call the core's small functions on every path; without
    # inlining across them the split cost the RPC round trip 239
    # instructions. Fat rather than thin: thin left aarch64's null trap one
    # instruction worse (docs/kernel.md, "Layers", has both). Only the
    # kernel: the programs keep the plain release profile.
    CARGO_PROFILE_RELEASE_LTO=fat cargo +"$TOOLCHAIN" build --quiet --release -p mach-kernel --target "$target" \
        --target-dir "$target_dir" "${features[@]}" || return
    mkdir -p "$BUILD/$architecture"
    cp "$target_dir/$target/release/mach-kernel" "$BUILD/$architecture/mach-$variant.elf"
    "$(sysroot_tool llvm-objcopy)" -O binary "$BUILD/$architecture/mach-$variant.elf" "$BUILD/$architecture/mach-$variant.bin"
}

# Every architecture the system builds for; build_user_programs builds for
# the ones it is given (default: $ARCH), scripts/test for all of them.
ARCHITECTURES=(x86_64 aarch64)

# rust_target ARCHITECTURE: the Rust target of the bare-metal programs.
rust_target() {
    case $1 in
    x86_64) echo x86_64-unknown-none ;;
    aarch64) echo aarch64-unknown-none ;;
    *) echo "unknown architecture $1" >&2 && return 1 ;;
    esac
}

# workspace QUERY: what the workspace holds (scripts/lib/workspace.py): the
# programs, the .defs files, the packages tested on the host.
workspace() {
    TOOLCHAIN=$TOOLCHAIN python3 "$ROOT/scripts/lib/workspace.py" "$@"
}

# The most boot modules the kernel takes (BOOT_MODULES_MAX in mach-abi).
boot_modules_max() {
    sed -n 's/^#define BOOT_MODULES_MAX \([0-9]*\)$/\1/p' "$ROOT/mach/abi/include/mach/mach_abi.h"
}

# check_module_list LIST: refuses (status 1, with the reason) an -initrd
# list the kernel would refuse at boot: more than BOOT_MODULES_MAX modules.
check_module_list() {
    local count limit
    count=$(tr ',' '\n' <<<"$1" | grep -c .)
    limit=$(boot_modules_max)
    if [ "$count" -gt "$limit" ]; then
        echo "error: $count boot modules; the kernel takes at most $limit (BOOT_MODULES_MAX in mach/abi/src/bootstrap.rs)" >&2
        return 1
    fi
}

# require_programs TEST PROGRAM...: a system test that needs programs the
# build may not find in this tree (the process server, init...) says
# "SKIP TEST: ..." and "0 passed, 0 failed" and ends the script (status 0)
# when one is missing.
require_programs() {
    local test=$1 programs program
    shift
    programs=$(workspace programs | cut -f3) || exit 1
    for program in "$@"; do
        if ! grep -qxF "$program" <<<"$programs"; then
            echo "SKIP $test: this tree has no program $program (the process server and init come with branch proc)"
            echo "0 passed, 0 failed"
            exit 0
        fi
    done
}

# build_host_tools: mach-idl (interfaces to C headers) and mach-manifest
# (boot manifests checked and combined), in target/host-tools/debug/.
build_host_tools() {
    cargo +"$TOOLCHAIN" build --quiet -p mach-idl -p mach-bootstrap-core --bins \
        --target-dir "$ROOT/target/host-tools"
}

# build_user_programs: every program the bootstrap task can start, found,
# not listed: each bin of each bare-metal program crate
# (`[package.metadata.mach] bare-metal = true`, not `kernel = true`) and
# each `c/NAME.c` beside such a crate's Cargo.toml, as static non-PIE
# executables at 0x400000 (the kernel's own code-model flags do not apply).
# Leaves them in $BUILD/<arch>/user/<program> (the bootstrap task is
# `bootstrap` there); `user_test_modules` gives the -initrd list of all.
# Arguments: the architectures to build for (default: $ARCH).
build_user_programs() {
    local architecture list packages kind where name architectures=("$@")
    [ ${#architectures[@]} -gt 0 ] || architectures=("$ARCH")
    build_c_interfaces || return
    for architecture in "${architectures[@]}"; do
        local target target_dir="$ROOT/target/user" out="$BUILD/$architecture/user"
        target=$(rust_target "$architecture") || return
        list=$(workspace programs "$architecture") || return
        packages=()
        while IFS=$'\t' read -r kind where name; do
            [ "$kind" = rust ] && ! [[ " ${packages[*]} " == *" -p $where "* ]] && packages+=(-p "$where")
        done <<<"$list"
        RUSTFLAGS="-C relocation-model=static -C force-frame-pointers=yes" \
            cargo +"$TOOLCHAIN" build --quiet --release "${packages[@]}" --target "$target" \
            --target-dir "$target_dir" || return
        build_c_runtime "$architecture" || return
        # A fresh directory: a program that is gone leaves no stale module.
        rm -rf "$out.new"
        mkdir -p "$out.new"
        while IFS=$'\t' read -r kind where name; do
            case $kind in
            rust)
                "$(sysroot_tool llvm-objcopy)" --strip-debug \
                    "$target_dir/$target/release/$name" "$out.new/$name" || return
                ;;
            c) mach_cc_for "$architecture" "$out.new/$name" "$where" || return ;;
            esac
        done <<<"$list"
        rm -rf "$out"
        mv "$out.new" "$out"
    done
}

# C programs that run as Mach tasks without minilibc: libmach/c (crt0, trap
# wrappers, mach_printf, the transport of mach-idl's C stubs, a process's
# exit and output over the generated proc.h and io.h) linked with
# each program crate's c/NAME.c into $BUILD/<arch>/user/NAME, static,
# non-PIE, at 0x400000 like the Rust programs. The C headers of every
# interface are generated into $BUILD/x86_64/idl by mach-idl (they are the
# same for every architecture). Freestanding code: on x86_64 without a red
# zone, as the Rust user programs are built (x86_64-unknown-none); SSE and
# NEON are fine (the kernel saves them). The headers' directory is named
# where the compiler runs (-I"$BUILD/x86_64/idl"), not here: scripts/test's
# second lane changes $BUILD after this file is read, and a path fixed here
# sent that lane's compiler to the first lane's headers, which the first
# lane may not have made yet or may be remaking (a clean-clone run failed
# with "io.h: No such file or directory").
MACH_C_FLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pie
    -fno-stack-protector -fno-asynchronous-unwind-tables -DMACH_IDL_CUSTOM_TRANSPORT
    -I"$ROOT/libmach/c/include" -I"$ROOT/libmach/include" -I"$ROOT/mach/abi/include")
MACH_C_LINK_FLAGS=(-nostdlib -static -no-pie -Wl,-Ttext-segment=0x400000 -Wl,-z,noexecstack -Wl,--build-id=none)

# c_compiler ARCHITECTURE: the gcc that builds for it (Debian's
# gcc-aarch64-linux-gnu for aarch64: only its code generator and libgcc are
# used, never its C library).
c_compiler() {
    case $1 in
    x86_64) echo gcc ;;
    aarch64) echo aarch64-linux-gnu-gcc ;;
    esac
}

# c_flags ARCHITECTURE: MACH_C_FLAGS and what the architecture adds.
c_flags() {
    case $1 in
    x86_64) echo -mno-red-zone ;;
    aarch64) echo -mstrict-align ;;
    esac
}

# c_link_flags ARCHITECTURE: what linking adds there: aarch64's ld lays
# segments out for 64 KiB pages unless told the kernel's 4 KiB.
c_link_flags() {
    case $1 in
    x86_64) echo ;;
    aarch64) echo -Wl,-z,max-page-size=4096 ;;
    esac
}

# build_c_runtime [ARCHITECTURE]: libmach/c into $BUILD/<arch>/libmach-c.
build_c_runtime() {
    local architecture=${1:-$ARCH} compiler flags
    local out="$BUILD/$architecture/libmach-c" source
    compiler=$(c_compiler "$architecture")
    read -ra flags <<<"$(c_flags "$architecture")"
    mkdir -p "$out"
    rm -f "$out"/*.o "$out/libmach_c.a"
    "$compiler" "${MACH_C_FLAGS[@]}" -I"$BUILD/x86_64/idl" "${flags[@]}" -c "$ROOT/libmach/c/crt0.S" -o "$out/crt0.o" || return
    for source in traps print string idl_transport process; do
        "$compiler" "${MACH_C_FLAGS[@]}" -I"$BUILD/x86_64/idl" "${flags[@]}" -c "$ROOT/libmach/c/$source.c" -o "$out/$source.o" || return
    done
    ar rcs "$out/libmach_c.a" "$out"/traps.o "$out"/print.o "$out"/string.o "$out"/idl_transport.o "$out"/process.o
}

# build_c_interfaces: the C header of every .defs file in the workspace,
# found, not listed, as $BUILD/x86_64/idl/<subsystem>.h.
build_c_interfaces() {
    local out="$BUILD/x86_64/idl" list definition subsystem
    list=$(workspace definitions) || return
    build_host_tools || return
    rm -rf "$out"
    mkdir -p "$out"
    while IFS=$'\t' read -r definition subsystem; do
        [ -n "$definition" ] || continue
        "$ROOT/target/host-tools/debug/mach-idl" "$definition" --c "$out/$subsystem.h" || return
    done <<<"$list"
}

# mach_cc OUTPUT SOURCES...: compiles and links a C program against
# libmach/c for $ARCH; mach_cc_for ARCHITECTURE OUTPUT SOURCES... for another.
mach_cc() {
    mach_cc_for "$ARCH" "$@"
}

mach_cc_for() {
    local architecture=$1 output=$2 compiler flags link_flags
    local runtime="$BUILD/$architecture/libmach-c"
    shift 2
    compiler=$(c_compiler "$architecture")
    read -ra flags <<<"$(c_flags "$architecture")"
    read -ra link_flags <<<"$(c_link_flags "$architecture")"
    "$compiler" "${MACH_C_FLAGS[@]}" -I"$BUILD/x86_64/idl" "${flags[@]}" "${MACH_C_LINK_FLAGS[@]}" "${link_flags[@]}" -o "$output" "$runtime/crt0.o" "$@" \
        "$runtime/libmach_c.a" -lgcc
}

# boot_modules MANIFEST...: checks the manifests together (mach-manifest,
# with file:line:column errors) and writes them as one manifest,
# $BUILD/<arch>/boot/system.manifest; prints the -initrd list that boots
# them: the bootstrap task, that manifest and each program it names from
# $BUILD/<arch>/user. Call after build_user_programs.
boot_modules() {
    local user="$BUILD/$ARCH/user" manifest="$BUILD/$ARCH/boot/system.manifest" modules module list
    build_host_tools || return
    mkdir -p "$(dirname "$manifest")"
    modules=$("$ROOT/target/host-tools/debug/mach-manifest" combine "$manifest" --modules "$user" "$@") || return
    # QEMU names a module after the file name of its path.
    list="$user/bootstrap,$manifest"
    for module in $modules; do
        list="$list,$user/$module"
    done
    check_module_list "$list" || return
    echo "$list"
}

# The standard machines: every QEMU run uses one (with -m "${MACH_MEMORY:-128M}").
# aarch64: the virt board with GICv3 (MACH_GIC=2 for GICv2) and a
# Cortex-A72 (ARMv8.0, 16-bit ASIDs, a PMU whose cycle counter counts
# instructions under -icount).
QEMU_X86_64=(qemu-system-x86_64 -accel tcg -machine q35 -cpu qemu64 -no-reboot -nic none)
# aarch64: virtio-mmio transports with the modern (version 2) registers,
# the only ones the virtio driver takes (QEMU's default is legacy).
QEMU_AARCH64=(qemu-system-aarch64 -accel tcg -machine "virt,gic-version=${MACH_GIC:-3}" -cpu cortex-a72 -no-reboot -nic none
    -global virtio-mmio.force-legacy=false)

# x86_64_firmware_arguments: the firmware scripts/run boots x86_64 with, as
# QEMU arguments (docs/boot.md): qboot (QEMU's own, in its data directory),
# which reaches the kernel in about 2 million instructions where SeaBIOS
# takes 18 million, unless MACH_FIRMWARE=seabios. qboot leaves 64-bit BARs
# unassigned; the virtio driver places them. The tests' machines
# (qemu_test) keep SeaBIOS, so both firmwares are exercised.
x86_64_firmware_arguments() {
    case ${MACH_FIRMWARE:-qboot} in
    qboot) echo "-bios qboot.rom" ;;
    seabios) ;; # QEMU's default
    *)
        echo "MACH_FIRMWARE must be qboot or seabios, not '$MACH_FIRMWARE'" >&2
        return 1
        ;;
    esac
}

# qemu_machine: the standard machine of $ARCH, as words.
qemu_machine() {
    case $ARCH in
    x86_64) echo "${QEMU_X86_64[@]}" ;;
    aarch64) echo "${QEMU_AARCH64[@]}" ;;
    esac
}

# qemu_kernel_arguments [QEMU ARGS...]: the arguments as QEMU on $ARCH takes
# them, one per line. x86_64: unchanged. aarch64: `-initrd LIST` (the
# Multiboot form, comma-separated "path args" modules) becomes one initrd,
# the boot-module archive made from LIST (scripts/lib/module_archive.py);
# isa-debug-exit devices are dropped (semihosting gives the status).
qemu_kernel_arguments() {
    while [ $# -gt 0 ]; do
        if [ "$ARCH" = aarch64 ] && [ "$1" = -initrd ] && [ $# -ge 2 ]; then
            local archive
            archive="$BUILD/aarch64/initrd-$$-$RANDOM.modules"
            python3 "$ROOT/scripts/lib/module_archive.py" "$archive" "$2" || return
            printf '%s\n' -initrd "$archive"
            shift 2
        else
            printf '%s\n' "$1"
            shift
        fi
    done
}

# qemu_x86_64 IMAGE [QEMU ARGS...]: the standard machine (of $ARCH). The
# caller adds -serial/-display choices, -append and any timeout.
qemu_x86_64() {
    local image=$1 machine arguments
    shift
    read -ra machine <<<"$(qemu_machine)"
    mapfile -t arguments < <(qemu_kernel_arguments "$@")
    "${machine[@]}" -m "${MACH_MEMORY:-128M}" -kernel "$image" "${arguments[@]}"
}

# qemu_test IMAGE SECONDS [QEMU ARGS...]: a bounded, non-interactive run with
# the kernel's debug console on stdout (everything the kernel and
# debug_print say, from the first line of the boot to a panic, whoever holds
# the serial line; docs/console.md): port 0xe9 on x86_64, semihosting on
# aarch64 (test kernels). The status comes through isa-debug-exit (x86_64)
# or semihosting (aarch64). The serial line (COM1, the PL011) goes to
# MACH_SERIAL, a QEMU character device (default null: a test that types on
# the console sets it to a socket or pipe). Returns QEMU's status: 33 = the kernel reported
# success, 35 = failure, 124 = timeout.
qemu_test() {
    local image=$1 seconds=$2 machine arguments exit_device debug_console status
    shift 2
    read -ra machine <<<"$(qemu_machine)"
    mapfile -t arguments < <(qemu_kernel_arguments "$@") || return
    case $ARCH in
    x86_64)
        exit_device=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
        debug_console=(-debugcon stdio)
        ;;
    aarch64)
        exit_device=()
        debug_console=(-chardev stdio,id=debug-console -semihosting-config enable=on,target=native,chardev=debug-console)
        ;;
    esac
    timeout --foreground -k 5 "$seconds" \
        "${machine[@]}" -m "${MACH_MEMORY:-128M}" -display none -monitor none \
        -serial "${MACH_SERIAL:-null}" "${debug_console[@]}" \
        "${exit_device[@]}" -kernel "$image" "${arguments[@]}" </dev/null
    status=$?
    rm -f "$BUILD"/aarch64/initrd-$$-*.modules
    return $status
}

# build_root_disk OUTPUT [SIZE] [DIRECTORY...]: the root disk, an ext2 image
# made by mkimage (docs/ext2.md) from the skeleton in image/root/ plus
# whatever build steps staged in $BUILD/<arch>/root/ (programs for /bin,
# /sbin...: copy them there, or use stage_root_file, before calling this),
# then each DIRECTORY copied over it in order (scripts/run's --add). SIZE
# defaults to 64M. Time stamps come from the last commit, so the same tree
# gives the same image.
build_root_disk() {
    local output=$1 size=${2:-64M} staging="$BUILD/$ARCH/root-staging" overlay
    shift 2 2>/dev/null || shift $#
    cargo +"$TOOLCHAIN" build --quiet --release -p mach-image --target-dir "$ROOT/target/host-tools" || return
    rm -rf "$staging"
    mkdir -p "$staging" "$(dirname "$output")"
    cp -a "$ROOT/image/root/." "$staging/" || return
    find "$staging" -name .keep -delete
    if [ -d "$BUILD/$ARCH/root" ]; then
        cp -a "$BUILD/$ARCH/root/." "$staging/" || return
    fi
    for overlay in "$@"; do
        [ -n "$overlay" ] && [ -d "$overlay" ] || { echo "build_root_disk: no overlay directory '$overlay'" >&2; return 1; }
        cp -a "$overlay/." "$staging/" || return
    done
    chmod 1777 "$staging/tmp"
    chmod 0700 "$staging/root"
    local time
    time=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)
    "$ROOT/target/host-tools/release/mkimage" rootfs --size "$size" --from "$staging" --out "$output" \
        --label mach-root --time "${SOURCE_DATE_EPOCH:-$time}"
}

# update_root_disk DISK [DIRECTORY...]: brings an existing root disk up to
# date in place (mkimage update, docs/ext2.md): what image/root has and the
# disk lacks is added (a person's edits of /etc stay), the programs staged
# under $BUILD/<arch>/root and the DIRECTORY trees (--add) replace the
# disk's where they differ. First `e2fsck -p` repairs what a machine left
# without powering off may have left (or refuses). Fails with a message on a
# disk it cannot use; the disk is then unchanged.
update_root_disk() {
    local disk=$1 skeleton="$BUILD/$ARCH/root-skeleton" overlay trees=() status
    shift
    cargo +"$TOOLCHAIN" build --quiet --release -p mach-image --target-dir "$ROOT/target/host-tools" || return
    rm -rf "$skeleton"
    mkdir -p "$skeleton"
    cp -a "$ROOT/image/root/." "$skeleton/" || return
    find "$skeleton" -name .keep -delete
    chmod 1777 "$skeleton/tmp"
    chmod 0700 "$skeleton/root"
    trees=(--keep "$skeleton")
    [ -d "$BUILD/$ARCH/root" ] && trees+=(--replace "$BUILD/$ARCH/root")
    for overlay in "$@"; do
        [ -n "$overlay" ] && [ -d "$overlay" ] || { echo "update_root_disk: no overlay directory '$overlay'" >&2; return 1; }
        trees+=(--replace "$overlay")
    done
    # The label first: e2fsck is not let near a disk that is not ours.
    "$ROOT/target/host-tools/release/mkimage" update --image "$disk" --label mach-root || return
    if command -v e2fsck >/dev/null || [ -x /usr/sbin/e2fsck ]; then
        PATH="$PATH:/usr/sbin:/sbin" e2fsck -p "$disk" >"$BUILD/x86_64/e2fsck.log" 2>&1
        status=$?
        if [ $status -ge 4 ]; then
            echo "e2fsck -p cannot repair $disk (status $status):" >&2
            tail -5 "$BUILD/x86_64/e2fsck.log" >&2
            return 1
        fi
        [ $status -eq 0 ] || echo "scripts/run: e2fsck repaired $disk (the last run did not power off): $(tail -1 "$BUILD/x86_64/e2fsck.log")" >&2
    fi
    "$ROOT/target/host-tools/release/mkimage" update --image "$disk" --label mach-root "${trees[@]}"
}

# stage_root_file SOURCE PATH [MODE]: puts SOURCE at PATH (e.g. /bin/ls) in
# the next root disk build_root_disk makes (for $ARCH).
stage_root_file() {
    local target="$BUILD/$ARCH/root/${2#/}"
    mkdir -p "$(dirname "$target")"
    install -m "${3:-0755}" "$1" "$target"
}

# stage_system_programs: the programs the system runs from its root disk
# (init at /sbin/init, the process server's first process), from
# $BUILD/<arch>/user (call after build_user_programs).
stage_system_programs() {
    stage_root_file "$BUILD/$ARCH/user/init" /sbin/init 0755
}

# stage_user_programs: what a person uses on the root disk, built for
# Mach_R by build_minilibc_program and stripped (the disk is 64 MiB): the
# shell at /bin/msh (init starts it on the console) and coreutils at
# /bin/coreutils with a link /bin/TOOL for each of its tools. msh is also
# /bin/sh (a symbolic link): system(), popen() and `#!/bin/sh` scripts run it
# as `sh -c COMMAND` or `sh FILE`. Then every program a crate lists in
# `[package.metadata.mach] commands` (found, not listed here: `workspace
# commands`), from $BUILD/<arch>/user (call after build_user_programs), at
# /bin/NAME; a name /bin has already is refused.
stage_user_programs() {
    local bin="$BUILD/$ARCH/root/bin" tool tools commands command
    build_minilibc_program msh mach || return
    stage_root_file "$MINILIBC_PROGRAMS/msh" /bin/msh 0755
    ln -sfn msh "$bin/sh"
    build_minilibc_program coreutils mach || return
    stage_root_file "$MINILIBC_PROGRAMS/coreutils" /bin/coreutils 0755
    strip_program "$bin/msh" "$bin/coreutils" || return
    tools=$(sed -n 's/^ *Tool { name: "\([^"]*\)".*/\1/p' "$ROOT/coreutils/src/tools/mod.rs")
    for tool in $tools; do
        ln -sfn coreutils "$bin/$tool"
    done
    commands=$(workspace commands) || return
    for command in $commands; do
        if printf '%s\n' msh sh coreutils $tools | grep -qxF "$command"; then
            echo "error: the program $command (a crate's \`commands\`) would replace /bin/$command; rename it" >&2
            return 1
        fi
        stage_root_file "$BUILD/$ARCH/user/$command" "/bin/$command" 0755 || return
    done
}

# Programs the process server runs from the root disk (process_test_overlay,
# stage_system_programs), never started by a manifest: left out of the test
# kernel's boot modules, whose room the 32 MiB test machine lacks.
DISK_ONLY_PROGRAMS=(init proc-checks process-frames proc-bench echo-args exit-code memory-hog)

# process_test_overlay: a directory of the process checks' programs for the
# test machines' root disk (/bin/proc-checks, /bin/process-frames...: what
# the kernel's process cases and scripts/tests/process run), and an
# executable text file /bin/not-a-program (exec's ENOEXEC); prints its path.
# Call after build_user_programs.
process_test_overlay() {
    local overlay="$BUILD/$ARCH/process-test-root" program
    rm -rf "$overlay"
    mkdir -p "$overlay/bin"
    for program in "${DISK_ONLY_PROGRAMS[@]}"; do
        [ "$program" = init ] && continue
        cp "$BUILD/$ARCH/user/$program" "$overlay/bin/$program" || return
    done
    printf 'this is text, not a program\n' >"$overlay/bin/not-a-program"
    chmod 755 "$overlay/bin/not-a-program"
    echo "$overlay"
}

# build_test_disk OUTPUT: the virtio driver's 64 MiB test disk, every byte
# known (scripts/lib/test_disk.py; mach_virtio::test_disk_byte).
build_test_disk() {
    python3 "$ROOT/scripts/lib/test_disk.py" make "$1"
}

# virtio_test_devices: the QEMU arguments the kernel tests' virtio devices
# need: the root disk (block), the test disk (block1), both copy-on-write
# so runs change neither, the root disk again read-only (block2), and
# virtio-rng (random). Builds both disks.
virtio_test_devices() {
    local overlay
    overlay=$(process_test_overlay) || return
    build_root_disk "$BUILD/$ARCH/root.img" 64M "$overlay" >&2 || return
    build_test_disk "$BUILD/x86_64/test-disk.img" >&2 || return
    if [ "$ARCH" = aarch64 ]; then
        # virtio over MMIO transports (the virt board has 32).
        echo "-drive file=$BUILD/aarch64/root.img,if=none,id=root,format=raw,snapshot=on -device virtio-blk-device,drive=root" \
            "-drive file=$BUILD/x86_64/test-disk.img,if=none,id=test,format=raw,snapshot=on -device virtio-blk-device,drive=test" \
            "-drive file=$BUILD/aarch64/root.img,if=none,id=readonly,format=raw,readonly=on -device virtio-blk-device,drive=readonly" \
            "-device virtio-rng-device"
        return
    fi
    echo "-drive file=$BUILD/x86_64/root.img,if=virtio,format=raw,snapshot=on" \
        "-drive file=$BUILD/x86_64/test-disk.img,if=virtio,format=raw,snapshot=on" \
        "-drive file=$BUILD/x86_64/root.img,if=virtio,format=raw,readonly=on -device virtio-rng-pci"
}

# The entry points take `--arch NAME` as their first arguments, before
# sourcing this file:
#   [ "${1:-}" = --arch ] && { export MACH_ARCH=${2:-}; shift 2; }

# user_test_modules: the -initrd argument that loads every program but
# DISK_ONLY_PROGRAMS (the bootstrap task first; kernel tests start it with
# chosen modules).
user_test_modules() {
    local list="$BUILD/$ARCH/user/bootstrap" program name
    for program in "$BUILD"/"$ARCH"/user/*; do
        name=$(basename "$program")
        [ "$name" = bootstrap ] && continue
        [[ " ${DISK_ONLY_PROGRAMS[*]} " == *" $name "* ]] && continue
        list="$list,$program"
    done
    check_module_list "$list" || return
    echo "$list"
}

# build_minilibc_program PACKAGE [PLATFORM]: builds the Rust programs of
# PACKAGE (#![no_std] binaries over the posix crate, minilibc/posix) for
# $ARCH: on x86_64 target x86_64-unknown-linux-gnu (the host's ELF ABI), on
# aarch64 aarch64-unknown-none (AAPCS64, as gcc's code; only PLATFORM mach
# there); panic abort, static non-PIE, linked by scripts/mcc (with gcc's
# linker flavor, bfd's ld) against minilibc's crt1.o and libc.a of
# PLATFORM: `linux` (the default: the host tests run them on Linux) or
# `mach` (for Mach_R's root disk). The package's binaries require its
# feature "program" (so workspace builds and `cargo test` leave them out).
# Leaves them in $MINILIBC_PROGRAMS/<binary> (set for the platform built).
build_minilibc_program() {
    local package=$1 platform=${2:-linux} target target_dir flags
    case $ARCH in
    x86_64)
        target=x86_64-unknown-linux-gnu
        target_dir="$ROOT/target/minilibc-programs-$platform"
        flags=""
        ;;
    aarch64)
        target=aarch64-unknown-none
        target_dir="$ROOT/target/minilibc-programs-$platform-aarch64"
        # The bare-metal target links with lld by default.
        flags="-C linker-flavor=gcc -C link-arg=-fuse-ld=bfd"
        ;;
    esac
    MINILIBC_PROGRAMS="$target_dir/$target/release"
    MCC_ARCH=$ARCH MCC_PLATFORM=$platform \
        RUSTFLAGS="-C panic=abort -C relocation-model=static -C linker=$ROOT/scripts/mcc $flags" \
        cargo +"$TOOLCHAIN" build --quiet --release -p "$package" --features "$package/program" \
        --target "$target" --target-dir "$target_dir"
}

# strip_program FILE...: strips programs built for $ARCH.
strip_program() {
    case $ARCH in
    x86_64) strip "$@" ;;
    aarch64) aarch64-linux-gnu-strip "$@" ;;
    esac
}

# fetch_real_sources DIRECTORY: the third-party C sources the real-program
# tests build (scripts/tests/minilibc-real on the host, minilibc-mach-real
# inside Mach_R), fetched into the cargo registry cache through a
# throwaway manifest in DIRECTORY, never committed; sets lua_source,
# zlib_source, bzip2_source and sqlite_source to their directories.
fetch_real_sources() {
    local directory=$1 registry
    mkdir -p "$directory/src"
    cat >"$directory/Cargo.toml" <<'MANIFEST'
[package]
name = "minilibc-real-sources"
version = "0.0.0"
edition = "2021"
[dependencies]
lua-src = "547"
libz-sys = { version = "1", features = ["static"] }
bzip2-sys = "0.1"
libsqlite3-sys = { version = "0.30", features = ["bundled"] }
MANIFEST
    touch "$directory/src/lib.rs"
    (cd "$directory" && cargo fetch --quiet) || return
    registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
    lua_source="$(ls -d "$registry"/*/lua-src-547*/lua-5.4.* | sort -V | tail -1)"
    zlib_source="$(ls -d "$registry"/*/libz-sys-1.*/src/zlib | sort -V | tail -1)"
    bzip2_source="$(ls -d "$registry"/*/bzip2-sys-0.1.*/bzip2-1.0.* | sort -V | tail -1)"
    sqlite_source="$(ls -d "$registry"/*/libsqlite3-sys-0.30.*/sqlite3 | sort -V | tail -1)"
}
