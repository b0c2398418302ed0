/* crt1.o: the process entry point. The kernel starts us with the stack
 * pointer at argc (then argv, envp and the auxiliary vector). We clear the
 * frame pointer (marking the outermost frame for debuggers), pass that stack
 * pointer to the Rust runtime, and align the stack to 16 bytes as the
 * System V ABI requires at a call. __minilibc_start never returns. */
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
