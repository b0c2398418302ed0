/* posix_spawn: file actions (open, close, dup2, chdir), attributes (process
 * group, signal mask and defaults), PATH search, environment, and errors
 * reported by posix_spawn itself. Output is compared with glibc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

extern char **environ;

/* Runs the spawned child's output through a pipe; returns its exit status
 * word and leaves what it printed in `output`. */
static int run(const char *path, int search, char *const arguments[], char *const environment[],
               posix_spawn_file_actions_t *extra, posix_spawnattr_t *attributes, char *output, size_t size,
               int *spawn_result) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_t *used = extra ? extra : &actions;
    if (!extra) posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(used, fds[1], 1);
    posix_spawn_file_actions_addclose(used, fds[0]);
    pid_t pid = -1;
    *spawn_result = search ? posix_spawnp(&pid, path, used, attributes, arguments, environment)
                           : posix_spawn(&pid, path, used, attributes, arguments, environment);
    if (!extra) posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    size_t length = 0;
    ssize_t count;
    while (length + 1 < size && (count = read(fds[0], output + length, size - 1 - length)) > 0) length += count;
    output[length] = 0;
    close(fds[0]);
    int status = -1;
    if (*spawn_result == 0) waitpid(pid, &status, 0);
    return status;
}

int main(void) {
    char output[512];
    int result;
    char *echo[] = {"echo", "spawned", "child", NULL};
    int status = run("/bin/echo", 0, echo, environ, NULL, NULL, output, sizeof output, &result);
    CHECK(result == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && strcmp(output, "spawned child\n") == 0);
    status = run("echo", 1, echo, environ, NULL, NULL, output, sizeof output, &result);
    CHECK(result == 0 && strcmp(output, "spawned child\n") == 0);

    pid_t pid;
    char *nothing[] = {"nothing", NULL};
    CHECK(posix_spawn(&pid, "/nonexistent/program", NULL, NULL, nothing, environ) == ENOENT);
    CHECK(posix_spawnp(&pid, "no-such-program-anywhere", NULL, NULL, nothing, environ) == ENOENT);
    CHECK(posix_spawn(&pid, "/etc/passwd", NULL, NULL, nothing, environ) == EACCES);

    /* Many actions near the descriptor the Linux back end reports through. */
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int fd = 3; fd < 40; fd++) posix_spawn_file_actions_addclose(&actions, fd);
    CHECK(posix_spawn(&pid, "/nonexistent/program", &actions, NULL, nothing, environ) == ENOENT);
    posix_spawn_file_actions_destroy(&actions);

    /* Environment. */
    char *env[] = {"env", NULL};
    char *small_environment[] = {"SPAWNED=yes", NULL};
    status = run("/usr/bin/env", 0, env, small_environment, NULL, NULL, output, sizeof output, &result);
    CHECK(result == 0 && strcmp(output, "SPAWNED=yes\n") == 0);

    /* addopen: stdin from a file; addchdir_np. */
    char directory[] = "/tmp/minilibc-spawn-XXXXXX";
    CHECK(mkdtemp(directory) != NULL);
    char file[64];
    snprintf(file, sizeof file, "%s/input", directory);
    int fd = open(file, O_CREAT | O_WRONLY, 0644);
    CHECK(write(fd, "from a file\n", 12) == 12);
    close(fd);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, file, O_RDONLY, 0);
    char *cat[] = {"cat", NULL};
    status = run("/bin/cat", 0, cat, environ, &actions, NULL, output, sizeof output, &result);
    CHECK(result == 0 && strcmp(output, "from a file\n") == 0);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, directory);
    char *ls[] = {"ls", NULL};
    status = run("/bin/ls", 0, ls, environ, &actions, NULL, output, sizeof output, &result);
    CHECK(result == 0 && strcmp(output, "input\n") == 0);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/nonexistent/input", O_RDONLY, 0);
    CHECK(posix_spawn(&pid, "/bin/cat", &actions, NULL, cat, environ) == ENOENT);
    posix_spawn_file_actions_destroy(&actions);
    unlink(file);
    rmdir(directory);

    /* dup2 onto itself clears close-on-exec. */
    int fds[2];
    CHECK(pipe2(fds, O_CLOEXEC) == 0);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], fds[1]);
    char script[64];
    snprintf(script, sizeof script, "echo inherited >&%d", fds[1]);
    char *shell[] = {"sh", "-c", script, NULL};
    CHECK(posix_spawn(&pid, "/bin/sh", &actions, NULL, shell, environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    memset(output, 0, sizeof output);
    CHECK(read(fds[0], output, sizeof output - 1) == 10 && strcmp(output, "inherited\n") == 0);
    close(fds[0]);
    waitpid(pid, &status, 0);

    /* Attributes: a new process group. */
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    CHECK(posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP) == 0);
    CHECK(posix_spawnattr_setpgroup(&attributes, 0) == 0);
    short flags;
    pid_t group;
    CHECK(posix_spawnattr_getflags(&attributes, &flags) == 0 && flags == POSIX_SPAWN_SETPGROUP);
    CHECK(posix_spawnattr_getpgroup(&attributes, &group) == 0 && group == 0);
    char *sleeper[] = {"sleep", "1", NULL};
    CHECK(posix_spawn(&pid, "/bin/sleep", NULL, &attributes, sleeper, environ) == 0);
    CHECK(getpgid(pid) == pid && getpgid(pid) != getpgrp());
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    posix_spawnattr_destroy(&attributes);

    /* Signals: a blocked SIGUSR1 stays pending; an ignored one is inherited
     * unless reset to the default. */
    char *self_signal[] = {"sh", "-c", "kill -USR1 $$; echo survived", NULL};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setsigmask(&attributes, &set);
    sigset_t check;
    CHECK(posix_spawnattr_getsigmask(&attributes, &check) == 0 && sigismember(&check, SIGUSR1));
    status = run("/bin/sh", 0, self_signal, environ, NULL, &attributes, output, sizeof output, &result);
    CHECK(result == 0 && WIFEXITED(status) && strcmp(output, "survived\n") == 0);
    posix_spawnattr_destroy(&attributes);
    signal(SIGUSR1, SIG_IGN);
    status = run("/bin/sh", 0, self_signal, environ, NULL, NULL, output, sizeof output, &result);
    CHECK(result == 0 && WIFEXITED(status) && strcmp(output, "survived\n") == 0);
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigdefault(&attributes, &set);
    status = run("/bin/sh", 0, self_signal, environ, NULL, &attributes, output, sizeof output, &result);
    CHECK(result == 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1 && output[0] == 0);
    posix_spawnattr_destroy(&attributes);
    signal(SIGUSR1, SIG_DFL);
    FINISH();
}
