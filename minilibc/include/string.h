#ifndef _STRING_H
#define _STRING_H
#include <bits/types.h>
__MINILIBC_BEGIN
void *memcpy(void *__restrict destination, const void *__restrict source, size_t count);
void *memmove(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);
int memcmp(const void *left, const void *right, size_t count);
void *memchr(const void *haystack, int byte, size_t count);
void *memrchr(const void *haystack, int byte, size_t count);
void *memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);
void *mempcpy(void *__restrict destination, const void *__restrict source, size_t count);
void *memccpy(void *__restrict destination, const void *__restrict source, int byte, size_t count);
size_t strlen(const char *text);
size_t strnlen(const char *text, size_t limit);
char *strcpy(char *__restrict destination, const char *__restrict source);
char *strncpy(char *__restrict destination, const char *__restrict source, size_t count);
char *stpcpy(char *__restrict destination, const char *__restrict source);
char *stpncpy(char *__restrict destination, const char *__restrict source, size_t count);
size_t strlcpy(char *destination, const char *source, size_t size);
size_t strlcat(char *destination, const char *source, size_t size);
char *strcat(char *__restrict destination, const char *__restrict source);
char *strncat(char *__restrict destination, const char *__restrict source, size_t count);
int strcmp(const char *left, const char *right);
int strncmp(const char *left, const char *right, size_t count);
int strcoll(const char *left, const char *right);
size_t strxfrm(char *__restrict destination, const char *__restrict source, size_t size);
char *strchr(const char *text, int byte);
char *strchrnul(const char *text, int byte);
char *strrchr(const char *text, int byte);
char *strstr(const char *haystack, const char *needle);
char *strcasestr(const char *haystack, const char *needle);
size_t strspn(const char *text, const char *accept);
size_t strcspn(const char *text, const char *reject);
char *strpbrk(const char *text, const char *accept);
char *strtok(char *__restrict text, const char *__restrict delimiters);
char *strtok_r(char *__restrict text, const char *__restrict delimiters, char **__restrict saved);
char *strsep(char **cursor, const char *delimiters);
char *strdup(const char *text);
char *strndup(const char *text, size_t limit);
char *strerror(int number);
int strerror_r(int number, char *buffer, size_t size);
char *strsignal(int signal);
void explicit_bzero(void *destination, size_t count);
__MINILIBC_END
#include <strings.h>
#endif
