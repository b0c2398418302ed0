/* A seeded PRNG shared by the differential tests, so the glibc build and
 * the minilibc build of a test see exactly the same cases. */
#ifndef TEST_RANDOM_H
#define TEST_RANDOM_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
static uint64_t random_state = 0;
/* TEST_SEED in the environment picks another case set (scripts/fuzz.d). */
static uint64_t next_random(void) {
    if (random_state == 0) {
        const char *seed = getenv("TEST_SEED");
        random_state = 0x9E3779B97F4A7C15ull ^ (seed ? strtoull(seed, NULL, 10) * 0x100000001B3ull : 0);
        if (random_state == 0) random_state = 1;
    }
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return random_state * 0x2545F4914F6CDD1Dull;
}
static uint64_t random_below(uint64_t limit) { return limit ? next_random() % limit : 0; }
static double random_double(void) {
    switch (random_below(8)) {
    case 0: { uint64_t bits = next_random(); double value; memcpy(&value, &bits, 8);
              if (value != value || value - value != 0) return 1.5; return value; }
    case 1: return (double)(int64_t)random_below(2000001) - 1000000.0;
    case 2: return ((double)(int64_t)next_random()) / (double)(1ull << random_below(64));
    case 3: { double value = 1.0; int power = (int)random_below(40) - 20;
              for (int i = 0; i < (power < 0 ? -power : power); i++) value = power < 0 ? value / 10 : value * 10;
              return random_below(2) ? value : -value; }
    case 4: return (double)random_below(1000) / 8.0;
    case 5: return (double)random_below(100000) / 1000.0 + 0.0005;
    case 6: { double values[] = {0.0, -0.0, 0.5, 1.5, 2.5, 9.5, 0.125, 1e300, 1e-300, 4.9e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 0.3};
              return values[random_below(sizeof values / sizeof values[0])]; }
    default: return (double)(int32_t)next_random() / 3.0;
    }
}
#endif
