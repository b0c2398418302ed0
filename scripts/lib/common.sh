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
    RUSTFLAGS="-C relocation-model=static -C force-frame-pointers=yes" \
        cargo +"$TOOLCHAIN" build --quiet --release -p mach-examples --target x86_64-unknown-none \
        --target-dir "$target_dir"
    mkdir -p "$BUILD/x86_64/user"
    "$(sysroot_tool llvm-objcopy)" --strip-debug \
        "$target_dir/x86_64-unknown-none/release/bootstrap" "$BUILD/x86_64/bootstrap"
    local program
    for program in hello spinner faulter bad-pointers ipc-echo ipc-client ipc-checks ipc-bench yielder task-checks adversary boot-checks vm-checks exc-victim exc-handler ool-checks device-checks pager pager-client thread-checks; do
        "$(sysroot_tool llvm-objcopy)" --strip-debug \
            "$target_dir/x86_64-unknown-none/release/$program" "$BUILD/x86_64/user/usertest-$program"
    done
    # Programs the bootstrap task starts in the kernel tests (personality/examples).
    for program in name-checks crash-loop raw-echo kv-server kv-client kv-bench ping-server; do
        "$(sysroot_tool llvm-objcopy)" --strip-debug \
            "$target_dir/x86_64-unknown-none/release/$program" "$BUILD/x86_64/user/usertest-$program"
    done
    build_c_programs
}

# C programs that run as Mach tasks without minilibc: libmach/c (crt0, trap
# wrappers, mach_printf, the transport of mach-idl's C stubs) linked with
# each personality/examples/c/NAME.c into $BUILD/x86_64/user/usertest-NAME,
# static, non-PIE, at 0x400000 like the Rust programs. The C headers of the
# interfaces they call are generated into $BUILD/x86_64/idl by mach-idl. Freestanding x86_64 code without a red zone, as the
# Rust user programs are built (x86_64-unknown-none); SSE is fine (the
# kernel saves it on every switch).
MACH_C_FLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pie -mno-red-zone
    -fno-stack-protector -fno-asynchronous-unwind-tables -DMACH_IDL_CUSTOM_TRANSPORT -I"$BUILD/x86_64/idl"
    -I"$ROOT/libmach/c/include" -I"$ROOT/libmach/include" -I"$ROOT/mach/abi/include")
MACH_C_LINK_FLAGS=(-nostdlib -static -no-pie -Wl,-Ttext-segment=0x400000 -Wl,-z,noexecstack -Wl,--build-id=none)

build_c_runtime() {
    local out="$BUILD/x86_64/libmach-c" source
    mkdir -p "$out"
    rm -f "$out"/*.o "$out/libmach_c.a"
    gcc "${MACH_C_FLAGS[@]}" -c "$ROOT/libmach/c/crt0.S" -o "$out/crt0.o" || return
    for source in traps print string idl_transport; do
        gcc "${MACH_C_FLAGS[@]}" -c "$ROOT/libmach/c/$source.c" -o "$out/$source.o" || return
    done
    ar rcs "$out/libmach_c.a" "$out"/traps.o "$out"/print.o "$out"/string.o "$out"/idl_transport.o
}

# The C headers of the interfaces the example C programs call.
build_c_interfaces() {
    local out="$BUILD/x86_64/idl" definition
    mkdir -p "$out"
    cargo +"$TOOLCHAIN" build --quiet -p mach-idl --target-dir "$ROOT/target/host-tools" || return
    for definition in personality/bootstrap-core/names.defs:bootstrap_names libmach/examples/kv.defs:kv; do
        "$ROOT/target/host-tools/debug/mach-idl" "$ROOT/${definition%%:*}" --c "$out/${definition##*:}.h" || return
    done
}

# mach_cc OUTPUT SOURCES...: compiles and links a C program against libmach/c.
mach_cc() {
    local output=$1 runtime="$BUILD/x86_64/libmach-c"
    shift
    gcc "${MACH_C_FLAGS[@]}" "${MACH_C_LINK_FLAGS[@]}" -o "$output" "$runtime/crt0.o" "$@" \
        "$runtime/libmach_c.a" -lgcc
}

build_c_programs() {
    build_c_interfaces || return
    build_c_runtime || return
    local source name
    for source in "$ROOT"/personality/examples/c/*.c; do
        name=$(basename "$source" .c)
        mach_cc "$BUILD/x86_64/user/usertest-$name" "$source" || return
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

# build_minilibc_program PACKAGE: builds the Rust programs of PACKAGE
# (#![no_std] binaries over the posix crate, minilibc/posix) for Mach_R's
# user space: target x86_64-unknown-linux-gnu (the host's ELF ABI), panic
# abort, static non-PIE, linked by scripts/mcc against minilibc's crt1.o
# and libc.a. The package's binaries require its feature "program" (so
# workspace builds and `cargo test` leave them out). Leaves them in
# $MINILIBC_PROGRAMS/<binary>. Today's libc.a is the Linux back end, so
# they also run on the host, which is how scripts/tests check them.
MINILIBC_PROGRAMS="$ROOT/target/minilibc-programs/x86_64-unknown-linux-gnu/release"
build_minilibc_program() {
    local package=$1
    RUSTFLAGS="-C panic=abort -C relocation-model=static -C linker=$ROOT/scripts/mcc" \
        cargo +"$TOOLCHAIN" build --quiet --release -p "$package" --features "$package/program" \
        --target x86_64-unknown-linux-gnu --target-dir "$ROOT/target/minilibc-programs"
}
