/* Reads of regular files and the open file's offset, with every sharer:
 * writes and truncates by others, O_APPEND, lseek, dup, pread, fork, exec
 * and spawn. On Mach_R a process reads a regular file it holds alone from
 * a mapping and keeps the offset itself (docs/file-server.md, "Reads from
 * a mapping"): each check here is one way that could go wrong. Output is
 * compared with glibc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

extern char **environ;

#define SIZE (64 * 1024 + 100)

static char expected[SIZE];
static char buffer[SIZE];

/* The byte at `offset` of the pattern file. */
static char pattern(long offset) { return (char)('a' + (offset * 7 + offset / 4096) % 26); }

static void fill(void) {
    for (long i = 0; i < SIZE; i++) expected[i] = pattern(i);
}

static int write_file(const char *path, const char *data, long length) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    long done = 0;
    while (done < length) {
        ssize_t count = write(fd, data + done, length - done);
        if (count <= 0) return -1;
        done += count;
    }
    return close(fd);
}

/* Reads `fd` to its end in `chunk`-byte reads into `buffer`; the total. */
static long read_all(int fd, long chunk) {
    long total = 0;
    ssize_t count;
    while (total < SIZE && (count = read(fd, buffer + total, chunk < SIZE - total ? chunk : SIZE - total)) > 0)
        total += count;
    return total;
}

/* Runs /bin/cat with `input` as its standard input and `output` (a new
 * file) as its standard output, by posix_spawn; the exit status word. */
static int spawn_cat(int input, const char *output) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *arguments[] = {"cat", NULL};
    pid_t pid;
    int status = -1;
    if (posix_spawn(&pid, "/bin/cat", &actions, NULL, arguments, environ) == 0) waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&actions);
    return status;
}

static long file_size(const char *path) {
    struct stat info;
    return stat(path, &info) == 0 ? (long)info.st_size : -1;
}

int main(void) {
    char directory[] = "/tmp/minilibc-offsets-XXXXXX";
    CHECK(mkdtemp(directory) != NULL);
    CHECK(chdir(directory) == 0);
    fill();
    CHECK(write_file("data", expected, SIZE) == 0);

    /* A whole file in 4 KiB reads, and in odd-sized ones; end of file stays. */
    int fd = open("data", O_RDONLY);
    CHECK(fd >= 0);
    CHECK(read_all(fd, 4096) == SIZE && memcmp(buffer, expected, SIZE) == 0);
    CHECK(read(fd, buffer, 4096) == 0 && read(fd, buffer, 1) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == SIZE);
    CHECK(lseek(fd, 1000, SEEK_SET) == 1000);
    CHECK(read_all(fd, 777) == SIZE - 1000 && memcmp(buffer, expected + 1000, SIZE - 1000) == 0);
    CHECK(lseek(fd, -100, SEEK_END) == SIZE - 100 && read(fd, buffer, 4096) == 100);
    CHECK(memcmp(buffer, expected + SIZE - 100, 100) == 0);
    CHECK(lseek(fd, -1, SEEK_SET) == -1 && errno == EINVAL);
    CHECK(lseek(fd, 0, SEEK_CUR) == SIZE);
    close(fd);

    /* A write through another open file is seen by the next read. */
    fd = open("data", O_RDONLY);
    int writer = open("data", O_WRONLY);
    CHECK(fd >= 0 && writer >= 0);
    CHECK(read(fd, buffer, 4096) == 4096 && memcmp(buffer, expected, 4096) == 0);
    CHECK(pwrite(writer, "CHANGED", 7, 4096 + 10) == 7);
    CHECK(read(fd, buffer, 4096) == 4096 && memcmp(buffer + 10, "CHANGED", 7) == 0);
    CHECK(memcmp(buffer, expected + 4096, 10) == 0 && memcmp(buffer + 17, expected + 4096 + 17, 4096 - 17) == 0);
    /* ... and by another process. */
    pid_t child = fork();
    if (child == 0) {
        int other = open("data", O_WRONLY);
        _exit(other >= 0 && pwrite(other, "CHILD", 5, 8192) == 5 ? 0 : 1);
    }
    int status = -1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(read(fd, buffer, 5) == 5 && memcmp(buffer, "CHILD", 5) == 0);
    /* pread leaves the offset; pwrite through the writer too. */
    CHECK(pread(fd, buffer, 7, 4096 + 10) == 7 && memcmp(buffer, "CHANGED", 7) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 8192 + 5);

    /* A truncate by another open file: the reader past the end reads
     * nothing; the file growing again is read from the reader's offset. */
    CHECK(ftruncate(writer, 3000) == 0);
    CHECK(read(fd, buffer, 4096) == 0);
    CHECK(lseek(fd, 0, SEEK_END) == 3000);
    CHECK(lseek(fd, 2990, SEEK_SET) == 2990 && read(fd, buffer, 4096) == 10);
    CHECK(memcmp(buffer, expected + 2990, 10) == 0);
    int appender = open("data", O_WRONLY | O_APPEND);
    CHECK(appender >= 0 && write(appender, "0123456789", 10) == 10);
    CHECK(read(fd, buffer, 4096) == 10 && memcmp(buffer, "0123456789", 10) == 0);
    /* Growth past what the reader mapped. */
    static char big[20000];
    memset(big, 'G', sizeof big);
    CHECK(write(appender, big, sizeof big) == (ssize_t)sizeof big);
    CHECK(read_all(fd, 4096) == (long)sizeof big && buffer[0] == 'G' && buffer[sizeof big - 1] == 'G');
    CHECK(lseek(fd, 0, SEEK_END) == 3010 + (long)sizeof big);
    close(appender);
    /* Truncated to nothing by an open with O_TRUNC. */
    int truncating = open("data", O_WRONLY | O_TRUNC);
    CHECK(truncating >= 0 && lseek(fd, 0, SEEK_SET) == 0 && read(fd, buffer, 10) == 0);
    close(truncating);
    close(writer);
    close(fd);

    /* O_APPEND on the reading open file: a write goes to the end, whatever
     * the offset, and leaves the offset there. */
    CHECK(write_file("data", expected, SIZE) == 0);
    fd = open("data", O_RDWR | O_APPEND);
    CHECK(fd >= 0 && read(fd, buffer, 100) == 100 && memcmp(buffer, expected, 100) == 0);
    CHECK(write(fd, "tail", 4) == 4);
    CHECK(lseek(fd, 0, SEEK_CUR) == SIZE + 4);
    CHECK(read(fd, buffer, 10) == 0);
    CHECK(lseek(fd, 100, SEEK_SET) == 100 && read(fd, buffer, 10) == 10 && memcmp(buffer, expected + 100, 10) == 0);
    CHECK(pread(fd, buffer, 4, SIZE) == 4 && memcmp(buffer, "tail", 4) == 0);
    /* A plain write of a read-write open file goes at the offset. */
    close(fd);
    fd = open("data", O_RDWR);
    CHECK(fd >= 0 && read(fd, buffer, 50) == 50 && write(fd, "XY", 2) == 2);
    CHECK(pread(fd, buffer, 4, 49) == 4 && buffer[0] == expected[49] && memcmp(buffer + 1, "XY", 2) == 0);
    CHECK(read(fd, buffer, 1) == 1 && buffer[0] == expected[52]);
    close(fd);
    CHECK(write_file("data", expected, SIZE) == 0);

    /* dup shares the offset; closing one leaves the other reading on. */
    fd = open("data", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buffer, 1000) == 1000);
    int second = dup(fd);
    CHECK(second >= 0 && read(second, buffer, 10) == 10 && memcmp(buffer, expected + 1000, 10) == 0);
    CHECK(read(fd, buffer, 10) == 10 && memcmp(buffer, expected + 1010, 10) == 0);
    CHECK(close(fd) == 0);
    CHECK(read(second, buffer, 10) == 10 && memcmp(buffer, expected + 1020, 10) == 0);
    CHECK(lseek(second, 0, SEEK_CUR) == 1030);
    struct stat info;
    CHECK(fstat(second, &info) == 0 && info.st_size == SIZE);
    CHECK(read(second, buffer, 10) == 10 && memcmp(buffer, expected + 1030, 10) == 0);
    close(second);

    /* fork: parent and child share the open file description, so the
     * offset: each one's reads move the other's. */
    fd = open("data", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buffer, 100) == 100);
    child = fork();
    if (child == 0) {
        char mine[50];
        int ok = read(fd, mine, 50) == 50 && memcmp(mine, expected + 100, 50) == 0;
        _exit(ok ? 0 : 1);
    }
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 150);
    CHECK(read(fd, buffer, 50) == 50 && memcmp(buffer, expected + 150, 50) == 0);
    /* The child reads on from where the parent's reads left the offset. */
    child = fork();
    if (child == 0) {
        char mine[4096];
        int ok = read(fd, mine, 4096) == 4096 && memcmp(mine, expected + 200, 4096) == 0;
        _exit(ok ? 0 : 1);
    }
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(read(fd, buffer, 4) == 4 && memcmp(buffer, expected + 4296, 4) == 0);

    /* spawn and exec: the new program reads on from the offset, and the
     * parent's offset is where the program's reads left it. */
    CHECK(spawn_cat(fd, "rest") == 0);
    CHECK(file_size("rest") == SIZE - 4300);
    CHECK(lseek(fd, 0, SEEK_CUR) == SIZE);
    CHECK(lseek(fd, 60000, SEEK_SET) == 60000 && read(fd, buffer, 10) == 10);
    child = fork();
    if (child == 0) {
        int out = open("rest2", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || dup2(fd, 0) != 0 || dup2(out, 1) != 1) _exit(1);
        execl("/bin/cat", "cat", (char *)NULL);
        _exit(2);
    }
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(file_size("rest2") == SIZE - 60010);
    CHECK(read(fd, buffer, 10) == 0);
    int rest = open("rest2", O_RDONLY);
    CHECK(rest >= 0 && read_all(rest, 4096) == SIZE - 60010 && memcmp(buffer, expected + 60010, SIZE - 60010) == 0);
    close(rest);
    close(fd);

    /* Many files read at once, each with its own offset. */
    int many[20];
    for (int i = 0; i < 20; i++) many[i] = open("data", O_RDONLY);
    int ok = 1;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 20; i++) {
            char piece[64];
            if (read(many[i], piece, 64) != 64 || memcmp(piece, expected + round * 64, 64) != 0) ok = 0;
        }
    CHECK(ok);
    for (int i = 0; i < 20; i++) CHECK(lseek(many[i], 0, SEEK_CUR) == 192 && close(many[i]) == 0);

    /* An empty file, then written to while open. */
    CHECK(write_file("empty", "", 0) == 0);
    fd = open("empty", O_RDONLY);
    writer = open("empty", O_WRONLY);
    CHECK(fd >= 0 && writer >= 0 && read(fd, buffer, 10) == 0);
    CHECK(write(writer, "later", 5) == 5 && read(fd, buffer, 10) == 5 && memcmp(buffer, "later", 5) == 0);
    close(writer);
    close(fd);

    /* A file read, closed, changed and read again (on Mach_R the second
     * open reuses the first one's mapping): the new bytes, the new size. */
    CHECK(write_file("again", expected, 3 * 4096) == 0);
    fd = open("again", O_RDONLY);
    CHECK(fd >= 0 && read_all(fd, 4096) == 3 * 4096 && close(fd) == 0);
    writer = open("again", O_WRONLY);
    CHECK(writer >= 0 && pwrite(writer, "second", 6, 4096) == 6 && ftruncate(writer, 2 * 4096) == 0);
    close(writer);
    fd = open("again", O_RDONLY);
    CHECK(fd >= 0 && read_all(fd, 4096) == 2 * 4096 && memcmp(buffer + 4096, "second", 6) == 0);
    CHECK(memcmp(buffer, expected, 4096) == 0 && close(fd) == 0);
    /* Grown past the first mapping. */
    CHECK(write_file("again", expected, SIZE) == 0);
    fd = open("again", O_RDONLY);
    CHECK(fd >= 0 && read_all(fd, 4096) == SIZE && memcmp(buffer, expected, SIZE) == 0 && close(fd) == 0);
    /* Replaced by another file under the same name. */
    CHECK(unlink("again") == 0 && write_file("again", "another file", 12) == 0);
    fd = open("again", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buffer, 4096) == 12 && memcmp(buffer, "another file", 12) == 0 && close(fd) == 0);
    /* Read by a child after the parent read and closed it. */
    fd = open("again", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buffer, 4096) == 12 && close(fd) == 0);
    child = fork();
    if (child == 0) {
        char mine[16];
        int again = open("again", O_RDONLY);
        _exit(again >= 0 && read(again, mine, 16) == 12 && memcmp(mine, "another file", 12) == 0 ? 0 : 1);
    }
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(unlink("again") == 0);

    /* Unlinked while open: still readable. */
    fd = open("data", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buffer, 10) == 10 && unlink("data") == 0);
    CHECK(read(fd, buffer, 10) == 10 && memcmp(buffer, expected + 10, 10) == 0);
    close(fd);

    CHECK(unlink("rest") == 0 && unlink("rest2") == 0 && unlink("empty") == 0);
    CHECK(chdir("/") == 0 && rmdir(directory) == 0);
    FINISH();
}
