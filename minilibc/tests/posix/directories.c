/* Directories: mkdir, chdir/getcwd, readdir, scandir, rmdir. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "check.h"

static int not_hidden(const struct dirent *entry) { return entry->d_name[0] != '.'; }

int main(void) {
    char directory[] = "/tmp/minilibc-dirs-XXXXXX";
    CHECK(mkdtemp(directory) != NULL);
    CHECK(chdir(directory) == 0);
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, directory) == 0);
    CHECK(getcwd(cwd, 3) == NULL && errno == ERANGE);
    char *allocated = getcwd(NULL, 0);
    CHECK(allocated && strcmp(allocated, directory) == 0);
    free(allocated);
    CHECK(mkdir("sub", 0755) == 0 && mkdir("sub", 0755) == -1 && errno == EEXIST);
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "sub/file%03d", i);
        int fd = open(name, O_CREAT | O_WRONLY, 0600);
        close(fd);
    }
    DIR *handle = opendir("sub");
    CHECK(handle != NULL);
    int files = 0, dots = 0;
    struct dirent *entry;
    while ((entry = readdir(handle))) {
        if (entry->d_name[0] == '.') dots++;
        else if (strncmp(entry->d_name, "file", 4) == 0 && entry->d_type == DT_REG) files++;
    }
    CHECK(files == 300 && dots == 2);
    rewinddir(handle);
    CHECK(readdir(handle) != NULL);
    CHECK(closedir(handle) == 0);
    CHECK(opendir("missing") == NULL && errno == ENOENT);
    struct dirent **list;
    int count = scandir("sub", &list, not_hidden, alphasort);
    CHECK(count == 300 && strcmp(list[0]->d_name, "file000") == 0 && strcmp(list[299]->d_name, "file299") == 0);
    for (int i = 0; i < count; i++) free(list[i]);
    free(list);
    CHECK(rmdir("sub") == -1 && errno == ENOTEMPTY);
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "sub/file%03d", i);
        unlink(name);
    }
    CHECK(chdir("sub") == 0 && chdir("..") == 0);
    CHECK(rmdir("sub") == 0);
    struct stat info;
    CHECK(stat(".", &info) == 0 && S_ISDIR(info.st_mode));
    char resolved[4096];
    CHECK(realpath(".", resolved) && strcmp(resolved, directory) == 0);
    CHECK(chdir("/") == 0 && rmdir(directory) == 0);
    FINISH();
}
