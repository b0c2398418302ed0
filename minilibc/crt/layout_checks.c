/* Compile-time checks that minilibc's C headers agree with the layouts and
 * numbers the Rust side (src/c_abi, src/errno_table.rs) and the Linux back
 * end assume. scripts/mcc compiles this file when it builds libc.a, so a
 * header that drifts breaks the build instead of corrupting memory. */
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>

#define CHECK(condition) _Static_assert(condition, #condition)

/* Kernel records the Linux back end fills directly. */
CHECK(sizeof(struct stat) == 144 && offsetof(struct stat, st_size) == 48 && offsetof(struct stat, st_mtim) == 88);
CHECK(offsetof(struct dirent, d_reclen) == 16 && offsetof(struct dirent, d_type) == 18 && offsetof(struct dirent, d_name) == 19);
CHECK(sizeof(struct timespec) == 16 && sizeof(struct timeval) == 16);
CHECK(sizeof(struct utsname) == 390 && offsetof(struct utsname, nodename) == 65);
CHECK(sizeof(struct pollfd) == 8 && sizeof(fd_set) == 128 && sizeof(struct winsize) == 8);
CHECK(sizeof(struct rlimit) == 16 && sizeof(struct rusage) == 144);
/* termios: the kernel's record (36 bytes) is a prefix; posix.rs uses these offsets. */
CHECK(offsetof(struct termios, c_cflag) == 8 && offsetof(struct termios, c_lflag) == 12 && offsetof(struct termios, c_cc) == 17);
CHECK(VMIN == 6 && VTIME == 5 && NCCS >= 19);

/* Records the Rust edge defines with #[repr(C)]. */
CHECK(sizeof(struct sigaction) == 32 && offsetof(struct sigaction, sa_mask) == 8 && offsetof(struct sigaction, sa_flags) == 16 && offsetof(struct sigaction, sa_restorer) == 24);
CHECK(sizeof(sigset_t) == 8);
CHECK(sizeof(struct tm) == 56 && offsetof(struct tm, tm_gmtoff) == 40 && offsetof(struct tm, tm_zone) == 48);
CHECK(offsetof(struct lconv, int_frac_digits) == 80 && sizeof(struct lconv) == 96);
CHECK(sizeof(fpos_t) == 8);
CHECK(sizeof(struct passwd) == 48 && offsetof(struct passwd, pw_uid) == 16 && offsetof(struct passwd, pw_gecos) == 24);
CHECK(sizeof(struct group) == 32 && offsetof(struct group, gr_gid) == 16 && offsetof(struct group, gr_mem) == 24);
CHECK(sizeof(div_t) == 8 && sizeof(ldiv_t) == 16);
/* jmp_buf: 8 saved registers (aarch64: 22), then the sigsetjmp flag and
   mask (runtime.rs asm, JMP_BUF_REGISTERS). */
#if defined(__aarch64__)
CHECK(sizeof(jmp_buf) == 192 && offsetof(struct __jmp_buf_tag, __mask_saved) == 176 && offsetof(struct __jmp_buf_tag, __mask) == 184);
#else
CHECK(sizeof(jmp_buf) == 80 && offsetof(struct __jmp_buf_tag, __mask_saved) == 64 && offsetof(struct __jmp_buf_tag, __mask) == 72);
#endif

/* Numbers used by the Rust side. */
CHECK(EPERM == 1 && ENOENT == 2 && ESRCH == 3 && EINTR == 4 && EIO == 5 && EBADF == 9 && ECHILD == 10);
CHECK(EAGAIN == 11 && ENOMEM == 12 && EACCES == 13 && EEXIST == 17 && ENOTDIR == 20 && EISDIR == 21);
CHECK(EINVAL == 22 && ENOTTY == 25 && ENOSPC == 28 && ESPIPE == 29 && ERANGE == 34 && ENAMETOOLONG == 36);
CHECK(ENOSYS == 38 && EOVERFLOW == 75 && EILSEQ == 84);
CHECK(BUFSIZ == 8192 && _IOFBF == 0 && _IOLBF == 1 && _IONBF == 2 && EOF == -1);
CHECK(O_CREAT == 0100 && O_EXCL == 0200 && O_TRUNC == 01000 && O_APPEND == 02000 && O_CLOEXEC == 02000000 && O_DIRECTORY == 0200000);
CHECK(SA_SIGINFO == 4 && SA_RESTART == 0x10000000 && SIG_BLOCK == 0 && SIG_SETMASK == 2 && SIGABRT == 6);
CHECK(CLOCKS_PER_SEC == 1000000 && CLOCK_MONOTONIC == 1 && CLOCK_PROCESS_CPUTIME_ID == 2);
CHECK(LC_ALL == 6 && RAND_MAX == 2147483647);
/* posix_spawn's records, mirrored by src/c_abi/spawn.rs. */
#include <spawn.h>
CHECK(sizeof(posix_spawn_file_actions_t) == 80 && offsetof(posix_spawn_file_actions_t, __actions) == 8);
CHECK(sizeof(posix_spawnattr_t) == 152 && offsetof(posix_spawnattr_t, __process_group) == 4 && offsetof(posix_spawnattr_t, __default_signals) == 8 && offsetof(posix_spawnattr_t, __signal_mask) == 16);
/* File systems, the mount table and the process listing (src/c_abi/system.rs, platform ProcessRecord). */
#include <mntent.h>
#include <sys/procinfo.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
CHECK(sizeof(struct statfs) == 120 && offsetof(struct statfs, f_fsid) == 56 && offsetof(struct statfs, f_namelen) == 64 && offsetof(struct statfs, f_flags) == 80);
CHECK(sizeof(struct statvfs) == 112 && offsetof(struct statvfs, f_fsid) == 64 && offsetof(struct statvfs, f_namemax) == 80);
CHECK(sizeof(struct mntent) == 40 && offsetof(struct mntent, mnt_freq) == 32);
CHECK(sizeof(struct procinfo) == 368 && offsetof(struct procinfo, pi_tty) == 24 && offsetof(struct procinfo, pi_state) == 32 && offsetof(struct procinfo, pi_size) == 48 && offsetof(struct procinfo, pi_start) == 72 && offsetof(struct procinfo, pi_comm) == 80 && offsetof(struct procinfo, pi_args) == 112);
/* The signal frame's records (src/mach/frame.rs: the Mach back end writes
   them; on Linux the kernel's frame has the same layout up to uc_sigmask). */
#include <sys/ucontext.h>
#include <sys/time.h>
#include <sys/mman.h>
#include <sys/file.h>
CHECK(sizeof(siginfo_t) == 128 && offsetof(siginfo_t, si_addr) == 16 && offsetof(siginfo_t, si_pid) == 16 && offsetof(siginfo_t, si_uid) == 20 && offsetof(siginfo_t, si_status) == 24);
CHECK(sizeof(stack_t) == 24 && offsetof(stack_t, ss_size) == 16);
#if defined(__aarch64__)
CHECK(sizeof(mcontext_t) == 4384 && offsetof(mcontext_t, regs) == 8 && offsetof(mcontext_t, sp) == 256 && offsetof(mcontext_t, pc) == 264 && offsetof(mcontext_t, pstate) == 272 && offsetof(mcontext_t, __reserved) == 288);
CHECK(sizeof(ucontext_t) == 4560 && offsetof(ucontext_t, uc_stack) == 16 && offsetof(ucontext_t, uc_sigmask) == 40 && offsetof(ucontext_t, uc_mcontext) == 176);
CHECK(sizeof(struct fpsimd_context) == 528 && offsetof(struct fpsimd_context, vregs) == 16);
#else
CHECK(sizeof(mcontext_t) == 256 && sizeof(struct _libc_fpstate) == 512);
CHECK(sizeof(ucontext_t) == 968 && offsetof(ucontext_t, uc_stack) == 16 && offsetof(ucontext_t, uc_mcontext) == 40 && offsetof(ucontext_t, uc_sigmask) == 296 && offsetof(ucontext_t, __fpregs_mem) == 424);
CHECK(REG_R8 == 0 && REG_RDI == 8 && REG_RSP == 15 && REG_RIP == 16 && REG_EFL == 17 && REG_CR2 == 22 && NGREG == 23);
#endif
CHECK(SS_ONSTACK == 1 && SS_DISABLE == 2 && MINSIGSTKSZ == 2048);
CHECK(SA_ONSTACK == 0x08000000 && SA_NODEFER == 0x40000000 && SA_RESETHAND == (int)0x80000000 && SA_NOCLDSTOP == 1 && SA_NOCLDWAIT == 2);
CHECK(SI_USER == 0 && SI_KERNEL == 0x80 && SI_TIMER == -2 && SEGV_MAPERR == 1 && SEGV_ACCERR == 2 && BUS_ADRERR == 2 && ILL_ILLOPC == 1 && FPE_INTDIV == 1 && TRAP_BRKPT == 1);
CHECK(CLD_EXITED == 1 && CLD_KILLED == 2 && CLD_DUMPED == 3 && CLD_STOPPED == 5 && CLD_CONTINUED == 6);
CHECK(sizeof(struct itimerval) == 32 && offsetof(struct itimerval, it_value) == 16 && ITIMER_REAL == 0);
CHECK(MS_ASYNC == 1 && MS_INVALIDATE == 2 && MS_SYNC == 4 && LOCK_SH == 1 && LOCK_EX == 2 && LOCK_NB == 4 && LOCK_UN == 8);
CHECK(sizeof(struct flock) == 32 && offsetof(struct flock, l_start) == 8 && offsetof(struct flock, l_len) == 16 && offsetof(struct flock, l_pid) == 24);
#include <semaphore.h>
CHECK(sizeof(sem_t) == 32 && offsetof(sem_t, __waiters) == 4);
