#include "duration.h"

int parse_duration(const char *text, long long *seconds) {
    (void)text;
    (void)seconds;
    return DUR_ERROR;  /* TODO */
}
