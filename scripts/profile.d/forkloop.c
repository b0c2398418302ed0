/* The operations scripts/profile measures in its example: MODE (fork_exit,
 * fork_exit_64 with 61 more descriptors open, as results/personality.txt's
 * fork_exit_64_descriptors, fork_exec of TARGET, or spawn of TARGET with
 * posix_spawn), COUNT times,
 * each child waited for; prints the clock ticks per operation (instructions
 * under -icount shift=0, with the idle time). Built with scripts/mcc. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
static unsigned long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000ull + t.tv_nsec; }
static void reap(int pid) { int status; if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) { printf("bad wait\n"); exit(1); } }
int main(int argc, char **argv) {
    const char *mode = argv[1]; long n = atol(argv[2]); const char *target = argc > 3 ? argv[3] : "/bin/exit0";
    if (!strcmp(mode, "fork_exit_64")) {
        for (int i = 0; i < 61; i++) if (open("/etc/passwd", O_RDONLY) < 0) { printf("open failed\n"); return 1; }
        mode = "fork_exit";
    }
    unsigned long long start = now();
    for (long i = 0; i < n; i++) {
        int pid;
        if (!strcmp(mode, "fork_exit")) { pid = fork(); if (pid == 0) _exit(0); }
        else if (!strcmp(mode, "fork_exec")) { pid = fork(); if (pid == 0) { char *a[2] = {(char *)target, 0}; char *e[1] = {0}; execve(target, a, e); _exit(127); } }
        else { char *a[2] = {(char *)target, 0}; if (posix_spawn(&pid, target, 0, 0, a, environ)) { printf("spawn failed\n"); return 1; } }
        if (pid < 0) { printf("fork failed\n"); return 1; }
        reap(pid);
    }
    unsigned long long end = now();
    printf("forkloop %s %ld %llu\n", mode, n, n ? (end - start) / n : 0);
    return 0;
}
