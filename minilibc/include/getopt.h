#ifndef _GETOPT_H
#define _GETOPT_H
#include <bits/types.h>
__MINILIBC_BEGIN
extern char *optarg;
extern int optind, opterr, optopt;
struct option {
    const char *name;
    int has_arg;
    int *flag;
    int val;
};
#define no_argument 0
#define required_argument 1
#define optional_argument 2
int getopt(int count, char *const arguments[], const char *options);
int getopt_long(int count, char *const arguments[], const char *options, const struct option *long_options, int *long_index);
__MINILIBC_END
#endif
