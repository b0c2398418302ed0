/* The C-variadic entry points of minilibc. Stable Rust cannot define
 * functions taking `...`, so each one here gathers its arguments into a
 * va_list (or an array) and calls the Rust implementation. Compiled by
 * scripts/mcc with minilibc's own headers into libc.a. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <math.h>
#include <errno.h>

int __minilibc_open(const char *path, int flags, mode_t mode);
int __minilibc_openat(int dir, const char *path, int flags, mode_t mode);
int __minilibc_fcntl(int fd, int command, unsigned long argument);
int __minilibc_ioctl(int fd, unsigned long request, unsigned long argument);
#include <semaphore.h>
sem_t *__minilibc_sem_open(const char *name, int flags, mode_t mode, unsigned int value);

sem_t *sem_open(const char *name, int flags, ...) {
    mode_t mode = 0;
    unsigned int value = 0;
    if (flags & O_CREAT) {
        va_list arguments;
        va_start(arguments, flags);
        mode = va_arg(arguments, mode_t);
        value = va_arg(arguments, unsigned int);
        va_end(arguments);
    }
    return __minilibc_sem_open(name, flags, mode, value);
}

int printf(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int result = vprintf(format, arguments);
    va_end(arguments);
    return result;
}

int fprintf(FILE *stream, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int result = vfprintf(stream, format, arguments);
    va_end(arguments);
    return result;
}

int sprintf(char *buffer, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int result = vsprintf(buffer, format, arguments);
    va_end(arguments);
    return result;
}

int snprintf(char *buffer, size_t size, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int result = vsnprintf(buffer, size, format, arguments);
    va_end(arguments);
    return result;
}

int asprintf(char **result, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int count = vasprintf(result, format, arguments);
    va_end(arguments);
    return count;
}

int dprintf(int fd, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int result = vdprintf(fd, format, arguments);
    va_end(arguments);
    return result;
}

int scanf(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int result = vscanf(format, arguments);
    va_end(arguments);
    return result;
}

int fscanf(FILE *stream, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int result = vfscanf(stream, format, arguments);
    va_end(arguments);
    return result;
}

int sscanf(const char *text, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int result = vsscanf(text, format, arguments);
    va_end(arguments);
    return result;
}

/* O_CREAT (0100) and O_TMPFILE (020200000) take a mode argument. */
static int needs_mode(int flags) {
    return (flags & 0100) || (flags & 020200000) == 020200000;
}

int open(const char *path, int flags, ...) {
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list arguments;
        va_start(arguments, flags);
        mode = va_arg(arguments, mode_t);
        va_end(arguments);
    }
    return __minilibc_open(path, flags, mode);
}

int openat(int dir, const char *path, int flags, ...) {
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list arguments;
        va_start(arguments, flags);
        mode = va_arg(arguments, mode_t);
        va_end(arguments);
    }
    return __minilibc_openat(dir, path, flags, mode);
}

/* fcntl and ioctl take at most one more argument, an int or a pointer;
 * reading it as unsigned long is how the kernel receives it too. */
int fcntl(int fd, int command, ...) {
    va_list arguments;
    va_start(arguments, command);
    unsigned long argument = va_arg(arguments, unsigned long);
    va_end(arguments);
    return __minilibc_fcntl(fd, command, argument);
}

int ioctl(int fd, unsigned long request, ...) {
    va_list arguments;
    va_start(arguments, request);
    unsigned long argument = va_arg(arguments, unsigned long);
    va_end(arguments);
    return __minilibc_ioctl(fd, request, argument);
}

void *__minilibc_mremap(void *address, size_t old_length, size_t new_length, int flags, void *new_address);

/* mremap takes a new address only with MREMAP_FIXED. */
void *mremap(void *address, size_t old_length, size_t new_length, int flags, ...) {
    void *new_address = NULL;
    if (flags & MREMAP_FIXED) {
        va_list arguments;
        va_start(arguments, flags);
        new_address = va_arg(arguments, void *);
        va_end(arguments);
    }
    return __minilibc_mremap(address, old_length, new_length, flags, new_address);
}

/* execl family: count the arguments, copy them into an array on the stack. */
static int count_arguments(va_list arguments) {
    int count = 0;
    while (va_arg(arguments, char *) != NULL)
        count++;
    return count;
}

#define COLLECT_ARGUMENTS(first, last_named)                       \
    va_list arguments;                                             \
    va_start(arguments, last_named);                               \
    int count = 1 + count_arguments(arguments);                    \
    va_end(arguments);                                             \
    char *argument_vector[count + 1];                              \
    argument_vector[0] = (char *)(first);                          \
    va_start(arguments, last_named);                               \
    for (int index = 1; index <= count; index++)                   \
        argument_vector[index] = va_arg(arguments, char *);        \

int execl(const char *path, const char *first, ...) {
    COLLECT_ARGUMENTS(first, first)
    va_end(arguments);
    return execv(path, argument_vector);
}

int execlp(const char *file, const char *first, ...) {
    COLLECT_ARGUMENTS(first, first)
    va_end(arguments);
    return execvp(file, argument_vector);
}

int execle(const char *path, const char *first, ...) {
    COLLECT_ARGUMENTS(first, first)
    char *const *environment = va_arg(arguments, char *const *);
    va_end(arguments);
    return execve(path, argument_vector, environment);
}

/* long double: computed in double (see docs/minilibc.md). */
long double strtold(const char *text, char **end) { return strtod(text, end); }
long double fabsl(long double x) { return fabs((double)x); }
long double sqrtl(long double x) { return sqrt((double)x); }
long double floorl(long double x) { return floor((double)x); }
long double ceill(long double x) { return ceil((double)x); }
long double fmodl(long double x, long double y) { return fmod((double)x, (double)y); }
long double powl(long double x, long double y) { return pow((double)x, (double)y); }
long double expl(long double x) { return exp((double)x); }
long double logl(long double x) { return log((double)x); }
long double frexpl(long double x, int *e) { return frexp((double)x, e); }
long double ldexpl(long double x, int e) { return ldexp((double)x, e); }
long double modfl(long double x, long double *i) {
    double whole;
    double fraction = modf((double)x, &whole);
    *i = whole;
    return fraction;
}
long double truncl(long double x) { return trunc((double)x); }
long double roundl(long double x) { return round((double)x); }
long double copysignl(long double x, long double y) { return copysign((double)x, (double)y); }
