/*
 * Connection strings, table names and value text for the database
 * components (db.h).
 *
 * Packages name tables in T-SQL's brackets ("[stg].[FileValues]"); the
 * target's quoting is chosen from the driver the connection string
 * names, so the same package loads SQL Server, PostgreSQL or SQLite.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "dataflow/db.h"
#include "base/banned.h"

char *
df_db_key(const char *s, const char *key)
{
    size_t klen = strlen(key);

    while (*s) {
        while (*s == ' ' || *s == ';')
            s++;
        const char *eq = strchr(s, '=');
        if (!eq)
            return NULL;
        const char *k = s, *kend = eq;
        while (kend > k && kend[-1] == ' ')
            kend--;
        bool hit = (size_t)(kend - k) == klen && !strncasecmp(k, key, klen);
        const char *v = eq + 1, *end;
        while (*v == ' ')
            v++;
        if (*v == '{') {
            end = strchr(v + 1, '}');
            end = end ? end : v + strlen(v);
            if (hit)
                return xstrndup(v + 1, (size_t)(end - v - 1));
            s = *end ? end + 1 : end;
        } else {
            end = v + strcspn(v, ";");
            if (hit)
                return xstrndup(v, (size_t)(end - v));
            s = end;
        }
    }
    return NULL;
}

enum df_db_kind
df_db_kind_of(const char *odbc)
{
    char *d = df_db_key(odbc, "Driver");
    enum df_db_kind k = DF_DB_OTHER;

    if (!d)
        return k;
    if (strcasestr(d, "sqlite3"))
        k = DF_DB_SQLITE;
    else if (strcasestr(d, "postgres") || strcasestr(d, "psqlodbc"))
        k = DF_DB_POSTGRES;
    else if (strcasestr(d, "SQL Server"))
        k = DF_DB_SQLSERVER;
    free(d);
    return k;
}

/* A name PostgreSQL reads without quotes: a letter or underscore, then
 * letters, digits and underscores. */
static bool
is_plain(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

char *
df_db_quote(enum df_db_kind kind, const char *ident)
{
    struct wbuf b;

    /* T-SQL names are case-insensitive: unquoted, PostgreSQL folds them
     * to lower case as it folded the T-SQL DDL run against it. */
    if (kind == DF_DB_POSTGRES && is_plain(ident))
        return xstrdup(ident);
    char open = kind == DF_DB_SQLSERVER ? '[' : '"';
    char close = kind == DF_DB_SQLSERVER ? ']' : '"';

    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_addch(&b, open, NULL);
    for (const char *p = ident; *p; p++) {
        if (*p == close)
            wbuf_addch(&b, close, NULL);
        wbuf_addch(&b, *p, NULL);
    }
    wbuf_addch(&b, close, NULL);
    return wbuf_detach(&b, NULL);
}

/* Splits "[a].[b]" / "a.b" / "\"a\".\"b\"" into its parts (at most 3),
 * unquoted; returns how many. */
static size_t
split_name(const char *s, char **parts, size_t max)
{
    size_t n = 0;

    while (*s && n < max) {
        while (*s == ' ')
            s++;
        struct wbuf b;
        wbuf_init(&b, WBUF_NOLIMIT);
        if (*s == '[' || *s == '"' || *s == '`') {
            char close = *s == '[' ? ']' : *s;
            for (s++; *s; s++) {
                if (*s == close && s[1] == close)
                    s++;
                else if (*s == close)
                    break;
                wbuf_addch(&b, *s, NULL);
            }
            s += *s != '\0';
        } else {
            while (*s && *s != '.')
                wbuf_addch(&b, *s++, NULL);
            while (b.len && b.buf[b.len - 1] == ' ')
                b.buf[--b.len] = '\0';
        }
        parts[n++] = wbuf_detach(&b, NULL);
        while (*s == ' ')
            s++;
        if (*s != '.')
            break;
        s++;
    }
    return n;
}

char *
df_db_table_name(enum df_db_kind kind, const char *written)
{
    char *parts[3] = {0};
    size_t n = split_name(written, parts, 3), first = 0;
    struct wbuf b;

    /* SQLite's only schemas are attached databases; "dbo" is T-SQL's
     * default schema and "main" SQLite's own name for the file. */
    if (kind == DF_DB_SQLITE && n == 2 &&
        (!strcasecmp(parts[0], "dbo") || !strcasecmp(parts[0], "main")))
        first = 1;
    wbuf_init(&b, WBUF_NOLIMIT);
    for (size_t i = first; i < n; i++) {
        char *q = df_db_quote(kind, parts[i]);
        if (i > first)
            wbuf_addch(&b, '.', NULL);
        wbuf_adds(&b, q, NULL);
        free(q);
    }
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
    return wbuf_detach(&b, NULL);
}

/* ---- civil time ---- */

#define TICKS_PER_DAY (INT64_C(86400) * EXPR_TICKS_PER_SEC)
/* Days from 0001-01-01 to 1970-01-01. */
#define DAYS_TO_UNIX INT64_C(719162)

void
df_ticks_to_civil(int64_t ticks, struct df_civil *c)
{
    int64_t days = ticks / TICKS_PER_DAY, rest = ticks % TICKS_PER_DAY;
    /* Howard Hinnant's civil_from_days, from the Unix epoch. */
    int64_t z = days - DAYS_TO_UNIX + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;

    c->year = (int)(yoe + era * 400 + (m <= 2));
    c->month = (int)m;
    c->day = (int)d;
    c->hour = (int)(rest / (3600 * EXPR_TICKS_PER_SEC));
    c->minute = (int)(rest / (60 * EXPR_TICKS_PER_SEC) % 60);
    c->second = (int)(rest / EXPR_TICKS_PER_SEC % 60);
    c->frac = (uint32_t)(rest % EXPR_TICKS_PER_SEC);
}

int64_t
df_civil_to_ticks(const struct df_civil *c)
{
    int64_t y = c->year - (c->month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = c->month > 2 ? c->month - 3 : c->month + 9;
    int64_t doy = (153 * mp + 2) / 5 + c->day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468 + DAYS_TO_UNIX;

    return days * TICKS_PER_DAY +
           ((int64_t)c->hour * 3600 + c->minute * 60 + c->second) *
               EXPR_TICKS_PER_SEC +
           c->frac;
}

/* ---- value text ---- */

static void
add_time(struct wbuf *out, int64_t ticks, bool date, bool time)
{
    struct df_civil c;

    df_ticks_to_civil(ticks, &c);
    if (date)
        wbuf_addf(out, NULL, "%04d-%02d-%02d", c.year, c.month, c.day);
    if (date && time)
        wbuf_addch(out, ' ', NULL);
    if (time) {
        wbuf_addf(out, NULL, "%02d:%02d:%02d", c.hour, c.minute, c.second);
        if (c.frac)
            wbuf_addf(out, NULL, ".%07u", (unsigned)c.frac);
    }
}

static void
add_formatted(const struct df_vec *v, size_t row, struct wbuf *out)
{
    struct expr_col col = {v->type, v->data, v->nulls};
    struct expr_value val;
    char buf[128];

    expr_col_value(&col, row, &val);
    size_t n = expr_value_format(&val, buf, sizeof(buf));
    wbuf_add(out, buf, n < sizeof(buf) ? n : sizeof(buf) - 1, NULL);
}

static void
add_dto(struct wbuf *out, const struct expr_dto *d)
{
    int off = d->offset < 0 ? -d->offset : d->offset;

    add_time(out, d->ticks, true, true);
    wbuf_addf(out, NULL, "%c%02d:%02d", d->offset < 0 ? '-' : '+', off / 60,
              off % 60);
}

static void
add_guid(struct wbuf *out, const struct expr_guid *g)
{
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            wbuf_addch(out, '-', NULL);
        wbuf_addf(out, NULL, "%02X", g->b[i]);
    }
}

void
df_db_value_text(const struct df_vec *v, size_t row, bool pgbool,
                 struct wbuf *out)
{
    const void *d = v->data;

    switch (v->type.dt) {
    case EXPR_DT_BOOL:
        wbuf_adds(out, ((const uint8_t *)d)[row] ? (pgbool ? "t" : "1")
                                                 : (pgbool ? "f" : "0"),
                  NULL);
        break;
    case EXPR_DT_I1:
        wbuf_addf(out, NULL, "%d", ((const int8_t *)d)[row]);
        break;
    case EXPR_DT_I2:
        wbuf_addf(out, NULL, "%d", ((const int16_t *)d)[row]);
        break;
    case EXPR_DT_I4:
        wbuf_addf(out, NULL, "%" PRId32, ((const int32_t *)d)[row]);
        break;
    case EXPR_DT_I8:
        wbuf_addf(out, NULL, "%" PRId64, ((const int64_t *)d)[row]);
        break;
    case EXPR_DT_UI1:
        wbuf_addf(out, NULL, "%u", ((const uint8_t *)d)[row]);
        break;
    case EXPR_DT_UI2:
        wbuf_addf(out, NULL, "%u", ((const uint16_t *)d)[row]);
        break;
    case EXPR_DT_UI4:
        wbuf_addf(out, NULL, "%" PRIu32, ((const uint32_t *)d)[row]);
        break;
    case EXPR_DT_UI8:
        wbuf_addf(out, NULL, "%" PRIu64, ((const uint64_t *)d)[row]);
        break;
    case EXPR_DT_R4:
        wbuf_addf(out, NULL, "%.9g", (double)((const float *)d)[row]);
        break;
    case EXPR_DT_R8:
        wbuf_addf(out, NULL, "%.17g", ((const double *)d)[row]);
        break;
    case EXPR_DT_DATE:
    case EXPR_DT_DBTIMESTAMP:
    case EXPR_DT_DBTIMESTAMP2:
    case EXPR_DT_FILETIME:
        add_time(out, ((const int64_t *)d)[row], true, true);
        break;
    case EXPR_DT_DBDATE:
        add_time(out, ((const int64_t *)d)[row], true, false);
        break;
    case EXPR_DT_DBTIME:
    case EXPR_DT_DBTIME2:
        add_time(out, ((const int64_t *)d)[row], false, true);
        break;
    case EXPR_DT_DBTIMESTAMPOFFSET:
        add_dto(out, &((const struct expr_dto *)d)[row]);
        break;
    case EXPR_DT_GUID:
        add_guid(out, &((const struct expr_guid *)d)[row]);
        break;
    case EXPR_DT_STR:
    case EXPR_DT_WSTR:
    case EXPR_DT_TEXT:
    case EXPR_DT_NTEXT:
    case EXPR_DT_BYTES:
    case EXPR_DT_IMAGE: {
        const struct expr_sv *s = &((const struct expr_sv *)d)[row];
        wbuf_add(out, s->p, s->len, NULL);
        break;
    }
    default: /* DT_CY, DT_NUMERIC, DT_DECIMAL */
        add_formatted(v, row, out);
        break;
    }
}
