/* Throughput measurements for scripts/benches/minilibc. Prints
 * "name value unit" lines; the script runs a glibc and a minilibc build
 * and reports ratios. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

static volatile size_t sink;

int main(void) {
    /* malloc/free: a sliding window of live blocks of mixed sizes. */
    enum { WINDOW = 1024, OPERATIONS = 4000000 };
    static void *live[WINDOW];
    unsigned state = 12345;
    double start = seconds();
    for (int i = 0; i < OPERATIONS; i++) {
        state = state * 1103515245 + 12345;
        int slot = (state >> 8) % WINDOW;
        free(live[slot]);
        live[slot] = malloc(16 + (state >> 20) % ((state & 7) == 0 ? 8192 : 256));
    }
    for (int i = 0; i < WINDOW; i++) free(live[i]);
    printf("malloc_free %.1f Mop/s\n", OPERATIONS / (seconds() - start) / 1e6);

    size_t size = 1 << 20;
    char *source = malloc(size), *destination = malloc(size);
    memset(source, 'x', size);
    start = seconds();
    for (int i = 0; i < 2000; i++) {
        memcpy(destination, source, size);
        sink += destination[i];
    }
    printf("memcpy_1MiB %.2f GB/s\n", 2000.0 * size / (seconds() - start) / 1e9);
    start = seconds();
    for (int i = 0; i < 20000000; i++) {
        memcpy(destination + (i & 63), source + (i & 31), 48);
        sink += destination[i & 63];
    }
    printf("memcpy_48B %.1f Mop/s\n", 20000000 / (seconds() - start) / 1e6);
    source[size - 1] = 0;
    start = seconds();
    for (int i = 0; i < 2000; i++) {
        source[i] = 'y';
        sink += strlen(source + (i & 7));
    }
    printf("strlen_1MiB %.2f GB/s\n", 2000.0 * size / (seconds() - start) / 1e9);

    char buffer[128];
    start = seconds();
    for (int i = 0; i < 1000000; i++) sink += snprintf(buffer, sizeof buffer, "%d %f %s", i, i * 0.37, "text");
    printf("snprintf_d_f_s %.2f Mop/s\n", 1000000 / (seconds() - start) / 1e6);
    FILE *null_device = fopen("/dev/null", "w");
    start = seconds();
    for (int i = 0; i < 1000000; i++) fprintf(null_device, "%d %f %s\n", i, i * 0.37, "text");
    fclose(null_device);
    printf("fprintf_d_f_s %.2f Mop/s\n", 1000000 / (seconds() - start) / 1e6);
    return 0;
}
