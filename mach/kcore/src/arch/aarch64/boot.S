/*
 * Entry from QEMU's -kernel loader, which takes the arm64 Image header below
 * for a Linux kernel: it loads the image at RAM base + 2 MiB (text_offset 0),
 * the initrd (the boot-module archive) and the device tree, and enters
 * _start at EL1 (or EL2) with the MMU off, x0 = the device tree's physical
 * address.
 *
 * Until the MMU is on, only PC-relative addressing is used (adr, adrp): the
 * code runs at its physical address but is linked at its virtual one. The
 * boot page tables map
 *   - RAM's first GiB at its physical address (TTBR0), to survive turning
 *     the MMU on;
 *   - physical 0..8 GiB at the direct-map base (TTBR1): the first GiB, where
 *     the virt board's devices live, as device memory, the rest as normal;
 *   - RAM's first GiB at KERNEL_VIRTUAL_BASE (TTBR1).
 * aarch64_entry then builds the real tables (arch/aarch64/paging.rs).
 */
    .set NORMAL_BLOCK, 0x701                /* valid block, attribute 0, inner shareable, accessed */
    .set RAM_BASE, 0x40000000
    .set MAIR_VALUE, 0x4404ff              /* 0: normal write-back, 1: device-nGnRE, 2: normal uncached */
    .set TCR_VALUE, 0xb5103510             /* 48-bit halves, 4 KiB granules, write-back walks; IPS added below */
    .set SCTLR_VALUE, 0x34d5d81d           /* MMU, caches, SP alignment checks; EL0 may use DC ZVA, CTR, WFI */

    .section .head.text, "ax"
    .global _start
_start:
    b primary_entry                        /* code0/code1 */
    .long 0
    .quad 0                                /* text_offset: QEMU adds 2 MiB */
    .quad __image_size                     /* image_size, bss and boot stack included */
    .quad 0xa                              /* flags: little endian, 4 KiB pages, anywhere */
    .quad 0, 0, 0
    .ascii "ARM\x64"
    .long 0

primary_entry:
    mov x19, x0                            /* the device tree, kept for aarch64_entry */
    msr daifset, #0xf
    mrs x1, CurrentEL
    lsr x1, x1, #2
    cmp x1, #2
    b.ne at_el1
    /* EL2: run the kernel at EL1 in AArch64, with the counters open to it. */
    mov x1, #(1 << 31)
    msr hcr_el2, x1
    mov x1, #3
    msr cnthctl_el2, x1
    msr cntvoff_el2, xzr
    mov x1, #0x3c5                         /* EL1h, DAIF masked */
    msr spsr_el2, x1
    adr x1, at_el1
    msr elr_el2, x1
    eret

at_el1:
    /* The image must sit where it is linked (RAM base + 2 MiB). */
    adr x1, _start
    ldr x2, =(RAM_BASE + 0x200000)
    cmp x1, x2
    b.ne boot_stop

    /* Zero bss (the boot page tables are in it). */
    adrp x1, __bss_start
    add x1, x1, :lo12:__bss_start
    adrp x2, __bss_end
    add x2, x2, :lo12:__bss_end
1:  cmp x1, x2
    b.hs 2f
    str xzr, [x1], #8
    b 1b
2:
    /* TTBR0: RAM's first GiB at its physical address. */
    adrp x1, boot_l0_low
    adrp x2, boot_l1_low
    orr x3, x2, #3
    str x3, [x1]
    ldr x3, =(RAM_BASE | NORMAL_BLOCK)
    str x3, [x2, #8]

    /* TTBR1, entry 256: the direct map of physical 0..8 GiB. */
    adrp x1, boot_l0_high
    adrp x2, boot_l1_direct
    orr x3, x2, #3
    str x3, [x1, #(256 * 8)]
    ldr x3, =0x60000000000405              /* device-nGnRE block, never executable */
    str x3, [x2]
    mov x4, #1
    ldr x5, =NORMAL_BLOCK
3:  lsl x3, x4, #30
    orr x3, x3, x5
    str x3, [x2, x4, lsl #3]
    add x4, x4, #1
    cmp x4, #8
    b.lo 3b

    /* TTBR1, entry 511, 1 GiB block 510: RAM's first GiB at the kernel base. */
    adrp x2, boot_l1_kernel
    orr x3, x2, #3
    str x3, [x1, #(511 * 8)]
    ldr x3, =(RAM_BASE | NORMAL_BLOCK)
    str x3, [x2, #(510 * 8)]

    ldr x1, =MAIR_VALUE
    msr mair_el1, x1
    ldr x1, =TCR_VALUE
    mrs x2, id_aa64mmfr0_el1
    and x2, x2, #0x7                       /* PARange */
    cmp x2, #5
    mov x3, #5
    csel x2, x2, x3, ls                    /* at most 48 bits */
    orr x1, x1, x2, lsl #32                /* IPS */
    msr tcr_el1, x1
    adrp x1, boot_l0_low
    msr ttbr0_el1, x1
    adrp x1, boot_l0_high
    msr ttbr1_el1, x1
    /* FP and SIMD for EL1 and EL0: compiled Rust code may use them. */
    mov x1, #(3 << 20)
    msr cpacr_el1, x1
    dsb ish
    isb
    tlbi vmalle1
    dsb ish
    isb
    ldr x1, =SCTLR_VALUE
    msr sctlr_el1, x1
    isb
    ldr x1, =higher_half
    br x1

boot_stop:
    wfe
    b boot_stop

    .text
higher_half:
    ldr x1, =__boot_stack_top
    mov sp, x1
    mov x29, xzr                           /* ends the backtrace */
    mov x30, xzr
    mov x0, x19
    bl aarch64_entry
4:  wfe
    b 4b

    .section .bss.boot_page_tables, "aw", @nobits
    .balign 4096
    .global boot_l0_low
boot_l0_low:    .skip 4096
boot_l1_low:    .skip 4096
boot_l0_high:   .skip 4096
boot_l1_direct: .skip 4096
boot_l1_kernel: .skip 4096
