/* crt0 of Mach_R C programs (libmach/c). The bootstrap task starts the
 * thread with RDI = the name of the send right to this task's bootstrap
 * port, RSI = RSP = its start block (argc, argv, auxiliary vector) at the
 * top of a fresh stack. We clear the frame pointer (the outermost frame),
 * keep the stack 16-byte aligned at the call as the System V ABI requires,
 * and call mach_start(RDI, RSI), which never returns. */
    .text
    .global _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    and $-16, %rsp
    call mach_start
    ud2
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
