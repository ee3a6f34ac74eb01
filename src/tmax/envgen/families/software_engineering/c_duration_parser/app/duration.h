#ifndef DURATION_H
#define DURATION_H
enum { DUR_OK = 0, DUR_ERROR = 1, DUR_OVERFLOW = 2 };
/* Parse text; on DUR_OK store the number of seconds in *seconds. */
int parse_duration(const char *text, long long *seconds);
#endif
