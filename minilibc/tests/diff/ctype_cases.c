/* ctype classification and case mapping for EOF and every byte, and
 * strtol/strtoul in every base, against glibc's C locale. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "random.h"

int main(void) {
    for (int c = -1; c < 256; c++) {
        printf("%d: %d%d%d%d%d%d%d%d%d%d%d%d %d %d\n", c, !!isalnum(c), !!isalpha(c), !!isblank(c), !!iscntrl(c), !!isdigit(c),
               !!isgraph(c), !!islower(c), !!isprint(c), !!ispunct(c), !!isspace(c), !!isupper(c), !!isxdigit(c), tolower(c), toupper(c));
    }
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+- x";
    for (int index = 0; index < 5000; index++) {
        char text[48];
        int length = (int)random_below(30);
        for (int i = 0; i < length; i++) text[i] = digits[random_below(sizeof digits - 1)];
        text[length] = 0;
        int base = (int)random_below(37); /* 0 or 2..36; invalid bases below */
        if (base == 1) base = 0;
        char *end_signed, *end_unsigned;
        errno = 0;
        long value = strtol(text, &end_signed, base);
        int error_signed = errno;
        errno = 0;
        unsigned long unsigned_value = strtoul(text, &end_unsigned, base);
        printf("[%s] %d: %ld %ld %d | %lu %ld %d\n", text, base, value, (long)(end_signed - text), error_signed,
               unsigned_value, (long)(end_unsigned - text), errno);
    }
    /* Invalid bases: EINVAL and 0 (glibc leaves the end pointer unset, so it is not compared). */
    for (int base = -2; base <= 40; base += 39) {
        errno = 0;
        long value = strtol("123", NULL, base);
        printf("base %d: %ld %d\n", base, value, errno);
    }
    return 0;
}
