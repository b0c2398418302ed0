#ifndef _SYS_KLOG_H
#define _SYS_KLOG_H
#include <bits/types.h>
__MINILIBC_BEGIN
/* The kernel log, syslog(2)'s commands: 3 reads it all, 10 gives its size.
 * On Mach_R the console server keeps the kernel log. */
int klogctl(int command, char *buffer, int length);
__MINILIBC_END
#endif
