/* POSIX semaphores: counting, waiting with and without a deadline, shared
 * between processes in shared memory and by name, interrupted by a signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static void on_alarm(int number) { (void)number; }

static void nap(long milliseconds) {
    struct timespec time = { milliseconds / 1000, (milliseconds % 1000) * 1000000 };
    nanosleep(&time, NULL);
}

int main(void) {
    sem_t local;
    int value = -1;
    CHECK(sem_init(&local, 0, 2) == 0);
    CHECK(sem_trywait(&local) == 0 && sem_trywait(&local) == 0);
    CHECK(sem_trywait(&local) == -1 && errno == EAGAIN);
    CHECK(sem_post(&local) == 0 && sem_getvalue(&local, &value) == 0 && value == 1);
    CHECK(sem_wait(&local) == 0 && sem_getvalue(&local, &value) == 0 && value == 0);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 50000000;
    if (deadline.tv_nsec >= 1000000000) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000; }
    CHECK(sem_timedwait(&local, &deadline) == -1 && errno == ETIMEDOUT);
    deadline.tv_nsec = 1000000000;
    CHECK(sem_timedwait(&local, &deadline) == -1 && errno == EINVAL);
    CHECK(sem_init(&local, 0, (unsigned)SEM_VALUE_MAX + 1) == -1 && errno == EINVAL);
    CHECK(sem_destroy(&local) == 0);

    /* In memory shared with a child: the child's post wakes the parent. */
    sem_t *shared = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED && sem_init(shared, 1, 0) == 0);
    pid_t child = fork();
    if (child == 0) {
        nap(100);
        sem_post(shared);
        _exit(0);
    }
    CHECK(sem_wait(shared) == 0);
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
    /* And the other way: the parent posts twice, the child takes both. */
    child = fork();
    if (child == 0) {
        int taken = (sem_wait(shared) == 0) + (sem_wait(shared) == 0);
        _exit(taken);
    }
    nap(50);
    sem_post(shared);
    sem_post(shared);
    CHECK(waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 2);

    /* By name. */
    sem_unlink("/minilibc-check");
    sem_t *named = sem_open("/minilibc-check", O_CREAT | O_EXCL, 0600, 1);
    CHECK(named != SEM_FAILED);
    CHECK(sem_open("/minilibc-check", O_CREAT | O_EXCL, 0600, 1) == SEM_FAILED && errno == EEXIST);
    CHECK(sem_open("/no-such-semaphore-here", 0) == SEM_FAILED && errno == ENOENT);
    CHECK(sem_open("/a/b", O_CREAT, 0600, 1) == SEM_FAILED && errno == EINVAL);
    CHECK(sem_trywait(named) == 0);
    child = fork();
    if (child == 0) {
        sem_t *again = sem_open("/minilibc-check", 0);
        int posted = again != SEM_FAILED && sem_post(again) == 0 && sem_close(again) == 0;
        _exit(posted);
    }
    CHECK(sem_wait(named) == 0);
    CHECK(waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 1);
    sem_t *reopened = sem_open("/minilibc-check", O_CREAT, 0600, 5);
    CHECK(reopened != SEM_FAILED && sem_getvalue(reopened, &value) == 0 && value == 0);
    CHECK(sem_close(reopened) == 0 && sem_close(named) == 0);
    CHECK(sem_unlink("/minilibc-check") == 0);
    CHECK(sem_unlink("/minilibc-check") == -1 && errno == ENOENT);

    /* A handler without SA_RESTART interrupts a wait. */
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    action.sa_flags = 0;
    sigaction(SIGALRM, &action, NULL);
    sem_init(&local, 0, 0);
    struct itimerval once = { { 0, 0 }, { 0, 100000 } };
    setitimer(ITIMER_REAL, &once, NULL);
    CHECK(sem_wait(&local) == -1 && errno == EINTR);
    FINISH();
}
