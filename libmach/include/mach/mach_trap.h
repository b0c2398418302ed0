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
#elif defined(__aarch64__)
/* The Mach_R convention (docs/abi.md): `svc #0`, number in x8, arguments
 * in x0..x5, the result in x0; nothing else is clobbered. */
static inline uint64_t mach_trap(uint64_t number, uint64_t argument0, uint64_t argument1, uint64_t argument2,
                                 uint64_t argument3, uint64_t argument4, uint64_t argument5)
{
    register uint64_t x8 __asm__("x8") = number;
    register uint64_t x0 __asm__("x0") = argument0;
    register uint64_t x1 __asm__("x1") = argument1;
    register uint64_t x2 __asm__("x2") = argument2;
    register uint64_t x3 __asm__("x3") = argument3;
    register uint64_t x4 __asm__("x4") = argument4;
    register uint64_t x5 __asm__("x5") = argument5;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}
#else
#error "mach_trap.h: no trap entry for this architecture"
#endif

#endif
