/* strtod/strtof/strtol on random decimal and hexadecimal strings:
 * value bits, consumed length and ERANGE must match glibc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdint.h>
#include "random.h"

static void random_number_text(char *text) {
    int position = 0;
    if (random_below(3) == 0) text[position++] = random_below(2) ? '-' : '+';
    int hex = random_below(6) == 0;
    if (hex) { text[position++] = '0'; text[position++] = 'x'; }
    int digits = (int)random_below(hex ? 20 : 40);
    for (int i = 0; i < digits; i++) {
        if (random_below(12) == 0) text[position++] = '.';
        text[position++] = hex ? "0123456789abcdef"[random_below(16)] : (char)('0' + random_below(10));
    }
    if (random_below(2)) {
        text[position++] = hex ? 'p' : 'e';
        if (random_below(2)) text[position++] = random_below(2) ? '-' : '+';
        position += sprintf(text + position, "%d", (int)random_below(random_below(4) ? 30 : 400));
    }
    if (random_below(10) == 0) position += sprintf(text + position, "%s", random_below(2) ? "inf" : "nan");
    text[position++] = random_below(2) ? 'x' : ' ';
    text[position] = 0;
}

int main(void) {
    char text[256];
    for (int index = 0; index < 20000; index++) {
        random_number_text(text);
        char *end;
        errno = 0;
        double value = strtod(text, &end);
        int range = errno == ERANGE;
        uint64_t bits;
        memcpy(&bits, &value, 8);
        if (value != value) bits = 0x7ff8000000000000ull | (bits & 0x8000000000000000ull);
        errno = 0;
        char *single_end;
        float single = strtof(text, &single_end);
        uint32_t single_bits;
        memcpy(&single_bits, &single, 4);
        if (single != single) single_bits = 0x7fc00000u | (single_bits & 0x80000000u);
        errno = 0;
        char *integer_end;
        long integer = strtol(text, &integer_end, (int)random_below(3) * 8);
        int integer_range = errno == ERANGE;
        printf("%s| %016llx %ld %d %08x %ld | %ld %ld %d\n", text, (unsigned long long)bits, (long)(end - text), range,
               single_bits, (long)(single_end - text), integer, (long)(integer_end - text), integer_range);
    }
    return 0;
}
