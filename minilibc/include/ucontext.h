#ifndef _UCONTEXT_H
#define _UCONTEXT_H
/* The types only: getcontext, setcontext, makecontext and swapcontext are
   not provided. */
#include <sys/ucontext.h>
#endif
