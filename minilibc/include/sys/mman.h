#ifndef _SYS_MMAN_H
#define _SYS_MMAN_H
#include <bits/types.h>
__MINILIBC_BEGIN
#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_ANON MAP_ANONYMOUS
#define MAP_NORESERVE 0x4000
#define MAP_FAILED ((void *)-1)
void *mmap(void *address, size_t length, int protection, int flags, int fd, off_t offset);
int munmap(void *address, size_t length);
int mprotect(void *address, size_t length, int protection);
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
void *mremap(void *address, size_t old_length, size_t new_length, int flags, ...);
#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4
int msync(void *address, size_t length, int flags);
__MINILIBC_END
#endif
