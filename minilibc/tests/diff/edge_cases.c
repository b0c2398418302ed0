/* Edge cases where minilibc once differed from glibc (regression tests):
 * a format ending in %, unknown conversions, scanf prefixes and sets,
 * strerror stability, fgets/getdelim boundaries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
static void printf_edges(void) {
  char b[256]; int r;
  r = snprintf(b, sizeof b, "abc%"); printf("1 %d [%s]\n", r, b);
  r = snprintf(b, sizeof b, "%y|%-5k|"); printf("2 %d [%s]\n", r, b);
  r = snprintf(b, sizeof b, "%lld %llx", -1LL, -1LL); printf("3 %d [%s]\n", r, b);
  r = snprintf(NULL, 0, "%d", 12345); printf("4 %d\n", r);
  r = snprintf(b, 3, "%s", "abcdef"); printf("5 %d [%s]\n", r, b);
  int n; r = sscanf("  42abc", "%d%n", &n, &n); printf("6 %d %d\n", r, n);
  char s1[10]; r = sscanf("hello", "%4s", s1); printf("7 %d %s\n", r, s1);
  double d; r = sscanf("nan inf", "%lf", &d); printf("8 %d %f\n", r, d);
  r = sscanf("0x", "%x", &n); printf("9 %d\n", r);
  r = sscanf("-", "%d", &n); printf("10 %d\n", r);
  r = sscanf("1e", "%lf", &d); printf("11 %d %g\n", r, d);
  { errno = 0; long value = strtol("  +0x", NULL, 16); printf("12 %ld %d\n", value, errno); }
  printf("14 %.3s|%-3c|%03d|% 05d|%+.0e|%#.3x|%#o\n", "abcdef", 'x', -5, 42, 12345.0, 0, 0);
  printf("15 %5.1s|%.0s|%c\n", "xyz", "abc", 0x141);
  printf("16 [%10.4f] [%-10.2e] [%+g] [% g]\n", -3.14159, 1e-10, 1e100, 0.0);
}
/* Reading, writing, seeking and ungetc on one stream. */
static void stream_edges(void) {
  const char *name = "edge_cases_stream.tmp";
  FILE *f = fopen(name, "w+"); fputs("0123456789", f);
  printf("1 %ld\n", ftell(f));
  /* Each call before the printf: the order a call's arguments are
   * evaluated in is unspecified (x86_64's gcc goes right to left,
   * aarch64's left to right). */
  fseek(f, 2, SEEK_SET); int got = fgetc(f); printf("2 %c %ld\n", got, ftell(f));
  fseek(f, 0, SEEK_CUR); fputs("AB", f); printf("3 %ld\n", ftell(f));
  fseek(f, 0, SEEK_SET); char b[32] = {0}; fread(b, 1, 20, f); printf("4 [%s] %d\n", b, feof(f));
  ungetc('Z', f); long at = ftell(f); printf("5 %ld %c\n", at, fgetc(f));
  fseek(f, 15, SEEK_SET); fputc('X', f); fseek(f, 0, SEEK_END); printf("6 %ld\n", ftell(f));
  rewind(f); memset(b, 0, sizeof b); printf("7 %zu\n", fread(b, 1, 32, f));
  for (int i = 0; i < 16; i++) printf("%02x", (unsigned char)b[i]); printf("\n");
  fclose(f);
  f = fopen(name, "a+"); printf("8 %ld\n", ftell(f)); fputs("tail", f); fseek(f, 0, SEEK_SET);
  got = fgetc(f); printf("9 %c %ld\n", got, ftell(f)); fputs("T2", f); fseek(f, 0, SEEK_END); printf("10 %ld\n", ftell(f)); fclose(f);
  f = fopen(name, "r"); got = fputc('x', f); printf("11 %d %d\n", got, ferror(f)); clearerr(f); fclose(f);
  f = fopen(name, "w"); fprintf(f, "%s", "xyz"); printf("13 %d\n", fileno(f) > 2); fclose(f);
  f = fopen(name, "r"); int c; while ((c = getc(f)) != EOF) putchar(c); printf(" 14 %d\n", getc(f)); fclose(f);
  f = fopen(name, "rb+"); printf("15 %d\n", fseek(f, -1, SEEK_SET)); printf("16 %ld\n", ftell(f)); fclose(f);
  unlink(name);
  printf("17 %d\n", fclose(fopen("/nonexistent/dir/file", "r") ? stdin : stdin) == 0 ? 0 : 1);
}

/* Positional arguments (%n$), including ones past the registers. */
static void positional_edges(void) {
  printf("%2$s %1$s!\n", "world", "hello");
  printf("%3$*1$.*2$f|%4$c|%3$e\n", 10, 3, 3.14159265, 'Z');
  printf("%1$d %1$x %1$o %2$Lf\n", 255, 2.5L);
  char b[64]; int n = snprintf(b, sizeof b, "%2$.*1$s|%3$s", 3, "abcdef", "xyz"); printf("%d %s\n", n, b);
  printf("%1$d %2$f %3$d %4$f %5$d %6$f %7$d %8$f %9$d %10$f %11$s\n", 1, 2.0, 3, 4.0, 5, 6.0, 7, 8.0, 9, 10.0, "eleven");
}

/* A line-buffered stream writes through its last newline only. */
static void line_buffer_edges(void) {
  const char *name = "edge_cases_line.tmp";
  FILE *f = fopen(name, "w+"); setvbuf(f, NULL, _IOLBF, 0); fputs("ab\ncd", f); fprintf(f, "%d\nxy", 5);
  FILE *g = fopen(name, "r"); char l[16] = {0}; size_t n = fread(l, 1, 15, g); printf("[%.*s] %zu\n", (int)n, l, n); fclose(g); fclose(f);
  g = fopen(name, "r"); n = fread(l, 1, 15, g); printf("[%.*s] %zu\n", (int)n, l, n); fclose(g); unlink(name);
}

int main(void) {
  printf_edges();
  line_buffer_edges();
  positional_edges();
  stream_edges();
  int a=0,b=0,r; char s[32]="", t[32]="";
  r = sscanf("12 34", "%d%*[ ]%d", &a, &b); printf("1 %d %d %d\n", r, a, b);
  r = sscanf("abc", "%[^]]", s); printf("2 %d %s\n", r, s);
  r = sscanf("a]b", "%[]a]", s); printf("3 %d %s\n", r, s);
  r = sscanf("x-y", "%[a-z-]", s); printf("4 %d %s\n", r, s);
  r = sscanf("  ", " %n", &a); printf("5 %d %d\n", r, a);
  r = sscanf("5", "%d %d", &a, &b); printf("6 %d\n", r);
  r = sscanf("", "%n", &a); printf("7 %d\n", r);
  r = sscanf("abc def", "%s%n %c", s, &a, t); printf("8 %d %s %d %c\n", r, s, a, t[0]);
  unsigned u; r = sscanf("-5", "%u", &u); printf("9 %d %u\n", r, u);
  long long ll; r = sscanf("99999999999999999999", "%lld", &ll); printf("10 %d %lld\n", r, ll);
  void *p; r = sscanf("0x1234", "%p", &p); printf("11 %d %p\n", r, p);
  float f; r = sscanf("3.4028236e38", "%f", &f); printf("12 %d %g\n", r, f);
  r = sscanf("1,2", "%d,%d", &a, &b); printf("13 %d %d %d\n", r, a, b);
  r = sscanf("%5", "%%%d", &a); printf("14 %d %d\n", r, a);
  errno=0; double d = strtod("0x1.fffffffffffffp1023", NULL); printf("15 %a %d\n", d, errno);
  errno=0; d = strtod("2.4703282292062328e-324", NULL); printf("16 %a %d\n", d, errno);
  errno=0; d = strtod("-0", NULL); printf("17 %g %d\n", d, errno);
  errno=0; unsigned long ul = strtoul("18446744073709551616", NULL, 0); printf("18 %lu %d\n", ul, errno);
  errno=0; long l = strtol("-9223372036854775809", NULL, 0); printf("19 %ld %d\n", l, errno);
  printf("20 %s|%s\n", strerror(0), strerror(12345));
  FILE *fp = fopen("edge_cases.tmp", "w+"); fputs("line1\nline2\nline3", fp); rewind(fp);
  char line[4]; while (fgets(line, sizeof line, fp)) printf("21 [%s]\n", line);
  printf("22 %d %d\n", feof(fp), ferror(fp)); fclose(fp);
  fp = fopen("edge_cases.tmp", "r"); char *buf=NULL; size_t cap=0; ssize_t n;
  while ((n = getdelim(&buf, &cap, 'n', fp)) > 0) printf("23 %zd [%s]\n", n, buf);
  free(buf); fclose(fp); unlink("edge_cases.tmp");
  printf("24 %d\n", printf(""));
  fprintf(stdout, "%s", ""); puts("25");
  return 0;
}
