/* qsort and bsearch on random arrays (ints, doubles, strings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "random.h"

static int compare_ints(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
static int compare_doubles(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    static int ints[5000];
    static double doubles[3000];
    static char words[2000][12];
    static char *pointers[2000];
    for (int round = 0; round < 60; round++) {
        size_t count = random_below(5000);
        for (size_t i = 0; i < count; i++) ints[i] = (int)random_below(round % 3 == 0 ? 50 : 1000000) - 500;
        qsort(ints, count, sizeof ints[0], compare_ints);
        unsigned long sum = 0;
        for (size_t i = 0; i < count; i++) sum = sum * 31 + (unsigned)ints[i];
        int key = (int)random_below(1000) - 500;
        int *found = bsearch(&key, ints, count, sizeof ints[0], compare_ints);
        printf("ints %zu %lu %d\n", count, sum, found ? *found == key : -1);
        size_t double_count = random_below(3000);
        for (size_t i = 0; i < double_count; i++) doubles[i] = random_double();
        qsort(doubles, double_count, sizeof doubles[0], compare_doubles);
        for (size_t i = 0; i + 1 < double_count; i += 97) printf("%.17g ", doubles[i]);
        printf("\n");
        size_t word_count = random_below(2000);
        for (size_t i = 0; i < word_count; i++) {
            size_t length = 1 + random_below(10);
            for (size_t j = 0; j < length; j++) words[i][j] = (char)('a' + random_below(26));
            words[i][length] = 0;
            pointers[i] = words[i];
        }
        qsort(pointers, word_count, sizeof pointers[0], compare_strings);
        for (size_t i = 0; i < word_count; i += 101) printf("%s ", pointers[i]);
        printf("\n");
    }
    return 0;
}
