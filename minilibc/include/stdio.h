#ifndef _STDIO_H
#define _STDIO_H
#include <bits/types.h>
__MINILIBC_BEGIN
typedef struct __minilibc_file FILE;
typedef struct { long __position; } fpos_t;

extern FILE *stdin;
extern FILE *stdout;
extern FILE *stderr;
#define stdin stdin
#define stdout stdout
#define stderr stderr

#define EOF (-1)
#define BUFSIZ 8192
#define _IOFBF 0
#define _IOLBF 1
#define _IONBF 2
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define FILENAME_MAX 4096
#define FOPEN_MAX 1000
#define L_tmpnam 32
#define TMP_MAX 238328
#define P_tmpdir "/tmp"
#define L_ctermid 20

FILE *fopen(const char *__restrict path, const char *__restrict mode);
FILE *fdopen(int fd, const char *mode);
FILE *freopen(const char *__restrict path, const char *__restrict mode, FILE *__restrict stream);
int fclose(FILE *stream);
FILE *tmpfile(void);
char *tmpnam(char *buffer);
FILE *popen(const char *command, const char *mode);
FILE *fmemopen(void *__restrict buffer, size_t size, const char *__restrict mode);
FILE *open_memstream(char **pointer, size_t *size);
int pclose(FILE *stream);

size_t fread(void *__restrict destination, size_t size, size_t count, FILE *__restrict stream);
size_t fwrite(const void *__restrict data, size_t size, size_t count, FILE *__restrict stream);
int fgetc(FILE *stream);
int getc(FILE *stream);
int getchar(void);
int ungetc(int byte, FILE *stream);
char *fgets(char *__restrict destination, int size, FILE *__restrict stream);
ssize_t getline(char **__restrict line, size_t *__restrict capacity, FILE *__restrict stream);
ssize_t getdelim(char **__restrict line, size_t *__restrict capacity, int delimiter, FILE *__restrict stream);
int fputc(int byte, FILE *stream);
int putc(int byte, FILE *stream);
int putchar(int byte);
int fputs(const char *__restrict text, FILE *__restrict stream);
int puts(const char *text);
int getc_unlocked(FILE *stream);
int getchar_unlocked(void);
int putc_unlocked(int byte, FILE *stream);
int putchar_unlocked(int byte);
size_t fread_unlocked(void *destination, size_t size, size_t count, FILE *stream);
size_t fwrite_unlocked(const void *data, size_t size, size_t count, FILE *stream);
int fputs_unlocked(const char *text, FILE *stream);
int fflush_unlocked(FILE *stream);
void flockfile(FILE *stream);
void funlockfile(FILE *stream);
int ftrylockfile(FILE *stream);

int fseek(FILE *stream, long offset, int whence);
int fseeko(FILE *stream, off_t offset, int whence);
long ftell(FILE *stream);
off_t ftello(FILE *stream);
void rewind(FILE *stream);
int fgetpos(FILE *__restrict stream, fpos_t *__restrict position);
int fsetpos(FILE *stream, const fpos_t *position);
int fflush(FILE *stream);
int setvbuf(FILE *__restrict stream, char *__restrict buffer, int mode, size_t size);
void setbuf(FILE *__restrict stream, char *__restrict buffer);
void setbuffer(FILE *stream, char *buffer, size_t size);
void setlinebuf(FILE *stream);
int feof(FILE *stream);
int ferror(FILE *stream);
void clearerr(FILE *stream);
int fileno(FILE *stream);

int printf(const char *__restrict format, ...) __minilibc_printf(1, 2);
int fprintf(FILE *__restrict stream, const char *__restrict format, ...) __minilibc_printf(2, 3);
int sprintf(char *__restrict buffer, const char *__restrict format, ...) __minilibc_printf(2, 3);
int snprintf(char *__restrict buffer, size_t size, const char *__restrict format, ...) __minilibc_printf(3, 4);
int asprintf(char **__restrict result, const char *__restrict format, ...) __minilibc_printf(2, 3);
int dprintf(int fd, const char *__restrict format, ...) __minilibc_printf(2, 3);
int vprintf(const char *__restrict format, __minilibc_va_list arguments) __minilibc_printf(1, 0);
int vfprintf(FILE *__restrict stream, const char *__restrict format, __minilibc_va_list arguments) __minilibc_printf(2, 0);
int vsprintf(char *__restrict buffer, const char *__restrict format, __minilibc_va_list arguments) __minilibc_printf(2, 0);
int vsnprintf(char *__restrict buffer, size_t size, const char *__restrict format, __minilibc_va_list arguments) __minilibc_printf(3, 0);
int vasprintf(char **__restrict result, const char *__restrict format, __minilibc_va_list arguments) __minilibc_printf(2, 0);
int vdprintf(int fd, const char *__restrict format, __minilibc_va_list arguments) __minilibc_printf(2, 0);

int scanf(const char *__restrict format, ...) __minilibc_scanf(1, 2);
int fscanf(FILE *__restrict stream, const char *__restrict format, ...) __minilibc_scanf(2, 3);
int sscanf(const char *__restrict text, const char *__restrict format, ...) __minilibc_scanf(2, 3);
int vscanf(const char *__restrict format, __minilibc_va_list arguments) __minilibc_scanf(1, 0);
int vfscanf(FILE *__restrict stream, const char *__restrict format, __minilibc_va_list arguments) __minilibc_scanf(2, 0);
int vsscanf(const char *__restrict text, const char *__restrict format, __minilibc_va_list arguments) __minilibc_scanf(2, 0);

void perror(const char *prefix);
int remove(const char *path);
int rename(const char *old_path, const char *new_path);
int renameat(int old_dir, const char *old_path, int new_dir, const char *new_path);
__MINILIBC_END
#endif
