#ifndef _TIME_H
#define _TIME_H
#include <bits/types.h>
__MINILIBC_BEGIN
#define CLOCKS_PER_SEC 1000000L
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_BOOTTIME 7

struct tm {
    int tm_sec;
    int tm_min;
    int tm_hour;
    int tm_mday;
    int tm_mon;
    int tm_year;
    int tm_wday;
    int tm_yday;
    int tm_isdst;
    long tm_gmtoff;
    const char *tm_zone;
};

extern char *tzname[2];
extern long timezone;
extern int daylight;

time_t time(time_t *result);
clock_t clock(void);
double difftime(time_t end, time_t start);
time_t mktime(struct tm *time);
time_t timegm(struct tm *time);
struct tm *gmtime(const time_t *time);
struct tm *gmtime_r(const time_t *__restrict time, struct tm *__restrict result);
struct tm *localtime(const time_t *time);
struct tm *localtime_r(const time_t *__restrict time, struct tm *__restrict result);
size_t strftime(char *__restrict buffer, size_t size, const char *__restrict format, const struct tm *__restrict time);
char *asctime(const struct tm *time);
char *asctime_r(const struct tm *__restrict time, char *__restrict buffer);
char *ctime(const time_t *time);
char *ctime_r(const time_t *time, char *buffer);
int clock_gettime(clockid_t clock, struct timespec *time);
int clock_getres(clockid_t clock, struct timespec *time);
int nanosleep(const struct timespec *request, struct timespec *remaining);
void tzset(void);
__MINILIBC_END
#endif
