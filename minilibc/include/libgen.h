#ifndef _LIBGEN_H
#define _LIBGEN_H
#include <bits/types.h>
__MINILIBC_BEGIN
char *basename(char *path);
char *dirname(char *path);
__MINILIBC_END
#endif
