/* A tiny checker for the POSIX tests: prints one line per check and
 * exits non-zero at the end if any failed. */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
static int failures;
#define CHECK(condition) do { if (condition) printf("ok   %s\n", #condition); \
    else { printf("FAIL %s (line %d)\n", #condition, __LINE__); failures++; } } while (0)
#define FINISH() do { fflush(stdout); return failures ? 1 : 0; } while (0)
#endif
