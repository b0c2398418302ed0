/*
 * Interrupt and exception entry: one 16-byte stub per vector.
 *
 * Each stub pushes a zero where the CPU pushes no error code, then the
 * vector number, and jumps to trap_common, which saves the general
 * registers and calls trap_dispatch(&mut TrapFrame). The frame layout must
 * match `TrapFrame` in idt.rs. The CPU aligned the stack to 16 bytes before
 * its pushes; 22 quadwords keep it aligned for the call.
 *
 * From user mode the CPU has already switched to the thread's kernel stack
 * (TSS.rsp0); we swap GS so the kernel finds its per-CPU area there, and
 * swap back on the way out. `syscall_entry` builds the same frame by hand
 * and leaves through the same `trap_return`.
 */
/* The general registers, in TrapFrame order (rax highest). */
    .macro SAVE_GENERAL_REGISTERS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    .endm

    .text
    .balign 16
    .global trap_stubs
trap_stubs:
    .set vector, 0
    .rept 256
    .balign 16
    .if (vector == 8) || (vector == 10) || (vector == 11) || (vector == 12) || (vector == 13) || (vector == 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    /* the CPU pushed an error code */
    .else
    pushq $0
    .endif
    pushq $vector
    jmp trap_common
    .set vector, vector + 1
    .endr

trap_common:
    testb $3, 24(%rsp)                   /* CS of the interrupted code */
    jz 1f
    swapgs
1:  SAVE_GENERAL_REGISTERS
    mov %rsp, %rdi
    cld
    call trap_dispatch
    .global trap_return
trap_return:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp                        /* vector and error code */
    testb $3, 8(%rsp)
    jz 2f
    swapgs
2:  iretq

/*
 * `syscall` from user mode: RCX = user RIP, R11 = user RFLAGS, interrupts
 * off (SFMASK). Builds a TrapFrame on the thread's kernel stack, with vector
 * SYSCALL_VECTOR, and calls syscall_dispatch(&mut TrapFrame). Returns with
 * iretq, which restores RFLAGS and RSP exactly and is safe for any RIP the
 * frame may hold after thread_set_state (sysret would #GP in kernel mode on
 * a non-canonical RIP).
 */
    .global syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:8                      /* per-CPU scratch: user RSP */
    mov %gs:0, %rsp                      /* this thread's kernel stack top */
    pushq $0x1b                          /* SS: user data, RPL 3 */
    pushq %gs:8                          /* RSP */
    pushq %r11                           /* RFLAGS */
    pushq $0x23                          /* CS: user code, RPL 3 */
    pushq %rcx                           /* RIP */
    pushq $0                             /* error code */
    pushq $0x100                         /* SYSCALL_VECTOR */
    SAVE_GENERAL_REGISTERS
    mov %rsp, %rdi                       /* no cld: SFMASK clears DF */
    call syscall_dispatch
    /*
     * Back to user mode, always: a syscall frame's CS and SS are the user
     * selectors whatever thread_set_state wrote (sanitize_user_registers),
     * so trap_return's test of CS is not needed here.
     */
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp                        /* vector and error code */
    swapgs
    iretq

/*
 * switch_kernel_context(save: *mut u64, load: u64): saves the callee-saved
 * registers on the current kernel stack, stores its RSP in *save, switches to
 * the stack `load` and restores that thread's callee-saved registers. The
 * caller-saved ones are saved by the Rust caller per the C ABI.
 */
    .global switch_kernel_context
switch_kernel_context:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* A new thread's first switch "returns" here, onto its initial TrapFrame. */
    .global new_thread_start
new_thread_start:
    jmp trap_return

/* A new kernel thread's first switch "returns" here with its body in R15. */
    .global kernel_thread_start
kernel_thread_start:
    call *%r15
    ud2
