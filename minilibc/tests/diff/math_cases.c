/* Math functions over ranges: prints "name input-bits result-bits" lines;
 * scripts/tests/minilibc-diff compares the two builds in ulps. */
#include <stdio.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "random.h"

static uint64_t bits_of(double value) { uint64_t bits; memcpy(&bits, &value, 8); return bits; }

/* The product is kept apart from the sum: aarch64's gcc would fuse them
 * (fmadd, one rounding) where x86_64's rounds twice, and both builds must
 * see the same inputs. */
static double random_in(double low, double high) {
    volatile double scaled = (high - low) * ((double)(next_random() >> 11) / 9007199254740992.0);
    return low + scaled;
}

#define UNARY(name, low, high) \
    for (int i = 0; i < 3000; i++) { double x = random_in(low, high); printf(#name " %016llx %016llx\n", (unsigned long long)bits_of(x), (unsigned long long)bits_of(name(x))); }
#define BINARY(name, low, high, low2, high2) \
    for (int i = 0; i < 3000; i++) { double x = random_in(low, high), y = random_in(low2, high2); \
        printf(#name " %016llx %016llx\n", (unsigned long long)(bits_of(x) ^ bits_of(y)), (unsigned long long)bits_of(name(x, y))); }

int main(void) {
    UNARY(sin, -10, 10) UNARY(cos, -10, 10) UNARY(tan, -1.5, 1.5) UNARY(asin, -1, 1) UNARY(acos, -1, 1) UNARY(atan, -100, 100)
    UNARY(sinh, -20, 20) UNARY(cosh, -20, 20) UNARY(tanh, -5, 5) UNARY(exp, -700, 700) UNARY(exp2, -1000, 1000) UNARY(expm1, -5, 5)
    UNARY(log, 1e-300, 1e300) UNARY(log2, 1e-10, 1e10) UNARY(log10, 1e-10, 1e10) UNARY(log1p, -0.9, 10) UNARY(sqrt, 0, 1e10) UNARY(cbrt, -1e6, 1e6)
    UNARY(floor, -1e6, 1e6) UNARY(ceil, -1e6, 1e6) UNARY(round, -1e6, 1e6) UNARY(trunc, -1e6, 1e6) UNARY(fabs, -1e6, 1e6) UNARY(erf, -4, 4) UNARY(tgamma, 0.1, 20)
    BINARY(pow, 0.01, 100, -20, 20) BINARY(atan2, -10, 10, -10, 10) BINARY(fmod, -1e6, 1e6, 0.5, 1000) BINARY(hypot, -1e6, 1e6, -1e6, 1e6)
    for (int i = 0; i < 1000; i++) {
        double x = random_in(-1e9, 1e9);
        int exponent;
        double mantissa = frexp(x, &exponent), whole, fraction = modf(x, &whole);
        printf("frexp %016llx %016llx\n", (unsigned long long)bits_of(x), (unsigned long long)(bits_of(mantissa) + (unsigned)exponent));
        printf("ldexp %016llx %016llx\n", (unsigned long long)bits_of(x), (unsigned long long)bits_of(ldexp(mantissa, exponent)));
        printf("modf %016llx %016llx\n", (unsigned long long)bits_of(x), (unsigned long long)(bits_of(fraction) ^ bits_of(whole)));
    }
    return 0;
}
