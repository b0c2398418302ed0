/* Random printf conversions: every conversion, flag, width, precision
 * (also via '*') and length; each case prints snprintf's output and count. */
#include <stdio.h>
#include <stdint.h>
#include <stddef.h>
#include "random.h"

static const char *text_pool[] = {"", "a", "hello", "minilibc", "with space", "0123456789abcdef", "tab\there"};

int main(void) {
    char format[64], output[1024];
    const char *flag_set = "-+ #0";
    for (int index = 0; index < 20000; index++) {
        int position = 0;
        format[position++] = '%';
        int flag_count = (int)random_below(4);
        for (int f = 0; f < flag_count; f++) format[position++] = flag_set[random_below(5)];
        int star_width = random_below(8) == 0, star_precision = random_below(8) == 0;
        int width = (int)random_below(30) - (star_width ? 10 : 0);
        int precision = (int)random_below(25) - (star_precision ? 5 : 0);
        if (star_width) format[position++] = '*';
        else if (random_below(2)) position += sprintf(format + position, "%d", width);
        int has_precision = random_below(2);
        if (star_precision) { format[position++] = '.'; format[position++] = '*'; }
        else if (has_precision) position += sprintf(format + position, ".%d", precision);
        static const char conversions[] = "diouxXcspeEfFgGaA%";
        char conversion = conversions[random_below(sizeof conversions - 1)];
        int kind = (int)random_below(6); /* length modifier choice */
        int count = 0;
        const char *length = "";
        if (conversion == 'd' || conversion == 'i' || conversion == 'o' || conversion == 'u' || conversion == 'x' || conversion == 'X') {
            static const char *lengths[] = {"", "hh", "h", "l", "ll", "z", "j", "t"};
            length = lengths[random_below(8)];
        } else if (conversion == 'e' || conversion == 'E' || conversion == 'f' || conversion == 'F' || conversion == 'g' || conversion == 'G') {
            length = kind == 0 ? "L" : (kind == 1 ? "l" : "");
        }
        if (conversion == 'g' || conversion == 'G') {
            /* glibc drops the zero of "%#.2g" when rounding adds a digit
             * (99.6 -> "1.e+02"; C requires "1.0e+02"), so '#' is not
             * compared for %g (docs/minilibc.md). */
            for (int i = 1; i < position; i++) if (format[i] == '#') format[i] = '-';
        }
        position += sprintf(format + position, "%s%c", length, conversion);
        format[position] = 0;
        uint64_t integer = next_random() >> random_below(64);
        if (random_below(2)) integer = (uint64_t)(-(int64_t)integer);
        double value = random_double();
        const char *text = text_pool[random_below(sizeof text_pool / sizeof text_pool[0])];
        int star_w = width, star_p = precision;
        #define CALL(...) do { \
            if (star_width && star_precision) count = snprintf(output, sizeof output, format, star_w, star_p, __VA_ARGS__); \
            else if (star_width) count = snprintf(output, sizeof output, format, star_w, __VA_ARGS__); \
            else if (star_precision) count = snprintf(output, sizeof output, format, star_p, __VA_ARGS__); \
            else count = snprintf(output, sizeof output, format, __VA_ARGS__); } while (0)
        switch (conversion) {
        case 'd': case 'i': case 'o': case 'u': case 'x': case 'X':
            if (length[0] == 'l' || length[0] == 'z' || length[0] == 'j' || length[0] == 't') CALL((long)integer);
            else CALL((int)integer);
            break;
        case 'c': CALL((int)(32 + random_below(95))); break;
        case 's': CALL(text); break;
        case 'p': CALL((void *)(uintptr_t)(random_below(3) ? integer : 0)); break;
        case '%': CALL(0); break;
        default:
            if (length[0] == 'L') CALL((long double)value);
            else CALL(value);
        }
        printf("%d %s -> %d [%s]\n", index, format, count, output);
    }
    /* %n and a truncated buffer. */
    int written = 0;
    char small[8];
    int full = snprintf(small, sizeof small, "%s%n|%d", "abcdef", &written, 12345);
    printf("n=%d full=%d small=[%s]\n", written, full, small);
    return 0;
}
