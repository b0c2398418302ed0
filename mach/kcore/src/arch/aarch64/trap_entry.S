/*
 * Exception vectors, the trap frame, and the kernel-context switch.
 *
 * Every exception saves a TrapFrame (context.rs) on the current kernel
 * stack: x0..x30, SP_EL0, ELR, SPSR, ESR, FAR, the entry kind, then the
 * FP/SIMD registers q0..q31, FPCR and FPSR. The kernel is compiled Rust for
 * a target with FP/SIMD, so it may use those registers anywhere: saving the
 * user's on every entry keeps them safe without lazy switching. From EL0 the
 * CPU is on SP_EL1, which is the thread's kernel stack top whenever it runs
 * user code (the last eret left it there), so the frame lands exactly below
 * the top, where `user_registers` finds it.
 *
 * A synchronous exception from EL1 first checks, with an address-translation
 * instruction, that the frame fits below the stack pointer; if not (a kernel
 * stack overflow into the boot stack's guard page), it switches to an
 * emergency stack so the report can still be printed.
 */
    .set FRAME_SIZE, 832
    .set FP_AREA, 304
    .set KIND_EL1_SYNC, 0
    .set KIND_EL1_IRQ, 1
    .set KIND_EL0_SYNC, 2
    .set KIND_EL0_IRQ, 3
    .set KIND_UNEXPECTED, 4
    .set KIND_STACK_OVERFLOW, 5

    .macro VECTOR kind
    .balign 128
    sub sp, sp, #FRAME_SIZE
    stp x0, x1, [sp, #0]
    mov x0, #\kind
    b exception_common
    .endm

    .text
    .balign 2048
    .global exception_vectors
exception_vectors:
    /* Current EL with SP_EL0: never used (the kernel runs on SP_EL1). */
    VECTOR KIND_UNEXPECTED
    VECTOR KIND_UNEXPECTED
    VECTOR KIND_UNEXPECTED
    VECTOR KIND_UNEXPECTED
    /* Current EL with SP_EL1. */
    .balign 128
    msr tpidr_el1, x0
    sub x0, sp, #FRAME_SIZE
    at s1e1w, x0
    isb
    mrs x0, par_el1
    tbnz x0, #0, kernel_stack_overflow
    mrs x0, tpidr_el1
    sub sp, sp, #FRAME_SIZE
    stp x0, x1, [sp, #0]
    mov x0, #KIND_EL1_SYNC
    b exception_common
    VECTOR KIND_EL1_IRQ
    VECTOR KIND_UNEXPECTED
    VECTOR KIND_UNEXPECTED
    /* Lower EL, AArch64. */
    VECTOR KIND_EL0_SYNC
    VECTOR KIND_EL0_IRQ
    VECTOR KIND_UNEXPECTED
    VECTOR KIND_UNEXPECTED
    /* Lower EL, AArch32: not supported (user tasks are AArch64 only). */
    VECTOR KIND_UNEXPECTED
    VECTOR KIND_UNEXPECTED
    VECTOR KIND_UNEXPECTED
    VECTOR KIND_UNEXPECTED

kernel_stack_overflow:
    adrp x0, emergency_stack_top
    add x0, x0, :lo12:emergency_stack_top
    mov sp, x0
    mrs x0, tpidr_el1
    sub sp, sp, #FRAME_SIZE
    stp x0, x1, [sp, #0]
    mov x0, #KIND_STACK_OVERFLOW
    b exception_common

/* x0 = the kind; x0 and x1 of the interrupted code are saved already. */
exception_common:
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    mrs x1, sp_el0
    stp x30, x1, [sp, #240]
    mrs x1, elr_el1
    mrs x2, spsr_el1
    stp x1, x2, [sp, #256]
    mrs x1, esr_el1
    mrs x2, far_el1
    stp x1, x2, [sp, #272]
    str x0, [sp, #288]
    add x1, sp, #FP_AREA
    stp q0, q1, [x1, #0]
    stp q2, q3, [x1, #32]
    stp q4, q5, [x1, #64]
    stp q6, q7, [x1, #96]
    stp q8, q9, [x1, #128]
    stp q10, q11, [x1, #160]
    stp q12, q13, [x1, #192]
    stp q14, q15, [x1, #224]
    stp q16, q17, [x1, #256]
    stp q18, q19, [x1, #288]
    stp q20, q21, [x1, #320]
    stp q22, q23, [x1, #352]
    stp q24, q25, [x1, #384]
    stp q26, q27, [x1, #416]
    stp q28, q29, [x1, #448]
    stp q30, q31, [x1, #480]
    mrs x2, fpcr
    mrs x3, fpsr
    add x1, x1, #512
    stp x2, x3, [x1]
    mov x0, sp
    mov x29, xzr                           /* the backtrace starts at the frame's own x29 */
    bl exception_dispatch

    .global exception_return
exception_return:
    add x1, sp, #FP_AREA
    ldp q0, q1, [x1, #0]
    ldp q2, q3, [x1, #32]
    ldp q4, q5, [x1, #64]
    ldp q6, q7, [x1, #96]
    ldp q8, q9, [x1, #128]
    ldp q10, q11, [x1, #160]
    ldp q12, q13, [x1, #192]
    ldp q14, q15, [x1, #224]
    ldp q16, q17, [x1, #256]
    ldp q18, q19, [x1, #288]
    ldp q20, q21, [x1, #320]
    ldp q22, q23, [x1, #352]
    ldp q24, q25, [x1, #384]
    ldp q26, q27, [x1, #416]
    ldp q28, q29, [x1, #448]
    ldp q30, q31, [x1, #480]
    add x1, x1, #512
    ldp x2, x3, [x1]
    msr fpcr, x2
    msr fpsr, x3
    ldp x1, x2, [sp, #256]
    msr elr_el1, x1
    msr spsr_el1, x2
    ldp x30, x1, [sp, #240]
    msr sp_el0, x1
    ldp x0, x1, [sp, #0]
    ldp x2, x3, [sp, #16]
    ldp x4, x5, [sp, #32]
    ldp x6, x7, [sp, #48]
    ldp x8, x9, [sp, #64]
    ldp x10, x11, [sp, #80]
    ldp x12, x13, [sp, #96]
    ldp x14, x15, [sp, #112]
    ldp x16, x17, [sp, #128]
    ldp x18, x19, [sp, #144]
    ldp x20, x21, [sp, #160]
    ldp x22, x23, [sp, #176]
    ldp x24, x25, [sp, #192]
    ldp x26, x27, [sp, #208]
    ldp x28, x29, [sp, #224]
    add sp, sp, #FRAME_SIZE
    eret

/*
 * switch_kernel_context(save: *mut u64, load: u64): saves the callee-saved
 * registers (x19..x30 and d8..d15, AAPCS64) on the current kernel stack,
 * stores its SP in *save, switches to the stack `load` and restores that
 * thread's. Caller-saved registers are saved by the Rust caller.
 */
    .global switch_kernel_context
switch_kernel_context:
    sub sp, sp, #160
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x2, sp
    str x2, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #160
    ret

/* A new user thread's first switch "returns" here, onto its TrapFrame. */
    .global new_thread_start
new_thread_start:
    b exception_return

/* A new kernel thread's first switch "returns" here with its body in x19. */
    .global kernel_thread_start
kernel_thread_start:
    blr x19
    brk #0

    .section .bss.emergency_stack, "aw", @nobits
    .balign 16
emergency_stack:
    .skip 16384
emergency_stack_top:
