/*
 * Dates and times.  Every date and time type is held as 100 ns ticks since
 * 0001-01-01 00:00:00 in the proleptic Gregorian calendar (.NET DateTime
 * ticks), so conversions between the types are truncations and
 * comparisons are integer comparisons.  Calendar arithmetic follows
 * Transact-SQL, whose DATEADD/DATEDIFF/DATEPART the SSIS functions mirror:
 * weeks start on Sunday (weekday 1), week 1 holds January 1st, DATEADD of
 * months clamps the day to the month's end, and DATEDIFF counts the
 * boundaries crossed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/banned.h"
#include "expr/expr_int.h"

#define TICKS_PER_MS INT64_C(10000)
#define TICKS_PER_MIN (60 * EXPR_TICKS_PER_SEC)
#define TICKS_PER_HOUR (60 * TICKS_PER_MIN)
/* Days from 0001-01-01 to 1970-01-01. */
#define DAYS_TO_UNIX INT64_C(719162)

/* Howard Hinnant's days_from_civil, shifted to count from 0001-01-01. */
int64_t
expr_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 + DAYS_TO_UNIX;
}

void
expr_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days - DAYS_TO_UNIX + 719468, era, doe, yoe, doy, mp;

    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool
leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && leap(y) ? 29 : md[m - 1];
}

bool
expr_date_valid(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
           d <= month_days(y, m);
}

static int64_t
floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && ((a < 0) != (b < 0)));
}

/* ------------------------------------------------------------ dateparts */

static const struct {
    const char *name;
    int part;
} part_names[] = {
    {"year", DP_YEAR},       {"yy", DP_YEAR},
    {"yyyy", DP_YEAR},       {"quarter", DP_QUARTER},
    {"qq", DP_QUARTER},      {"q", DP_QUARTER},
    {"month", DP_MONTH},     {"mm", DP_MONTH},
    {"m", DP_MONTH},         {"dayofyear", DP_DAYOFYEAR},
    {"dy", DP_DAYOFYEAR},    {"y", DP_DAYOFYEAR},
    {"day", DP_DAY},         {"dd", DP_DAY},
    {"d", DP_DAY},           {"week", DP_WEEK},
    {"wk", DP_WEEK},         {"ww", DP_WEEK},
    {"weekday", DP_WEEKDAY}, {"dw", DP_WEEKDAY},
    {"w", DP_WEEKDAY},       {"hour", DP_HOUR},
    {"hh", DP_HOUR},         {"minute", DP_MINUTE},
    {"mi", DP_MINUTE},       {"n", DP_MINUTE},
    {"second", DP_SECOND},   {"ss", DP_SECOND},
    {"s", DP_SECOND},        {"millisecond", DP_MILLISECOND},
    {"ms", DP_MILLISECOND},
};

int
expr_date_part(const char *s, size_t len)
{
    /* SSIS trims nothing; a part name is matched exactly, any case. */
    for (size_t i = 0; i < sizeof(part_names) / sizeof(part_names[0]); i++)
        if (strlen(part_names[i].name) == len &&
            strncasecmp(part_names[i].name, s, len) == 0)
            return part_names[i].part;
    return -1;
}

/* Day of the week, 0 = Sunday (0001-01-01 was a Monday). */
static int
dow(int64_t days)
{
    return (int)(((days + 1) % 7 + 7) % 7);
}

int64_t
expr_date_get_part(int64_t ticks, int part)
{
    int64_t days = floordiv(ticks, EXPR_TICKS_PER_DAY);
    int64_t tod = ticks - days * EXPR_TICKS_PER_DAY;
    int y, m, d;

    expr_civil_from_days(days, &y, &m, &d);
    switch (part) {
    case DP_YEAR:
        return y;
    case DP_QUARTER:
        return (m - 1) / 3 + 1;
    case DP_MONTH:
        return m;
    case DP_DAYOFYEAR:
        return days - expr_days_from_civil(y, 1, 1) + 1;
    case DP_DAY:
        return d;
    case DP_WEEK: {
        int64_t jan1 = expr_days_from_civil(y, 1, 1);

        return (days - jan1 + dow(jan1)) / 7 + 1;
    }
    case DP_WEEKDAY:
        return dow(days) + 1;
    case DP_HOUR:
        return tod / TICKS_PER_HOUR;
    case DP_MINUTE:
        return tod / TICKS_PER_MIN % 60;
    case DP_SECOND:
        return tod / EXPR_TICKS_PER_SEC % 60;
    default:
        return tod / TICKS_PER_MS % 1000;
    }
}

static int
add_months(int64_t ticks, int64_t months, int64_t *out)
{
    int64_t days = floordiv(ticks, EXPR_TICKS_PER_DAY);
    int64_t tod = ticks - days * EXPR_TICKS_PER_DAY, total;
    int y, m, d;

    expr_civil_from_days(days, &y, &m, &d);
    if (months > 12 * 10000 || months < -12 * 10000)
        return -1;
    total = (int64_t)y * 12 + (m - 1) + months;
    y = (int)floordiv(total, 12);
    m = (int)(total - (int64_t)y * 12) + 1;
    if (y < 1 || y > 9999)
        return -1;
    if (d > month_days(y, m))
        d = month_days(y, m);
    *out = expr_days_from_civil(y, m, d) * EXPR_TICKS_PER_DAY + tod;
    return 0;
}

int
expr_date_add(int64_t ticks, int part, int64_t n, int64_t *out)
{
    int64_t unit, delta;

    switch (part) {
    case DP_YEAR:
        return n > 10000 || n < -10000 ? -1 : add_months(ticks, n * 12, out);
    case DP_QUARTER:
        return n > 40000 || n < -40000 ? -1 : add_months(ticks, n * 3, out);
    case DP_MONTH:
        return add_months(ticks, n, out);
    case DP_WEEK:
        unit = 7 * EXPR_TICKS_PER_DAY;
        break;
    case DP_DAYOFYEAR:
    case DP_DAY:
    case DP_WEEKDAY:
        unit = EXPR_TICKS_PER_DAY;
        break;
    case DP_HOUR:
        unit = TICKS_PER_HOUR;
        break;
    case DP_MINUTE:
        unit = TICKS_PER_MIN;
        break;
    case DP_SECOND:
        unit = EXPR_TICKS_PER_SEC;
        break;
    default:
        unit = TICKS_PER_MS;
        break;
    }
    if (__builtin_mul_overflow(n, unit, &delta) ||
        __builtin_add_overflow(ticks, delta, out))
        return -1;
    return *out < 0 || *out > EXPR_TICKS_MAX ? -1 : 0;
}

static int64_t
boundary(int64_t ticks, int part)
{
    int64_t days = floordiv(ticks, EXPR_TICKS_PER_DAY);
    int y, m, d;

    switch (part) {
    case DP_YEAR:
    case DP_QUARTER:
    case DP_MONTH:
        expr_civil_from_days(days, &y, &m, &d);
        if (part == DP_YEAR)
            return y;
        if (part == DP_QUARTER)
            return (int64_t)y * 4 + (m - 1) / 3;
        return (int64_t)y * 12 + m - 1;
    case DP_WEEK:
        /* Weeks end on Saturday night: count Sundays. */
        return floordiv(days + 1, 7);
    case DP_DAYOFYEAR:
    case DP_DAY:
    case DP_WEEKDAY:
        return days;
    case DP_HOUR:
        return floordiv(ticks, TICKS_PER_HOUR);
    case DP_MINUTE:
        return floordiv(ticks, TICKS_PER_MIN);
    case DP_SECOND:
        return floordiv(ticks, EXPR_TICKS_PER_SEC);
    default:
        return floordiv(ticks, TICKS_PER_MS);
    }
}

int
expr_date_diff(int64_t a, int64_t b, int part, int64_t *out)
{
    int64_t r = boundary(b, part) - boundary(a, part);

    if (r < INT32_MIN || r > INT32_MAX)
        return -1;
    *out = r;
    return 0;
}

/* --------------------------------------------------------------- parsing */

struct cursor {
    const char *s;
    size_t len, i;
};

static void
skip_ws(struct cursor *c)
{
    while (c->i < c->len && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
        c->i++;
}

/* Reads 1..max digits; -1 if none. */
static int64_t
digits(struct cursor *c, int max, int *count)
{
    int64_t v = 0;
    int n = 0;

    while (c->i < c->len && n < max && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
        v = v * 10 + (c->s[c->i++] - '0');
        n++;
    }
    if (count)
        *count = n;
    return n ? v : -1;
}

static bool
peek(struct cursor *c, char ch)
{
    return c->i < c->len && c->s[c->i] == ch;
}

/* A date: yyyy-mm-dd, yyyy/mm/dd or m/d/yyyy (m-d-yyyy). */
static int
parse_date(struct cursor *c, int64_t *days)
{
    size_t start = c->i;
    int n1, n2, n3;
    int64_t a, b, y;
    char sep;

    a = digits(c, 4, &n1);
    if (a < 0 || c->i >= c->len || (c->s[c->i] != '-' && c->s[c->i] != '/'))
        goto fail;
    sep = c->s[c->i++];
    b = digits(c, 2, &n2);
    if (b < 0 || !peek(c, sep))
        goto fail;
    c->i++;
    y = digits(c, 4, &n3);
    if (y < 0)
        goto fail;
    if (n1 == 4) { /* ISO: a is the year, b the month, y the day */
        int64_t yr = a, mo = b, dy = y;

        if (n3 > 2 || !expr_date_valid((int)yr, (int)mo, (int)dy))
            goto fail;
        *days = expr_days_from_civil(yr, (int)mo, (int)dy);
        return 0;
    }
    if (n1 > 2 || n3 != 4 || !expr_date_valid((int)y, (int)a, (int)b))
        goto fail;
    *days = expr_days_from_civil(y, (int)a, (int)b);
    return 0;
fail:
    c->i = start;
    return -1;
}

/* A time: h:mm[:ss[.fffffff]] (a ':' before the fraction is DT_FILETIME's
 * form); ticks since midnight. */
static int
parse_time(struct cursor *c, int64_t *tod)
{
    int64_t h, mi, s = 0, frac = 0;
    int n;

    h = digits(c, 2, NULL);
    if (h < 0 || !peek(c, ':'))
        return -1;
    c->i++;
    mi = digits(c, 2, &n);
    if (mi < 0 || n != 2)
        return -1;
    if (peek(c, ':')) {
        c->i++;
        s = digits(c, 2, &n);
        if (s < 0 || n != 2)
            return -1;
        if (peek(c, '.') || peek(c, ':')) {
            int64_t f;

            c->i++;
            f = digits(c, 9, &n);
            if (f < 0)
                return -1;
            for (; n < 7; n++)
                f *= 10;
            for (; n > 7; n--)
                f /= 10;
            frac = f;
        }
    }
    if (h > 23 || mi > 59 || s > 59)
        return -1;
    *tod =
        h * TICKS_PER_HOUR + mi * TICKS_PER_MIN + s * EXPR_TICKS_PER_SEC + frac;
    return 0;
}

static int
parse_ampm(struct cursor *c, int64_t *tod)
{
    bool pm;
    int64_t h = *tod / TICKS_PER_HOUR;

    if (c->len - c->i < 2)
        return 0;
    if (strncasecmp(c->s + c->i, "AM", 2) == 0)
        pm = false;
    else if (strncasecmp(c->s + c->i, "PM", 2) == 0)
        pm = true;
    else
        return 0;
    if (h < 1 || h > 12)
        return -1;
    c->i += 2;
    if (pm && h != 12)
        *tod += 12 * TICKS_PER_HOUR;
    else if (!pm && h == 12)
        *tod -= 12 * TICKS_PER_HOUR;
    return 0;
}

/* [+-] h[h]:mm (a space may follow the sign), or Z. */
static int
parse_offset(struct cursor *c, int *offset, bool *has)
{
    int64_t h, m;
    bool neg;

    if (peek(c, 'Z') || peek(c, 'z')) {
        c->i++;
        *offset = 0;
        *has = true;
        return 0;
    }
    if (!peek(c, '+') && !peek(c, '-'))
        return 0;
    neg = c->s[c->i++] == '-';
    skip_ws(c);
    h = digits(c, 2, NULL);
    if (h < 0 || !peek(c, ':'))
        return -1;
    c->i++;
    m = digits(c, 2, NULL);
    if (m < 0 || m > 59 || h > 14 || (h == 14 && m != 0))
        return -1;
    *offset = (int)(neg ? -(h * 60 + m) : h * 60 + m);
    *has = true;
    return 0;
}

int
expr_date_parse(const char *s, size_t len, enum expr_dt dt, int64_t *ticks,
                int *offset, bool *has_offset)
{
    struct cursor c = {s, len, 0};
    int64_t days = 0, tod = 0;
    bool have_date, have_time = false;

    *offset = 0;
    *has_offset = false;
    skip_ws(&c);
    have_date = parse_date(&c, &days) == 0;
    if (have_date && (peek(&c, 'T') || peek(&c, ' '))) {
        size_t save = c.i;

        c.i++;
        skip_ws(&c);
        if (c.i < c.len && c.s[c.i] >= '0' && c.s[c.i] <= '9') {
            if (parse_time(&c, &tod) < 0)
                return -1;
            have_time = true;
        } else {
            c.i = save;
        }
    } else if (!have_date) {
        if (parse_time(&c, &tod) < 0)
            return -1;
        have_time = true;
    }
    skip_ws(&c);
    if (have_time && parse_ampm(&c, &tod) < 0)
        return -1;
    skip_ws(&c);
    if (have_time && parse_offset(&c, offset, has_offset) < 0)
        return -1;
    skip_ws(&c);
    if (c.i != c.len)
        return -1;
    /* A time alone only makes a time; the date-bearing types need a date. */
    if (!have_date && !expr_dt_is_time(dt))
        return -1;
    *ticks = expr_dt_is_time(dt) ? tod : days * EXPR_TICKS_PER_DAY + tod;
    return 0;
}

/* ------------------------------------------------------------ formatting */

static size_t
fmt_date(int64_t ticks, char *buf)
{
    int y, m, d;

    expr_civil_from_days(floordiv(ticks, EXPR_TICKS_PER_DAY), &y, &m, &d);
    if (y < 0 || y > 9999)
        return (size_t)snprintf(buf, 16, "%04d-%02d-%02d", y, m, d);
    /* Digits by hand: data flow destinations format every row. */
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + d / 10);
    buf[9] = (char)('0' + d % 10);
    buf[10] = '\0';
    return 10;
}

/* hh:mm:ss and `digits` fractional digits after `sep` (none if 0). */
static size_t
fmt_time(int64_t ticks, int frac_digits, char sep, char *buf)
{
    int64_t tod =
        ticks - floordiv(ticks, EXPR_TICKS_PER_DAY) * EXPR_TICKS_PER_DAY;
    int64_t f = tod % EXPR_TICKS_PER_SEC;
    size_t n;

    n = (size_t)snprintf(buf, 16, "%02d:%02d:%02d", (int)(tod / TICKS_PER_HOUR),
                         (int)(tod / TICKS_PER_MIN % 60),
                         (int)(tod / EXPR_TICKS_PER_SEC % 60));
    if (frac_digits > 0) {
        char digs[16];

        /* ticks are 7 digits; DT_DBTIMESTAMP shows 9 (nanoseconds). */
        snprintf(digs, sizeof(digs), "%07lld00", (long long)f);
        buf[n++] = sep;
        memcpy(buf + n, digs, (size_t)frac_digits);
        n += (size_t)frac_digits;
        buf[n] = '\0';
    }
    return n;
}

size_t
expr_date_format(const struct expr_value *v, char *buf)
{
    int64_t t =
        v->type.dt == EXPR_DT_DBTIMESTAMPOFFSET ? v->v.dto.ticks : v->v.t;
    int scale = v->type.scale > 7 ? 7 : v->type.scale;
    size_t n;

    switch (v->type.dt) {
    case EXPR_DT_DBDATE:
        return fmt_date(t, buf);
    case EXPR_DT_DBTIME:
        return fmt_time(t, 0, '.', buf);
    case EXPR_DT_DBTIME2:
        return fmt_time(t, scale, '.', buf);
    default:
        break;
    }
    n = fmt_date(t, buf);
    buf[n++] = ' ';
    switch (v->type.dt) {
    case EXPR_DT_DBTIMESTAMP:
        /* SSIS writes nine fraction digits ("...38.483000000"); a whole
         * second has none. */
        n += fmt_time(t, t % EXPR_TICKS_PER_SEC ? 9 : 0, '.', buf + n);
        break;
    case EXPR_DT_FILETIME:
        n += fmt_time(t, 3, ':', buf + n);
        break;
    case EXPR_DT_DBTIMESTAMP2:
        n += fmt_time(t, scale, '.', buf + n);
        break;
    case EXPR_DT_DBTIMESTAMPOFFSET: {
        int off = v->v.dto.offset, a = off < 0 ? -off : off;

        n += fmt_time(t, scale, '.', buf + n);
        n += (size_t)snprintf(buf + n, 12, " %c%02d:%02d", off < 0 ? '-' : '+',
                              a / 60, a % 60);
        break;
    }
    default: /* DT_DATE */
        n += fmt_time(t, 0, '.', buf + n);
        break;
    }
    return n;
}

void
expr_clock_system(int64_t *utc, int64_t *local)
{
    struct timespec ts;
    struct tm tm;
    time_t secs;

    clock_gettime(CLOCK_REALTIME, &ts);
    secs = ts.tv_sec;
    *utc = EXPR_TICKS_UNIX_EPOCH + (int64_t)ts.tv_sec * EXPR_TICKS_PER_SEC +
           ts.tv_nsec / 100;
    if (localtime_r(&secs, &tm))
        *local = *utc + (int64_t)tm.tm_gmtoff * EXPR_TICKS_PER_SEC;
    else
        *local = *utc;
}
