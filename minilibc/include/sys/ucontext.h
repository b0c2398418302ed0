#ifndef _SYS_UCONTEXT_H
#define _SYS_UCONTEXT_H
#include <bits/types.h>
#include <signal.h>
__MINILIBC_BEGIN
#if defined(__aarch64__)
/* The aarch64 machine context a SA_SIGINFO handler's third argument points
   at (glibc's layout): uc_mcontext.pc is where the signal interrupted the
   thread, regs[0..30] x0..x30, and __reserved holds the FP/SIMD state as
   Linux's fpsimd_context record. A handler may change the registers and
   the mask it returns to. crt/layout_checks.c checks the offsets against
   minilibc's Rust side (mach/frame_aarch64.rs). */
typedef unsigned long greg_t;
typedef struct {
    unsigned long long fault_address;
    unsigned long long regs[31];
    unsigned long long sp;
    unsigned long long pc;
    unsigned long long pstate;
    unsigned char __reserved[4096] __attribute__((__aligned__(16)));
} mcontext_t;
#define FPSIMD_MAGIC 0x46508001
struct _aarch64_ctx {
    unsigned int magic;
    unsigned int size;
};
struct fpsimd_context {
    struct _aarch64_ctx head;
    unsigned int fpsr;
    unsigned int fpcr;
    __uint128_t vregs[32];
};
typedef struct ucontext_t {
    unsigned long uc_flags;
    struct ucontext_t *uc_link;
    stack_t uc_stack;
    sigset_t uc_sigmask;
    unsigned long __sigmask_rest[15];
    mcontext_t uc_mcontext;
} ucontext_t;
#else
/* The x86_64 machine context a SA_SIGINFO handler's third argument points
   at (glibc's layout, which is also the Linux kernel's signal frame):
   uc_mcontext.gregs[REG_RIP] is where the signal interrupted the thread
   (the faulting instruction for SIGSEGV), and a handler may change the
   registers and the mask it returns to. crt/layout_checks.c checks the
   offsets against minilibc's Rust side (mach/frame.rs). */
typedef long long greg_t;
#define NGREG 23
typedef greg_t gregset_t[NGREG];
enum {
    REG_R8 = 0,
#define REG_R8 REG_R8
    REG_R9,
#define REG_R9 REG_R9
    REG_R10,
#define REG_R10 REG_R10
    REG_R11,
#define REG_R11 REG_R11
    REG_R12,
#define REG_R12 REG_R12
    REG_R13,
#define REG_R13 REG_R13
    REG_R14,
#define REG_R14 REG_R14
    REG_R15,
#define REG_R15 REG_R15
    REG_RDI,
#define REG_RDI REG_RDI
    REG_RSI,
#define REG_RSI REG_RSI
    REG_RBP,
#define REG_RBP REG_RBP
    REG_RBX,
#define REG_RBX REG_RBX
    REG_RDX,
#define REG_RDX REG_RDX
    REG_RAX,
#define REG_RAX REG_RAX
    REG_RCX,
#define REG_RCX REG_RCX
    REG_RSP,
#define REG_RSP REG_RSP
    REG_RIP,
#define REG_RIP REG_RIP
    REG_EFL,
#define REG_EFL REG_EFL
    REG_CSGSFS,
#define REG_CSGSFS REG_CSGSFS
    REG_ERR,
#define REG_ERR REG_ERR
    REG_TRAPNO,
#define REG_TRAPNO REG_TRAPNO
    REG_OLDMASK,
#define REG_OLDMASK REG_OLDMASK
    REG_CR2
#define REG_CR2 REG_CR2
};
struct _libc_fpxreg {
    unsigned short significand[4];
    unsigned short exponent;
    unsigned short __reserved1[3];
};
struct _libc_xmmreg {
    unsigned int element[4];
};
/* The fxsave image of the interrupted x87/SSE state. */
struct _libc_fpstate {
    unsigned short cwd;
    unsigned short swd;
    unsigned short ftw;
    unsigned short fop;
    unsigned long rip;
    unsigned long rdp;
    unsigned int mxcsr;
    unsigned int mxcr_mask;
    struct _libc_fpxreg _st[8];
    struct _libc_xmmreg _xmm[16];
    unsigned int __reserved1[24];
};
typedef struct _libc_fpstate *fpregset_t;
typedef struct {
    gregset_t gregs;
    fpregset_t fpregs;
    unsigned long long __reserved1[8];
} mcontext_t;
typedef struct ucontext_t {
    unsigned long uc_flags;
    struct ucontext_t *uc_link;
    stack_t uc_stack;
    mcontext_t uc_mcontext;
    sigset_t uc_sigmask;
    unsigned long __sigmask_rest[15];
    struct _libc_fpstate __fpregs_mem;
    unsigned long long __ssp[4];
} ucontext_t;
#endif
__MINILIBC_END
#endif
