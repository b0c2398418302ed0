/* File systems and the system: statfs/statvfs, the mount table (mntent),
 * mount/umount errors, reboot's refusal of an unknown command, groups,
 * sync, the kernel log's size. Output is compared with glibc. (mount and
 * reboot are only called in ways that must fail.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "check.h"

int main(void) {
    struct statvfs vfs;
    struct statfs fs;
    CHECK(statvfs("/", &vfs) == 0 && vfs.f_bsize > 0 && vfs.f_blocks > 0 && vfs.f_bavail <= vfs.f_bfree);
    CHECK(statfs("/", &fs) == 0 && (unsigned long)fs.f_bsize == vfs.f_bsize && fs.f_blocks == vfs.f_blocks);
    CHECK(vfs.f_namemax == (unsigned long)fs.f_namelen && vfs.f_frsize > 0);
    int fd = open("/", O_RDONLY);
    struct statvfs by_fd;
    CHECK(fstatvfs(fd, &by_fd) == 0 && by_fd.f_blocks == vfs.f_blocks && by_fd.f_fsid == vfs.f_fsid);
    struct statfs fs_by_fd;
    CHECK(fstatfs(fd, &fs_by_fd) == 0 && fs_by_fd.f_type == fs.f_type);
    close(fd);
    CHECK(statvfs("/nonexistent/x", &vfs) == -1 && errno == ENOENT);
    CHECK(statvfs("/proc", &vfs) == 0 && statfs("/proc", &fs) == 0 && fs.f_type == 0x9fa0);

    /* A mount table of our own, with escapes, comments and short lines. */
    char table[] = "/tmp/minilibc-mtab-XXXXXX";
    int table_fd = mkstemp(table);
    const char *text = "# comment\n/dev/vda / ext2 rw,relatime 0 1\n\ntmpfs /mnt/with\\040space tmpfs rw,size=10k 0 0\nproc /proc proc ro\n";
    CHECK(write(table_fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(table_fd);
    FILE *stream = setmntent(table, "r");
    CHECK(stream != NULL);
    struct mntent *entry = getmntent(stream);
    CHECK(entry && strcmp(entry->mnt_fsname, "/dev/vda") == 0 && strcmp(entry->mnt_dir, "/") == 0 && strcmp(entry->mnt_type, "ext2") == 0 && entry->mnt_passno == 1);
    entry = getmntent(stream);
    CHECK(entry && strcmp(entry->mnt_dir, "/mnt/with space") == 0 && strcmp(entry->mnt_opts, "rw,size=10k") == 0);
    CHECK(entry && hasmntopt(entry, "size") == entry->mnt_opts + 3 && hasmntopt(entry, "siz") == NULL);
    struct mntent own;
    char buffer[256];
    entry = getmntent_r(stream, &own, buffer, sizeof buffer);
    CHECK(entry == &own && strcmp(own.mnt_fsname, "proc") == 0 && strcmp(own.mnt_opts, "ro") == 0 && own.mnt_freq == 0);
    CHECK(getmntent(stream) == NULL);
    CHECK(endmntent(stream) == 1);
    unlink(table);
    /* The system's own table (a system without one fails the checks, and
     * the program goes on). */
    FILE *system_table = setmntent("/proc/self/mounts", "r");
    CHECK(system_table != NULL);
    int mounts = 0, root = 0;
    while (system_table && (entry = getmntent(system_table)) != NULL) {
        mounts++;
        if (strcmp(entry->mnt_dir, "/") == 0) root = 1;
    }
    if (system_table) endmntent(system_table);
    CHECK(mounts > 0 && root);
    printf("mounts %d\n", mounts);

    /* Calls that must fail (nothing is mounted, nothing reboots). */
    char directory[] = "/tmp/minilibc-mount-XXXXXX";
    CHECK(mkdtemp(directory) != NULL);
    CHECK(mount("none", "/nonexistent/target", "tmpfs", 0, NULL) == -1 && errno == ENOENT);
    CHECK(umount2(directory, 0) == -1 && errno == EINVAL);
    CHECK(umount(directory) == -1 && errno == EINVAL);
    rmdir(directory);
    CHECK(reboot(0x12345678) == -1 && errno == EINVAL);

    /* Groups and the kernel log. */
    int count = getgroups(0, NULL);
    CHECK(count >= 0);
    gid_t groups[256];
    CHECK(getgroups(256, groups) == count);
    printf("groups %d\n", count);
    int listed = 256;
    CHECK(getgrouplist("root", 0, groups, &listed) >= 1 && groups[0] == 0);
    printf("grouplist %d\n", listed);
    int tiny = 0;
    CHECK(getgrouplist("root", 12345, groups, &tiny) == -1 && tiny >= 1);
    int size = klogctl(10, NULL, 0);
    CHECK(size > 0 || errno == EPERM);
    /* The superuser reads the kernel log (as Linux with dmesg_restrict; on
     * Mach_R through the console server): whole lines, the newest that fit. */
    if (getuid() == 0 && size > 0) {
        char *log = malloc(size);
        int read_all = klogctl(3, log, size);
        CHECK(read_all > 0 && read_all <= size && log[read_all - 1] == '\n');
        int half = klogctl(3, log, size / 2);
        CHECK(half > 0 && half <= size / 2 && log[half - 1] == '\n');
        free(log);
    }
    sync();
    CHECK(access("/", F_OK) == 0);
    FINISH();
}
