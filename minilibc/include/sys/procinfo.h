#ifndef _SYS_PROCINFO_H
#define _SYS_PROCINFO_H
#include <bits/types.h>
__MINILIBC_BEGIN
/* minilibc's process listing (for ps): from the process server on Mach_R,
 * from /proc on Linux. */
struct procinfo {
    pid_t pi_pid;
    pid_t pi_ppid;
    pid_t pi_pgid;
    pid_t pi_sid;
    uid_t pi_uid;
    gid_t pi_gid;
    dev_t pi_tty;                      /* controlling terminal, 0 if none */
    char pi_state;                     /* R S D T Z ... */
    char __padding[3];
    int pi_nice;
    int pi_threads;
    int __padding2;
    unsigned long pi_size;             /* virtual size, bytes */
    unsigned long pi_resident;         /* resident memory, bytes */
    unsigned long long pi_cpu_us;      /* user + system CPU time, microseconds */
    time_t pi_start;                   /* start time, seconds since the epoch */
    char pi_comm[32];                  /* command name */
    char pi_args[256];                 /* arguments joined by spaces; empty for kernel threads */
};
/* Fills up to `capacity` records; returns how many processes there are
 * (more than `capacity`: call again with more room), or -1. */
ssize_t getprocinfo(struct procinfo *list, size_t capacity);
__MINILIBC_END
#endif
