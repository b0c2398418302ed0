#include <math.h>
#include "geometry.h"
double circle_area(double radius) { return M_PI * radius * radius; }
double hypotenuse(double a, double b) { return sqrt(a * a + b * b); }
