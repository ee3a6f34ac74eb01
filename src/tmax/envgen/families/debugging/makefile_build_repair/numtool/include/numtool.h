#ifndef NUMTOOL_H
#define NUMTOOL_H
extern int verbose;
long parse_numbers(const char *path, long *out, long max);
long sum_of(const long *v, long n);
long max_abs(const long *v, long n);
int digits_of(long x);
long rounded_norm(const long *v, long n);
#endif
