#include "numtool.h"

long sum_of(const long *v, long n) {
    long s = 0;
    for (long i = 0; i < n; i++) s += v[i];
    return s;
}

long max_abs(const long *v, long n) {
    long m = 0;
    for (long i = 0; i < n; i++) { long a = v[i] < 0 ? -v[i] : v[i]; if (a > m) m = a; }
    return m;
}
