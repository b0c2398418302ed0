/* The program bench.c's fork_exec test runs on Mach_R (the counterpart of
 * /work/shared/bench/exit0.c, which is Linux's exit_group system call and
 * nothing else): built with scripts/mcc, so it pays for what any Mach_R
 * program pays before main (the crt reading its start block and ports)
 * and ends with _exit, the process server's exit request. */
#include <unistd.h>

int main(void) {
    _exit(0);
}
