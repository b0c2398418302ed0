/* Files through descriptors and through stdio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>
#include "check.h"

int main(void) {
    char directory[] = "/tmp/minilibc-files-XXXXXX";
    CHECK(mkdtemp(directory) != NULL);
    CHECK(chdir(directory) == 0);

    int fd = open("a.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "hello world\n", 12) == 12);
    /* File times and the clock are one: a file just written is not after
     * the time read right after it (on Mach_R the file server's stamps and
     * the process's clock share the bootstrap task's boot time). */
    struct stat written;
    struct timespec now;
    CHECK(fstat(fd, &written) == 0 && clock_gettime(CLOCK_REALTIME, &now) == 0);
    CHECK(written.st_mtim.tv_sec < now.tv_sec ||
          (written.st_mtim.tv_sec == now.tv_sec && written.st_mtim.tv_nsec <= now.tv_nsec));
    CHECK(written.st_mtime <= time(NULL) && time(NULL) - written.st_mtime < 5);
    CHECK(close(fd) == 0);
    CHECK(open("a.txt", O_WRONLY | O_CREAT | O_EXCL, 0644) == -1 && errno == EEXIST);
    CHECK(open("missing.txt", O_RDONLY) == -1 && errno == ENOENT);
    CHECK(strcmp(strerror(ENOENT), "No such file or directory") == 0);

    struct stat info;
    CHECK(stat("a.txt", &info) == 0 && info.st_size == 12 && S_ISREG(info.st_mode) && (info.st_mode & 0777) == 0644);
    fd = open("a.txt", O_RDWR | O_APPEND);
    CHECK(write(fd, "more\n", 5) == 5);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    char buffer[64] = {0};
    CHECK(read(fd, buffer, sizeof buffer) == 17 && memcmp(buffer, "hello world\nmore\n", 17) == 0);
    CHECK(fstat(fd, &info) == 0 && info.st_size == 17);
    CHECK(pread(fd, buffer, 5, 6) == 5 && memcmp(buffer, "world", 5) == 0);
    CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &info) == 0 && info.st_size == 5);
    close(fd);
    CHECK(read(fd, buffer, 1) == -1 && errno == EBADF);

    CHECK(rename("a.txt", "b.txt") == 0 && access("a.txt", F_OK) == -1 && access("b.txt", R_OK | W_OK) == 0);
    CHECK(link("b.txt", "c.txt") == 0 && stat("c.txt", &info) == 0 && info.st_nlink == 2);
    CHECK(symlink("b.txt", "d.txt") == 0);
    ssize_t length = readlink("d.txt", buffer, sizeof buffer);
    CHECK(length == 5 && memcmp(buffer, "b.txt", 5) == 0);
    CHECK(lstat("d.txt", &info) == 0 && S_ISLNK(info.st_mode));

    FILE *file = fopen("stdio.txt", "w+");
    CHECK(file != NULL);
    for (int i = 0; i < 1000; i++) fprintf(file, "line %d %s\n", i, i % 2 ? "odd" : "even");
    CHECK(ftell(file) == 13390);
    rewind(file);
    char line[64];
    CHECK(fgets(line, sizeof line, file) && strcmp(line, "line 0 even\n") == 0);
    CHECK(fgetc(file) == 'l' && ungetc('X', file) == 'X' && fgetc(file) == 'X');
    CHECK(fseek(file, -8, SEEK_END) == 0 && fgets(line, sizeof line, file) && strcmp(line, "999 odd\n") == 0);
    CHECK(fgetc(file) == EOF && feof(file));
    clearerr(file);
    CHECK(!feof(file) && fseek(file, 0, SEEK_SET) == 0);
    char *dynamic = NULL;
    size_t capacity = 0;
    int lines = 0;
    ssize_t got;
    while ((got = getline(&dynamic, &capacity, file)) > 0) lines++;
    CHECK(lines == 1000);
    free(dynamic);
    fpos_t position;
    CHECK(fseek(file, 100, SEEK_SET) == 0 && fgetpos(file, &position) == 0);
    CHECK(fputs("OVERWRITE", file) >= 0 && fsetpos(file, &position) == 0);
    CHECK(fread(line, 1, 9, file) == 9 && memcmp(line, "OVERWRITE", 9) == 0);
    CHECK(fclose(file) == 0);

    CHECK(fopen("stdio.txt", "q") == NULL && errno == EINVAL);
    file = fopen("stdio.txt", "a");
    CHECK(fputs("tail\n", file) >= 0 && fclose(file) == 0);
    file = fopen("stdio.txt", "r");
    char big[20000];
    size_t total = fread(big, 1, sizeof big, file);
    CHECK(total == 13395 && memcmp(big + total - 5, "tail\n", 5) == 0);
    CHECK(fputc('x', file) == EOF && ferror(file));
    fclose(file);

    FILE *temporary = tmpfile();
    CHECK(temporary != NULL && fwrite("abc", 1, 3, temporary) == 3 && fseek(temporary, 0, SEEK_SET) == 0);
    CHECK(fread(line, 1, 3, temporary) == 3 && memcmp(line, "abc", 3) == 0);
    fclose(temporary);
    char name[] = "tempXXXXXX";
    fd = mkstemp(name);
    CHECK(fd >= 0 && strncmp(name, "temp", 4) == 0 && strcmp(name + 4, "XXXXXX") != 0);
    FILE *wrapped = fdopen(fd, "w");
    CHECK(wrapped && fprintf(wrapped, "%d", 42) == 2 && fclose(wrapped) == 0);
    CHECK(remove(name) == 0 && remove(name) == -1 && errno == ENOENT);

    errno = ENOENT;
    fflush(stdout);
    FILE *saved = stderr;
    stderr = fopen("perror.txt", "w");
    perror("prefix");
    fclose(stderr);
    stderr = saved;
    file = fopen("perror.txt", "r");
    CHECK(fgets(line, sizeof line, file) && strcmp(line, "prefix: No such file or directory\n") == 0);
    fclose(file);

    /* fscanf from a stream, and an unbuffered stream visible at once. */
    file = fopen("scan.txt", "w+");
    fprintf(file, "12 0x1f 3.5 word [bracketed] 77\n");
    rewind(file);
    int number, hex, last;
    double real;
    char word[16], inner[16];
    CHECK(fscanf(file, "%d %i %lf %15s [%15[^]]] %d", &number, &hex, &real, word, inner, &last) == 6);
    CHECK(number == 12 && hex == 31 && real == 3.5 && strcmp(word, "word") == 0 && strcmp(inner, "bracketed") == 0 && last == 77);
    CHECK(fscanf(file, "%d", &number) == EOF);
    fclose(file);
    file = fopen("scan.txt", "w");
    CHECK(setvbuf(file, NULL, _IONBF, 0) == 0 && fputs("now", file) >= 0);
    CHECK(stat("scan.txt", &info) == 0 && info.st_size == 3);
    CHECK(setvbuf(file, NULL, 7, 0) != 0);
    fclose(file);
    unlink("scan.txt");

    /* Memory streams. */
    char memory[32] = "abc def 12";
    FILE *reader = fmemopen(memory, strlen(memory), "r");
    char first[8];
    int twelve;
    CHECK(reader && fscanf(reader, "%7s %*s %d", first, &twelve) == 2 && strcmp(first, "abc") == 0 && twelve == 12);
    CHECK(fgetc(reader) == EOF && feof(reader) && fseek(reader, 4, SEEK_SET) == 0 && fgetc(reader) == 'd' && ftell(reader) == 5);
    CHECK(fclose(reader) == 0 && fileno(stdin) == 0);
    FILE *writer = fmemopen(memory, sizeof memory, "w");
    CHECK(writer && fprintf(writer, "%d-%s", 7, "seven") == 7 && fflush(writer) == 0 && strcmp(memory, "7-seven") == 0);
    CHECK(fprintf(writer, "%040d", 1) == 40 && fflush(writer) == EOF);
    fclose(writer);
    char *grown = NULL;
    size_t grown_size = 0;
    FILE *memstream = open_memstream(&grown, &grown_size);
    CHECK(memstream != NULL);
    for (int i = 0; i < 1000; i++) fprintf(memstream, "%d,", i);
    CHECK(fflush(memstream) == 0 && grown_size == 3890 && strncmp(grown, "0,1,2,", 6) == 0);
    fputs("end", memstream);
    CHECK(fclose(memstream) == 0 && grown_size == 3893 && strcmp(grown + 3890, "end") == 0);
    free(grown);

    CHECK(unlink("b.txt") == 0 && unlink("c.txt") == 0 && unlink("d.txt") == 0 && unlink("stdio.txt") == 0 && unlink("perror.txt") == 0);
    /* freopen on a standard stream keeps its descriptor number. */
    CHECK(freopen("redirect.txt", "w", stderr) == stderr && fileno(stderr) == 2);
    fprintf(stderr, "redirected %d", 42);
    fflush(stderr);
    file = fopen("redirect.txt", "r");
    CHECK(file && fgets(line, sizeof line, file) && strcmp(line, "redirected 42") == 0);
    fclose(file);
    CHECK(unlink("redirect.txt") == 0);
    CHECK(chdir("/") == 0 && rmdir(directory) == 0);
    FINISH();
}
