#ifndef _SEMAPHORE_H
#define _SEMAPHORE_H
#include <bits/types.h>
#include <fcntl.h>
__MINILIBC_BEGIN
/* POSIX semaphores (src/c_abi/semaphore.rs). A semaphore is a counter in
   the sem_t itself, so one in memory shared between processes (mmap
   MAP_SHARED before fork, or sem_open) is shared with it. Named ones are
   files of /dev/shm (Linux) or /tmp (Mach_R) mapped shared. */
typedef struct {
    volatile unsigned int __value;
    volatile unsigned int __waiters;
    int __shared;
    int __padding;
    unsigned long __reserved[2];
} sem_t;
#define SEM_FAILED ((sem_t *)0)
#define SEM_VALUE_MAX 2147483647
int sem_init(sem_t *semaphore, int shared, unsigned int value);
int sem_destroy(sem_t *semaphore);
int sem_wait(sem_t *semaphore);
int sem_trywait(sem_t *semaphore);
int sem_timedwait(sem_t *__restrict semaphore, const struct timespec *__restrict deadline);
int sem_post(sem_t *semaphore);
int sem_getvalue(sem_t *__restrict semaphore, int *__restrict value);
sem_t *sem_open(const char *name, int flags, ...);
int sem_close(sem_t *semaphore);
int sem_unlink(const char *name);
__MINILIBC_END
#endif
