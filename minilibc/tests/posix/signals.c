/* Signals, setjmp/longjmp, abort, atexit ordering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <unistd.h>
#include <sys/wait.h>
#include "check.h"

static volatile sig_atomic_t received, received_info;
static sigjmp_buf escape;
static jmp_buf plain;

static void on_signal(int number) { received = number; }
static void on_info(int number, siginfo_t *info, void *context) { (void)context; received_info = number * 100 + (info->si_signo == number); }
static void on_segv(int number) { (void)number; siglongjmp(escape, 9); }
static void on_exit_first(void) { printf("atexit second-registered runs first\n"); }
static void on_exit_second(void) { printf("atexit first-registered runs last\n"); }

static int depth(int level) {
    if (level == 0) longjmp(plain, 5);
    return depth(level - 1) + 1;
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    CHECK(sigaction(SIGUSR1, &action, NULL) == 0);
    CHECK(raise(SIGUSR1) == 0 && received == SIGUSR1);

    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_info;
    action.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR2, &action, NULL) == 0);
    CHECK(kill(getpid(), SIGUSR2) == 0 && received_info == SIGUSR2 * 100 + 1);

    struct sigaction old;
    CHECK(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == on_signal);
    CHECK(sigaction(SIGKILL, &action, NULL) == -1 && errno == EINVAL);

    sigset_t blocked, pending;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    CHECK(sigismember(&blocked, SIGUSR1) == 1 && sigismember(&blocked, SIGUSR2) == 0);
    CHECK(sigprocmask(SIG_BLOCK, &blocked, NULL) == 0);
    received = 0;
    raise(SIGUSR1);
    CHECK(received == 0 && sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1));
    CHECK(sigprocmask(SIG_UNBLOCK, &blocked, NULL) == 0 && received == SIGUSR1);

    CHECK(signal(SIGALRM, on_signal) != SIG_ERR);
    received = 0;
    alarm(1);
    pause();
    CHECK(received == SIGALRM);

    signal(SIGSEGV, on_segv);
    int jumped = sigsetjmp(escape, 1);
    if (jumped == 0) {
        volatile int *null_pointer = NULL;
        *null_pointer = 1;
    }
    CHECK(jumped == 9);

    volatile int counter = 0;
    int value = setjmp(plain);
    counter++;
    if (value == 0) depth(50);
    CHECK(value == 5 && counter == 2);

    pid_t child = fork();
    if (child == 0) {
        abort();
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    kill(child, SIGTERM);
    CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    CHECK(strcmp(strsignal(SIGINT), "Interrupt") == 0);
    CHECK(strcmp(strsignal(34), "Real-time signal 0") == 0 && strcmp(strsignal(64), "Real-time signal 30") == 0);
    CHECK(strcmp(strsignal(32), "Unknown signal 32") == 0 && strcmp(strsignal(65), "Unknown signal 65") == 0);
    CHECK(strcmp(strsignal(0), "Unknown signal 0") == 0 && strcmp(strsignal(-3), "Unknown signal -3") == 0);

    atexit(on_exit_second);
    atexit(on_exit_first);
    FINISH();
}
