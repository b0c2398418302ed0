/*
 * Interrupt and exception entry: one 16-byte stub per vector.
 *
 * Each stub pushes a zero where the CPU pushes no error code, then the
 * vector number, and jumps to trap_common, which saves the general
 * registers and calls trap_dispatch(&mut TrapFrame). The frame layout must
 * match `TrapFrame` in idt.rs. The CPU aligned the stack to 16 bytes before
 * its pushes; 22 quadwords keep it aligned for the call.
 *
 * Kernel mode only for now: user-mode entry (swapgs, the per-thread kernel
 * stack from the TSS) is added with user tasks.
 */
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
    mov %rsp, %rdi
    cld
    call trap_dispatch
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
    add $16, %rsp
    iretq
