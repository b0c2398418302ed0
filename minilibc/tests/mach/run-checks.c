/* Runs check programs one after the other inside Mach_R and marks where
 * each one's output starts and how it ended, for scripts/tests/minilibc-mach
 * to cut the console's output apart and compare it with the same programs'
 * output on Linux:
 *
 *   run-checks [-d DIRECTORY] NAME...
 *
 * runs DIRECTORY/NAME (default /bin/NAME) for each NAME with no arguments,
 * from DIRECTORY as the working directory, printing "=== begin NAME" before
 * and "=== end NAME exit N" (or "signal N") after. Exits 0 when every
 * program exited 0. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *directory = "/bin";
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-d") == 0) {
        directory = argv[2];
        first = 3;
    }
    int failures = 0;
    for (int index = first; index < argc; index++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", directory, argv[index]);
        printf("=== begin %s\n", argv[index]);
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            char *arguments[] = {argv[index], NULL};
            if (chdir(directory) == 0) execv(path, arguments);
            printf("=== cannot run %s\n", path);
            fflush(stdout);
            _exit(127);
        }
        int status = 0;
        if (child < 0 || waitpid(child, &status, 0) != child) {
            printf("=== end %s lost\n", argv[index]);
            failures++;
            continue;
        }
        if (WIFEXITED(status)) {
            printf("=== end %s exit %d\n", argv[index], WEXITSTATUS(status));
            failures += WEXITSTATUS(status) != 0;
        } else {
            printf("=== end %s signal %d\n", argv[index], WTERMSIG(status));
            failures++;
        }
        fflush(stdout);
    }
    return failures == 0 ? 0 : 1;
}
