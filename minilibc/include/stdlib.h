#ifndef _STDLIB_H
#define _STDLIB_H
#include <bits/types.h>
#include <alloca.h>
__MINILIBC_BEGIN
#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 2147483647
#define MB_CUR_MAX ((size_t)1)
typedef struct { int quot; int rem; } div_t;
typedef struct { long quot; long rem; } ldiv_t;
typedef struct { long long quot; long long rem; } lldiv_t;

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *block, size_t size);
void *reallocarray(void *block, size_t count, size_t size);
void free(void *block);
void *aligned_alloc(size_t alignment, size_t size);
int posix_memalign(void **result, size_t alignment, size_t size);
void *memalign(size_t alignment, size_t size);
void *valloc(size_t size);
size_t malloc_usable_size(void *block);

long strtol(const char *__restrict text, char **__restrict end, int base);
long long strtoll(const char *__restrict text, char **__restrict end, int base);
unsigned long strtoul(const char *__restrict text, char **__restrict end, int base);
unsigned long long strtoull(const char *__restrict text, char **__restrict end, int base);
double strtod(const char *__restrict text, char **__restrict end);
float strtof(const char *__restrict text, char **__restrict end);
long double strtold(const char *__restrict text, char **__restrict end);
int atoi(const char *text);
long atol(const char *text);
long long atoll(const char *text);
double atof(const char *text);

int abs(int value);
long labs(long value);
long long llabs(long long value);
div_t div(int numerator, int denominator);
ldiv_t ldiv(long numerator, long denominator);
lldiv_t lldiv(long long numerator, long long denominator);

int rand(void);
void srand(unsigned int seed);
int rand_r(unsigned int *seed);
long random(void);
void srandom(unsigned int seed);

void qsort(void *base, size_t count, size_t size, int (*compare)(const void *, const void *));
void qsort_r(void *base, size_t count, size_t size, int (*compare)(const void *, const void *, void *), void *argument);
void *bsearch(const void *key, const void *base, size_t count, size_t size, int (*compare)(const void *, const void *));

char *getenv(const char *name);
int setenv(const char *name, const char *value, int overwrite);
int unsetenv(const char *name);
int putenv(char *entry);
int clearenv(void);

__minilibc_noreturn void exit(int status);
__minilibc_noreturn void _Exit(int status);
__minilibc_noreturn void abort(void);
int atexit(void (*function)(void));
int system(const char *command);

int mkstemp(char *template_name);
int mkostemp(char *template_name, int flags);
int mkstemps(char *template_name, int suffix_length);
char *mkdtemp(char *template_name);
char *realpath(const char *__restrict path, char *__restrict resolved);

int mblen(const char *text, size_t length);
int mbtowc(wchar_t *__restrict wide, const char *__restrict text, size_t length);
int wctomb(char *text, wchar_t wide);
size_t mbstowcs(wchar_t *__restrict wide, const char *__restrict text, size_t count);
size_t wcstombs(char *__restrict text, const wchar_t *__restrict wide, size_t count);
const char *getprogname(void);
__MINILIBC_END
#endif
