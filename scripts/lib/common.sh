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

# build_user_programs: the kernel's user-mode test programs, as static
# non-PIE executables (the kernel's own code-model flags do not apply).
# Leaves them in $BUILD/x86_64/user/usertest-<program>; `user_test_modules`
# gives the matching -initrd list.
build_user_programs() {
    local target_dir="$ROOT/target/user"
    RUSTFLAGS="-C relocation-model=static -C force-frame-pointers=yes" \
        cargo +"$TOOLCHAIN" build --quiet --release -p mach-usertests --target x86_64-unknown-none \
        --target-dir "$target_dir"
    RUSTFLAGS="-C relocation-model=static -C force-frame-pointers=yes" \
        cargo +"$TOOLCHAIN" build --quiet --release -p mach-bootstrap --target x86_64-unknown-none \
        --target-dir "$target_dir"
    mkdir -p "$BUILD/x86_64/user"
    "$(sysroot_tool llvm-objcopy)" --strip-debug \
        "$target_dir/x86_64-unknown-none/release/bootstrap" "$BUILD/x86_64/bootstrap"
    local program
    for program in hello spinner faulter bad-pointers ipc-echo ipc-client ipc-checks ipc-bench yielder task-checks adversary boot-checks vm-checks exc-victim exc-handler ool-checks device-checks pager pager-client; do
        "$(sysroot_tool llvm-objcopy)" --strip-debug \
            "$target_dir/x86_64-unknown-none/release/$program" "$BUILD/x86_64/user/usertest-$program"
    done
}

# qemu_x86_64 IMAGE [QEMU ARGS...]: the standard machine. The caller adds
# -serial/-display choices, -append and any timeout.
qemu_x86_64() {
    local image=$1
    shift
    qemu-system-x86_64 -accel tcg -machine q35 -cpu qemu64 -m "${MACH_MEMORY:-128M}" \
        -no-reboot -nic none -kernel "$image" "$@"
}

# qemu_test IMAGE SECONDS [QEMU ARGS...]: a bounded, non-interactive run with
# the serial console on stdout and isa-debug-exit for the status. Returns
# QEMU's status: 33 = the kernel reported success, 35 = failure, 124 = timeout.
qemu_test() {
    local image=$1 seconds=$2
    shift 2
    timeout --foreground -k 5 "$seconds" \
        qemu-system-x86_64 -accel tcg -machine q35 -cpu qemu64 -m "${MACH_MEMORY:-128M}" \
        -no-reboot -nic none -display none -monitor none -serial stdio \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$image" "$@" </dev/null
}

# user_test_modules: the -initrd argument that loads every user test program
# (and the bootstrap task, which a kernel test starts too).
user_test_modules() {
    local list="$BUILD/x86_64/bootstrap" program
    for program in "$BUILD"/x86_64/user/usertest-*; do
        list="$list,$program"
    done
    echo "${list#,}"
}
