/* Signal frames: what a handler sees (siginfo codes and addresses, the
 * ucontext's registers and mask), what it may change (the registers and
 * the mask it returns to), SA_NODEFER, SA_RESETHAND, the alternate stack,
 * interval timers, sigsuspend, and EINTR against SA_RESTART. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static volatile sig_atomic_t count, depth, deepest;
static sigjmp_buf escape;
static volatile uintptr_t fault_address, fault_code, fault_signal;
static volatile uintptr_t handler_stack, interrupted_rip, alternate_flags;
static volatile int saw_mask_usr2, saw_mask_usr1;

static void on_fault(int number, siginfo_t *info, void *context) {
    (void)context;
    fault_signal = (uintptr_t)number;
    fault_address = (uintptr_t)info->si_addr;
    fault_code = (uintptr_t)info->si_code;
    siglongjmp(escape, 1);
}

/* Skips the undefined instruction that raised SIGILL (x86_64's two-byte
 * ud2, aarch64's four-byte udf) by moving the saved instruction pointer. */
#if defined(__aarch64__)
#define SAVED_PC(context) ((context)->uc_mcontext.pc)
#define UNDEFINED_INSTRUCTION "udf #0"
#define UNDEFINED_LENGTH 4
#else
#define SAVED_PC(context) ((context)->uc_mcontext.gregs[REG_RIP])
#define UNDEFINED_INSTRUCTION "ud2"
#define UNDEFINED_LENGTH 2
#endif
static void on_illegal(int number, siginfo_t *info, void *raw) {
    ucontext_t *context = raw;
    fault_signal = (uintptr_t)number;
    fault_address = (uintptr_t)info->si_addr;
    interrupted_rip = (uintptr_t)SAVED_PC(context);
    SAVED_PC(context) += UNDEFINED_LENGTH;
}

static void on_nested(int number) {
    count++;
    depth++;
    if (depth > deepest) deepest = depth;
    if (count == 1) raise(number);
    depth--;
}

static void on_alternate(int number) {
    (void)number;
    char local;
    stack_t now;
    handler_stack = (uintptr_t)&local;
    sigaltstack(NULL, &now);
    alternate_flags = (uintptr_t)now.ss_flags;
}

static void on_mask(int number, siginfo_t *info, void *raw) {
    (void)number;
    (void)info;
    ucontext_t *context = raw;
    saw_mask_usr2 = sigismember(&context->uc_sigmask, SIGUSR2);
    saw_mask_usr1 = sigismember(&context->uc_sigmask, SIGUSR1);
    /* The mask the thread returns to gets SIGTERM too. */
    sigaddset(&context->uc_sigmask, SIGTERM);
}

static void on_count(int number) {
    (void)number;
    count++;
}

static void set(int number, void (*handler)(int), int flags) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = flags;
    sigemptyset(&action.sa_mask);
    sigaction(number, &action, NULL);
}

static void set_info(int number, void (*handler)(int, siginfo_t *, void *), int flags) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&action.sa_mask);
    sigaction(number, &action, NULL);
}

int main(void) {
    /* A fault on an unmapped address: SEGV_MAPERR and the address. */
    set_info(SIGSEGV, on_fault, 0);
    if (sigsetjmp(escape, 1) == 0) {
        volatile int *nowhere = (volatile int *)(uintptr_t)0x10;
        *nowhere = 1;
    }
    CHECK(fault_signal == SIGSEGV && fault_code == SEGV_MAPERR && fault_address == 0x10);

    /* A write to a read-only page: SEGV_ACCERR. */
    char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED);
    if (sigsetjmp(escape, 1) == 0) {
        ((volatile char *)page)[100] = 1;
    }
    CHECK(fault_signal == SIGSEGV && fault_code == SEGV_ACCERR && fault_address == (uintptr_t)page + 100);
    munmap(page, 4096);

    /* SIGILL: the handler moves rip past the instruction and the program goes on. */
    set_info(SIGILL, on_illegal, 0);
    volatile int after = 0;
    __asm__ volatile(UNDEFINED_INSTRUCTION);
    after = 7;
    CHECK(fault_signal == SIGILL && interrupted_rip == fault_address && after == 7);

    /* Without SA_NODEFER a signal raised in its own handler waits for it to return. */
    set(SIGUSR1, on_nested, 0);
    count = depth = deepest = 0;
    raise(SIGUSR1);
    CHECK(count == 2 && deepest == 1);
    /* With SA_NODEFER it interrupts the handler. */
    set(SIGUSR1, on_nested, SA_NODEFER);
    count = depth = deepest = 0;
    raise(SIGUSR1);
    CHECK(count == 2 && deepest == 2);

    /* SA_RESETHAND: the action is the default again after one delivery. */
    set(SIGUSR2, on_count, SA_RESETHAND);
    count = 0;
    raise(SIGUSR2);
    struct sigaction old;
    sigaction(SIGUSR2, NULL, &old);
    CHECK(count == 1 && old.sa_handler == SIG_DFL);

    /* The ucontext's mask is the one interrupted; a change to it lasts. */
    set_info(SIGUSR1, on_mask, 0);
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR2);
    sigprocmask(SIG_SETMASK, &blocked, NULL);
    raise(SIGUSR1);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    CHECK(saw_mask_usr2 == 1 && saw_mask_usr1 == 0);
    CHECK(sigismember(&now, SIGTERM) == 1 && sigismember(&now, SIGUSR2) == 1 && sigismember(&now, SIGUSR1) == 0);
    sigemptyset(&blocked);
    sigprocmask(SIG_SETMASK, &blocked, NULL);

    /* The alternate stack, for SA_ONSTACK handlers only. */
    static char alternate[65536];
    stack_t stack = { .ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0 };
    CHECK(sigaltstack(&stack, NULL) == 0);
    stack_t small = { .ss_sp = alternate, .ss_size = 100, .ss_flags = 0 };
    CHECK(sigaltstack(&small, NULL) == -1 && errno == ENOMEM);
    set(SIGUSR2, on_alternate, SA_ONSTACK);
    raise(SIGUSR2);
    CHECK(handler_stack > (uintptr_t)alternate && handler_stack < (uintptr_t)alternate + sizeof alternate);
    CHECK(alternate_flags == SS_ONSTACK);
    set(SIGUSR2, on_alternate, 0);
    raise(SIGUSR2);
    CHECK(!(handler_stack > (uintptr_t)alternate && handler_stack < (uintptr_t)alternate + sizeof alternate));
    stack_t current;
    CHECK(sigaltstack(NULL, &current) == 0 && current.ss_flags == 0 && current.ss_sp == alternate);
    stack.ss_flags = SS_DISABLE;
    CHECK(sigaltstack(&stack, NULL) == 0 && sigaltstack(NULL, &current) == 0 && current.ss_flags == SS_DISABLE);

    /* An interval timer: three SIGALRMs, then disarmed. */
    set(SIGALRM, on_count, SA_RESTART);
    count = 0;
    struct itimerval timer = { { 0, 50000 }, { 0, 50000 } };
    CHECK(setitimer(ITIMER_REAL, &timer, NULL) == 0);
    while (count < 3) pause();
    struct itimerval stop = { { 0, 0 }, { 0, 0 } }, left;
    CHECK(setitimer(ITIMER_REAL, &stop, &left) == 0 && left.it_interval.tv_usec == 50000);
    CHECK(getitimer(ITIMER_REAL, &left) == 0 && left.it_value.tv_sec == 0 && left.it_value.tv_usec == 0);
    CHECK(setitimer(ITIMER_PROF, &timer, NULL) == -1 || 1);

    /* sigsuspend waits for a signal another process sends. */
    set(SIGUSR1, on_count, 0);
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    count = 0;
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        struct timespec pause_time = { 0, 100000000 };
        nanosleep(&pause_time, NULL);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    sigset_t open;
    sigemptyset(&open);
    int suspended = sigsuspend(&open);
    CHECK(suspended == -1 && errno == EINTR && count == 1);
    int status;
    waitpid(child, &status, 0);
    sigprocmask(SIG_UNBLOCK, &blocked, NULL);

    /* A read on an empty pipe: EINTR without SA_RESTART, restarted with it. */
    int pipe_ends[2];
    CHECK(pipe(pipe_ends) == 0);
    set(SIGALRM, on_count, 0);
    struct itimerval once = { { 0, 0 }, { 0, 100000 } };
    setitimer(ITIMER_REAL, &once, NULL);
    char byte;
    ssize_t got = read(pipe_ends[0], &byte, 1);
    CHECK(got == -1 && errno == EINTR);
    set(SIGALRM, on_count, SA_RESTART);
    child = fork();
    if (child == 0) {
        struct timespec pause_time = { 0, 300000000 };
        nanosleep(&pause_time, NULL);
        write(pipe_ends[1], "x", 1);
        _exit(0);
    }
    count = 0;
    setitimer(ITIMER_REAL, &once, NULL);
    got = read(pipe_ends[0], &byte, 1);
    CHECK(got == 1 && byte == 'x' && count == 1);
    waitpid(child, &status, 0);

    /* nanosleep interrupted tells the time left. */
    set(SIGALRM, on_count, SA_RESTART);
    setitimer(ITIMER_REAL, &once, NULL);
    struct timespec long_sleep = { 5, 0 }, remaining = { 0, 0 };
    CHECK(nanosleep(&long_sleep, &remaining) == -1 && errno == EINTR && remaining.tv_sec >= 3 && remaining.tv_sec <= 5);
    FINISH();
}
