/*
 * Integers from database columns wider than their output column (db.h,
 * df_wide_*).
 *
 * ODBC drivers convert a value to a narrower C integer type by wrapping
 * it (psqlODBC and SQLite's driver give 3000000000 as -1294967296 in an
 * SQL_C_SLONG) or by saturating it (psqlODBC gives a numeric beyond
 * int64 as INT64_MAX and a real 1e20 as 1), where SSIS raises a
 * conversion error.  So a column whose database type can hold values
 * its output column cannot is fetched wider, and each value is checked:
 * integer types as SQL_C_SBIGINT, the others (numeric, decimal, floats,
 * unsigned bigint) as text, parsed here exactly.  Columns whose database
 * type fits keep the driver's direct conversion, so the common path
 * costs nothing more.  SQLite stores any integer in 64 bits whatever
 * the declared type, so its integer columns always count as 64 bits.
 *
 * A fraction is dropped (toward zero), as ODBC's numeric to integer
 * conversion does; DT_BOOL takes any number, non-zero being true, as
 * OLE DB's conversion to a boolean does.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataflow/db.h"
#include "base/banned.h"

/* The range of an integer type; false for other types. */
static bool
int_range(enum expr_dt dt, int64_t *lo, uint64_t *hi)
{
    switch (dt) {
    case EXPR_DT_I1:
        *lo = INT8_MIN, *hi = INT8_MAX;
        return true;
    case EXPR_DT_I2:
        *lo = INT16_MIN, *hi = INT16_MAX;
        return true;
    case EXPR_DT_I4:
        *lo = INT32_MIN, *hi = INT32_MAX;
        return true;
    case EXPR_DT_I8:
        *lo = INT64_MIN, *hi = INT64_MAX;
        return true;
    case EXPR_DT_UI1:
        *lo = 0, *hi = UINT8_MAX;
        return true;
    case EXPR_DT_UI2:
        *lo = 0, *hi = UINT16_MAX;
        return true;
    case EXPR_DT_UI4:
        *lo = 0, *hi = UINT32_MAX;
        return true;
    case EXPR_DT_UI8:
        *lo = 0, *hi = UINT64_MAX;
        return true;
    case EXPR_DT_BOOL:
        *lo = 0, *hi = 1;
        return true;
    default:
        return false;
    }
}

static bool
is_inexact_number(enum expr_dt dt)
{
    return dt == EXPR_DT_NUMERIC || dt == EXPR_DT_DECIMAL || dt == EXPR_DT_R4 ||
           dt == EXPR_DT_R8 || dt == EXPR_DT_CY;
}

enum df_wide
df_wide_plan(enum expr_dt db, enum df_db_kind kind, enum expr_dt out)
{
    int64_t dlo, olo;
    uint64_t dhi, ohi;

    if (!int_range(out, &olo, &ohi))
        return DF_WIDE_NONE;
    if (is_inexact_number(db))
        return DF_WIDE_TEXT;
    if (!int_range(db, &dlo, &dhi))
        return DF_WIDE_NONE; /* strings, dates...: the driver decides */
    if (kind == DF_DB_SQLITE && db != EXPR_DT_UI8)
        dlo = INT64_MIN, dhi = INT64_MAX;
    if (out == EXPR_DT_BOOL)
        return db == EXPR_DT_BOOL && kind != DF_DB_SQLITE ? DF_WIDE_NONE
                                                          : DF_WIDE_INT;
    if (dlo >= olo && dhi <= ohi)
        return DF_WIDE_NONE;
    return dhi > (uint64_t)INT64_MAX ? DF_WIDE_TEXT : DF_WIDE_INT;
}

/* Stores neg/mag (the value -mag or mag) into row `row` of `v`; -1 when
 * it is out of the type's range. */
static int
store_mag(struct df_vec *v, size_t row, bool neg, uint64_t mag)
{
    int64_t lo;
    uint64_t hi;
    void *d = v->data;

    if (!int_range(v->type.dt, &lo, &hi))
        return -1;
    if (v->type.dt == EXPR_DT_BOOL) {
        ((bool *)d)[row] = mag != 0;
        return 0;
    }
    if (neg && mag > (uint64_t) - (lo + 1) + 1)
        return -1;
    if (!neg && mag > hi)
        return -1;
    int64_t s = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    switch (v->type.dt) {
    case EXPR_DT_I1:
        ((int8_t *)d)[row] = (int8_t)s;
        break;
    case EXPR_DT_I2:
        ((int16_t *)d)[row] = (int16_t)s;
        break;
    case EXPR_DT_I4:
        ((int32_t *)d)[row] = (int32_t)s;
        break;
    case EXPR_DT_I8:
        ((int64_t *)d)[row] = s;
        break;
    case EXPR_DT_UI1:
        ((uint8_t *)d)[row] = (uint8_t)mag;
        break;
    case EXPR_DT_UI2:
        ((uint16_t *)d)[row] = (uint16_t)mag;
        break;
    case EXPR_DT_UI4:
        ((uint32_t *)d)[row] = (uint32_t)mag;
        break;
    default:
        ((uint64_t *)d)[row] = mag;
        break;
    }
    return 0;
}

int
df_wide_store_int(struct df_vec *v, size_t row, int64_t x)
{
    uint64_t mag = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;

    return store_mag(v, row, x < 0, mag);
}

/* A number with an exponent ("1e+20", as drivers write floats): through
 * a double, whose range check is exact at the integer types' bounds. */
static int
store_double(struct df_vec *v, size_t row, const char *p, size_t len)
{
    char text[80];
    char *end;
    double d;

    if (len >= sizeof(text))
        return -1;
    memcpy(text, p, len);
    text[len] = '\0';
    d = strtod(text, &end);
    if (*end || !isfinite(d))
        return -1;
    d = trunc(d);
    if (d <= -18446744073709551616.0 || d >= 18446744073709551616.0)
        return v->type.dt == EXPR_DT_BOOL ? store_mag(v, row, false, 1) : -1;
    return store_mag(v, row, d < 0, (uint64_t)fabs(d));
}

int
df_wide_store_text(struct df_vec *v, size_t row, const char *p, size_t len)
{
    size_t i = 0, digits = 0;
    bool neg = false, over = false;
    uint64_t mag = 0;

    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    while (i < len && isspace((unsigned char)p[i]))
        i++;
    if (memchr(p + i, 'e', len - i) || memchr(p + i, 'E', len - i))
        return store_double(v, row, p + i, len - i);
    if (i < len && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    for (; i < len && isdigit((unsigned char)p[i]); i++, digits++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (mag > (UINT64_MAX - d) / 10)
            over = true;
        else
            mag = mag * 10 + d;
    }
    if (i < len && p[i] == '.')
        for (i++; i < len && isdigit((unsigned char)p[i]); i++)
            digits++;
    if (i != len || digits == 0)
        return -1; /* not a number: Infinity, NaN, text */
    if (over)
        return v->type.dt == EXPR_DT_BOOL ? store_mag(v, row, false, 1) : -1;
    return store_mag(v, row, neg, mag);
}
