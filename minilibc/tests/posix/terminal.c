/* Terminal control on a pseudo-terminal (scripts/tests/minilibc-posix runs
 * it under script(1)): tcgetattr/tcsetattr, cfmakeraw, speeds, window
 * size, ttyname, foreground process group. Output is compared with glibc. */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <termios.h>
#include <sys/ioctl.h>
int main(void) {
    struct termios original, raw;
    struct winsize size;
    printf("isatty %d\n", isatty(0));
    printf("tcgetattr %d\n", tcgetattr(0, &original));
    raw = original;
    cfmakeraw(&raw);
    printf("raw flags %d %d\n", (raw.c_lflag & (ICANON | ECHO)) == 0, raw.c_cc[VMIN]);
    printf("tcsetattr %d\n", tcsetattr(0, TCSANOW, &raw));
    struct termios check;
    tcgetattr(0, &check);
    printf("applied %d\n", (check.c_lflag & ICANON) == 0);
    printf("restore %d\n", tcsetattr(0, TCSAFLUSH, &original));
    int speed_set = cfsetospeed(&raw, B9600);
    printf("speed set %d %d\n", speed_set, cfgetospeed(&raw) == B9600);
    printf("winsize %d\n", ioctl(0, TIOCGWINSZ, &size));
    printf("ttyname %d\n", ttyname(0) != NULL && strncmp(ttyname(0), "/dev/", 5) == 0);
    printf("pgrp %d\n", tcgetpgrp(0) > 0);
    /* A shell's foreground job: the child leads a new group that becomes the
     * terminal's foreground group before it runs. */
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addtcsetpgrp_np(&actions, 0);
    char *sleeper[] = {"sleep", "1", NULL};
    extern char **environ;
    pid_t child = -1, shell_group = getpgrp();
    int spawned = posix_spawn(&child, "/bin/sleep", &actions, &attributes, sleeper, environ);
    printf("spawn foreground %d %d\n", spawned, tcgetpgrp(0) == child);
    /* Take the terminal back (from the background: SIGTTOU ignored). */
    signal(SIGTTOU, SIG_IGN);
    int restored = tcsetpgrp(0, shell_group);
    printf("spawn restore %d %d\n", restored, tcgetpgrp(0) == shell_group);
    signal(SIGTTOU, SIG_DFL);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* A shell's way: its own close-on-exec copy of the terminal names it
     * (the child uses it before exec closes it). */
    int copy = fcntl(0, F_DUPFD_CLOEXEC, 10);
    posix_spawn_file_actions_t from_copy;
    posix_spawn_file_actions_init(&from_copy);
    posix_spawn_file_actions_addtcsetpgrp_np(&from_copy, copy);
    spawned = posix_spawn(&child, "/bin/sleep", &from_copy, &attributes, sleeper, environ);
    printf("spawn foreground close-on-exec %d %d\n", spawned, tcgetpgrp(0) == child);
    signal(SIGTTOU, SIG_IGN);
    restored = tcsetpgrp(0, shell_group);
    printf("spawn restore %d %d\n", restored, tcgetpgrp(0) == shell_group);
    signal(SIGTTOU, SIG_DFL);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    return 0;
}
