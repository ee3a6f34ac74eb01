#include <stdio.h>
#include <string.h>
#include "duration.h"

/* Reads one duration per line on stdin and prints its value in seconds, ERROR or OVERFLOW. */
int main(void) {
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        long long seconds = 0;
        int rc = parse_duration(line, &seconds);
        if (rc == DUR_OK) printf("%lld\n", seconds);
        else puts(rc == DUR_OVERFLOW ? "OVERFLOW" : "ERROR");
    }
    return 0;
}
