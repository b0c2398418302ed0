#ifndef _STRINGS_H
#define _STRINGS_H
#include <bits/types.h>
__MINILIBC_BEGIN
int strcasecmp(const char *left, const char *right);
int strncasecmp(const char *left, const char *right, size_t count);
void bzero(void *destination, size_t count);
void bcopy(const void *source, void *destination, size_t count);
int bcmp(const void *left, const void *right, size_t count);
char *index(const char *text, int byte);
char *rindex(const char *text, int byte);
int ffs(int value);
int ffsl(long value);
__MINILIBC_END
#endif
