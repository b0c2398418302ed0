/* Compares two outputs of math_cases (glibc and minilibc builds) line by
 * line and prints, per function, the largest distance in ulps. Exits 1 if
 * any function is further than its limit: argv[3] for all, or NAME=LIMIT
 * arguments after it for particular functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static int64_t ordered(uint64_t bits) {
    /* Maps doubles to integers whose difference counts representable values. */
    return (bits >> 63) ? -(int64_t)(bits & 0x7fffffffffffffffull) : (int64_t)bits;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: ulp_compare reference candidate limit [name=limit...]\n"); return 2; }
    FILE *reference = fopen(argv[1], "r"), *candidate = fopen(argv[2], "r");
    if (!reference || !candidate) { perror("open"); return 2; }
    long limit = atol(argv[3]);
    char names[64][16]; long worst[64]; int functions = 0, failed = 0;
    char name_a[16], name_b[16];
    unsigned long long input_a, input_b, output_a, output_b;
    while (fscanf(reference, "%15s %llx %llx", name_a, &input_a, &output_a) == 3) {
        if (fscanf(candidate, "%15s %llx %llx", name_b, &input_b, &output_b) != 3 || strcmp(name_a, name_b) || input_a != input_b) {
            printf("mismatched lines at %s\n", name_a);
            return 1;
        }
        int slot = 0;
        while (slot < functions && strcmp(names[slot], name_a)) slot++;
        if (slot == functions) { strcpy(names[functions], name_a); worst[functions++] = 0; }
        long distance = (long)llabs(ordered(output_a) - ordered(output_b));
        if (distance > worst[slot]) worst[slot] = distance;
    }
    for (int slot = 0; slot < functions; slot++) {
        long allowed = limit;
        for (int argument = 4; argument < argc; argument++) {
            size_t length = strlen(names[slot]);
            if (!strncmp(argv[argument], names[slot], length) && argv[argument][length] == '=') allowed = atol(argv[argument] + length + 1);
        }
        printf("%s max %ld ulp (limit %ld)\n", names[slot], worst[slot], allowed);
        if (worst[slot] > allowed) failed = 1;
    }
    return failed;
}
