/* crt1.o: the process entry point. The kernel starts us with the stack
 * pointer at argc (then argv, envp and the auxiliary vector). We clear the
 * frame pointer (marking the outermost frame for debuggers), pass that stack
 * pointer to the Rust runtime, and align the stack to 16 bytes as the
 * System V ABI (x86_64) and AAPCS64 (aarch64, where the link register is
 * cleared too) require at a call. __minilibc_start never returns. */
#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".global _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "    xor %rbp, %rbp\n"
    "    mov %rsp, %rdi\n"
    "    and $-16, %rsp\n"
    "    call __minilibc_start\n"
    "    hlt\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n"
    ".global _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "    mov x29, #0\n"
    "    mov x30, #0\n"
    "    mov x0, sp\n"
    "    and x1, x0, #-16\n"
    "    mov sp, x1\n"
    "    bl __minilibc_start\n"
    "    udf #0\n");
#else
#error "minilibc's crt1.c: no entry point for this architecture"
#endif
