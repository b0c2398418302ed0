#ifndef _SCHED_H
#define _SCHED_H
#include <bits/types.h>
__MINILIBC_BEGIN
int sched_yield(void);
__MINILIBC_END
#endif
