#ifndef _ALLOCA_H
#define _ALLOCA_H
#include <bits/types.h>
#define alloca(size) __builtin_alloca(size)
#endif
