/*
 * Exact decimals for DT_NUMERIC and DT_DECIMAL: a signed 128-bit mantissa
 * and a scale, at most 38 digits (10^38 < 2^127, so every value fits the
 * mantissa; the sum of two may not, and is checked).  Rounding is half away from zero, as
 * ROUND(137.1575, 3) = 137.1580 in the SSIS documentation.
 *
 * Products are checked with a division instead of __builtin_mul_overflow:
 * clang lowers the 128-bit builtin to __muloti4, which libgcc lacks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "expr/expr_int.h"

#define P10(n) ((expr_i128)n)
#define E19 ((expr_i128)10000000000000000000ULL)

const expr_i128 expr_pow10[39] = {
    P10(1ULL),
    P10(10ULL),
    P10(100ULL),
    P10(1000ULL),
    P10(10000ULL),
    P10(100000ULL),
    P10(1000000ULL),
    P10(10000000ULL),
    P10(100000000ULL),
    P10(1000000000ULL),
    P10(10000000000ULL),
    P10(100000000000ULL),
    P10(1000000000000ULL),
    P10(10000000000000ULL),
    P10(100000000000000ULL),
    P10(1000000000000000ULL),
    P10(10000000000000000ULL),
    P10(100000000000000000ULL),
    P10(1000000000000000000ULL),
    E19,
    E19 * 10,
    E19 * 100,
    E19 * 1000,
    E19 * 10000,
    E19 * 100000,
    E19 * 1000000,
    E19 * 10000000,
    E19 * 100000000,
    E19 * 1000000000,
    E19 * 10000000000ULL,
    E19 * 100000000000ULL,
    E19 * 1000000000000ULL,
    E19 * 10000000000000ULL,
    E19 * 100000000000000ULL,
    E19 * 1000000000000000ULL,
    E19 * 10000000000000000ULL,
    E19 * 100000000000000000ULL,
    E19 * 1000000000000000000ULL,
    E19 *E19,
};

static expr_i128
abs128(expr_i128 m)
{
    return m < 0 ? -m : m;
}

int
expr_dec_digits(expr_i128 m)
{
    expr_i128 a = abs128(m);
    int d = 1;

    while (d < 39 && a >= expr_pow10[d])
        d++;
    return d;
}

bool
expr_dec_fits(expr_i128 m, int precision)
{
    if (precision > EXPR_DEC_MAXP)
        precision = EXPR_DEC_MAXP;
    return abs128(m) < expr_pow10[precision];
}

int
expr_dec_rescale(expr_i128 m, int from, int to, expr_i128 *out)
{
    expr_i128 p, q, r;

    if (to == from) {
        *out = m;
        return 0;
    }
    if (to > from) {
        if (to - from > EXPR_DEC_MAXP)
            return m == 0 ? (*out = 0, 0) : -1;
        p = expr_pow10[to - from];
        if (abs128(m) >= expr_pow10[EXPR_DEC_MAXP] / p)
            return -1;
        *out = m * p;
        return 0;
    }
    if (from - to > EXPR_DEC_MAXP) {
        *out = 0;
        return 0;
    }
    p = expr_pow10[from - to];
    q = m / p;
    r = m % p;
    /* Half away from zero: compare twice the remainder with the divisor. */
    if (abs128(r) * 2 >= p)
        q += m < 0 ? -1 : 1;
    *out = q;
    return 0;
}

/* An optional exponent E[+-]digits at s[*i]; its value is clamped so a
 * silly exponent cannot overflow (it fails the range checks instead). */
static int
parse_exponent(const char *s, size_t len, size_t *pi, long *exp)
{
    size_t i = *pi;
    bool neg = false, digits = false;

    *exp = 0;
    if (i >= len || (s[i] != 'e' && s[i] != 'E'))
        return 0;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        digits = true;
        if (*exp < 1000)
            *exp = *exp * 10 + (s[i] - '0');
    }
    if (!digits)
        return -1;
    if (neg)
        *exp = -*exp;
    *pi = i;
    return 0;
}

int
expr_dec_parse(const char *s, size_t len, expr_i128 *m, int *scale,
               int *precision)
{
    size_t i = 0;
    bool neg = false, dot = false, any = false;
    expr_i128 v = 0;
    int sc = 0, digits = 0;
    long exp = 0;

    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < len; i++) {
        if (s[i] == '.' && !dot) {
            dot = true;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            break;
        any = true;
        if (v == 0 && s[i] == '0') {
            if (dot)
                sc++; /* leading zeros of the fraction still set scale */
            continue;
        }
        if (++digits > EXPR_DEC_MAXP)
            return -1;
        v = v * 10 + (s[i] - '0');
        if (dot)
            sc++;
    }
    if (!any || parse_exponent(s, len, &i, &exp) < 0 || i != len)
        return -1;
    sc -= (int)exp;
    if (sc < 0) {
        if (expr_dec_rescale(v, 0, -sc, &v) < 0)
            return -1;
        sc = 0;
    }
    if (sc > EXPR_DEC_MAXP) {
        if (expr_dec_rescale(v, sc, EXPR_DEC_MAXP, &v) < 0)
            return -1;
        sc = EXPR_DEC_MAXP;
    }
    *m = neg ? -v : v;
    *scale = sc;
    if (precision) {
        digits = expr_dec_digits(v);
        *precision = digits > sc ? digits : sc;
        if (*precision == 0)
            *precision = 1;
    }
    return 0;
}

/* The digits of `a`, least significant first, into tmp; returns how
 * many.  Mantissas that fit 64 bits (nearly all) divide in 64 bits:
 * dividing an __int128 is a library call per digit. */
static size_t
dec_digits_rev(unsigned __int128 a, char *tmp)
{
    size_t n = 0;

    while (a > UINT64_MAX) {
        tmp[n++] = (char)('0' + (int)(a % 10));
        a /= 10;
    }
    for (uint64_t u = (uint64_t)a;; u /= 10) {
        tmp[n++] = (char)('0' + (int)(u % 10));
        if (u < 10)
            break;
    }
    return n;
}

size_t
expr_dec_format(expr_i128 m, int scale, char *buf)
{
    char tmp[48];
    size_t n, o = 0;

    /* Negating INT128_MIN is not an issue: |m| < 10^38 always. */
    n = dec_digits_rev((unsigned __int128)abs128(m), tmp);
    while ((int)n <= scale)
        tmp[n++] = '0';
    if (m < 0)
        buf[o++] = '-';
    while (n > 0) {
        if ((int)n == scale)
            buf[o++] = '.';
        buf[o++] = tmp[--n];
    }
    buf[o] = '\0';
    return o;
}

double
expr_dec_to_double(expr_i128 m, int scale)
{
    char buf[48];

    /* Through text so the result is the double nearest the exact value. */
    expr_dec_format(m, scale, buf);
    return strtod(buf, NULL);
}

int
expr_dec_from_double(double d, int scale, expr_i128 *out)
{
    char buf[96];
    int n, sc;

    if (!isfinite(d) || fabs(d) >= 1e38)
        return -1;
    /* %.*f prints the exact binary value rounded to `scale` digits. */
    n = snprintf(buf, sizeof(buf), "%.*f", scale, d);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -1;
    if (expr_dec_parse(buf, (size_t)n, out, &sc, NULL) < 0)
        return -1;
    return expr_dec_rescale(*out, sc, scale, out);
}
