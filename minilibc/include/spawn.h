#ifndef _SPAWN_H
#define _SPAWN_H
#include <bits/types.h>
#include <signal.h>
__MINILIBC_BEGIN
/* posix_spawn: one request to the process server on Mach_R; fork, the
 * steps and exec on Linux. The scheduling attributes and
 * POSIX_SPAWN_RESETIDS are not supported (setflags answers EINVAL). */
struct __minilibc_spawn_action;
typedef struct {
    int __allocated;
    int __used;
    struct __minilibc_spawn_action *__actions;
    int __padding[16];
} posix_spawn_file_actions_t;
typedef struct {
    short __flags;
    pid_t __process_group;
    sigset_t __default_signals;
    sigset_t __signal_mask;
    int __padding[32];
} posix_spawnattr_t;
#define POSIX_SPAWN_RESETIDS 0x01
#define POSIX_SPAWN_SETPGROUP 0x02
#define POSIX_SPAWN_SETSIGDEF 0x04
#define POSIX_SPAWN_SETSIGMASK 0x08
#define POSIX_SPAWN_SETSCHEDPARAM 0x10
#define POSIX_SPAWN_SETSCHEDULER 0x20
#define POSIX_SPAWN_USEVFORK 0x40
#define POSIX_SPAWN_SETSID 0x80
int posix_spawn(pid_t *__restrict pid, const char *__restrict path, const posix_spawn_file_actions_t *actions,
                const posix_spawnattr_t *__restrict attributes, char *const arguments[__restrict],
                char *const environment[__restrict]);
int posix_spawnp(pid_t *__restrict pid, const char *__restrict file, const posix_spawn_file_actions_t *actions,
                 const posix_spawnattr_t *__restrict attributes, char *const arguments[__restrict],
                 char *const environment[__restrict]);
int posix_spawn_file_actions_init(posix_spawn_file_actions_t *actions);
int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *actions);
int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *__restrict actions, int fd,
                                     const char *__restrict path, int flags, mode_t mode);
int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *actions, int fd);
int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *actions, int fd, int new_fd);
int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *__restrict actions, const char *__restrict path);
int posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t *actions, int fd);
/* The child's process group becomes the foreground group of terminal `fd`
 * (as glibc 2.35's extension: a shell starting a foreground job). */
int posix_spawn_file_actions_addtcsetpgrp_np(posix_spawn_file_actions_t *actions, int fd);
int posix_spawnattr_init(posix_spawnattr_t *attributes);
int posix_spawnattr_destroy(posix_spawnattr_t *attributes);
int posix_spawnattr_getflags(const posix_spawnattr_t *__restrict attributes, short *__restrict flags);
int posix_spawnattr_setflags(posix_spawnattr_t *attributes, short flags);
int posix_spawnattr_getpgroup(const posix_spawnattr_t *__restrict attributes, pid_t *__restrict group);
int posix_spawnattr_setpgroup(posix_spawnattr_t *attributes, pid_t group);
int posix_spawnattr_getsigdefault(const posix_spawnattr_t *__restrict attributes, sigset_t *__restrict signals);
int posix_spawnattr_setsigdefault(posix_spawnattr_t *__restrict attributes, const sigset_t *__restrict signals);
int posix_spawnattr_getsigmask(const posix_spawnattr_t *__restrict attributes, sigset_t *__restrict mask);
int posix_spawnattr_setsigmask(posix_spawnattr_t *__restrict attributes, const sigset_t *__restrict mask);
__MINILIBC_END
#endif
