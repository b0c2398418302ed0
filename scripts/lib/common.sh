# Shared helpers for the entry points (sourced, not run).
# Paths are relative to the repository root, where every script cds first.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$ROOT/build"
TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

sysroot_tool() {
    # $1: an llvm-tools binary name (llvm-objcopy, ...)
    echo "$(rustc +"$TOOLCHAIN" --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/$1"
}

# build_kernel VARIANT: VARIANT is "run" (normal) or "test" (ktest feature).
# Leaves $BUILD/x86_64/mach-VARIANT.elf (symbols) and .bin (the image QEMU loads).
build_kernel() {
    local variant=$1 features=()
    [ "$variant" = test ] && features=(--features ktest)
    local target_dir="$ROOT/target/kernel-$variant"
    cargo +"$TOOLCHAIN" build --quiet --release -p mach-kernel --target x86_64-unknown-none \
        --target-dir "$target_dir" "${features[@]}"
    mkdir -p "$BUILD/x86_64"
    cp "$target_dir/x86_64-unknown-none/release/mach-kernel" "$BUILD/x86_64/mach-$variant.elf"
    "$(sysroot_tool llvm-objcopy)" -O binary "$BUILD/x86_64/mach-$variant.elf" "$BUILD/x86_64/mach-$variant.bin"
}

# Architectures the programs are built for. aarch64 joins as one more entry
# (and a case in rust_target and the C flags) when its kernel exists.
ARCHITECTURES=(x86_64)

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
build_user_programs() {
    local architecture list packages=() kind where name
    list=$(workspace programs) || return
    while IFS=$'\t' read -r kind where name; do
        [ "$kind" = rust ] && ! [[ " ${packages[*]} " == *" -p $where "* ]] && packages+=(-p "$where")
    done <<<"$list"
    build_c_interfaces || return
    for architecture in "${ARCHITECTURES[@]}"; do
        local target target_dir="$ROOT/target/user" out="$BUILD/$architecture/user"
        target=$(rust_target "$architecture") || return
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
            c) mach_cc "$out.new/$name" "$where" || return ;;
            esac
        done <<<"$list"
        rm -rf "$out"
        mv "$out.new" "$out"
    done
}

# C programs that run as Mach tasks without minilibc: libmach/c (crt0, trap
# wrappers, mach_printf, the transport of mach-idl's C stubs) linked with
# each program crate's c/NAME.c into $BUILD/x86_64/user/NAME, static,
# non-PIE, at 0x400000 like the Rust programs. The C headers of every
# interface are generated into $BUILD/x86_64/idl by mach-idl. Freestanding x86_64 code without a red zone, as the
# Rust user programs are built (x86_64-unknown-none); SSE is fine (the
# kernel saves it on every switch).
MACH_C_FLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pie -mno-red-zone
    -fno-stack-protector -fno-asynchronous-unwind-tables -DMACH_IDL_CUSTOM_TRANSPORT -I"$BUILD/x86_64/idl"
    -I"$ROOT/libmach/c/include" -I"$ROOT/libmach/include" -I"$ROOT/mach/abi/include")
MACH_C_LINK_FLAGS=(-nostdlib -static -no-pie -Wl,-Ttext-segment=0x400000 -Wl,-z,noexecstack -Wl,--build-id=none)

# build_c_runtime [ARCHITECTURE]: libmach/c into $BUILD/<arch>/libmach-c.
build_c_runtime() {
    local architecture=${1:-x86_64}
    local out="$BUILD/$architecture/libmach-c" source
    mkdir -p "$out"
    rm -f "$out"/*.o "$out/libmach_c.a"
    gcc "${MACH_C_FLAGS[@]}" -c "$ROOT/libmach/c/crt0.S" -o "$out/crt0.o" || return
    for source in traps print string idl_transport; do
        gcc "${MACH_C_FLAGS[@]}" -c "$ROOT/libmach/c/$source.c" -o "$out/$source.o" || return
    done
    ar rcs "$out/libmach_c.a" "$out"/traps.o "$out"/print.o "$out"/string.o "$out"/idl_transport.o
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

# mach_cc OUTPUT SOURCES...: compiles and links a C program against libmach/c.
mach_cc() {
    local output=$1 runtime="$BUILD/x86_64/libmach-c"
    shift
    gcc "${MACH_C_FLAGS[@]}" "${MACH_C_LINK_FLAGS[@]}" -o "$output" "$runtime/crt0.o" "$@" \
        "$runtime/libmach_c.a" -lgcc
}

# boot_modules MANIFEST...: checks the manifests together (mach-manifest,
# with file:line:column errors) and writes them as one manifest,
# $BUILD/x86_64/boot/system.manifest; prints the -initrd list that boots
# them: the bootstrap task, that manifest and each program it names from
# $BUILD/x86_64/user. Call after build_user_programs.
boot_modules() {
    local user="$BUILD/x86_64/user" manifest="$BUILD/x86_64/boot/system.manifest" modules module list
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

# The standard machine: every QEMU run uses it (with -m "${MACH_MEMORY:-128M}").
QEMU_X86_64=(qemu-system-x86_64 -accel tcg -machine q35 -cpu qemu64 -no-reboot -nic none)

# qemu_x86_64 IMAGE [QEMU ARGS...]: the standard machine. The caller adds
# -serial/-display choices, -append and any timeout.
qemu_x86_64() {
    local image=$1
    shift
    "${QEMU_X86_64[@]}" -m "${MACH_MEMORY:-128M}" -kernel "$image" "$@"
}

# qemu_test IMAGE SECONDS [QEMU ARGS...]: a bounded, non-interactive run with
# the kernel's debug console (port 0xe9: everything the kernel and
# debug_print say, from the first line of the boot to a panic, whoever holds
# the serial line; docs/console.md) on stdout and isa-debug-exit for the
# status. The serial line (COM1) goes to MACH_SERIAL, a QEMU character
# device (default null: a test that types on the console sets it to a
# socket or pipe). Returns QEMU's status: 33 = the kernel reported
# success, 35 = failure, 124 = timeout.
qemu_test() {
    local image=$1 seconds=$2
    shift 2
    timeout --foreground -k 5 "$seconds" \
        "${QEMU_X86_64[@]}" -m "${MACH_MEMORY:-128M}" -display none -monitor none \
        -serial "${MACH_SERIAL:-null}" -debugcon stdio \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$image" "$@" </dev/null
}

# build_root_disk OUTPUT [SIZE] [DIRECTORY...]: the root disk, an ext2 image
# made by mkimage (docs/ext2.md) from the skeleton in image/root/ plus
# whatever build steps staged in $BUILD/x86_64/root/ (programs for /bin,
# /sbin...: copy them there, or use stage_root_file, before calling this),
# then each DIRECTORY copied over it in order (scripts/run's --add). SIZE
# defaults to 64M. Time stamps come from the last commit, so the same tree
# gives the same image.
build_root_disk() {
    local output=$1 size=${2:-64M} staging="$BUILD/x86_64/root-staging" overlay
    shift 2 2>/dev/null || shift $#
    cargo +"$TOOLCHAIN" build --quiet --release -p mach-image --target-dir "$ROOT/target/host-tools" || return
    rm -rf "$staging"
    mkdir -p "$staging" "$(dirname "$output")"
    cp -a "$ROOT/image/root/." "$staging/" || return
    find "$staging" -name .keep -delete
    if [ -d "$BUILD/x86_64/root" ]; then
        cp -a "$BUILD/x86_64/root/." "$staging/" || return
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

# stage_root_file SOURCE PATH [MODE]: puts SOURCE at PATH (e.g. /bin/ls) in
# the next root disk build_root_disk makes.
stage_root_file() {
    local target="$BUILD/x86_64/root/${2#/}"
    mkdir -p "$(dirname "$target")"
    install -m "${3:-0755}" "$1" "$target"
}

# stage_system_programs: the programs the system runs from its root disk
# (init at /sbin/init, the process server's first process), from
# $BUILD/x86_64/user (call after build_user_programs).
stage_system_programs() {
    stage_root_file "$BUILD/x86_64/user/init" /sbin/init 0755
}

# stage_user_programs: what a person uses on the root disk, built for
# Mach_R by build_minilibc_program and stripped (the disk is 64 MiB): the
# shell at /bin/msh (init starts it on the console) and coreutils at
# /bin/coreutils with a link /bin/TOOL for each of its tools. msh is also
# /bin/sh (a symbolic link): system(), popen() and `#!/bin/sh` scripts run it
# as `sh -c COMMAND` or `sh FILE`.
stage_user_programs() {
    local bin="$BUILD/x86_64/root/bin" tool
    build_minilibc_program msh mach || return
    stage_root_file "$MINILIBC_PROGRAMS/msh" /bin/msh 0755
    ln -sfn msh "$bin/sh"
    build_minilibc_program coreutils mach || return
    stage_root_file "$MINILIBC_PROGRAMS/coreutils" /bin/coreutils 0755
    strip "$bin/msh" "$bin/coreutils" || return
    for tool in $(sed -n 's/^ *Tool { name: "\([^"]*\)".*/\1/p' "$ROOT/coreutils/src/tools/mod.rs"); do
        ln -sfn coreutils "$bin/$tool"
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
    local overlay="$BUILD/x86_64/process-test-root" program
    rm -rf "$overlay"
    mkdir -p "$overlay/bin"
    for program in "${DISK_ONLY_PROGRAMS[@]}"; do
        [ "$program" = init ] && continue
        cp "$BUILD/x86_64/user/$program" "$overlay/bin/$program" || return
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
    build_root_disk "$BUILD/x86_64/root.img" 64M "$overlay" >&2 || return
    build_test_disk "$BUILD/x86_64/test-disk.img" >&2 || return
    echo "-drive file=$BUILD/x86_64/root.img,if=virtio,format=raw,snapshot=on" \
        "-drive file=$BUILD/x86_64/test-disk.img,if=virtio,format=raw,snapshot=on" \
        "-drive file=$BUILD/x86_64/root.img,if=virtio,format=raw,readonly=on -device virtio-rng-pci"
}

# user_test_modules: the -initrd argument that loads every program but
# DISK_ONLY_PROGRAMS (the bootstrap task first; kernel tests start it with
# chosen modules).
user_test_modules() {
    local list="$BUILD/x86_64/user/bootstrap" program name
    for program in "$BUILD"/x86_64/user/*; do
        name=$(basename "$program")
        [ "$name" = bootstrap ] && continue
        [[ " ${DISK_ONLY_PROGRAMS[*]} " == *" $name "* ]] && continue
        list="$list,$program"
    done
    check_module_list "$list" || return
    echo "$list"
}

# build_minilibc_program PACKAGE [PLATFORM]: builds the Rust programs of
# PACKAGE (#![no_std] binaries over the posix crate, minilibc/posix):
# target x86_64-unknown-linux-gnu (the host's ELF ABI), panic abort, static
# non-PIE, linked by scripts/mcc against minilibc's crt1.o and libc.a of
# PLATFORM: `linux` (the default: the host tests run them on Linux) or
# `mach` (for Mach_R's root disk). The package's binaries require its
# feature "program" (so workspace builds and `cargo test` leave them out).
# Leaves them in $MINILIBC_PROGRAMS/<binary> (set for the platform built).
build_minilibc_program() {
    local package=$1 platform=${2:-linux}
    MINILIBC_PROGRAMS="$ROOT/target/minilibc-programs-$platform/x86_64-unknown-linux-gnu/release"
    MCC_PLATFORM=$platform RUSTFLAGS="-C panic=abort -C relocation-model=static -C linker=$ROOT/scripts/mcc" \
        cargo +"$TOOLCHAIN" build --quiet --release -p "$package" --features "$package/program" \
        --target x86_64-unknown-linux-gnu --target-dir "$ROOT/target/minilibc-programs-$platform"
}
