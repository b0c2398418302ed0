#ifndef _PWD_H
#define _PWD_H
#include <bits/types.h>
__MINILIBC_BEGIN
/* Read from /etc/passwd. */
struct passwd {
    char *pw_name;
    char *pw_passwd;
    uid_t pw_uid;
    gid_t pw_gid;
    char *pw_gecos;
    char *pw_dir;
    char *pw_shell;
};
struct passwd *getpwnam(const char *name);
struct passwd *getpwuid(uid_t user);
int getpwnam_r(const char *name, struct passwd *entry, char *buffer, size_t size, struct passwd **result);
int getpwuid_r(uid_t user, struct passwd *entry, char *buffer, size_t size, struct passwd **result);
__MINILIBC_END
#endif
