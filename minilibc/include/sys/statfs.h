#ifndef _SYS_STATFS_H
#define _SYS_STATFS_H
#include <bits/types.h>
__MINILIBC_BEGIN
/* The Linux x86_64 kernel layout; the Mach_R back end fills the same one. */
typedef struct { int __val[2]; } fsid_t;
struct statfs {
    long f_type;
    long f_bsize;
    fsblkcnt_t f_blocks;
    fsblkcnt_t f_bfree;
    fsblkcnt_t f_bavail;
    fsfilcnt_t f_files;
    fsfilcnt_t f_ffree;
    fsid_t f_fsid;
    long f_namelen;
    long f_frsize;
    long f_flags;
    long f_spare[4];
};
int statfs(const char *path, struct statfs *buffer);
int fstatfs(int fd, struct statfs *buffer);
__MINILIBC_END
#endif
