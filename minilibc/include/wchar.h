#ifndef _WCHAR_H
#define _WCHAR_H
#include <bits/types.h>
__MINILIBC_BEGIN
/* C locale only: see docs/minilibc.md. No wide-character stdio. */
typedef struct { unsigned int __state; } mbstate_t;
#define WEOF 0xffffffffU
#define WCHAR_MIN __WCHAR_MIN__
#define WCHAR_MAX __WCHAR_MAX__
size_t wcslen(const wchar_t *text);
int wcscmp(const wchar_t *left, const wchar_t *right);
int wcsncmp(const wchar_t *left, const wchar_t *right, size_t count);
wchar_t *wcscpy(wchar_t *__restrict destination, const wchar_t *__restrict source);
wchar_t *wcsncpy(wchar_t *__restrict destination, const wchar_t *__restrict source, size_t count);
wchar_t *wcscat(wchar_t *__restrict destination, const wchar_t *__restrict source);
wchar_t *wcschr(const wchar_t *text, wchar_t character);
wchar_t *wcsrchr(const wchar_t *text, wchar_t character);
wchar_t *wmemcpy(wchar_t *__restrict destination, const wchar_t *__restrict source, size_t count);
wchar_t *wmemmove(wchar_t *destination, const wchar_t *source, size_t count);
wchar_t *wmemset(wchar_t *destination, wchar_t character, size_t count);
int wmemcmp(const wchar_t *left, const wchar_t *right, size_t count);
wchar_t *wmemchr(const wchar_t *text, wchar_t character, size_t count);
wint_t btowc(int byte);
int wctob(wint_t character);
int mbsinit(const mbstate_t *state);
size_t mbrtowc(wchar_t *__restrict wide, const char *__restrict text, size_t length, mbstate_t *__restrict state);
size_t mbrlen(const char *__restrict text, size_t length, mbstate_t *__restrict state);
size_t wcrtomb(char *__restrict text, wchar_t character, mbstate_t *__restrict state);
__MINILIBC_END
#endif
