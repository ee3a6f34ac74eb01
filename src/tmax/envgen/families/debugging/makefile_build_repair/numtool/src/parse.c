#include <stdio.h>
#include "numtool.h"

long parse_numbers(const char *path, long *out, long max) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long n = 0;
    while (n < max && fscanf(f, "%ld", &out[n]) == 1) n++;
    if (verbose) fprintf(stderr, "read %ld numbers\n", n);
    fclose(f);
    return n;
}
