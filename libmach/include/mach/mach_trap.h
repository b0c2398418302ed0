/* The one trap entry of C code on Mach_R: used by the generated stubs'
 * default transport (mach_idl.h) and by the C runtime (libmach/c). */
#ifndef MACH_TRAP_H
#define MACH_TRAP_H

#include <stdint.h>

#if defined(__x86_64__)
/* The Mach_R convention (docs/abi.md): number in rax, arguments in rdi,
 * rsi, rdx, r10, r8, r9; the result in rax; rcx and r11 are clobbered by
 * `syscall`. */
static inline uint64_t mach_trap(uint64_t number, uint64_t argument0, uint64_t argument1, uint64_t argument2,
                                 uint64_t argument3, uint64_t argument4, uint64_t argument5)
{
    register uint64_t r10 __asm__("r10") = argument3;
    register uint64_t r8 __asm__("r8") = argument4;
    register uint64_t r9 __asm__("r9") = argument5;
    uint64_t result = number;
    __asm__ volatile("syscall"
                     : "+a"(result)
                     : "D"(argument0), "S"(argument1), "d"(argument2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}
#else
#error "mach_trap.h: no trap entry for this architecture"
#endif

#endif
