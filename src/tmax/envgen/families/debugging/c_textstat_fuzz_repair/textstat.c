/* textstat: for every line of standard input print one output line
 *   WORDS LONGEST VOWELS DIGITSUM PALINDROME CHECKSUM
 * Input lines are ASCII and at most 250 characters long. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAXLINE 256

static int is_sep(char c) { return c == ' ' || c == '\t'; }

/* number of words: maximal runs of characters that are neither a space nor a tab */
static int count_words(const char *s) {
    int n = 0, inword = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (is_sep(s[i])) inword = 0;
        else if (!inword) { inword = 1; n++; }
    }
    return n;
}

/* length of the longest word (0 when there is none) */
static int longest_word(const char *s) {
    int best = 0, cur = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (is_sep(s[i])) { if (cur > best) best = cur; cur = 0; }
        else cur++;
    }
    if (cur > best) best = cur;
    return best;
}

/* number of vowels a, e, i, o, u in either case */
static int count_vowels(const char *s) {
    int n = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        char c = (char)tolower((unsigned char)s[i]);
        if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') n++;
    }
    return n;
}

/* sum of the values of all decimal digits */
static int digit_sum(const char *s) {
    int sum = 0;
    for (size_t i = 0; s[i] != '\0'; i++)
        if (s[i] >= '0' && s[i] <= '9') sum += s[i] - '0';
    return sum;
}

/* 1 when the letters and digits of the line, lower-cased, read the same backwards, else 0 */
static int is_palindrome(const char *s) {
    char buf[MAXLINE];
    size_t n = 0;
    for (size_t i = 0; s[i] != '\0'; i++)
        if (isalnum((unsigned char)s[i])) buf[n++] = (char)tolower((unsigned char)s[i]);
    for (size_t i = 0; i < n / 2; i++)
        if (buf[i] != buf[n - 1 - i]) return 0;
    return 1;
}

/* h = 0, then h = h * 31 + c for every byte c of the line, modulo 2^32 */
static uint32_t checksum(const char *s) {
    uint32_t h = 0;
    for (size_t i = 0; s[i] != '\0'; i++) h = h * 31u + (unsigned char)s[i];
    return h;
}

int main(void) {
    char line[MAXLINE];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        printf("%d %d %d %d %d %u\n", count_words(line), longest_word(line), count_vowels(line),
               digit_sum(line), is_palindrome(line), (unsigned)checksum(line));
    }
    return 0;
}
