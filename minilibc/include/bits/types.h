/* minilibc: the basic types shared by every header (x86_64 LP64). */
#ifndef _MINILIBC_BITS_TYPES_H
#define _MINILIBC_BITS_TYPES_H

#ifdef __cplusplus
#define __MINILIBC_BEGIN extern "C" {
#define __MINILIBC_END }
#else
#define __MINILIBC_BEGIN
#define __MINILIBC_END
#endif

#define __MINILIBC__ 1
#define __minilibc_noreturn __attribute__((__noreturn__))
#define __minilibc_printf(a, b) __attribute__((__format__(__printf__, a, b)))
#define __minilibc_scanf(a, b) __attribute__((__format__(__scanf__, a, b)))

typedef unsigned long size_t;
typedef long ssize_t;
typedef long ptrdiff_t;
typedef long off_t;
typedef long off64_t;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned int id_t;
typedef unsigned int mode_t;
typedef unsigned long dev_t;
typedef unsigned long ino_t;
typedef unsigned long nlink_t;
typedef long blksize_t;
typedef long blkcnt_t;
typedef long time_t;
typedef long clock_t;
typedef long suseconds_t;
typedef unsigned int useconds_t;
typedef int clockid_t;
typedef unsigned long fsblkcnt_t;
typedef unsigned long fsfilcnt_t;
typedef int key_t;
#ifndef __cplusplus
typedef __WCHAR_TYPE__ wchar_t; /* int on x86_64, unsigned int on aarch64 */
#endif
typedef unsigned int wint_t;
typedef __builtin_va_list __minilibc_va_list;

struct timespec {
    time_t tv_sec;
    long tv_nsec;
};

struct timeval {
    time_t tv_sec;
    suseconds_t tv_usec;
};

#ifndef NULL
#ifdef __cplusplus
#define NULL 0L
#else
#define NULL ((void *)0)
#endif
#endif

#endif
