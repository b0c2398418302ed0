/* The memory functions the compiler may call even in freestanding code
 * (struct copies, zeroing). Plain loops: these programs are small. */
#include <mach/mach_runtime.h>

void *memcpy(void *destination, const void *source, size_t length) {
    unsigned char *to = destination;
    const unsigned char *from = source;
    while (length--)
        *to++ = *from++;
    return destination;
}

void *memmove(void *destination, const void *source, size_t length) {
    unsigned char *to = destination;
    const unsigned char *from = source;
    if (to < from) {
        while (length--)
            *to++ = *from++;
    } else {
        while (length--)
            to[length] = from[length];
    }
    return destination;
}

void *memset(void *destination, int value, size_t length) {
    unsigned char *to = destination;
    while (length--)
        *to++ = (unsigned char)value;
    return destination;
}

int memcmp(const void *left, const void *right, size_t length) {
    const unsigned char *a = left, *b = right;
    for (size_t index = 0; index < length; index++)
        if (a[index] != b[index])
            return a[index] < b[index] ? -1 : 1;
    return 0;
}

size_t strlen(const char *text) {
    size_t length = 0;
    while (text[length])
        length++;
    return length;
}

int strcmp(const char *left, const char *right) {
    while (*left && *left == *right) {
        left++;
        right++;
    }
    return (unsigned char)*left - (unsigned char)*right;
}
