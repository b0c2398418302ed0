#ifndef _SYS_RANDOM_H
#define _SYS_RANDOM_H
#include <bits/types.h>
__MINILIBC_BEGIN
#define GRND_NONBLOCK 1
#define GRND_RANDOM 2
ssize_t getrandom(void *buffer, size_t length, unsigned int flags);
__MINILIBC_END
#endif
