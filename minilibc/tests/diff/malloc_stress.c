/* malloc/calloc/realloc/free stress: random sizes (small and huge),
 * random frees and reallocs, every block's contents checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "random.h"

#define SLOTS 4096

int main(void) {
    static unsigned char *blocks[SLOTS];
    static size_t sizes[SLOTS];
    static unsigned char fills[SLOTS];
    unsigned long errors = 0, operations = 0;
    for (int step = 0; step < 400000; step++) {
        size_t slot = random_below(SLOTS);
        size_t size = random_below(16) == 0 ? random_below(1 << 20) : random_below(random_below(2) ? 64 : 4096);
        if (blocks[slot]) {
            for (size_t i = 0; i < sizes[slot]; i += 1 + sizes[slot] / 64)
                if (blocks[slot][i] != fills[slot]) errors++;
            if (sizes[slot] && blocks[slot][sizes[slot] - 1] != fills[slot]) errors++;
            if (random_below(2)) {
                free(blocks[slot]);
                blocks[slot] = NULL;
                continue;
            }
            if (size == 0) size = 1; /* realloc(p, 0) is implementation-defined */
            unsigned char *grown = realloc(blocks[slot], size);
            if (!grown && size) { errors++; continue; }
            size_t kept = size < sizes[slot] ? size : sizes[slot];
            for (size_t i = 0; i < kept; i += 1 + kept / 64)
                if (grown[i] != fills[slot]) errors++;
            blocks[slot] = grown;
        } else {
            blocks[slot] = random_below(4) ? malloc(size) : calloc(1, size);
            if (!blocks[slot]) { errors++; continue; }
            if (((uintptr_t)blocks[slot] & 15) != 0) errors++;
        }
        sizes[slot] = size;
        fills[slot] = (unsigned char)step;
        memset(blocks[slot], fills[slot], size);
        operations++;
    }
    for (size_t slot = 0; slot < SLOTS; slot++) free(blocks[slot]);
    void *aligned = NULL;
    int status = posix_memalign(&aligned, 4096, 100);
    printf("posix_memalign %d %d\n", status, aligned && ((uintptr_t)aligned & 4095) == 0);
    free(aligned);
    volatile size_t huge = SIZE_MAX / 2;
    printf("huge %d\n", malloc(huge) == NULL);
    printf("calloc overflow %d\n", calloc(huge, 4) == NULL);
    printf("operations %lu errors %lu\n", operations, errors);
    return errors != 0;
}
