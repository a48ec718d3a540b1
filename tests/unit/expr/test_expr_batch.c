/*
 * The batch evaluator against the row evaluator: the same expressions over
 * random columns (NULLs, zeros, extremes that overflow, strings that do
 * and do not parse) must give the same value, the same NULLs and fail on
 * the same rows, for batch sizes from 1 to a few thousand.  Then the API's
 * edges: diagnostics with positions, warnings, limits, assignment targets,
 * value parsing and formatting, row error codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* ------------------------------------------------------ random columns */

enum {
    C_A,
    C_B,
    C_C,
    C_BIG,
    C_S2,
    C_U1,
    C_R,
    C_F,
    C_CY,
    C_NUM,
    C_NAME,
    C_CODE,
    C_FLAG,
    C_TS,
    C_DD,
    C_DTO,
    C_G,
    C_BIN,
    NCOLS
};

static const char *const col_names[NCOLS] = {
    "a",   "b",    "c",    "big",  "s2", "u1", "r",   "f", "cy",
    "num", "name", "code", "flag", "ts", "dd", "dto", "g", "bin",
};

static const struct expr_type col_types[NCOLS] = {
    {EXPR_DT_I4, 0, 0, 0, 0},     {EXPR_DT_I4, 0, 0, 0, 0},
    {EXPR_DT_I4, 0, 0, 0, 0},     {EXPR_DT_I8, 0, 0, 0, 0},
    {EXPR_DT_I2, 0, 0, 0, 0},     {EXPR_DT_UI1, 0, 0, 0, 0},
    {EXPR_DT_R8, 0, 0, 0, 0},     {EXPR_DT_R4, 0, 0, 0, 0},
    {EXPR_DT_CY, 0, 0, 0, 0},     {EXPR_DT_NUMERIC, 0, 10, 2, 0},
    {EXPR_DT_WSTR, 50, 0, 0, 0},  {EXPR_DT_STR, 20, 0, 0, 1252},
    {EXPR_DT_BOOL, 0, 0, 0, 0},   {EXPR_DT_DBTIMESTAMP, 0, 0, 0, 0},
    {EXPR_DT_DBDATE, 0, 0, 0, 0}, {EXPR_DT_DBTIMESTAMPOFFSET, 0, 0, 3, 0},
    {EXPR_DT_GUID, 0, 0, 0, 0},   {EXPR_DT_BYTES, 8, 0, 0, 0},
};

static const char *const name_pool[] = {
    "Mountain Bike",
    "",
    "  padded  ",
    "h\xC3\xA9llo w\xC3\xB6rld",
    "a b c",
    "\xC3\x80\xC3\x89\xC3\x8E",
    "x",
    "emoji \xF0\x9F\x98\x80 z",
    "aaaa",
    "Touring Front Wheel",
    "1.5",
    "42",
    "-7",
    "2024-03-15",
    "a,b,,c",
    "TRUE",
};
static const char *const code_pool[] = {
    "AB-12", "", "caf\xC3\xA9", "Z", "  x", "100", "abc", "ABC",
};
static const uint8_t guid_pool[2][16] = {
    {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB,
     0xCC, 0xDD, 0xEE, 0xFF},
    {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
};
static const char bin_pool[] = "\x00\x01\xFE\xFF\x41\x42\x43\x44";

struct batch {
    size_t n;
    void *data[NCOLS];
    uint8_t *nulls[NCOLS];
    struct expr_col cols[NCOLS];
};

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t
rnd(void)
{
    /* xorshift64*: deterministic, so a failure can be reproduced. */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Du;
}

static int64_t
pick_int(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int32_t
rand_i4(void)
{
    switch (rnd() % 20) {
    case 0:
        return 0;
    case 1:
        return INT32_MAX;
    case 2:
        return INT32_MIN;
    default:
        return (int32_t)pick_int(-50, 50);
    }
}

#define TICKS_DAY (INT64_C(864000000000))
#define DAY_1990 INT64_C(726467)

static void
fill_row(struct batch *b, size_t i)
{
    ((int32_t *)b->data[C_A])[i] = rand_i4();
    ((int32_t *)b->data[C_B])[i] = rand_i4();
    ((int32_t *)b->data[C_C])[i] = rand_i4();
    ((int64_t *)b->data[C_BIG])[i] =
        rnd() % 8 == 0 ? INT64_MAX : pick_int(-1000000000, 1000000000);
    ((int16_t *)b->data[C_S2])[i] =
        (int16_t)(rnd() % 10 == 0 ? 32767 : pick_int(-300, 300));
    ((uint8_t *)b->data[C_U1])[i] = (uint8_t)pick_int(0, 255);
    ((double *)b->data[C_R])[i] = rnd() % 10 == 0 ? 0.0
                                  : rnd() % 25 == 0
                                      ? 1e300
                                      : (double)pick_int(-10000, 10000) / 8;
    ((float *)b->data[C_F])[i] = (float)pick_int(-1000, 1000) / 4;
    ((int64_t *)b->data[C_CY])[i] = pick_int(-100000000, 100000000) * 100;
    ((expr_i128 *)b->data[C_NUM])[i] = pick_int(-9999999999, 9999999999);
    {
        const char *s =
            name_pool[rnd() % (sizeof(name_pool) / sizeof(name_pool[0]))];
        struct expr_sv v = {s, strlen(s)};

        ((struct expr_sv *)b->data[C_NAME])[i] = v;
        s = code_pool[rnd() % (sizeof(code_pool) / sizeof(code_pool[0]))];
        v.p = s;
        v.len = strlen(s);
        ((struct expr_sv *)b->data[C_CODE])[i] = v;
    }
    ((uint8_t *)b->data[C_FLAG])[i] = rnd() % 2;
    {
        int64_t t = (DAY_1990 + pick_int(0, 14000)) * TICKS_DAY +
                    pick_int(0, 86399999) * 10000;
        struct expr_dto d = {t, (int16_t)(pick_int(-40, 40) * 15)};

        ((int64_t *)b->data[C_TS])[i] = t;
        ((int64_t *)b->data[C_DD])[i] = t - t % TICKS_DAY;
        ((struct expr_dto *)b->data[C_DTO])[i] = d;
    }
    memcpy(&((struct expr_guid *)b->data[C_G])[i], guid_pool[rnd() % 2], 16);
    {
        struct expr_sv v = {bin_pool + rnd() % 4, (size_t)pick_int(0, 4)};

        ((struct expr_sv *)b->data[C_BIN])[i] = v;
    }
    for (int k = 0; k < NCOLS; k++)
        b->nulls[k][i] = rnd() % 7 == 0;
}

static void
batch_new(struct batch *b, size_t n)
{
    memset(b, 0, sizeof(*b));
    b->n = n;
    for (int k = 0; k < NCOLS; k++) {
        size_t size = k == C_NUM ? sizeof(expr_i128)
                      : k == C_NAME || k == C_CODE || k == C_BIN
                          ? sizeof(struct expr_sv)
                      : k == C_DTO ? sizeof(struct expr_dto)
                      : k == C_G   ? sizeof(struct expr_guid)
                                   : 8;

        b->data[k] = calloc(n ? n : 1, size);
        b->nulls[k] = calloc(n ? n : 1, 1);
        b->cols[k].type = col_types[k];
        b->cols[k].data = b->data[k];
        /* Some batches say "no NULLs" with a NULL pointer. */
        b->cols[k].nulls = k % 3 == 0 && n % 2 ? NULL : b->nulls[k];
    }
    for (size_t i = 0; i < n; i++)
        fill_row(b, i);
    for (int k = 0; k < NCOLS; k++)
        if (!b->cols[k].nulls)
            memset(b->nulls[k], 0, n ? n : 1);
}

static void
batch_free(struct batch *b)
{
    for (int k = 0; k < NCOLS; k++) {
        free(b->data[k]);
        free(b->nulls[k]);
    }
}

static int
resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
        struct werr *err)
{
    if (ref->kind == EXPR_REF_VARIABLE)
        return fx_host.resolve(ctx, ref, out, err);
    for (int k = 0; k < NCOLS; k++) {
        if (ref->name && strcmp(ref->name, col_names[k]) == 0) {
            out->type = col_types[k];
            out->index = k;
            return 0;
        }
    }
    return werr_set(err, WERR_NOTFOUND, "unknown column '%s'",
                    ref->name ? ref->name : "?");
}

static struct expr_host host;

static struct expr *
compile(const char *text, unsigned flags)
{
    struct expr_opts opts = {flags | EXPR_COLUMNS, &host, 0};
    struct werr err;
    struct expr *e;

    host = fx_host;
    host.resolve = resolve;
    e = expr_compile(text, strlen(text), &opts, NULL, &err);
    if (!e)
        fail_msg("%s: %s", text, err.msg);
    return e;
}

/* ------------------------------------------------------- equivalence */

static const char *const exprs[] = {
    "a + b",
    "a - b",
    "a * b",
    "a / b",
    "a % b",
    "big + a",
    "big * 3",
    "s2 * s2",
    "u1 + u1",
    "u1 - u1",
    "u1 * (DT_UI1)2",
    "r * 2 + a",
    "r / b",
    "f + f",
    "f * a",
    "f / (DT_R4)b",
    "cy * 2",
    "cy / b",
    "cy + num",
    "num * num",
    "num / b",
    "num - cy",
    /* The decimal loops (expr_vdec.c) and their fall-backs. */
    "num + num",
    "num - num",
    "num * a",
    "a * num",
    "num * num * num",
    "num * num * num * num",
    "num + 0.005",
    "num - big",
    "(DT_NUMERIC,38,36)num + num",
    "(DT_NUMERIC,12,2)num",
    "(DT_NUMERIC,12,4)num",
    "(DT_NUMERIC,5,2)num",
    "(DT_NUMERIC,12,1)num",
    "(DT_DECIMAL,3)num",
    "(DT_NUMERIC,10,0)a",
    "(DT_NUMERIC,4,1)s2",
    "(DT_NUMERIC,38,19)big",
    "(DT_NUMERIC,38,20)big",
    "(DT_DECIMAL,10)big",
    "(DT_NUMERIC,3,0)u1",
    "num > 500",
    "num <= -12.5",
    "num == (DT_NUMERIC,10,0)b",
    "num != num",
    "num >= (DT_NUMERIC,38,30)s2",
    "(DT_NUMERIC,38,37)u1 < num",
    "-a",
    "-r",
    "-num",
    "!flag",
    "~a",
    "a & b",
    "a | b",
    "a ^ b",
    "a < b",
    "a == b",
    "r >= a",
    "f < r",
    "big != a",
    "u1 > 100",
    "cy <= num",
    "name == \"x\"",
    "name < code",
    "name >= \"a\"",
    "code != \"AB-12\"",
    "flag == TRUE",
    "flag != flag",
    "ts < dd",
    "dto > ts",
    "dd == (DT_DBDATE)ts",
    "g == g",
    "bin == bin",
    "a > 0 && b > 0",
    "flag || a > b",
    "b != 0 && a / b > 1",
    "b == 0 || a % b == 0",
    "!(flag && a > 0) || NULL(DT_BOOL)",
    "a > b ? a : b",
    "flag ? name : code",
    "a > 0 ? r : cy",
    "b == 0 ? 0 : a / b",
    "ISNULL(name) ? \"-\" : UPPER(name)",
    "flag ? (a > 0 ? big : 0L) : -big",
    "(DT_I2)a",
    "(DT_UI1)a",
    "(DT_I8)s2",
    "(DT_R8)a",
    "(DT_R4)big",
    "(DT_R8)f",
    "(DT_UI2)u1",
    "(DT_I1)s2",
    "(DT_WSTR,5)a",
    "(DT_WSTR,10)r",
    "(DT_I4)r",
    "(DT_NUMERIC,6,1)r",
    "(DT_I4)name",
    "(DT_R8)name",
    "(DT_DBDATE)ts",
    "(DT_WSTR,40)dto",
    "(DT_WSTR,3)name",
    "(DT_BOOL)a",
    "(DT_CY)f",
    "(DT_DBTIMESTAMP)dto",
    "(DT_WSTR,40)g",
    "(DT_WSTR,20)bin",
    "LEN(name)",
    "LEN(code)",
    "UPPER(name)",
    "LOWER(name)",
    "UPPER(code)",
    "LEFT(name, a)",
    "RIGHT(name, b)",
    "SUBSTRING(name, a, b)",
    "TRIM(name)",
    "LTRIM(name)",
    "RTRIM(name)",
    "name + code",
    "name + \"!\" + name",
    "REPLACE(name, \"a\", \"xy\")",
    "FINDSTRING(name, \"a\", 1)",
    "TOKEN(name, \" ,\", 2)",
    "TOKENCOUNT(name, \" \")",
    "REVERSE(name)",
    "REPLICATE(name, u1 % 3)",
    "CODEPOINT(name)",
    "HEX(a)",
    "HEX(u1)",
    "ABS(a)",
    "ABS(num)",
    "CEILING(num)",
    "FLOOR(r)",
    "ROUND(num, 1)",
    "ROUND(r, 2)",
    "SIGN(cy)",
    "SQRT(r)",
    "POWER(r, 2)",
    "LN(r)",
    "LOG(a)",
    "EXP(f)",
    "SQUARE(a)",
    "DATEADD(\"dd\", a, ts)",
    "DATEADD(\"mm\", b, dd)",
    "DATEDIFF(\"hh\", dd, ts)",
    "DATEDIFF(\"wk\", ts, dto)",
    "DATEPART(\"dw\", ts)",
    "DATEPART(\"ms\", ts)",
    "YEAR(dto)",
    "MONTH(dd)",
    "DAY(ts)",
    "ISNULL(a)",
    "ISNULL(name + code)",
    "REPLACENULL(a, b)",
    "REPLACENULL(name, \"none\")",
    "REPLACENULL(r, a)",
    "@[User::N] + a",
    "@[User::S] + name",
    "GETDATE() > ts",
    "DATEDIFF(\"dd\", ts, GETDATE())",
    "UPPER(LEFT(name, 10)) + \"-\" + (DT_WSTR,10)(a * r)",
    "(a * 2 + b) / 3 > c ? a : b",
    "a / 3",
    "a % 7",
    "a / -4",
    "a % -3",
    "a * 3",
    "a * -1",
    "-2 * a",
    "a * 0",
    "a * 65536",
    "a * -65536",
    "big / 3",
    "s2 / 3",
    "u1 * 2",
    "u1 / 7",
    "(DT_UI4)u1 * 4000000000U",
    "(DT_UI4)u1 - 7U",
    "flag ? name : \"x\"",
    "a > 0 ? a * 2 : b * 3",
    "a > 0 ? 1 : 0",
    "(DT_WSTR,12)a",
    "(DT_STR,12,1252)a",
    "(DT_WSTR,20)big",
    "(DT_WSTR,3)u1",
    "(DT_WSTR,2)s2 + \"|\"",
};

/* "VALUE" or "NULL", or "ERROR" for a row that failed. */
static void
describe(const struct expr_value *v, char *buf, size_t size)
{
    expr_value_format(v, buf, size);
}

static void
check_batch(const char *text, struct batch *b)
{
    struct expr *eb = compile(text, 0), *er = compile(text, 0);
    struct expr_col out;
    struct werr err;
    uint8_t *errs = calloc(b->n ? b->n : 1, 1);
    char(*want)[128] = calloc(b->n ? b->n : 1, sizeof(*want));
    int rc;

    rc = expr_eval_batch(eb, b->cols, NCOLS, b->n, &out, errs, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(out.type.dt, expr_result_type(eb)->dt);
    assert_int_equal(out.type.length, expr_result_type(eb)->length);
    assert_non_null(out.nulls);
    for (size_t i = 0; i < b->n; i++) {
        struct expr_value v;

        if (errs[i]) {
            snprintf(want[i], sizeof(want[i]), "ERROR");
            continue;
        }
        expr_col_value(&out, i, &v);
        describe(&v, want[i], sizeof(want[i]));
    }
    for (size_t i = 0; i < b->n; i++) {
        struct expr_value v;
        char got[128];

        if (expr_eval(er, b->cols, NCOLS, i, &v, &err) < 0)
            snprintf(got, sizeof(got), "ERROR");
        else
            describe(&v, got, sizeof(got));
        if (strcmp(got, want[i]) != 0)
            fail_msg("%s, row %zu of %zu: batch '%s', row '%s' (%s)", text, i,
                     b->n, want[i], got, err.msg);
    }
    /* Without row error flags the first failing row fails the batch. */
    {
        bool any = false;

        for (size_t i = 0; i < b->n; i++)
            any |= errs[i] != 0;
        rc = expr_eval_batch(eb, b->cols, NCOLS, b->n, &out, NULL, &err);
        assert_int_equal(rc, any ? -1 : 0);
    }
    free(errs);
    free(want);
    expr_free(eb);
    expr_free(er);
}

static void
batch_equals_rows(void **state)
{
    static const size_t sizes[] = {1, 7, 256, 1000, 1025, 3000};

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        struct batch b;

        batch_new(&b, sizes[s]);
        for (size_t k = 0; k < sizeof(exprs) / sizeof(exprs[0]); k++)
            check_batch(exprs[k], &b);
        batch_free(&b);
    }
}

/* One compiled expression over batches of changing sizes (vectors grow,
 * literal vectors are kept, scratch memory is reused). */
static void
batches_reuse_memory(void **state)
{
    const char *text = "UPPER(name) + \"-\" + (DT_WSTR,5)(a + 1)";
    struct expr *e = compile(text, 0), *er = compile(text, 0);
    static const size_t sizes[] = {10, 3000, 5, 600, 0, 1, 2999};

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        struct batch b;
        struct expr_col out;
        struct werr err;
        uint8_t errs[3000];

        batch_new(&b, sizes[s]);
        assert_int_equal(
            expr_eval_batch(e, b.cols, NCOLS, b.n, &out, errs, &err), 0);
        for (size_t i = 0; i < b.n; i++) {
            struct expr_value v, r;
            char x[128], y[128];
            int rc = expr_eval(er, b.cols, NCOLS, i, &r, &err);

            expr_col_value(&out, i, &v);
            describe(&v, x, sizeof(x));
            describe(&r, y, sizeof(y));
            assert_int_equal(rc < 0, errs[i] != 0);
            if (rc == 0)
                assert_string_equal(x, y);
        }
        batch_free(&b);
    }
    expr_free(e);
    expr_free(er);
}

/* ------------------------------------------------------------- edges */

static void
diagnostics_list_every_error(void **state)
{
    struct expr_opts opts = {EXPR_COLUMNS, &fx_host, 0};
    struct expr_diags d = {0};
    struct werr err;
    const char *text = "FOO(1) + (\"a\" * 2) +\n  @[User::Nope]";
    struct expr *e = expr_compile(text, strlen(text), &opts, &d, &err);

    assert_null(e);
    assert_int_equal(err.code, WERR_INVALID);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.v[0].line, 1);
    assert_int_equal(d.v[0].col, 1);
    assert_non_null(strstr(d.v[0].msg, "unknown function"));
    assert_int_equal(d.v[1].line, 1);
    assert_int_equal(d.v[1].col, 15);
    assert_non_null(strstr(d.v[1].msg, "incompatible"));
    assert_int_equal(d.v[2].line, 2);
    assert_int_equal(d.v[2].col, 3);
    assert_non_null(strstr(d.v[2].msg, "unknown variable"));
    assert_string_equal(err.msg, "1:1: unknown function 'FOO'");
    expr_diags_release(&d);

    /* Every bad character is reported, not just the first. */
    text = "1 $ 2 ` 3";
    assert_null(expr_compile(text, strlen(text), &opts, &d, &err));
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[1].col, 7);
    expr_diags_release(&d);
}

static void
warnings_do_not_fail(void **state)
{
    struct expr_opts opts = {EXPR_COLUMNS, &fx_host, 0};
    struct expr_diags d = {0};
    struct werr err;
    const char *text = "(DT_WSTR,5)Name + (DT_WSTR,2)\"abc\"";
    struct expr *e = expr_compile(text, strlen(text), &opts, &d, &err);

    assert_non_null(e);
    assert_int_equal(d.n, 2);
    assert_true(d.v[0].warning && d.v[1].warning);
    assert_non_null(strstr(d.v[0].msg, "may truncate"));
    assert_non_null(strstr(d.v[1].msg, "truncated"));
    expr_diags_release(&d);
    expr_free(e);
}

static void
limits(void **state)
{
    struct expr_opts opts = {0, &fx_host, 10};
    struct werr err;
    struct expr_value v;
    char *text;
    struct expr *e;
    size_t n;

    /* Nesting past the limit is WERR_LIMIT, parenthesised or chained. */
    text = malloc(100001);
    n = 0;
    for (int i = 0; i < 300; i++)
        text[n++] = '(';
    text[n++] = '1';
    for (int i = 0; i < 300; i++)
        text[n++] = ')';
    assert_null(expr_compile(text, n, &opts, NULL, &err));
    assert_int_equal(err.code, WERR_LIMIT);
    n = 0;
    for (int i = 0; i < 5000; i++) {
        text[n++] = '1';
        text[n++] = '+';
    }
    text[n++] = '1';
    assert_null(expr_compile(text, n, &opts, NULL, &err));
    assert_int_equal(err.code, WERR_LIMIT);
    free(text);
    text = calloc(2u << 20, 1);
    memset(text, ' ', (2u << 20) - 1);
    assert_null(expr_compile(text, strlen(text), &opts, NULL, &err));
    assert_int_equal(err.code, WERR_LIMIT);
    free(text);

    /* A NUL inside the text is refused. */
    assert_null(expr_compile("1\0002", 3, &opts, NULL, &err));
    assert_non_null(strstr(err.msg, "NUL"));

    /* Strings longer than max_string fail at run time. */
    e = expr_compile("REPLICATE(@[User::S], 3)", 24, &opts, NULL, &err);
    assert_non_null(e);
    assert_int_equal(expr_eval(e, NULL, 0, 0, &v, &err), -1);
    assert_non_null(strstr(err.msg, "limit"));
    expr_free(e);
    e = expr_compile("@[User::S] + @[User::S] + \"!\"", 29, &opts, NULL, &err);
    assert_non_null(e);
    assert_int_equal(expr_eval(e, NULL, 0, 0, &v, &err), -1);
    expr_free(e);
}

static void
assignment_target(void **state)
{
    struct expr_opts opts = {EXPR_ASSIGN, &fx_host, 0};
    const struct expr_binding *b;
    const struct expr_ref *ref;
    struct expr_value v;
    struct werr err;
    struct expr *e = expr_compile("@[User::N] = @N * 2", 19, &opts, NULL, &err);

    assert_non_null(e);
    b = expr_assign_target(e, &ref);
    assert_non_null(b);
    assert_string_equal(ref->ns, "User");
    assert_string_equal(ref->name, "N");
    assert_int_equal(b->type.dt, EXPR_DT_I4);
    assert_false(b->read_only);
    assert_int_equal(expr_eval(e, NULL, 0, 0, &v, &err), 0);
    assert_int_equal(v.v.i, 42);
    assert_string_equal(expr_text(e), "@[User::N] = @N * 2");
    expr_free(e);
    e = expr_compile("@N * 2", 6, &opts, NULL, &err);
    assert_null(expr_assign_target(e, NULL));
    expr_free(e);
}

static void
values_parse_and_format(void **state)
{
    static const struct {
        enum expr_dt dt;
        const char *in, *out;
    } cases[] = {
        {EXPR_DT_I4, " 42 ", "42"},
        {EXPR_DT_I8, "-9223372036854775808", "-9223372036854775808"},
        {EXPR_DT_UI8, "18446744073709551615", "18446744073709551615"},
        {EXPR_DT_R8, "0.1", "0.1"},
        {EXPR_DT_R4, "0.1", "0.1"},
        {EXPR_DT_CY, "12.50", "12.5"},
        {EXPR_DT_BOOL, "true", "True"},
        {EXPR_DT_DBDATE, "2024-02-29", "2024-02-29"},
        {EXPR_DT_DBTIMESTAMP, "2024-02-29 23:59:59.999",
         "2024-02-29 23:59:59.999000000"},
        {EXPR_DT_DBTIME, "23:59:59", "23:59:59"},
        {EXPR_DT_GUID, "{00112233-4455-6677-8899-AABBCCDDEEFF}",
         "{00112233-4455-6677-8899-AABBCCDDEEFF}"},
        {EXPR_DT_WSTR, "h\xC3\xA9", "h\xC3\xA9"},
    };
    struct expr_value v;
    struct werr err;
    char buf[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct expr_type t = {cases[i].dt, 0, 0, 0, 0};

        assert_int_equal(
            expr_value_parse(cases[i].in, strlen(cases[i].in), &t, &v, &err),
            0);
        expr_value_format(&v, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].out);
    }
    {
        struct expr_type t = {EXPR_DT_NUMERIC, 0, 10, 3, 0};

        assert_int_equal(expr_value_parse("1.5", 3, &t, &v, &err), 0);
        expr_value_format(&v, buf, sizeof(buf));
        assert_string_equal(buf, "1.500");
        t.dt = EXPR_DT_I2;
        assert_int_equal(expr_value_parse("70000", 5, &t, &v, &err), -1);
        assert_non_null(strstr(err.msg, "not a valid DT_I2"));
        t.dt = EXPR_DT_DBDATE;
        assert_int_equal(expr_value_parse("yesterday", 9, &t, &v, &err), -1);
    }
    /* A small buffer cuts but tells the full length. */
    v.type.dt = EXPR_DT_WSTR;
    v.null = false;
    v.v.s.p = "abcdef";
    v.v.s.len = 6;
    assert_int_equal(expr_value_format(&v, buf, 4), 6);
    assert_string_equal(buf, "abc");
    v.null = true;
    expr_value_format(&v, buf, sizeof(buf));
    assert_string_equal(buf, "NULL");
}

/* expr_value_parse's fast paths (plain integers, decimals, ISO dates)
 * against the cast of a string literal, which takes the full conversion:
 * the same value, or both fail. */
static void
value_parse_fast_paths(void **state)
{
    static const char *const texts[] = {
        "0",
        "-0",
        "+3",
        "42",
        "-2147483648",
        "2147483648",
        "-2147483649",
        "9223372036854775807",
        "-9223372036854775808",
        "123456789012345678",
        "-123456789012345678",
        "1234567890123456789",
        "1.5",
        "-1.5",
        "12.5",
        "-12.345",
        "12.345",
        "12.344",
        ".5",
        "5.",
        ".",
        "-",
        "+",
        "",
        "1.2.3",
        " 7",
        "7 ",
        "1e2",
        "0.000000000000000001",
        "99999999.99",
        "100000000.00",
        "-99999999.995",
        "00012.50",
        "2024-02-29",
        "2023-02-29",
        "2024-03-15",
        "1999-12-31",
        "0001-01-01",
        "2024-13-01",
        "0000-01-01",
        "9999-12-31",
        "2024-1-05",
        "2024/03/15",
        "2024-03-15 10:20",
        "1x",
    };
    static const char *const types[] = {
        "DT_I1",
        "DT_I2",
        "DT_I4",
        "DT_I8",
        "DT_NUMERIC,10,2",
        "DT_NUMERIC,38,20",
        "DT_NUMERIC,38,21",
        "DT_NUMERIC,18,0",
        "DT_NUMERIC,5,4",
        "DT_DECIMAL,2",
        "DT_DECIMAL,28",
        "DT_DBDATE",
        "DT_DBTIMESTAMP",
        "DT_DBTIMESTAMP2,3",
        "DT_UI4",
    };
    char expr[128], want[128], got[128];
    struct expr_value v;
    struct werr err;

    (void)state;
    for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
        struct expr *e;
        struct expr_type t;

        snprintf(expr, sizeof(expr), "(%s)NULL(DT_WSTR,10)", types[k]);
        e = expr_compile(expr, strlen(expr), NULL, NULL, &err);
        assert_non_null(e);
        t = *expr_result_type(e);
        expr_free(e);
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
            size_t len = strlen(texts[i]);
            char *cut;
            int rc;

            snprintf(expr, sizeof(expr), "(%s)\"%s\"", types[k], texts[i]);
            rc = expr_value_parse(texts[i], len, &t, &v, &err);
            if (fx_eval(expr, 0, want, sizeof(want), &err) != FX_OK) {
                if (rc != -1)
                    fail_msg("%s: the cast fails, parsing does not", expr);
                continue;
            }
            if (rc != 0)
                fail_msg("%s: parsing fails, the cast does not", expr);
            expr_value_format(&v, got, sizeof(got));
            if ((cut = strstr(want, " (")))
                *cut = '\0';
            if (strcmp(got, want) != 0)
                fail_msg("%s: parsing gives '%s', the cast '%s'", expr, got,
                         want);
        }
    }
}

static void
type_names(void **state)
{
    enum expr_dt dt;
    struct expr_type t = {EXPR_DT_NUMERIC, 0, 18, 2, 0};
    char buf[64];

    assert_int_equal(expr_dt_from_name("dt_wstr", 7, &dt), 0);
    assert_int_equal(dt, EXPR_DT_WSTR);
    assert_int_equal(expr_dt_from_name("DT_NOPE", 7, &dt), -1);
    assert_int_equal(expr_dt_from_pipeline("dbTimeStamp2", &dt), 0);
    assert_int_equal(dt, EXPR_DT_DBTIMESTAMP2);
    assert_int_equal(expr_dt_from_pipeline("wstr", &dt), 0);
    assert_int_equal(dt, EXPR_DT_WSTR);
    assert_string_equal(expr_dt_name(EXPR_DT_UI8), "DT_UI8");
    assert_string_equal(expr_dt_name((enum expr_dt)999), "DT_?");
    expr_type_format(&t, buf, sizeof(buf));
    assert_string_equal(buf, "DT_NUMERIC, 18, 2");
}

static size_t
utf16_len(struct expr_sv s)
{
    size_t n = 0;

    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.p[i];

        n += (ch & 0xC0) != 0x80;
        n += ch >= 0xF0; /* outside the BMP: a surrogate pair */
    }
    return n;
}

static void
row_error_codes(void **state)
{
    struct batch b;
    struct expr *e = compile("(DT_WSTR,3)name", EXPR_TRUNCATE_ERROR);
    struct expr *d = compile("10 / b", 0);
    struct expr_col out;
    struct werr err;
    uint8_t errs[500];
    size_t trunc = 0, zero = 0;

    batch_new(&b, 500);
    assert_int_equal(expr_eval_batch(e, b.cols, NCOLS, b.n, &out, errs, &err),
                     0);
    for (size_t i = 0; i < b.n; i++) {
        struct expr_value v;
        struct expr_sv s = ((struct expr_sv *)b.data[C_NAME])[i];
        bool null = b.cols[C_NAME].nulls && b.nulls[C_NAME][i];

        expr_col_value(&out, i, &v);
        if (!null && utf16_len(s) > 3) {
            assert_int_equal(errs[i], EXPR_ROW_TRUNCATED);
            assert_true(v.null);
            trunc++;
        } else {
            assert_int_equal(errs[i], 0);
        }
    }
    assert_true(trunc > 0);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_int_equal(expr_eval_batch(d, b.cols, NCOLS, b.n, &out, errs, &err),
                     0);
    for (size_t i = 0; i < b.n; i++) {
        int32_t bv = ((int32_t *)b.data[C_B])[i];
        bool null = b.cols[C_B].nulls && b.nulls[C_B][i];

        if (!null && bv == 0) {
            assert_int_equal(errs[i], EXPR_ROW_ERROR);
            zero++;
        } else {
            assert_int_equal(errs[i], 0);
        }
    }
    assert_true(zero > 0);
    assert_non_null(strstr(err.msg, "division by zero"));
    batch_free(&b);
    expr_free(e);
    expr_free(d);
}

static void
column_mismatch_is_an_error(void **state)
{
    struct expr *e = compile("a + 1", 0);
    struct batch b;
    struct expr_col cols[NCOLS], out;
    struct expr_value v;
    struct werr err;

    batch_new(&b, 4);
    memcpy(cols, b.cols, sizeof(cols));
    cols[C_A].type.dt = EXPR_DT_I8;
    assert_int_equal(expr_eval_batch(e, cols, NCOLS, 4, &out, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "not DT_I4"));
    assert_int_equal(expr_eval(e, cols, 1, 0, &v, &err), -1);
    assert_int_equal(expr_eval(e, cols, 0, 0, &v, &err), -1);
    assert_non_null(strstr(err.msg, "not given"));
    batch_free(&b);
    expr_free(e);
}

static void
system_clock(void **state)
{
    struct expr_opts opts = {0, NULL, 0};
    struct expr_value v;
    struct werr err;
    const char *text = "YEAR(GETDATE()) >= 2024 && "
                       "ABS(DATEDIFF(\"hh\", GETUTCDATE(), GETDATE())) < 15";
    struct expr *e = expr_compile(text, strlen(text), &opts, NULL, &err);

    assert_non_null(e);
    assert_int_equal(expr_eval(e, NULL, 0, 0, &v, &err), 0);
    assert_true(v.v.b);
    expr_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_equals_rows),
        cmocka_unit_test(batches_reuse_memory),
        cmocka_unit_test(diagnostics_list_every_error),
        cmocka_unit_test(warnings_do_not_fail),
        cmocka_unit_test(limits),
        cmocka_unit_test(assignment_target),
        cmocka_unit_test(values_parse_and_format),
        cmocka_unit_test(value_parse_fast_paths),
        cmocka_unit_test(type_names),
        cmocka_unit_test(row_error_codes),
        cmocka_unit_test(column_mismatch_is_an_error),
        cmocka_unit_test(system_clock),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
