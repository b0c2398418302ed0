/* gmtime/localtime/mktime/strftime over random times (run with TZ=UTC:
 * minilibc has no time zones, so glibc must be in UTC to compare). */
#include <stdio.h>
#include <time.h>
#include "random.h"

int main(void) {
    char text[512];
    for (int index = 0; index < 4000; index++) {
        time_t when = (time_t)(int64_t)(next_random() % 20000000000ull) - 5000000000LL;
        struct tm broken;
        if (!gmtime_r(&when, &broken)) { printf("%d: gmtime failed\n", index); continue; }
        strftime(text, sizeof text, "%a %A %b %B %c|%C %d %D %e %F %G %g %h %H %I %j %m %M %n %p %r %R %S %t %T %u %U %V %w %W %x %X %y %Y %z %Z %%", &broken);
        struct tm local;
        localtime_r(&when, &local);
        printf("%d: %lld %s|%d\n", index, (long long)when, text, local.tm_yday);
        broken.tm_sec += (int)random_below(200000) - 100000;
        broken.tm_min += (int)random_below(2000) - 1000;
        broken.tm_mday += (int)random_below(800) - 400;
        broken.tm_mon += (int)random_below(40) - 20;
        broken.tm_isdst = 0;
        time_t normalized = mktime(&broken);
        printf("   %lld %d-%02d-%02d %02d:%02d:%02d wday %d yday %d\n", (long long)normalized, broken.tm_year + 1900, broken.tm_mon + 1,
               broken.tm_mday, broken.tm_hour, broken.tm_min, broken.tm_sec, broken.tm_wday, broken.tm_yday);
    }
    time_t fixed = 0;
    printf("%s", asctime(gmtime(&fixed)));
    printf("%s", ctime(&fixed));
    return 0;
}
