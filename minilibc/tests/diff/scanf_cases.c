/* Random scanf cases: values printed in assorted forms, read back with
 * sscanf using widths, suppression, %n, %[...] and %c. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "random.h"

int main(void) {
    char input[512];
    for (int index = 0; index < 8000; index++) {
        long a = (long)(next_random() >> random_below(64)) * (random_below(2) ? 1 : -1);
        unsigned long b = next_random() >> random_below(64);
        double d = random_double();
        int style = (int)random_below(8);
        int consumed = -1, result = 0;
        long la = 0; unsigned long ub = 0; double dd = 0; float ff = 0;
        int ia = 0; short sh = 0; signed char ch = 0;
        char word[64] = "", set[64] = "", chars[8] = "";
        switch (style) {
        case 0:
            snprintf(input, sizeof input, "  %ld   %lx %.17g", a, b, d);
            result = sscanf(input, "%ld %lx %lf%n", &la, &ub, &dd, &consumed);
            printf("%d: %d %ld %lx %.17g %d\n", index, result, la, ub, dd, consumed);
            break;
        case 1:
            snprintf(input, sizeof input, "%ld,%lo;%e", a, b, d);
            result = sscanf(input, "%ld,%lo;%f", &la, &ub, &ff);
            printf("%d: %d %ld %lo %.9g\n", index, result, la, ub, (double)ff);
            break;
        case 2: {
            int width = 1 + (int)random_below(12);
            char format[32];
            snprintf(input, sizeof input, "%ld%lu", a, b);
            snprintf(format, sizeof format, "%%%dld%%n%%lu", width);
            result = sscanf(input, format, &la, &consumed, &ub);
            printf("%d: %d %ld %d %lu\n", index, result, la, consumed, ub);
            break;
        }
        case 3:
            snprintf(input, sizeof input, "word%lu rest-of-line %ld\n", b % 1000, a);
            result = sscanf(input, "%63s %63[a-z-] %*d%n", word, set, &consumed);
            printf("%d: %d [%s] [%s] %d\n", index, result, word, set, consumed);
            break;
        case 4:
            snprintf(input, sizeof input, "%d %d %d", (int)a, (int)b, (int)(a ^ (long)b));
            result = sscanf(input, "%hhd %hd %i", &ch, &sh, &ia);
            printf("%d: %d %d %d %d\n", index, result, ch, sh, ia);
            break;
        case 5:
            snprintf(input, sizeof input, "0x%lx 0%lo %ld", b, b, a);
            result = sscanf(input, "%li %li %4c", &la, (long *)&ub, chars);
            printf("%d: %d %ld %lu [%.4s]\n", index, result, la, ub, chars);
            break;
        case 6:
            snprintf(input, sizeof input, "%a|%.3e|%g", d, d, d);
            result = sscanf(input, "%lf|%lf|%f", &dd, &dd, &ff);
            printf("%d: %d %.17g %.9g\n", index, result, dd, (double)ff);
            break;
        default:
            snprintf(input, sizeof input, "%s", random_below(2) ? "abc" : "  ");
            result = sscanf(input, "%d", &ia);
            printf("%d: %d\n", index, result);
        }
    }
    return 0;
}
