/*
 * libFuzzer target for the expression language: compiles the input (the
 * first byte picks the compile flags, the rest is the text) against a host
 * that knows a few variables and columns, then evaluates it twice, row by
 * row and as a batch, and aborts if the two evaluators disagree on any
 * row's value, NULL or failure.  Any crash, sanitizer report, leak or
 * disagreement is a finding; fuzz/run.sh runs it for a bounded time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr.h"

#define ROWS 5
#define TICKS_DAY (INT64_C(864000000000))

/* Variables: fixed names with fixed types (those the seed corpus uses);
 * any other name gets a type picked from its first letter, so the fuzzer
 * reaches every type. */
static const struct {
    const char *name;
    enum expr_dt dt;
} known[] = {
    {"N", EXPR_DT_I4},       {"Zero", EXPR_DT_I4},       {"Count", EXPR_DT_I4},
    {"S", EXPR_DT_WSTR},     {"Name", EXPR_DT_WSTR},     {"Path", EXPR_DT_WSTR},
    {"File", EXPR_DT_WSTR},  {"D", EXPR_DT_DBTIMESTAMP}, {"R", EXPR_DT_R8},
    {"Cy", EXPR_DT_CY},      {"Num", EXPR_DT_NUMERIC},   {"NullI", EXPR_DT_I4},
    {"NullS", EXPR_DT_WSTR}, {"B", EXPR_DT_BOOL},        {"U8", EXPR_DT_UI8},
    {"Big", EXPR_DT_I8},     {"U", EXPR_DT_UI4},
};

static const enum expr_dt by_letter[] = {
    EXPR_DT_I1,
    EXPR_DT_I2,
    EXPR_DT_I4,
    EXPR_DT_I8,
    EXPR_DT_UI1,
    EXPR_DT_UI2,
    EXPR_DT_UI4,
    EXPR_DT_UI8,
    EXPR_DT_R4,
    EXPR_DT_R8,
    EXPR_DT_CY,
    EXPR_DT_NUMERIC,
    EXPR_DT_BOOL,
    EXPR_DT_WSTR,
    EXPR_DT_STR,
    EXPR_DT_DBTIMESTAMP,
    EXPR_DT_DBDATE,
    EXPR_DT_DBTIME2,
    EXPR_DT_DBTIMESTAMPOFFSET,
    EXPR_DT_GUID,
    EXPR_DT_BYTES,
    EXPR_DT_DATE,
    EXPR_DT_DECIMAL,
    EXPR_DT_NTEXT,
    EXPR_DT_FILETIME,
    EXPR_DT_DBTIME,
};
#define NLETTER (sizeof(by_letter) / sizeof(by_letter[0]))

static struct expr_type
type_for(enum expr_dt dt)
{
    struct expr_type t = {dt, 0, 0, 0, 0};

    if (dt == EXPR_DT_NUMERIC)
        t.precision = 10, t.scale = 2;
    else if (dt == EXPR_DT_DECIMAL)
        t.precision = 29, t.scale = 3;
    else if (dt == EXPR_DT_STR)
        t.length = 20, t.codepage = 1252;
    else if (dt == EXPR_DT_WSTR)
        t.length = 20;
    else if (dt == EXPR_DT_BYTES)
        t.length = 8;
    else if (dt == EXPR_DT_DBTIME2 || dt == EXPR_DT_DBTIMESTAMPOFFSET)
        t.scale = 3;
    return t;
}

static enum expr_dt
dt_of(const char *name)
{
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(known[i].name, name) == 0)
            return known[i].dt;
    return by_letter[(unsigned char)name[0] % NLETTER];
}

/* One column per type, ROWS rows each; row 1 is NULL everywhere. */
static struct expr_col cols[NLETTER];
static unsigned char storage[NLETTER][ROWS][16];
static uint8_t nulls[ROWS] = {0, 1, 0, 0, 0};
static const char *const texts[ROWS] = {"Mountain Bike", "", "  12 ",
                                        "h\xC3\xA9llo, w\xC3\xB6rld",
                                        "2024-03-15 10:20:30"};

static void
set_value(enum expr_dt dt, int row, void *p)
{
    int64_t small[ROWS] = {5, 0, 0, -7, 2147483647};

    switch (dt) {
    case EXPR_DT_WSTR:
    case EXPR_DT_STR:
    case EXPR_DT_NTEXT:
    case EXPR_DT_BYTES: {
        struct expr_sv s = {texts[row], strlen(texts[row])};

        if (dt == EXPR_DT_BYTES && s.len > 8)
            s.len = 8;
        memcpy(p, &s, sizeof(s));
        break;
    }
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL: {
        expr_i128 m = small[row] * 1234;

        memcpy(p, &m, sizeof(m));
        break;
    }
    case EXPR_DT_DBTIMESTAMPOFFSET: {
        struct expr_dto d = {INT64_C(738959) * TICKS_DAY +
                                 row * INT64_C(36000000000),
                             (int16_t)(row * 60 - 120)};

        memcpy(p, &d, sizeof(d));
        break;
    }
    case EXPR_DT_GUID:
        memset(p, row * 17, 16);
        break;
    case EXPR_DT_R4: {
        float f = (float)small[row] / 4;

        memcpy(p, &f, sizeof(f));
        break;
    }
    case EXPR_DT_R8: {
        double d = (double)small[row] / 8;

        memcpy(p, &d, sizeof(d));
        break;
    }
    case EXPR_DT_BOOL:
        *(uint8_t *)p = (uint8_t)(row & 1);
        break;
    default:
        if (dt == EXPR_DT_DBTIMESTAMP || dt == EXPR_DT_DBDATE ||
            dt == EXPR_DT_DATE || dt == EXPR_DT_FILETIME) {
            int64_t t = (INT64_C(738959) + row * 400) * TICKS_DAY;

            memcpy(p, &t, sizeof(t));
        } else if (dt == EXPR_DT_DBTIME2 || dt == EXPR_DT_DBTIME) {
            int64_t t = row * INT64_C(36000000000);

            memcpy(p, &t, sizeof(t));
        } else {
            /* Integers: narrow types take the low bytes (little
             * endian), which is a valid value of every width. */
            memcpy(p, &small[row], sizeof(small[row]));
        }
        break;
    }
}

static void
init_columns(void)
{
    static int done;

    if (done)
        return;
    done = 1;
    for (size_t k = 0; k < NLETTER; k++) {
        static unsigned char packed[NLETTER][ROWS * 16];
        size_t size;

        cols[k].type = type_for(by_letter[k]);
        size = by_letter[k] == EXPR_DT_NUMERIC ||
                       by_letter[k] == EXPR_DT_DECIMAL ||
                       by_letter[k] == EXPR_DT_WSTR ||
                       by_letter[k] == EXPR_DT_STR ||
                       by_letter[k] == EXPR_DT_NTEXT ||
                       by_letter[k] == EXPR_DT_BYTES ||
                       by_letter[k] == EXPR_DT_DBTIMESTAMPOFFSET ||
                       by_letter[k] == EXPR_DT_GUID
                   ? 16
               : by_letter[k] == EXPR_DT_R4 ? 4
               : by_letter[k] == EXPR_DT_I1 || by_letter[k] == EXPR_DT_UI1 ||
                       by_letter[k] == EXPR_DT_BOOL
                   ? 1
               : by_letter[k] == EXPR_DT_I2 || by_letter[k] == EXPR_DT_UI2 ? 2
               : by_letter[k] == EXPR_DT_I4 || by_letter[k] == EXPR_DT_UI4 ? 4
                                                                           : 8;
        for (int r = 0; r < ROWS; r++) {
            set_value(by_letter[k], r, storage[k][r]);
            memcpy(packed[k] + r * size, storage[k][r], size);
        }
        cols[k].data = packed[k];
        cols[k].nulls = nulls;
    }
}

static int
resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
        struct werr *err)
{
    const char *name = ref->name ? ref->name : ref->lineage;
    enum expr_dt dt = name[0] ? dt_of(name) : EXPR_DT_I4;

    if (ref->ns && strcmp(ref->ns, "Nope") == 0)
        return werr_set(err, WERR_NOTFOUND, "unknown variable");
    out->type = type_for(dt);
    if (ref->kind == EXPR_REF_COLUMN) {
        for (size_t k = 0; k < NLETTER; k++)
            if (by_letter[k] == dt)
                out->index = (int)k;
        return 0;
    }
    out->handle = (void *)(uintptr_t)dt;
    out->read_only = ref->ns && ref->ns[0] == '$';
    return 0;
}

static int
get(void *ctx, void *handle, struct expr_value *out, struct werr *err)
{
    enum expr_dt dt = (enum expr_dt)(uintptr_t)handle;

    init_columns();
    for (size_t k = 0; k < NLETTER; k++)
        if (by_letter[k] == dt)
            expr_col_value(&cols[k], 0, out);
    return 0;
}

static void
now(void *ctx, int64_t *utc, int64_t *local)
{
    *local = INT64_C(738959) * TICKS_DAY + INT64_C(372301230000);
    *utc = *local - INT64_C(36000000000);
}

static void
check_same(struct expr *e, struct expr *r, const char *text)
{
    struct expr_col out;
    struct werr err;
    uint8_t errs[ROWS];
    char a[256], b[256];

    if (expr_eval_batch(e, cols, NLETTER, ROWS, &out, errs, &err) < 0)
        return; /* a variable could not be read: no rows to compare */
    for (int i = 0; i < ROWS; i++) {
        struct expr_value v, w;
        int rc;

        expr_col_value(&out, (size_t)i, &v);
        if (errs[i])
            snprintf(a, sizeof(a), "ERROR");
        else
            expr_value_format(&v, a, sizeof(a));
        rc = expr_eval(r, cols, NLETTER, (size_t)i, &w, &err);
        if (rc < 0)
            snprintf(b, sizeof(b), "ERROR");
        else
            expr_value_format(&w, b, sizeof(b));
        if (strcmp(a, b) != 0) {
            fprintf(stderr,
                    "batch and row differ on row %d of '%s': "
                    "'%s' vs '%s'\n",
                    i, text, a, b);
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct expr_host host = {resolve, get, now, NULL};
    struct expr_opts opts = {0, &host, 1 << 16};
    struct expr_diags diags = {0};
    struct expr *e, *r;
    struct werr err;
    char *text;

    if (size < 1)
        return 0;
    init_columns();
    opts.flags = data[0] & (EXPR_COLUMNS | EXPR_ASSIGN | EXPR_TRUNCATE_ERROR);
    text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    e = expr_compile(text, size - 1, &opts, &diags, &err);
    expr_diags_release(&diags);
    if (e) {
        r = expr_compile(text, size - 1, &opts, NULL, &err);
        if (!r)
            abort(); /* compiling is deterministic */
        check_same(e, r, text);
        expr_free(r);
        expr_free(e);
    }
    free(text);
    return 0;
}
