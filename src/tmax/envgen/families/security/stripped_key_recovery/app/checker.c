#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
static const unsigned char ENC[] = { {{- enc -}} };
static const char *DECOYS[] = { {{- decoys -}} };
static uint32_t fnv(const char *s, uint32_t h) { while (*s) { h ^= (unsigned char)*s++; h *= 16777619u; } return h; }
static uint32_t mix(uint32_t x) { x *= 2654435761u; x ^= x >> 15; x *= 2246822519u; x ^= x >> 13; return x; }
static int check(const char *s) {
    size_t n = sizeof ENC;
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)(s[i] ^ (unsigned char)({{ key }}u + {{ step }}u * i)) != ENC[{{ index }}]) return 0;
    return 1;
}
int main(int argc, char **argv) {
    if (argc < {{ argc }}) { fprintf(stderr, "usage: %s PASSPHRASE{{ pin_usage }}\n", argv[0]); return 64; }
    for (size_t i = 0; i < sizeof DECOYS / sizeof *DECOYS; i++)
        if (strcmp(argv[1], DECOYS[i]) == 0) { puts("ACCESS DENIED (this attempt was logged)"); return 1; }
    if (!check(argv[1])) { puts("ACCESS DENIED"); return 1; }
    uint32_t h = fnv(argv[1], 2166136261u);
    if ({{ use_pin }}) {
        uint32_t pin = (uint32_t)strtoul(argv[2], 0, 10);
        if (mix(pin) != {{ target }}u) { puts("BAD PIN"); return 2; }
        h = (h ^ pin) * 16777619u;
    }
    printf("ACCESS GRANTED FLAG{%08x}\n", h);
    return 0;
}
