#ifndef _SETJMP_H
#define _SETJMP_H
#include <bits/types.h>
__MINILIBC_BEGIN
/* x86_64: rbx, rbp, r12-r15, rsp, return address; aarch64: x19-x28,
   x29 (frame pointer), x30 (return address), sp, d8-d15; then sigsetjmp's
   saved mask. */
typedef struct __jmp_buf_tag {
#if defined(__aarch64__)
    unsigned long __registers[22];
#else
    unsigned long __registers[8];
#endif
    int __mask_saved;
    unsigned long __mask;
} jmp_buf[1];
typedef jmp_buf sigjmp_buf;

int setjmp(jmp_buf environment) __attribute__((__returns_twice__));
int _setjmp(jmp_buf environment) __attribute__((__returns_twice__));
__minilibc_noreturn void longjmp(jmp_buf environment, int value);
__minilibc_noreturn void _longjmp(jmp_buf environment, int value);
int sigsetjmp(sigjmp_buf environment, int save_mask) __attribute__((__returns_twice__));
__minilibc_noreturn void siglongjmp(sigjmp_buf environment, int value);
__MINILIBC_END
#endif
