/* crt0 of Mach_R C programs (libmach/c). The bootstrap task starts the
 * thread with the first argument register = the name of the send right to
 * this task's bootstrap port, the second = the stack pointer = its start
 * block (argc, argv, auxiliary vector) at the top of a fresh stack. We
 * clear the frame pointer (the outermost frame), keep the stack 16-byte
 * aligned at the call as both ABIs require, and call
 * mach_start(bootstrap, start_block), which never returns. */
#if defined(__aarch64__)
    .text
    .global _start
    .type _start, %function
_start:
    mov x29, xzr
    mov x30, xzr
    mov x9, sp
    and x9, x9, #-16
    mov sp, x9
    bl mach_start
    udf #0
    .size _start, . - _start
#else
    .text
    .global _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    and $-16, %rsp
    call mach_start
    ud2
    .size _start, . - _start
#endif

    .section .note.GNU-stack, "", @progbits
