/* String and memory functions on random data, at random (unaligned)
 * offsets, including overlapping memmove. Prints results and checksums. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <stdint.h>
#include "random.h"

static unsigned checksum(const unsigned char *data, size_t length) {
    unsigned sum = 2166136261u;
    for (size_t i = 0; i < length; i++) sum = (sum ^ data[i]) * 16777619u;
    return sum;
}

static int sign(int value) { return (value > 0) - (value < 0); }

int main(void) {
    static unsigned char buffer[4096], other[4096];
    for (int index = 0; index < 6000; index++) {
        for (size_t i = 0; i < sizeof buffer; i++) buffer[i] = (unsigned char)(random_below(4) ? 'a' + random_below(4) : random_below(256));
        memcpy(other, buffer, sizeof other);
        size_t offset = random_below(64), offset2 = random_below(64), length = random_below(1500);
        switch (index % 8) {
        case 0: memmove(buffer + offset, buffer + offset2, length); break;
        case 1: memcpy(other + offset, buffer + 2048 + offset2, length); memcpy(buffer, other, sizeof buffer); break;
        case 2: memset(buffer + offset, (int)random_below(256), length); break;
        case 3: other[offset + random_below(length + 1)] ^= (unsigned char)random_below(2);
                printf("cmp %d %d\n", sign(memcmp(buffer + offset, other + offset, length)), sign(bcmp(buffer, other, 0)));
                break;
        case 4: buffer[offset + length] = 0;
                printf("len %zu %zu\n", strlen((char *)buffer + offset), strnlen((char *)buffer + offset, random_below(2000)));
                break;
        case 5: {
            buffer[offset + length] = 0;
            char *text = (char *)buffer + offset;
            char needle[4] = {(char)('a' + random_below(4)), (char)('a' + random_below(4)), 0, 0};
            char *c = strchr(text, needle[0]), *r = strrchr(text, needle[0]), *s = strstr(text, needle);
            size_t span = random_below(length + 1);
            unsigned char *hit = memchr(text, needle[0], span);
            unsigned char *miss = memchr(buffer + offset, 0x100 + needle[0], 0);
            printf("memchr %ld %d\n", hit ? (long)(hit - (unsigned char *)text) : -1L, miss == NULL);
            printf("find %ld %ld %ld %zu %zu\n", c ? (long)(c - text) : -1L, r ? (long)(r - text) : -1L, s ? (long)(s - text) : -1L,
                   strspn(text, "abc"), strcspn(text, "d\xff"));
            break;
        }
        case 6: {
            buffer[offset + length] = 0; other[offset2 + length] = 0;
            size_t limit = random_below(100);
            printf("strcmp %d %d %d %d\n", sign(strcmp((char *)buffer + offset, (char *)other + offset2)),
                   sign(strncmp((char *)buffer + offset, (char *)buffer + offset, limit)),
                   sign(strcasecmp("HeLLo", random_below(2) ? "hello" : "help")), sign(strncasecmp((char *)buffer, (char *)other, limit)));
            break;
        }
        default: {
            char text[128], copy[160];
            size_t n = random_below(100);
            for (size_t i = 0; i < n; i++) text[i] = (char)(random_below(5) ? 'a' + random_below(3) : ',');
            text[n] = 0;
            strncpy(copy, text, random_below(130));
            copy[127] = 0;
            strncat(copy, "tail", random_below(6));
            printf("tok [%s]", copy);
            for (char *token = strtok(text, ","); token; token = strtok(NULL, ",")) printf(" <%s>", token);
            printf("\n");
        }
        }
        printf("%d %08x\n", index, checksum(buffer, sizeof buffer));
    }
    return 0;
}
