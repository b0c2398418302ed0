#ifndef _SYS_FILE_H
#define _SYS_FILE_H
#include <bits/types.h>
#include <fcntl.h>
__MINILIBC_BEGIN
/* flock(2): locks that belong to the open file (released when its last
   descriptor closes), shared or exclusive, whole-file. */
#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define LOCK_UN 8
int flock(int fd, int operation);
__MINILIBC_END
#endif
