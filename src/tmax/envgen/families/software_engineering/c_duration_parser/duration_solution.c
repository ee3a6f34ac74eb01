#include <string.h>
#include "duration.h"
#define LEVEL {{ level }}
static const char *UNITS = "{{ units }}";
static const long long MULT[] = { {{- mult -}} };

static const char *digits(const char *p, long long *v) {  /* 1-12 digits, or NULL */
    int n = 0;
    for (*v = 0; *p >= '0' && *p <= '9'; p++) {
        if (++n > 12) return NULL;
        *v = *v * 10 + (*p - '0');
    }
    return n ? p : NULL;
}
/* components NUMBER UNIT with units from `units` in strictly increasing index order, up to `end` */
static int comps(const char *p, const char *end, const char *units, const long long *mult, int max, long long *t) {
    int last = -1, count = 0;
    long long v;
    while (p < end) {
        const char *u;
        if (!(p = digits(p, &v)) || p >= end || !*p || !(u = strchr(units, *p)) || u - units <= last) return -1;
        last = u - units;
        *t += v * mult[last];
        p++;
        if (++count > max) return -1;
    }
    return count;
}
static int iso(const char *p, long long *t) {
    static const long long W[] = {604800}, D[] = {86400}, HMS[] = {3600, 60, 1};
    const char *tpos = strchr(p, 'T'), *end = p + strlen(p);
    if (strchr(p, 'W')) return comps(p, end, "W", W, 1, t) == 1 ? DUR_OK : DUR_ERROR;
    if (comps(p, tpos ? tpos : end, "D", D, 1, t) < 0) return DUR_ERROR;
    if (tpos && comps(tpos + 1, end, "HMS", HMS, 3, t) < 1) return DUR_ERROR;
    return (tpos || p != end) ? DUR_OK : DUR_ERROR;
}
int parse_duration(const char *text, long long *seconds) {
    char buf[512];
    const char *p = text;
    size_t n;
    if (LEVEL >= 4) { while (*p == ' ' || *p == '\t') p++; }
    n = strlen(p);
    if (LEVEL >= 4) { while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--; }
    if (n >= sizeof buf) return DUR_ERROR;
    memcpy(buf, p, n);
    buf[n] = 0;
    p = buf;
    int neg = 0;
    if (LEVEL >= 3 && (*p == '+' || *p == '-')) neg = *p++ == '-';
    long long total = 0;
    if (LEVEL >= 4 && *p == 'P') {
        if (iso(p + 1, &total) != DUR_OK) return DUR_ERROR;
    } else if (comps(p, p + strlen(p), UNITS, MULT, LEVEL == 1 ? 1 : 5, &total) < 1) {
        return DUR_ERROR;
    }
    if (LEVEL >= 3 && total > 2147483647LL) return DUR_OVERFLOW;
    *seconds = neg ? -total : total;
    return DUR_OK;
}
