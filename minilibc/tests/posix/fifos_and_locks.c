/* FIFOs made with mkfifo and mknod, flock between processes, msync of a
 * shared file mapping, the ids (getresuid and the setuid family with the
 * ids one has). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

int main(void) {
    char directory[] = "/tmp/minilibc-fifoXXXXXX";
    CHECK(mkdtemp(directory) != NULL);
    char fifo[128], node[128], file[128];
    strcpy(fifo, directory); strcat(fifo, "/fifo");
    strcpy(node, directory); strcat(node, "/node");
    strcpy(file, directory); strcat(file, "/file");

    struct stat status;
    CHECK(mkfifo(fifo, 0600) == 0 && stat(fifo, &status) == 0 && S_ISFIFO(status.st_mode));
    CHECK(mkfifo(fifo, 0600) == -1 && errno == EEXIST);
    CHECK(mknod(node, S_IFIFO | 0640, 0) == 0 && stat(node, &status) == 0 && S_ISFIFO(status.st_mode));
    CHECK((status.st_mode & 0777) == (0640 & ~022));
    pid_t child = fork();
    if (child == 0) {
        int writer = open(fifo, O_WRONLY);
        _exit(writer >= 0 && write(writer, "through", 7) == 7 ? 0 : 1);
    }
    int reader = open(fifo, O_RDONLY);
    char text[16] = { 0 };
    CHECK(reader >= 0 && read(reader, text, sizeof text) == 7 && strcmp(text, "through") == 0);
    int code;
    CHECK(waitpid(child, &code, 0) == child && WEXITSTATUS(code) == 0);
    close(reader);
    CHECK(open(fifo, O_WRONLY | O_NONBLOCK) == -1 && errno == ENXIO);

    /* flock: the child's non-blocking exclusive lock fails while the parent holds one. */
    int fd = open(file, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
    int to_child[2], to_parent[2];
    pipe(to_child);
    pipe(to_parent);
    child = fork();
    if (child == 0) {
        int other = open(file, O_RDWR);
        int refused = flock(other, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK;
        write(to_parent[1], "1", 1);
        char go;
        read(to_child[0], &go, 1);
        int granted = flock(other, LOCK_EX | LOCK_NB) == 0;
        _exit(refused * 2 + granted);
    }
    char step;
    read(to_parent[0], &step, 1);
    CHECK(flock(fd, LOCK_UN) == 0);
    write(to_child[1], "2", 1);
    CHECK(waitpid(child, &code, 0) == child && WEXITSTATUS(code) == 3);

    /* msync: what is written through a shared mapping reaches the file. */
    CHECK(ftruncate(fd, 4096) == 0);
    char *mapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(mapped != MAP_FAILED);
    memcpy(mapped + 10, "mapped", 6);
    CHECK(msync(mapped, 4096, MS_SYNC) == 0);
    char back[8] = { 0 };
    CHECK(pread(fd, back, 6, 10) == 6 && strcmp(back, "mapped") == 0);
    CHECK(munmap(mapped, 4096) == 0);
    close(fd);

    /* The ids. */
    uid_t real, effective, saved;
    gid_t group_real, group_effective, group_saved;
    CHECK(getresuid(&real, &effective, &saved) == 0 && real == getuid() && effective == geteuid());
    CHECK(getresgid(&group_real, &group_effective, &group_saved) == 0 && group_real == getgid() && group_effective == getegid());
    CHECK(setuid(getuid()) == 0 && seteuid(geteuid()) == 0);
    CHECK(setgid(getgid()) == 0 && setegid(getegid()) == 0);
    CHECK(setreuid(-1, -1) == 0 && setresuid(-1, -1, -1) == 0 && setresgid(-1, -1, -1) == 0);
    CHECK(getuid() == real);

    unlink(fifo);
    unlink(node);
    unlink(file);
    CHECK(rmdir(directory) == 0);
    FINISH();
}
