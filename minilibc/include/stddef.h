#ifndef _STDDEF_H
#define _STDDEF_H
#include <bits/types.h>
#define offsetof(type, member) __builtin_offsetof(type, member)
typedef struct {
    long long __minilibc_align_long_long __attribute__((__aligned__(__alignof__(long long))));
    long double __minilibc_align_long_double __attribute__((__aligned__(__alignof__(long double))));
} max_align_t;
#endif
