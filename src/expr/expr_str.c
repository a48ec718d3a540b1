/*
 * Strings are UTF-8 inside weir, but SSIS defines its string functions on
 * UTF-16 code units (DT_WSTR), so LEN, SUBSTRING and friends translate
 * positions: a character outside the Basic Multilingual Plane counts 2.
 * ASCII text, by far the most common, takes a fast path 8 bytes at a time.
 * Bytes that are not valid UTF-8 decode as U+FFFD one byte at a time, so
 * any input is safe to walk.
 */
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

#include "base/banned.h"
#include "expr/expr_int.h"

#define HIGH_BITS UINT64_C(0x8080808080808080)

static uint64_t
load8(const char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
    return w;
}

bool
expr_is_ascii(const char *s, size_t len)
{
    size_t i = 0;

    for (; i + 8 <= len; i += 8)
        if (load8(s + i) & HIGH_BITS)
            return false;
    for (; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

uint32_t
expr_utf8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    size_t left = len - *i;
    uint32_t cp, min;
    int n;

    if (p[0] < 0x80) {
        (*i)++;
        return p[0];
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 1, cp = p[0] & 0x1F, min = 0x80;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 2, cp = p[0] & 0x0F, min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 3, cp = p[0] & 0x07, min = 0x10000;
    } else {
        goto bad;
    }
    if (left <= (size_t)n)
        goto bad;
    for (int k = 1; k <= n; k++) {
        if ((p[k] & 0xC0) != 0x80)
            goto bad;
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        goto bad;
    *i += (size_t)n + 1;
    return cp;
bad:
    (*i)++;
    return 0xFFFD;
}

int
expr_utf8_put(uint32_t cp, char *buf)
{
    unsigned char *b = (unsigned char *)buf;

    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF)
        return expr_utf8_put(0xFFFD, buf);
    b[0] = (unsigned char)(0xF0 | (cp >> 18));
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t
expr_utf16_len(const char *s, size_t len)
{
    size_t i = 0, n = 0;

    while (i < len) {
        if (i + 8 <= len && !(load8(s + i) & HIGH_BITS)) {
            i += 8;
            n += 8;
        } else if ((unsigned char)s[i] < 0x80) {
            i++;
            n++;
        } else {
            n += expr_utf8_next(s, len, &i) >= 0x10000 ? 2 : 1;
        }
    }
    return n;
}

size_t
expr_utf16_offset(const char *s, size_t len, size_t units)
{
    size_t i = 0, n = 0;

    while (i < len && n < units) {
        if (i + 8 <= len && units - n >= 8 && !(load8(s + i) & HIGH_BITS)) {
            i += 8;
            n += 8;
        } else if ((unsigned char)s[i] < 0x80) {
            i++;
            n++;
        } else {
            n += expr_utf8_next(s, len, &i) >= 0x10000 ? 2 : 1;
        }
    }
    return i;
}

/* The code point's first UTF-16 unit, in the order UTF-16 sorts. */
static uint32_t
utf16_key(uint32_t cp, int unit)
{
    if (cp < 0x10000)
        return cp;
    cp -= 0x10000;
    return unit == 0 ? 0xD800 + (cp >> 10) : 0xDC00 + (cp & 0x3FF);
}

int
expr_str_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen, k = 0, i, j;
    uint32_t ca, cb;

    while (k < n && a[k] == b[k])
        k++;
    if (k == n)
        return alen < blen ? -1 : alen > blen;
    /* UTF-8 byte order is code point order; UTF-16 order differs only
     * where a supplementary character meets U+E000..U+FFFF, so decode the
     * two characters that differ and compare their UTF-16 units. */
    while (k > 0 && ((unsigned char)a[k] & 0xC0) == 0x80)
        k--;
    i = j = k;
    ca = expr_utf8_next(a, alen, &i);
    cb = expr_utf8_next(b, blen, &j);
    for (int u = 0; u < 2; u++)
        if (utf16_key(ca, u) != utf16_key(cb, u))
            return utf16_key(ca, u) < utf16_key(cb, u) ? -1 : 1;
    return (unsigned char)a[k] < (unsigned char)b[k] ? -1 : 1;
}

/* ------------------------------------------------------------------ case */

static pthread_once_t case_once = PTHREAD_ONCE_INIT;
static locale_t case_locale;

static void
case_init(void)
{
    /* C.UTF-8 carries the full Unicode simple case mapping (glibc 2.35+)
     * without depending on the process locale. */
    case_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

uint32_t
expr_toupper(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
    pthread_once(&case_once, case_init);
    if (case_locale)
        return (uint32_t)towupper_l((wint_t)cp, case_locale);
    if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7))
        return cp - 32;
    return cp;
}

uint32_t
expr_tolower(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    pthread_once(&case_once, case_init);
    if (case_locale)
        return (uint32_t)towlower_l((wint_t)cp, case_locale);
    if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7))
        return cp + 32;
    return cp;
}

/* ------------------------------------------------------------ code pages */

bool
expr_codepage_has(int cp_id, uint32_t cp)
{
    /* What windows-1252 puts at 0x80-0x9F (and the five it leaves
     * undefined, which Windows maps to the C1 controls). */
    static const uint16_t w1252[] = {
        0x20AC, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6,
        0x2030, 0x0160, 0x2039, 0x0152, 0x017D, 0x2018, 0x2019, 0x201C,
        0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0x017E, 0x0178, 0x0081, 0x008D, 0x008F, 0x0090, 0x009D,
    };

    switch (cp_id) {
    case 20127: /* US-ASCII */
        return cp < 0x80;
    case 28591: /* ISO 8859-1 */
        return cp < 0x100;
    case 1252:
        if (cp < 0x80 || (cp >= 0xA0 && cp < 0x100))
            return true;
        for (size_t i = 0; i < sizeof(w1252) / sizeof(w1252[0]); i++)
            if (w1252[i] == cp)
                return true;
        return false;
    default:
        return true;
    }
}
