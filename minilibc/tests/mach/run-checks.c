/* Runs check programs one after the other inside Mach_R, for
 * scripts/tests/minilibc-mach:
 *
 *   run-checks -d DIRECTORY -o RESULTS [-t TERMINAL-NAME] [-e NAME=VALUE]... NAME...
 *
 * runs DIRECTORY/NAME for each NAME, with no arguments, DIRECTORY as its
 * working directory and TZ=UTC (and each -e) in its environment, its
 * standard output and error going to RESULTS/NAME.out (standard input
 * stays the console). A NAME of the form LABEL=PROGRAM,ARGUMENT,... runs
 * DIRECTORY/PROGRAM with those arguments, its results under LABEL. The
 * program named by -t runs as the leader of a session of its own whose
 * controlling terminal is the console (its standard input /dev/console
 * opened afresh), as a program run by a shell on a terminal is; on Linux
 * script(1)'s pseudo-terminal gives it the same. Then
 * writes RESULTS/NAME.status ("exit N" or "signal N") and says the same on
 * the console. RESULTS is made if missing. Everything is synced to the disk
 * at the end, where the host reads it back with debugfs after the clean
 * power-off. Exits 0 when every program exited 0. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_status(const char *results, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.status", results, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        write(fd, text, strlen(text));
        close(fd);
    }
}

int main(int argc, char **argv) {
    const char *directory = "/bin";
    const char *results = "/results";
    const char *terminal_program = "";
    enum { SETTINGS_MAX = 16, ARGUMENTS_MAX = 16 };
    char *environment[SETTINGS_MAX + 4] = {"TZ=UTC", "PATH=/bin:/usr/bin", "HOME=/"};
    int settings = 3;
    int first = 1;
    while (first + 1 < argc && argv[first][0] == '-') {
        if (strcmp(argv[first], "-d") == 0) directory = argv[first + 1];
        else if (strcmp(argv[first], "-o") == 0) results = argv[first + 1];
        else if (strcmp(argv[first], "-t") == 0) terminal_program = argv[first + 1];
        else if (strcmp(argv[first], "-e") == 0 && settings < SETTINGS_MAX + 3) environment[settings++] = argv[first + 1];
        else break;
        first += 2;
    }
    environment[settings] = NULL;
    mkdir(results, 0755);
    int failures = 0;
    for (int index = first; index < argc; index++) {
        /* LABEL=PROGRAM,ARGUMENT,...: the words after '=' (made in place). */
        char *name = argv[index], *program = name, *arguments[ARGUMENTS_MAX + 1] = {name, NULL};
        char *equals = strchr(name, '=');
        if (equals) {
            *equals = '\0';
            program = equals + 1;
            int count = 0;
            for (char *word = strtok(program, ","); word && count < ARGUMENTS_MAX; word = strtok(NULL, ",")) arguments[count++] = word;
            arguments[count] = NULL;
        }
        char path[512], output[512], status_text[64];
        snprintf(path, sizeof path, "%s/%s", directory, program);
        snprintf(output, sizeof output, "%s/%s.out", results, name);
        pid_t child = fork();
        if (child == 0) {
            int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(directory) != 0) _exit(126);
            close(fd);
            if (strcmp(name, terminal_program) == 0) {
                /* A session leader without a terminal that opens one gets it. */
                int terminal = -1;
                if (setsid() < 0 || (terminal = open("/dev/console", O_RDWR)) < 0 || dup2(terminal, 0) < 0) _exit(125);
                if (terminal != 0) close(terminal);
            }
            execve(path, arguments, environment);
            _exit(127);
        }
        int status = 0;
        if (child < 0 || waitpid(child, &status, 0) != child) {
            snprintf(status_text, sizeof status_text, "lost\n");
            failures++;
        } else if (WIFEXITED(status)) {
            snprintf(status_text, sizeof status_text, "exit %d\n", WEXITSTATUS(status));
            failures += WEXITSTATUS(status) != 0;
        } else {
            snprintf(status_text, sizeof status_text, "signal %d\n", WTERMSIG(status));
            failures++;
        }
        write_status(results, name, status_text);
        printf("run-checks: %s: %s", name, status_text);
        fflush(stdout);
    }
    sync();
    return failures == 0 ? 0 : 1;
}
