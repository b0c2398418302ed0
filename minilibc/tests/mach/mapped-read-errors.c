/* read(2) of a file whose blocks cannot be read gives EIO, also when
 * minilibc reads regular files from a mapping of the file's memory object
 * (a page the file server cannot supply is a memory error there, which the
 * memory-error landing turns back into a read through the server), and
 * nothing else changes: the bytes before a bad block read, SIGBUS caught or
 * blocked changes nothing for read(2), and a program's own mapping of the
 * same file still gets SIGBUS (POSIX's rule for a mapping). Run by
 * scripts/tests/mapped-read-errors with a second disk holding DIR's files:
 *   good.txt     "a good file\n"
 *   bad-first    3 KiB whose first block pointer is past the disk's end
 *   bad-second   8 KiB of 'm' whose fifth 1 KiB block (the second page) is
 * mounted at DIR. Prints one line per check and
 * "mapped-read-errors: N passed, M failed". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;
static void check(const char *name, int ok) {
    printf("%s %s\n", ok ? "ok" : "FAILED", name);
    if (ok) passed++; else failed++;
}

static char dir[128];
static const char *path(const char *name) {
    static char buffer[256];
    snprintf(buffer, sizeof buffer, "%s/%s", dir, name);
    return buffer;
}

/* read of NAME at its start: the count, errno in *error. */
static long read_start(const char *name, char *buffer, long count, int *error) {
    int fd = open(path(name), O_RDONLY);
    if (fd < 0) { *error = errno; return -2; }
    errno = 0;
    long got = read(fd, buffer, count);
    *error = errno;
    close(fd);
    return got;
}

static volatile sig_atomic_t handled;
static void on_bus(int signal) { (void)signal; handled++; }

int main(int argc, char **argv) {
    const char *device = argc > 1 ? argv[1] : "/dev/vdb";
    snprintf(dir, sizeof dir, "%s", argc > 2 ? argv[2] : "/tmp/second");
    mkdir(dir, 0755);
    check("the damaged disk mounts", mount(device, dir, "ext2", MS_RDONLY, 0) == 0);
    static char buffer[16384];
    int error = 0;

    long got = read_start("good.txt", buffer, sizeof buffer, &error);
    check("a good file reads", got == 12 && memcmp(buffer, "a good file\n", 12) == 0);

    got = read_start("bad-first", buffer, 4096, &error);
    check("a file whose first block is bad: read gives -1 and EIO", got == -1 && error == EIO);
    got = read_start("bad-first", buffer, 4096, &error);
    check("again, the same (the process lives on)", got == -1 && error == EIO);

    int fd = open(path("bad-second"), O_RDONLY);
    got = read(fd, buffer, 4096);
    int good = got == 4096;
    for (int i = 0; good && i < 4096; i++) good = buffer[i] == 'm';
    check("the page before a bad block reads", good);
    errno = 0;
    got = read(fd, buffer, 4096);
    check("the page with the bad block: -1 and EIO", got == -1 && errno == EIO);
    close(fd);
    fd = open(path("bad-second"), O_RDONLY);
    errno = 0;
    got = read(fd, buffer, 8192);
    check("one read across the bad block: the bytes before it, or EIO",
          (got == -1 && errno == EIO) || (got > 0 && got <= 4096 && buffer[0] == 'm'));
    close(fd);

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_bus;
    sigaction(SIGBUS, &action, 0);
    got = read_start("bad-first", buffer, 4096, &error);
    check("SIGBUS caught: read still gives EIO, the handler does not run", got == -1 && error == EIO && handled == 0);
    action.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &action, 0);
    sigset_t bus, old;
    sigemptyset(&bus);
    sigaddset(&bus, SIGBUS);
    sigprocmask(SIG_BLOCK, &bus, &old);
    got = read_start("bad-first", buffer, 4096, &error);
    check("SIGBUS blocked: read still gives EIO", got == -1 && error == EIO);
    sigprocmask(SIG_SETMASK, &old, 0);

    /* The program's own mapping keeps POSIX's SIGBUS. */
    fflush(stdout);
    int pid = fork();
    if (pid == 0) {
        int file = open(path("bad-first"), O_RDONLY);
        volatile char *mapped = mmap(0, 4096, PROT_READ, MAP_SHARED, file, 0);
        if (mapped == MAP_FAILED) _exit(2);
        char first = mapped[0];
        (void)first;
        _exit(3);
    }
    int status = 0;
    check("a mapping of the bad page: the reader gets SIGBUS",
          pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);

    got = read_start("good.txt", buffer, sizeof buffer, &error);
    check("the good file still reads", got == 12 && memcmp(buffer, "a good file\n", 12) == 0);
    check("the disk unmounts", umount(dir) == 0);
    printf("mapped-read-errors: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
