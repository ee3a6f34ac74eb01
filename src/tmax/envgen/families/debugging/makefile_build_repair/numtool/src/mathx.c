#include <math.h>
#include "numtool.h"

int digits_of(long x) { return x > 0 ? (int)log10((double)x) + 1 : 1; }

long rounded_norm(const long *v, long n) {
    double r = 0;
    for (long i = 0; i < n; i++) r = hypot(r, (double)v[i]);
    return lround(r);
}
