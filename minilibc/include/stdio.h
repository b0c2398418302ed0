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

FILE *fopen(const char *restrict path, const char *restrict mode);
FILE *fdopen(int fd, const char *mode);
FILE *freopen(const char *restrict path, const char *restrict mode, FILE *restrict stream);
int fclose(FILE *stream);
FILE *tmpfile(void);
char *tmpnam(char *buffer);
FILE *popen(const char *command, const char *mode);
int pclose(FILE *stream);

size_t fread(void *restrict destination, size_t size, size_t count, FILE *restrict stream);
size_t fwrite(const void *restrict data, size_t size, size_t count, FILE *restrict stream);
int fgetc(FILE *stream);
int getc(FILE *stream);
int getchar(void);
int ungetc(int byte, FILE *stream);
char *fgets(char *restrict destination, int size, FILE *restrict stream);
ssize_t getline(char **restrict line, size_t *restrict capacity, FILE *restrict stream);
ssize_t getdelim(char **restrict line, size_t *restrict capacity, int delimiter, FILE *restrict stream);
int fputc(int byte, FILE *stream);
int putc(int byte, FILE *stream);
int putchar(int byte);
int fputs(const char *restrict text, FILE *restrict stream);
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
int fgetpos(FILE *restrict stream, fpos_t *restrict position);
int fsetpos(FILE *stream, const fpos_t *position);
int fflush(FILE *stream);
int setvbuf(FILE *restrict stream, char *restrict buffer, int mode, size_t size);
void setbuf(FILE *restrict stream, char *restrict buffer);
void setbuffer(FILE *stream, char *buffer, size_t size);
void setlinebuf(FILE *stream);
int feof(FILE *stream);
int ferror(FILE *stream);
void clearerr(FILE *stream);
int fileno(FILE *stream);

int printf(const char *restrict format, ...) __minilibc_printf(1, 2);
int fprintf(FILE *restrict stream, const char *restrict format, ...) __minilibc_printf(2, 3);
int sprintf(char *restrict buffer, const char *restrict format, ...) __minilibc_printf(2, 3);
int snprintf(char *restrict buffer, size_t size, const char *restrict format, ...) __minilibc_printf(3, 4);
int asprintf(char **restrict result, const char *restrict format, ...) __minilibc_printf(2, 3);
int dprintf(int fd, const char *restrict format, ...) __minilibc_printf(2, 3);
int vprintf(const char *restrict format, __minilibc_va_list arguments) __minilibc_printf(1, 0);
int vfprintf(FILE *restrict stream, const char *restrict format, __minilibc_va_list arguments) __minilibc_printf(2, 0);
int vsprintf(char *restrict buffer, const char *restrict format, __minilibc_va_list arguments) __minilibc_printf(2, 0);
int vsnprintf(char *restrict buffer, size_t size, const char *restrict format, __minilibc_va_list arguments) __minilibc_printf(3, 0);
int vasprintf(char **restrict result, const char *restrict format, __minilibc_va_list arguments) __minilibc_printf(2, 0);
int vdprintf(int fd, const char *restrict format, __minilibc_va_list arguments) __minilibc_printf(2, 0);

int scanf(const char *restrict format, ...) __minilibc_scanf(1, 2);
int fscanf(FILE *restrict stream, const char *restrict format, ...) __minilibc_scanf(2, 3);
int sscanf(const char *restrict text, const char *restrict format, ...) __minilibc_scanf(2, 3);
int vscanf(const char *restrict format, __minilibc_va_list arguments) __minilibc_scanf(1, 0);
int vfscanf(FILE *restrict stream, const char *restrict format, __minilibc_va_list arguments) __minilibc_scanf(2, 0);
int vsscanf(const char *restrict text, const char *restrict format, __minilibc_va_list arguments) __minilibc_scanf(2, 0);

void perror(const char *prefix);
int remove(const char *path);
int rename(const char *old_path, const char *new_path);
int renameat(int old_dir, const char *old_path, int new_dir, const char *new_path);
__MINILIBC_END
#endif
