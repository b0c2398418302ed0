#ifndef _SYS_TIME_H
#define _SYS_TIME_H
#include <bits/types.h>
#include <sys/select.h>
__MINILIBC_BEGIN
struct timezone {
    int tz_minuteswest;
    int tz_dsttime;
};
int utimes(const char *path, const struct timeval times[2]);
/* Interval timers: ITIMER_REAL (SIGALRM) only; ITIMER_VIRTUAL and
   ITIMER_PROF are refused with EINVAL. */
#define ITIMER_REAL 0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF 2
struct itimerval {
    struct timeval it_interval;
    struct timeval it_value;
};
int setitimer(int which, const struct itimerval *__restrict value, struct itimerval *__restrict old);
int getitimer(int which, struct itimerval *value);
int gettimeofday(struct timeval *__restrict time, void *__restrict zone);
#define timerclear(t) ((t)->tv_sec = (t)->tv_usec = 0)
#define timerisset(t) ((t)->tv_sec || (t)->tv_usec)
#define timercmp(a, b, op) ((a)->tv_sec == (b)->tv_sec ? (a)->tv_usec op (b)->tv_usec : (a)->tv_sec op (b)->tv_sec)
#define timeradd(a, b, r) do { (r)->tv_sec = (a)->tv_sec + (b)->tv_sec; (r)->tv_usec = (a)->tv_usec + (b)->tv_usec; \
    if ((r)->tv_usec >= 1000000) { (r)->tv_sec++; (r)->tv_usec -= 1000000; } } while (0)
#define timersub(a, b, r) do { (r)->tv_sec = (a)->tv_sec - (b)->tv_sec; (r)->tv_usec = (a)->tv_usec - (b)->tv_usec; \
    if ((r)->tv_usec < 0) { (r)->tv_sec--; (r)->tv_usec += 1000000; } } while (0)
__MINILIBC_END
#endif
