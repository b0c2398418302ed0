/* The file and pipe operations of bench.c (/work/shared/bench/bench.c) that
 * scripts/profile measures: MODE is file_cwu (open with O_CREAT|O_TRUNC,
 * write 4 KiB, close, unlink in DIR) or pipe_64k (64 KiB writes read by a
 * child, which acknowledges each batch), COUNT times; prints the clock ticks
 * per operation (instructions under -icount shift=0, with the idle time;
 * file_cwu: of the median of five rounds).
 * COUNT 0 sets up (the child, the pipes) without operating: the base of a
 * profile. Built with scripts/mcc. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#define CHUNK 65536
#define BLOCK 4096
static char block[BLOCK], big[CHUNK];
static unsigned long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000ull + t.tv_nsec; }
static void fail(const char *what) { printf("fileloop: %s failed\n", what); exit(1); }
int main(int argc, char **argv) {
    if (argc < 3) fail("usage: fileloop MODE COUNT [DIR]");
    const char *mode = argv[1]; long n = atol(argv[2]); const char *dir = argc > 3 ? argv[3] : "/tmp";
    char path[256];
    snprintf(path, sizeof path, "%s/fileloop.tmp", dir);
    for (int i = 0; i < CHUNK; i++) big[i] = (char)i;
    unsigned long long start = 0, end = 0;
    if (!strcmp(mode, "file_cwu")) {
        /* Five rounds of COUNT / 5, the median round printed (as bench.c
         * does): a round the periodic write-back lands in waits for the
         * disk, which the clock counts. */
        unsigned long long rounds[5];
        long each = n / 5;
        for (int round = 0; round < 5; round++) {
            unsigned long long round_start = now();
            for (long i = 0; i < each; i++) {
                int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
                if (fd < 0) fail("open");
                if (write(fd, block, BLOCK) != BLOCK) fail("write");
                if (close(fd)) fail("close");
                if (unlink(path)) fail("unlink");
            }
            rounds[round] = now() - round_start;
        }
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++)
                if (rounds[j] < rounds[i]) { unsigned long long t = rounds[i]; rounds[i] = rounds[j]; rounds[j] = t; }
        start = 0;
        end = each ? rounds[2] * (unsigned long long)n / (unsigned long long)each : 0;
    } else if (!strcmp(mode, "pipe_64k")) {
        int data[2], control[2], ack[2];
        if (pipe(data) || pipe(control) || pipe(ack)) fail("pipe");
        int pid = fork();
        if (pid < 0) fail("fork");
        if (pid == 0) {
            close(data[1]); close(control[1]); close(ack[0]);
            for (;;) {
                long count = 0;
                if (read(control[0], &count, sizeof count) != (long)sizeof count) _exit(0);
                long want = count * CHUNK;
                while (want > 0) {
                    long got = read(data[0], big, CHUNK);
                    if (got <= 0) _exit(2);
                    want -= got;
                }
                if (write(ack[1], "k", 1) != 1) _exit(3);
            }
        }
        close(data[0]); close(control[0]); close(ack[1]);
        start = now();
        if (write(control[1], &n, sizeof n) != (long)sizeof n) fail("control write");
        for (long i = 0; i < n; i++)
            for (long done = 0; done < CHUNK;) {
                long put = write(data[1], big + done, CHUNK - done);
                if (put <= 0) fail("data write");
                done += put;
            }
        char c;
        if (read(ack[0], &c, 1) != 1) fail("ack read");
        end = now();
        close(control[1]); close(data[1]); close(ack[0]);
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) fail("child");
    } else {
        fail("mode");
    }
    printf("fileloop %s %ld %llu\n", mode, n, n ? (end - start) / n : 0);
    return 0;
}
