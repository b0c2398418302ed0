/* Terminal control on a pseudo-terminal (scripts/tests/minilibc-posix runs
 * it under script(1)): tcgetattr/tcsetattr, cfmakeraw, speeds, window
 * size, ttyname, foreground process group. Output is compared with glibc. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
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
    return 0;
}
