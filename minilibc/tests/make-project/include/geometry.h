#ifndef GEOMETRY_H
#define GEOMETRY_H
double circle_area(double radius);
double hypotenuse(double a, double b);
#endif
