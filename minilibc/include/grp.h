#ifndef _GRP_H
#define _GRP_H
#include <bits/types.h>
__MINILIBC_BEGIN
/* Read from /etc/group. */
struct group {
    char *gr_name;
    char *gr_passwd;
    gid_t gr_gid;
    char **gr_mem;
};
struct group *getgrnam(const char *name);
struct group *getgrgid(gid_t group);
int getgrnam_r(const char *name, struct group *entry, char *buffer, size_t size, struct group **result);
int getgrouplist(const char *user, gid_t group, gid_t *groups, int *count);
int getgrgid_r(gid_t group, struct group *entry, char *buffer, size_t size, struct group **result);
int setgroups(size_t size, const gid_t *list);
__MINILIBC_END
#endif
