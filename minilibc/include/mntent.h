#ifndef _MNTENT_H
#define _MNTENT_H
#include <bits/types.h>
#include <stdio.h>
__MINILIBC_BEGIN
/* The mount table: on Linux /etc/mtab is /proc/self/mounts; on Mach_R the
 * file server is to serve it (fs.defs has no request listing the mounts yet,
 * so on Mach_R setmntent fails with ENOENT). */
#define MOUNTED "/etc/mtab"
#define _PATH_MOUNTED "/etc/mtab"
#define _PATH_MNTTAB "/etc/fstab"
#define MNTTAB "/etc/fstab"
struct mntent {
    char *mnt_fsname;
    char *mnt_dir;
    char *mnt_type;
    char *mnt_opts;
    int mnt_freq;
    int mnt_passno;
};
FILE *setmntent(const char *path, const char *mode);
struct mntent *getmntent(FILE *stream);
struct mntent *getmntent_r(FILE *__restrict stream, struct mntent *__restrict entry, char *__restrict buffer, int size);
int endmntent(FILE *stream);
char *hasmntopt(const struct mntent *entry, const char *option);
__MINILIBC_END
#endif
