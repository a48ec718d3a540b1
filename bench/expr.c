/*
 * bench/expr: the batch evaluator over 10M rows, beside the same
 * computation written as a plain C loop in the same run.  Two Derived
 * Column-like expressions:
 *
 *   numeric  (a * 2 + b) / 3 > c ? a : b              a, b, c DT_I4
 *   string   UPPER(LEFT(name, 10)) + "-" + (DT_WSTR,10)(qty * price)
 *                                     name DT_WSTR, qty DT_I4, price DT_R8
 *
 * Rows come in batches (4096 by default, a data flow buffer's size) from a
 * pool generated before timing; about 1% of the values are NULL, which both
 * sides propagate.  The C loops do what the expressions mean, overflow
 * checks included, and their results are compared with weir's before
 * anything is timed.  The row-at-a-time evaluator (expr_eval) is timed too,
 * on a tenth of the rows, to show what batching buys.
 *
 * usage: bench/expr [ROWS [BATCH]]
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expr/expr.h"

#define POOL 65536

enum { COL_A, COL_B, COL_C, COL_NAME, COL_QTY, COL_PRICE, NCOLS };

static const char *const names[NCOLS] = {"a", "b", "c", "name", "qty", "price"};
static const struct expr_type types[NCOLS] = {
    {EXPR_DT_I4, 0, 0, 0, 0}, {EXPR_DT_I4, 0, 0, 0, 0},
    {EXPR_DT_I4, 0, 0, 0, 0}, {EXPR_DT_WSTR, 50, 0, 0, 0},
    {EXPR_DT_I4, 0, 0, 0, 0}, {EXPR_DT_R8, 0, 0, 0, 0},
};

static int32_t a[POOL], b[POOL], c[POOL], qty[POOL];
static double price[POOL];
static struct expr_sv name[POOL];
static uint8_t nulls[NCOLS][POOL];
static char name_text[POOL][24];

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t seed = 88172645463325252u;

static uint64_t
rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static void
make_pool(void)
{
    static const char *const words[] = {
        "Mountain Bike", "Road Frame", "Touring Front Wheel",
        "Helmet",        "Chain",      "Sport-100 Helmet, Red",
        "Water Bottle",  "Patch Kit",
    };

    for (int i = 0; i < POOL; i++) {
        const char *w = words[rnd() % 8];

        a[i] = (int32_t)(rnd() % 2000000) - 1000000;
        b[i] = (int32_t)(rnd() % 2000000) - 1000000;
        c[i] = (int32_t)(rnd() % 2000000) - 1000000;
        qty[i] = (int32_t)(rnd() % 100);
        price[i] = (double)(rnd() % 100000) / 100;
        snprintf(name_text[i], sizeof(name_text[i]), "%s %d", w,
                 (int)(rnd() % 1000));
        name[i].p = name_text[i];
        name[i].len = strlen(name_text[i]);
        for (int k = 0; k < NCOLS; k++)
            nulls[k][i] = rnd() % 100 == 0;
    }
}

/* The columns of the batch that starts at pool row `at`. */
static void
batch_cols(size_t at, struct expr_col *cols)
{
    const void *data[NCOLS] = {a + at,    b + at,   c + at,
                               name + at, qty + at, price + at};

    for (int k = 0; k < NCOLS; k++) {
        cols[k].type = types[k];
        cols[k].data = data[k];
        cols[k].nulls = nulls[k] + at;
    }
}

static int
resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
        struct werr *err)
{
    for (int k = 0; k < NCOLS; k++) {
        if (ref->name && strcmp(ref->name, names[k]) == 0) {
            out->type = types[k];
            out->index = k;
            return 0;
        }
    }
    return werr_set(err, WERR_NOTFOUND, "unknown column");
}

/* ----------------------------------------------------- the C loops */

/* (a * 2 + b) / 3 > c ? a : b, NULLs and overflow checked. */
static size_t
c_numeric(size_t at, size_t n, int32_t *out, uint8_t *onull)
{
    size_t bad = 0;

    for (size_t i = at; i < at + n; i++) {
        int32_t t, u;
        uint8_t nul = nulls[COL_A][i] | nulls[COL_B][i] | nulls[COL_C][i];

        /* Both checks run on every row, as the evaluator's do. */
        bad += (size_t)__builtin_mul_overflow(a[i], 2, &t) +
               (size_t)__builtin_add_overflow(t, b[i], &u);
        out[i - at] = u / 3 > c[i] ? a[i] : b[i];
        /* The condition is NULL if any operand is; then so is the result
         * (a NULL branch only matters when chosen). */
        onull[i - at] = nul | (u / 3 > c[i] ? nulls[COL_A][i] : 0);
    }
    return bad;
}

/* UPPER(LEFT(name, 10)) + "-" + (DT_WSTR,10)(qty * price). */
static void
c_string(size_t at, size_t n, struct expr_sv *out, uint8_t *onull, char *buf)
{
    size_t k = 0;

    for (size_t i = at; i < at + n; i++) {
        char num[32];
        size_t len = name[i].len < 10 ? name[i].len : 10, nl;
        double v;

        onull[i - at] =
            nulls[COL_NAME][i] | nulls[COL_QTY][i] | nulls[COL_PRICE][i];
        if (onull[i - at]) {
            out[i - at].p = "";
            out[i - at].len = 0;
            continue;
        }
        out[i - at].p = buf + k;
        for (size_t j = 0; j < len; j++) {
            char ch = name[i].p[j];

            buf[k++] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
        }
        buf[k++] = '-';
        v = (double)qty[i] * price[i];
        nl = (size_t)snprintf(num, sizeof(num), "%.15G", v == 0 ? 0 : v);
        if (nl > 10)
            nl = 10;
        memcpy(buf + k, num, nl);
        k += nl;
        out[i - at].len = (size_t)(buf + k - out[i - at].p);
    }
}

/* ------------------------------------------------------------- runs */

struct result {
    double weir, row, c;
};

static struct expr *
compile(const char *text)
{
    static const struct expr_host host = {resolve, NULL, NULL, NULL};
    struct expr_opts opts = {EXPR_COLUMNS, &host, 0};
    struct werr err;
    struct expr *e = expr_compile(text, strlen(text), &opts, NULL, &err);

    if (!e) {
        fprintf(stderr, "bench/expr: %s: %s\n", text, err.msg);
        exit(1);
    }
    return e;
}

/* Compares weir's batch at pool row `at` with the C loop's. */
static void
verify(struct expr *e, bool numeric, size_t at, size_t n)
{
    static int32_t ci[POOL];
    static struct expr_sv cs[POOL];
    static uint8_t cn[POOL];
    static char buf[POOL * 24];
    struct expr_col cols[NCOLS], out;
    struct werr err;

    batch_cols(at, cols);
    if (expr_eval_batch(e, cols, NCOLS, n, &out, NULL, &err) < 0) {
        fprintf(stderr, "bench/expr: %s\n", err.msg);
        exit(1);
    }
    if (numeric)
        c_numeric(at, n, ci, cn);
    else
        c_string(at, n, cs, cn, buf);
    for (size_t i = 0; i < n; i++) {
        bool same = out.nulls[i] == cn[i];

        if (same && !cn[i])
            same = numeric ? ((const int32_t *)out.data)[i] == ci[i]
                           : ((const struct expr_sv *)out.data)[i].len ==
                                     cs[i].len &&
                                 memcmp(((const struct expr_sv *)out.data)[i].p,
                                        cs[i].p, cs[i].len) == 0;
        if (!same) {
            fprintf(stderr, "bench/expr: row %zu differs from the C loop\n",
                    at + i);
            exit(1);
        }
    }
}

static struct result
run(const char *text, bool numeric, size_t rows, size_t batch)
{
    struct expr *e = compile(text);
    struct expr_col cols[NCOLS], out;
    struct werr err;
    static int32_t ci[POOL];
    static struct expr_sv cs[POOL];
    static uint8_t cn[POOL];
    static char buf[POOL * 24];
    struct result r;
    size_t at = 0, done, sink = 0;
    double t0;

    for (size_t v = 0; v + batch <= POOL; v += batch)
        verify(e, numeric, v, batch);
    t0 = now();
    for (done = 0; done < rows; done += batch, at = (at + batch) % POOL) {
        if (at + batch > POOL)
            at = 0;
        batch_cols(at, cols);
        if (expr_eval_batch(e, cols, NCOLS, batch, &out, NULL, &err) < 0) {
            fprintf(stderr, "bench/expr: %s\n", err.msg);
            exit(1);
        }
        sink += out.nulls[0];
    }
    r.weir = (double)done / (now() - t0);
    t0 = now();
    for (done = 0, at = 0; done < rows; done += batch, at += batch) {
        if (at + batch > POOL)
            at = 0;
        if (numeric)
            sink += c_numeric(at, batch, ci, cn);
        else
            c_string(at, batch, cs, cn, buf);
        sink += cn[0];
    }
    r.c = (double)done / (now() - t0);
    t0 = now();
    batch_cols(0, cols);
    for (done = 0; done < rows / 10; done++) {
        struct expr_value v;

        if (done % POOL == 0)
            batch_cols(0, cols);
        if (expr_eval(e, cols, NCOLS, done % POOL, &v, &err) < 0) {
            fprintf(stderr, "bench/expr: %s\n", err.msg);
            exit(1);
        }
        sink += v.null;
    }
    r.row = (double)done / (now() - t0);
    if (sink == (size_t)-1)
        printf("%zu\n", sink); /* keep the loops from being optimized out */
    expr_free(e);
    return r;
}

static void
report(const char *label, const char *text, struct result r)
{
    printf("%-8s %s\n", label, text);
    printf("         weir batch %8.1f M rows/s   C loop %8.1f M rows/s   "
           "C/weir %.2fx   (row at a time %.1f M rows/s)\n",
           r.weir / 1e6, r.c / 1e6, r.c / r.weir, r.row / 1e6);
}

int
main(int argc, char **argv)
{
    static const char numeric[] = "(a * 2 + b) / 3 > c ? a : b";
    static const char string[] =
        "UPPER(LEFT(name, 10)) + \"-\" + (DT_WSTR,10)(qty * price)";
    size_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    size_t batch = argc > 2 ? strtoull(argv[2], NULL, 10) : 4096;

    if (rows == 0 || batch == 0 || batch > POOL) {
        fprintf(stderr, "usage: bench/expr [ROWS [BATCH (1..%d)]]\n", POOL);
        return 2;
    }
    make_pool();
    printf("%zu rows in batches of %zu\n", rows, batch);
    report("numeric", numeric, run(numeric, true, rows, batch));
    report("string", string, run(string, false, rows, batch));
    return 0;
}
