#ifndef _SYS_SELECT_H
#define _SYS_SELECT_H
#include <bits/types.h>
__MINILIBC_BEGIN
#define FD_SETSIZE 1024
typedef struct {
    unsigned long fds_bits[FD_SETSIZE / (8 * sizeof(unsigned long))];
} fd_set;
#define __FD_WORD(fd) ((fd) / (8 * (int)sizeof(unsigned long)))
#define __FD_MASK(fd) (1UL << ((fd) % (8 * (int)sizeof(unsigned long))))
#define FD_ZERO(set) do { for (int __i = 0; __i < (int)(FD_SETSIZE / (8 * sizeof(unsigned long))); __i++) (set)->fds_bits[__i] = 0; } while (0)
#define FD_SET(fd, set) ((set)->fds_bits[__FD_WORD(fd)] |= __FD_MASK(fd))
#define FD_CLR(fd, set) ((set)->fds_bits[__FD_WORD(fd)] &= ~__FD_MASK(fd))
#define FD_ISSET(fd, set) (((set)->fds_bits[__FD_WORD(fd)] & __FD_MASK(fd)) != 0)
int select(int count, fd_set *__restrict read_set, fd_set *__restrict write_set, fd_set *__restrict except_set, struct timeval *__restrict timeout);
__MINILIBC_END
#endif
