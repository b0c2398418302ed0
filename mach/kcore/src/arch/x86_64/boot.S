/*
 * Multiboot (v1) entry. QEMU's -kernel loader (and GRUB) enter here in 32-bit
 * protected mode with paging off, EAX = 0x2BADB002, EBX = the boot
 * information's physical address. This stub builds just enough paging to
 * reach the higher half -- the first GiB mapped at 0, at the direct-map base
 * and at the kernel base -- enables long mode and calls x86_64_entry(magic,
 * info). The Rust side then builds the real page tables and drops these.
 */
    .set MULTIBOOT_MAGIC, 0x1BADB002
    /* page-aligned modules | memory map | a.out kludge (we are a flat image) */
    .set MULTIBOOT_FLAGS, 0x00010003
    .set KERNEL_VIRTUAL_BASE, 0xffffffff80000000

    .section .multiboot, "a"
    .balign 4
multiboot_header:
    .long MULTIBOOT_MAGIC
    .long MULTIBOOT_FLAGS
    .long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)
    .long multiboot_header      /* header_addr */
    .long __load_start_phys     /* load_addr */
    .long __load_end_phys       /* load_end_addr */
    .long __bss_end_phys        /* bss_end_addr */
    .long _start32              /* entry_addr */

    .section .boot.text, "ax"
    .code32
    .global _start32
_start32:
    cli
    mov %eax, %edi                       /* magic, first argument */
    mov %ebx, %esi                       /* boot info, second argument */

    /* Boot page tables live in .bss, addressed physically here. */
    mov $(boot_pml4 - KERNEL_VIRTUAL_BASE), %ebx
    mov $(boot_pdpt_low - KERNEL_VIRTUAL_BASE), %eax
    or $0x3, %eax
    mov %eax, 0(%ebx)                    /* PML4[0]: identity            */
    mov %eax, 2048(%ebx)                 /* PML4[256]: direct-map base   */
    mov $(boot_pdpt_high - KERNEL_VIRTUAL_BASE), %eax
    or $0x3, %eax
    mov %eax, 4088(%ebx)                 /* PML4[511]: kernel            */

    mov $(boot_pd - KERNEL_VIRTUAL_BASE), %eax
    or $0x3, %eax
    mov $(boot_pdpt_low - KERNEL_VIRTUAL_BASE), %edx
    mov %eax, 0(%edx)                    /* PDPT_low[0]                  */
    mov $(boot_pdpt_high - KERNEL_VIRTUAL_BASE), %edx
    mov %eax, 4080(%edx)                 /* PDPT_high[510]: -2 GiB       */

    /* PD: 512 present, writable, 2 MiB pages covering the first GiB. */
    mov $(boot_pd - KERNEL_VIRTUAL_BASE), %edx
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, (%edx, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 1b

    mov %cr4, %eax
    or $(1 << 5), %eax                   /* PAE */
    mov %eax, %cr4
    mov %ebx, %cr3
    mov $0xC0000080, %ecx                /* EFER */
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax     /* long mode, no-execute */
    wrmsr
    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | 1), %eax /* paging, write-protect, protected */
    mov %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $long_mode_entry

    .code64
long_mode_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    movabs $higher_half, %rax
    jmp *%rax

    .section .boot.rodata, "a"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00209A0000000000             /* 0x08: 64-bit code */
    .quad 0x0000920000000000             /* 0x10: data        */
boot_gdt_pointer:
    .word boot_gdt_pointer - boot_gdt - 1
    .long boot_gdt

    .text
higher_half:
    movabs $__boot_stack_top, %rsp
    xor %ebp, %ebp                       /* ends the backtrace */
    call x86_64_entry
2:  hlt
    jmp 2b

    .section .bss.boot_page_tables, "aw", @nobits
    .balign 4096
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096
