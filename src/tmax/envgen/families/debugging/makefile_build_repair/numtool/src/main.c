#include <stdio.h>
#include "numtool.h"

int verbose = 0;

int main(int argc, char **argv) {
    static long v[100000];
    if (argc != 2) { fprintf(stderr, "usage: numtool FILE\n"); return 2; }
    long n = parse_numbers(argv[1], v, 100000);
    if (n < 0) { perror(argv[1]); return 1; }
    long m = max_abs(v, n);
    printf("count %ld\nsum %ld\nmaxabs %ld\ndigits %d\nnorm %ld\n",
           n, sum_of(v, n), m, digits_of(m), rounded_norm(v, n));
    return 0;
}
