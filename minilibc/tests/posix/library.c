/* Time, getopt, environment, conversions, locale and other library corners. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <locale.h>
#include <limits.h>
#include <getopt.h>
#include <ctype.h>
#include <unistd.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <libgen.h>
#include <pwd.h>
#include <grp.h>
#include <wchar.h>
#include <wctype.h>
#include "check.h"

static int constructed;
__attribute__((constructor)) static void construct(void) { constructed = 42; }
__attribute__((destructor)) static void destruct(void) { printf("destructor ran after main\n"); }

int main(void) {
    CHECK(constructed == 42);
    CHECK(((unsigned long)__builtin_frame_address(0) & 15) == 0);
    time_t fixed = 1700000000;
    struct tm broken;
    CHECK(gmtime_r(&fixed, &broken) && broken.tm_year == 123 && broken.tm_mon == 10 && broken.tm_mday == 14 && broken.tm_hour == 22);
    char text[128];
    CHECK(strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S %a %b %j %p", &broken) > 0);
    CHECK(strcmp(text, "2023-11-14 22:13:20 Tue Nov 318 PM") == 0);
    CHECK(strftime(text, 5, "%Y-%m-%d", &broken) == 0);
    broken.tm_mday += 30;
    time_t later = timegm(&broken);
    CHECK(later == fixed + 30 * 86400 && broken.tm_mon == 11 && broken.tm_mday == 14);
    CHECK(difftime(later, fixed) == 30 * 86400.0);
    struct timespec start, stop, pause_time = {0, 20000000};
    CHECK(clock_gettime(CLOCK_MONOTONIC, &start) == 0 && nanosleep(&pause_time, NULL) == 0 && clock_gettime(CLOCK_MONOTONIC, &stop) == 0);
    long elapsed = (stop.tv_sec - start.tv_sec) * 1000000000L + (stop.tv_nsec - start.tv_nsec);
    CHECK(elapsed >= 20000000);
    struct timeval now;
    CHECK(gettimeofday(&now, NULL) == 0 && now.tv_sec > 1600000000 && time(NULL) >= now.tv_sec);
    CHECK(clock() >= 0);

    char *arguments[] = {"program", "-a", "-b", "value", "-cvalue2", "--long", "--with=x", "--with", "y", "file", "-z", NULL};
    int count = 11, option, seen_a = 0, long_flag = 0;
    char collected[128] = "";
    static struct option options[] = {{"long", no_argument, NULL, 'l'}, {"with", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0}};
    opterr = 0;
    while ((option = getopt_long(count, arguments, "ab:c:", options, NULL)) != -1) {
        switch (option) {
        case 'a': seen_a = 1; break;
        case 'b': case 'c': case 'w': strcat(collected, optarg); strcat(collected, ","); break;
        case 'l': long_flag = 1; break;
        default: strcat(collected, "?");
        }
    }
    CHECK(seen_a && long_flag && strcmp(collected, "value,value2,x,y,?") == 0 && optind == 10 && strcmp(arguments[optind], "file") == 0);

    /* GNU argument order: non-options are moved behind the options. */
    char *mixed[] = {"program", "one", "-x", "two", "-yb", "arg", "three", "--", "-x", NULL};
    int seen = 0;
    optind = 1;
    while ((option = getopt(9, mixed, "xyb:")) != -1) seen = seen * 10 + (option == 'x' ? 1 : option == 'y' ? 2 : option == 'b' ? 3 : 9);
    CHECK(seen == 123 && optind == 5 && strcmp(mixed[5], "one") == 0 && strcmp(mixed[6], "two") == 0 && strcmp(mixed[7], "three") == 0 && strcmp(mixed[8], "-x") == 0);
    char *ordered[] = {"program", "one", "-x", NULL};
    optind = 0; /* full reinitialisation (glibc picks the ordering mode only then) */
    CHECK(getopt(3, ordered, "+x") == -1 && optind == 1);
    char *again[] = {"program", "-xy", "-x", NULL};
    int letters = 0;
    optind = 1;
    while (getopt(3, again, "xy") != -1) letters++;
    optind = 1;
    while (getopt(3, again, "xy") != -1) letters++;
    CHECK(letters == 6 && optind == 3);
    struct tms usage_times;
    CHECK(times(&usage_times) != (clock_t)-1 && usage_times.tms_utime >= 0);

    CHECK(strtol("2147483648", NULL, 10) == 2147483648L);
    errno = 0;
    CHECK(strtol("99999999999999999999", NULL, 10) == LONG_MAX && errno == ERANGE);
    errno = 0;
    CHECK(strtoul("-1", NULL, 10) == ULONG_MAX && errno == 0);
    CHECK(strtol("12", NULL, 99) == 0 && errno == EINVAL);
    CHECK(atoi("  -42x") == -42 && atof("1e3") == 1000.0);
    div_t quotient = div(-7, 2);
    CHECK(quotient.quot == -3 && quotient.rem == -1 && abs(-5) == 5 && labs(-5L) == 5);
    srand(7);
    int first = rand();
    srand(7);
    CHECK(rand() == first && first >= 0 && first <= RAND_MAX);

    CHECK(setlocale(LC_ALL, "C") != NULL && strcmp(setlocale(LC_ALL, NULL), "C") == 0);
    CHECK(setlocale(LC_ALL, "xx_YY.bogus") == NULL);
    CHECK(strcmp(localeconv()->decimal_point, ".") == 0);
    CHECK(isalpha('a') && !isalpha('1') && isspace('\t') && toupper('q') == 'Q' && !isdigit(EOF) && !isalpha(200));

    char *formatted = NULL;
    CHECK(asprintf(&formatted, "%s-%05.1f-%x", "mix", 3.14159, 255) == 12 && strcmp(formatted, "mix-003.1-ff") == 0);
    free(formatted);
    struct utsname name;
    CHECK(uname(&name) == 0 && strlen(name.sysname) > 0);
    CHECK(sysconf(_SC_PAGESIZE) == 4096 && sysconf(-5) == -1 && errno == EINVAL);
    struct rlimit limit;
    CHECK(getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur > 0 && setrlimit(RLIMIT_NOFILE, &limit) == 0);
    CHECK(sysconf(_SC_OPEN_MAX) == (long)limit.rlim_cur && sysconf(_SC_NPROCESSORS_ONLN) >= 1 && sysconf(_SC_ARG_MAX) >= 131072 && sysconf(_SC_CLK_TCK) == 100);
    struct rusage usage;
    CHECK(getrusage(RUSAGE_SELF, &usage) == 0 && usage.ru_maxrss > 0);
    char path1[] = "/usr/lib/", path2[] = "/usr/lib/", path3[] = "file";
    CHECK(strcmp(basename(path1), "lib") == 0 && strcmp(dirname(path2), "/usr") == 0 && strcmp(dirname(path3), ".") == 0);
    wchar_t wide[8];
    wcscpy(wide, L"wide");
    CHECK(wcslen(wide) == 4 && wcscmp(wide, L"wide") == 0 && wcschr(wide, L'd') == wide + 2 && iswalpha(L'x') && towupper(L'q') == L'Q');
    wchar_t word_wide[16], set_wide[16], pair[2];
    CHECK(sscanf("hello wide xyz", "%15ls %15l[a-z] %2lc", word_wide, set_wide, pair) == 3);
    CHECK(wcscmp(word_wide, L"hello") == 0 && wcscmp(set_wide, L"wide") == 0 && pair[0] == L'x' && pair[1] == L'y');
    char narrow[4];
    mbstate_t state = {0};
    CHECK(wcrtomb(narrow, L'A', &state) == 1 && narrow[0] == 'A' && btowc('b') == L'b' && mbsinit(&state));
    struct passwd *root = getpwuid(0);
    CHECK(root != NULL && strcmp(root->pw_name, "root") == 0 && root->pw_uid == 0 && root->pw_dir[0] == '/');
    CHECK(getpwnam("root") != NULL && getpwnam("root")->pw_gid == 0);
    CHECK(getpwnam("no-such-user-here") == NULL && getpwuid(4000000000u) == NULL);
    struct passwd entry, *found;
    char small[8];
    CHECK(getpwuid_r(0, &entry, small, sizeof small, &found) == ERANGE && found == NULL);
    struct group *root_group = getgrgid(0);
    CHECK(root_group != NULL && strcmp(root_group->gr_name, "root") == 0 && root_group->gr_mem != NULL);
    CHECK(getgrnam("root") != NULL && getgrnam("no-such-group-here") == NULL);
    char *duplicate = strdup("copy me");
    CHECK(duplicate && strcmp(duplicate, "copy me") == 0);
    free(duplicate);
    /* strlen and memchr read whole aligned blocks, beyond the string's ends:
     * at a page's end, before a page that cannot be read, at every
     * alignment, they neither fault nor miss. */
    long page = sysconf(_SC_PAGESIZE);
    char *pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(pages != MAP_FAILED && mprotect(pages + page, page, PROT_NONE) == 0);
    /* (Called through pointers: the compiler knows what they return here.) */
    size_t (*volatile measure)(const char *) = strlen;
    void *(*volatile search)(const void *, int, size_t) = memchr;
    int lengths_agree = 1, searches_agree = 1;
    for (int length = 0; pages != MAP_FAILED && length < 40; length++) {
        char *text = pages + page - 1 - length;
        memset(text, 'a', length);
        text[length] = '\0';
        lengths_agree &= measure(text) == (size_t)length;
        searches_agree &= search(text, '\0', length + 1) == text + length && search(text, 'b', length + 1) == NULL;
    }
    CHECK(lengths_agree && searches_agree);
    FINISH();
}
