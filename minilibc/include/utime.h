#ifndef _UTIME_H
#define _UTIME_H
#include <bits/types.h>
__MINILIBC_BEGIN
struct utimbuf {
    time_t actime;
    time_t modtime;
};
int utime(const char *path, const struct utimbuf *times);
__MINILIBC_END
#endif
