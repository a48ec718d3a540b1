/* The expression tests' host: variables, columns and a fixed clock. */
#include <stdio.h>
#include <string.h>

#include "fixture.h"

#define TICKS_SEC EXPR_TICKS_PER_SEC
#define TICKS_DAY (86400 * TICKS_SEC)
/* Days from 0001-01-01 to 2024-03-15 and 2003-08-01. */
#define DAYS_20240315 INT64_C(738959)
#define DAYS_20030801 INT64_C(731427)

struct fx_var {
    const char *ns, *name;
    struct expr_value v;
    bool read_only;
};

static struct expr_value
val(enum expr_dt dt)
{
    struct expr_value v;

    memset(&v, 0, sizeof(v));
    v.type.dt = dt;
    return v;
}

static struct expr_value
i4(int64_t x)
{
    struct expr_value v = val(EXPR_DT_I4);

    v.v.i = x;
    return v;
}

static struct expr_value
wstr(const char *s)
{
    struct expr_value v = val(EXPR_DT_WSTR);

    v.v.s.p = s;
    v.v.s.len = strlen(s);
    return v;
}

static struct fx_var vars[32];
static size_t nvars;

static void
add(const char *ns, const char *name, struct expr_value v, bool ro)
{
    vars[nvars].ns = ns;
    vars[nvars].name = name;
    vars[nvars].v = v;
    vars[nvars].read_only = ro;
    nvars++;
}

static void
init_vars(void)
{
    struct expr_value v;

    if (nvars)
        return;
    add("User", "N", i4(21), false);
    add("User", "Zero", i4(0), false);
    add("User", "Count", i4(10), false);
    add("MyNamespace", "Count", i4(2), false);
    add("User", "S", wstr("hello"), false);
    add("User", "Name", wstr("Touring Front Wheel"), false);
    add("User", "Path", wstr("c:\\program files\\data\\myfile.txt"), false);
    add("User", "File", wstr("sales_20240315.csv"), false);
    add("User", "Times", i4(3), false);
    v = val(EXPR_DT_DBTIMESTAMP);
    v.v.t = DAYS_20240315 * TICKS_DAY + (10 * 3600 + 20 * 60 + 30) * TICKS_SEC;
    add("User", "D", v, false);
    v = i4(0);
    v.null = true;
    add("User", "NullI", v, false);
    v = wstr("");
    v.null = true;
    add("User", "NullS", v, false);
    v = val(EXPR_DT_BOOL);
    v.v.b = true;
    add("User", "B", v, false);
    v = val(EXPR_DT_R8);
    v.v.r = 2.5;
    add("User", "R", v, false);
    v = val(EXPR_DT_I8);
    v.v.i = INT64_C(9223372036854775807);
    add("User", "Big", v, false);
    v = val(EXPR_DT_UI4);
    v.v.u = 7;
    add("User", "U", v, false);
    v = val(EXPR_DT_CY);
    v.v.i = 125000; /* 12.5 */
    add("User", "Cy", v, false);
    v = val(EXPR_DT_NUMERIC);
    v.type.precision = 10;
    v.type.scale = 2;
    v.v.dec = 12345; /* 123.45 */
    add("User", "Num", v, false);
    v = val(EXPR_DT_UI8);
    v.v.u = UINT64_C(18446744073709551615);
    add("User", "U8", v, false);
    add("User", "Rows", i4(5), false);
    add("$Project", "Mode", wstr("full"), true);
    add("$Package", "Limit", i4(100), true);
    add("System", "PackageName", wstr("Extract"), true);
    add("User", "Sales$", i4(100), false);
    add("User", "Month", i4(12), false);
}

/* ----------------------------------------------------------- columns */

static const int32_t qty[] = {5};
static const double price[] = {2.5};
static const struct expr_sv names[] = {{"Mountain Bike", 13}};
static const struct expr_sv nullcol[] = {{"", 0}};
static const uint8_t is_null[] = {1};
static const struct expr_sv amounts[] = {{"1,5", 3}};
static const int64_t listprice[] = {4000000}; /* 400.0000 */
static const int64_t modified[] = {DAYS_20030801 * TICKS_DAY};
static const uint8_t flag[] = {1};
static const int16_t reorder[] = {750};

const struct expr_col fx_cols[] = {
    {{EXPR_DT_I4, 0, 0, 0, 0}, qty, NULL},
    {{EXPR_DT_R8, 0, 0, 0, 0}, price, NULL},
    {{EXPR_DT_WSTR, 50, 0, 0, 0}, names, NULL},
    {{EXPR_DT_WSTR, 50, 0, 0, 0}, nullcol, is_null},
    {{EXPR_DT_STR, 10, 0, 0, 1252}, amounts, NULL},
    {{EXPR_DT_CY, 0, 0, 0, 0}, listprice, NULL},
    {{EXPR_DT_DBTIMESTAMP, 0, 0, 0, 0}, modified, NULL},
    {{EXPR_DT_BOOL, 0, 0, 0, 0}, flag, NULL},
    {{EXPR_DT_I2, 0, 0, 0, 0}, reorder, NULL},
};
const size_t fx_ncols = sizeof(fx_cols) / sizeof(fx_cols[0]);

static const char *const col_names[] = {
    "Qty",       "Price",        "Name", "NullCol",      "Amount",
    "ListPrice", "ModifiedDate", "Flag", "ReorderPoint",
};

static int
resolve_col(const struct expr_ref *ref, struct expr_binding *out,
            struct werr *err)
{
    const char *name = ref->name;

    /* The stored form: #38 is Qty, a refId names its column at the end. */
    if (ref->lineage) {
        if (strcmp(ref->lineage, "38") == 0)
            name = "Qty";
        else if (strcmp(ref->lineage,
                        "Package\\DFT\\Src.Outputs[Out].Columns[Name]") == 0)
            name = "Name";
        else
            return werr_set(err, WERR_NOTFOUND, "unknown lineage '%s'",
                            ref->lineage);
    }
    if (ref->component && strcmp(ref->component, "Src") != 0)
        return werr_set(err, WERR_NOTFOUND, "unknown component '%s'",
                        ref->component);
    for (size_t i = 0; i < fx_ncols; i++) {
        if (strcmp(col_names[i], name) == 0) {
            out->type = fx_cols[i].type;
            out->index = (int)i;
            return 0;
        }
    }
    return werr_set(err, WERR_NOTFOUND, "unknown column '%s'", name);
}

static int
resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
        struct werr *err)
{
    init_vars();
    if (ref->kind == EXPR_REF_COLUMN)
        return resolve_col(ref, out, err);
    for (size_t i = 0; i < nvars; i++) {
        if (strcmp(vars[i].name, ref->name) != 0 ||
            (ref->ns && strcmp(vars[i].ns, ref->ns) != 0))
            continue;
        out->type = vars[i].v.type;
        out->handle = &vars[i];
        out->read_only = vars[i].read_only;
        return 0;
    }
    return werr_set(err, WERR_NOTFOUND, "unknown variable '%s'", ref->name);
}

static int
get(void *ctx, void *handle, struct expr_value *out, struct werr *err)
{
    *out = ((struct fx_var *)handle)->v;
    return 0;
}

static void
now(void *ctx, int64_t *utc, int64_t *local)
{
    *local = DAYS_20240315 * TICKS_DAY +
             (10 * 3600 + 20 * 60 + 30) * TICKS_SEC + 123 * 10000;
    *utc = *local - 3600 * TICKS_SEC;
}

const struct expr_host fx_host = {resolve, get, now, NULL};

enum fx_phase
fx_eval(const char *text, unsigned flags, char *buf, size_t size,
        struct werr *err)
{
    struct expr_opts opts = {flags, &fx_host, 0};
    struct expr_value v;
    struct expr *e;
    char type[64];
    size_t n;

    e = expr_compile(text, strlen(text), &opts, NULL, err);
    if (!e)
        return FX_COMPILE;
    if (expr_eval(e, fx_cols, fx_ncols, 0, &v, err) < 0) {
        expr_free(e);
        return FX_RUNTIME;
    }
    expr_type_format(expr_result_type(e), type, sizeof(type));
    n = expr_value_format(&v, buf, size);
    if (n < size)
        snprintf(buf + n, size - n, " (%s)", type);
    expr_free(e);
    return FX_OK;
}
