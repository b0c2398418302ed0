#include <stdio.h>
#include "geometry.h"
int main(void) {
    printf("%s: area %.4f hypotenuse %.1f\n", GREETING, circle_area(2.0), hypotenuse(3.0, 4.0));
    return 0;
}
