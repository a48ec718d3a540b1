/*
 * Compilation driver and the row evaluator.
 *
 * The row evaluator walks the typed tree.  NULL propagation is done here
 * once for every kernel: an operator or function with a NULL argument is
 * NULL ("If either operand is null, the result is null"), except the few
 * nodes that look at NULLs themselves (ISNULL, REPLACENULL, TOKENCOUNT)
 * and the three that do not evaluate all their operands:
 *   - `c ? a : b` evaluates only the selected branch, so a failure in the
 *     other one does not count, and a NULL condition gives NULL;
 *   - `a && b` and `a || b` follow the truth tables of their SSIS pages
 *     (FALSE && NULL is FALSE, TRUE || NULL is TRUE, otherwise NULL wins)
 *     and skip `b` when `a` decides: SSIS does not document whether it
 *     short-circuits, and skipping means `@n != 0 && 10 / @n > 1` works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"
#include "base/xalloc.h"
#include "expr/expr_int.h"

/* ------------------------------------------------------------- compile */

struct expr *
expr_compile(const char *text, size_t len, const struct expr_opts *opts,
             struct expr_diags *diags, struct werr *err)
{
    struct expr *e;
    struct expr_compiler c;

    if (len > EXPR_MAX_TEXT) {
        werr_set(err, WERR_LIMIT, "expression is longer than %u bytes",
                 EXPR_MAX_TEXT);
        return NULL;
    }
    e = xcalloc(1, sizeof(*e));
    e->text = xstrndup(text, len);
    e->len = len;
    warena_init(&e->arena);
    warena_init(&e->scratch);
    if (opts) {
        e->flags = opts->flags;
        if (opts->host)
            e->host = *opts->host;
        e->max_string = opts->max_string;
    }
    if (!e->max_string)
        e->max_string = EXPR_DEFAULT_MAX_STRING;
    memset(&c, 0, sizeof(c));
    c.e = e;
    c.text = e->text;
    c.len = len;
    c.diags = diags;
    c.err = err;
    werr_clear(err);
    if (memchr(text, '\0', len)) {
        expr_diag(&c, (uint32_t)((const char *)memchr(text, '\0', len) - text),
                  false, "the expression contains a NUL character");
        goto fail;
    }
    if (expr_lex(&c) < 0 || expr_parse(&c) < 0 || expr_check(&c) < 0)
        goto fail;
    free(c.toks);
    return e;
fail:
    if (c.nerr == 0) /* cannot happen: every failure records a diagnostic */
        werr_set(err, WERR_INTERNAL, "expression failed to compile");
    free(c.toks);
    expr_free(e);
    return NULL;
}

void
expr_free(struct expr *e)
{
    if (!e)
        return;
    for (int i = 0; e->vecs && i < e->nslots; i++) {
        if (e->vecs[i].cap)
            free(e->vecs[i].data);
        free(e->vecs[i].owned_nulls);
    }
    free(e->vecs);
    free(e->zeros);
    free(e->ones);
    warena_release(&e->arena);
    warena_release(&e->scratch);
    free(e->text);
    free(e);
}

const struct expr_type *
expr_result_type(const struct expr *e)
{
    return &e->root->type;
}

const struct expr_binding *
expr_assign_target(const struct expr *e, const struct expr_ref **ref)
{
    if (!e->assign)
        return NULL;
    if (ref)
        *ref = &e->target->ref;
    return &e->target->bind;
}

const char *
expr_text(const struct expr *e)
{
    return e->text;
}

/* ------------------------------------------------------- eval support */

int
expr_fail(struct ectx *cx, const struct expr_node *n, enum expr_row_err kind,
          const char *fmt, ...)
{
    char msg[200];
    int line, col;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cx->kind = kind;
    if (!n || cx->folding || !cx->e->text)
        return werr_set(cx->err, WERR_INVALID, "%s", msg);
    expr_position(cx->e->text, cx->e->len, n->pos, &line, &col);
    return werr_set(cx->err, WERR_INVALID, "%d:%d: %s in \"%.*s%s\"", line, col,
                    msg, cx->e->len > 60 ? 57 : (int)cx->e->len, cx->e->text,
                    cx->e->len > 60 ? "..." : "");
}

void
expr_now(struct ectx *cx, int64_t *utc, int64_t *local)
{
    if (!cx->have_now) {
        if (cx->e->host.now)
            cx->e->host.now(cx->e->host.ctx, &cx->now_utc, &cx->now_local);
        else
            expr_clock_system(&cx->now_utc, &cx->now_local);
        cx->have_now = true;
    }
    *utc = cx->now_utc;
    *local = cx->now_local;
}

void *
expr_scratch(struct ectx *cx, size_t n)
{
    return warena_alloc_uninit(&cx->e->scratch, n);
}

char *
expr_scratch_str(struct ectx *cx, const struct expr_node *n, size_t bytes)
{
    if (bytes > cx->e->max_string) {
        expr_fail(cx, n, EXPR_ROW_ERROR,
                  "the string result (%zu bytes) is larger than the %zu-byte "
                  "limit",
                  bytes, cx->e->max_string);
        return NULL;
    }
    return warena_alloc_uninit(&cx->e->scratch, bytes ? bytes : 1);
}

/* ------------------------------------------------------------ vectors */

void
expr_vec_load(const struct expr_type *t, const void *data, const uint8_t *nulls,
              size_t row, struct expr_value *out)
{
    out->type = *t;
    out->null = nulls && nulls[row];
    switch (t->dt) {
    case EXPR_DT_BOOL:
        out->v.b = ((const uint8_t *)data)[row] != 0;
        break;
    case EXPR_DT_I1:
        out->v.i = ((const int8_t *)data)[row];
        break;
    case EXPR_DT_I2:
        out->v.i = ((const int16_t *)data)[row];
        break;
    case EXPR_DT_I4:
        out->v.i = ((const int32_t *)data)[row];
        break;
    case EXPR_DT_UI1:
        out->v.u = ((const uint8_t *)data)[row];
        break;
    case EXPR_DT_UI2:
        out->v.u = ((const uint16_t *)data)[row];
        break;
    case EXPR_DT_UI4:
        out->v.u = ((const uint32_t *)data)[row];
        break;
    case EXPR_DT_UI8:
        out->v.u = ((const uint64_t *)data)[row];
        break;
    case EXPR_DT_R4:
        out->v.r = ((const float *)data)[row];
        break;
    case EXPR_DT_R8:
        out->v.r = ((const double *)data)[row];
        break;
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
        out->v.dec = ((const expr_i128 *)data)[row];
        break;
    case EXPR_DT_DBTIMESTAMPOFFSET:
        out->v.dto = ((const struct expr_dto *)data)[row];
        break;
    case EXPR_DT_GUID:
        out->v.guid = ((const struct expr_guid *)data)[row];
        break;
    default:
        if (expr_dt_size(t->dt) == sizeof(struct expr_sv) &&
            !expr_dt_is_date(t->dt))
            out->v.s = ((const struct expr_sv *)data)[row];
        else /* I8, CY and the tick-based dates */
            out->v.i = ((const int64_t *)data)[row];
        break;
    }
}

void
expr_col_value(const struct expr_col *col, size_t row, struct expr_value *out)
{
    expr_vec_load(&col->type, col->data, col->nulls, row, out);
}

void
expr_vec_store(void *data, uint8_t *nulls, size_t row,
               const struct expr_value *v)
{
    nulls[row] = v->null;
    switch (v->type.dt) {
    case EXPR_DT_BOOL:
        ((uint8_t *)data)[row] = v->null ? 0 : v->v.b;
        break;
    case EXPR_DT_I1:
        ((int8_t *)data)[row] = (int8_t)(v->null ? 0 : v->v.i);
        break;
    case EXPR_DT_I2:
        ((int16_t *)data)[row] = (int16_t)(v->null ? 0 : v->v.i);
        break;
    case EXPR_DT_I4:
        ((int32_t *)data)[row] = (int32_t)(v->null ? 0 : v->v.i);
        break;
    case EXPR_DT_UI1:
        ((uint8_t *)data)[row] = (uint8_t)(v->null ? 0 : v->v.u);
        break;
    case EXPR_DT_UI2:
        ((uint16_t *)data)[row] = (uint16_t)(v->null ? 0 : v->v.u);
        break;
    case EXPR_DT_UI4:
        ((uint32_t *)data)[row] = (uint32_t)(v->null ? 0 : v->v.u);
        break;
    case EXPR_DT_UI8:
        ((uint64_t *)data)[row] = v->null ? 0 : v->v.u;
        break;
    case EXPR_DT_R4:
        ((float *)data)[row] = v->null ? 0 : (float)v->v.r;
        break;
    case EXPR_DT_R8:
        ((double *)data)[row] = v->null ? 0 : v->v.r;
        break;
    case EXPR_DT_NUMERIC:
    case EXPR_DT_DECIMAL:
        ((expr_i128 *)data)[row] = v->null ? 0 : v->v.dec;
        break;
    case EXPR_DT_DBTIMESTAMPOFFSET: {
        struct expr_dto z = {0, 0};

        ((struct expr_dto *)data)[row] = v->null ? z : v->v.dto;
        break;
    }
    case EXPR_DT_GUID: {
        struct expr_guid z;

        memset(&z, 0, sizeof(z));
        ((struct expr_guid *)data)[row] = v->null ? z : v->v.guid;
        break;
    }
    default:
        if (expr_dt_size(v->type.dt) == sizeof(struct expr_sv) &&
            !expr_dt_is_date(v->type.dt)) {
            struct expr_sv z = {"", 0};

            ((struct expr_sv *)data)[row] = v->null ? z : v->v.s;
        } else {
            ((int64_t *)data)[row] = v->null ? 0 : v->v.i;
        }
        break;
    }
}

/* ------------------------------------------------------------ the walk */

static void
null_of(const struct expr_node *n, struct expr_value *out)
{
    memset(out, 0, sizeof(*out));
    out->type = n->type;
    out->null = true;
}

static int
eval_var(struct ectx *cx, const struct expr_node *n, struct expr_value *out)
{
    const struct expr_host *h = &cx->e->host;
    struct expr_value v;
    struct werr err;

    memset(&v, 0, sizeof(v));
    werr_clear(&err);
    if (!h->get || h->get(h->ctx, n->bind.handle, &v, &err) < 0)
        return expr_fail(cx, n, EXPR_ROW_ERROR, "reading %s: %s", n->ref.name,
                         err.msg[0] ? err.msg : "no value");
    if (v.type.dt == n->type.dt || v.null) {
        *out = v;
        out->type = n->type;
        return 0;
    }
    /* A host may hand a value of another type (a variable changed type):
     * convert it as an implicit cast would. */
    return expr_convert(cx, n, &v, &n->type, out);
}

static int
eval_col(struct ectx *cx, const struct expr_node *n, struct expr_value *out)
{
    const struct expr_col *col;

    if (n->bind.index < 0 || (size_t)n->bind.index >= cx->ncols)
        return expr_fail(cx, n, EXPR_ROW_ERROR,
                         "column %d was not given to the evaluator",
                         n->bind.index);
    col = &cx->cols[n->bind.index];
    if (col->type.dt != n->type.dt)
        return expr_fail(cx, n, EXPR_ROW_ERROR,
                         "column '%s' is %s, not %s as compiled",
                         n->ref.name ? n->ref.name : n->ref.lineage,
                         expr_dt_name(col->type.dt), expr_dt_name(n->type.dt));
    expr_vec_load(&n->type, col->data, col->nulls, cx->row, out);
    return 0;
}

/* && and || with their truth tables; the right side only when needed. */
static int
eval_logic(struct ectx *cx, const struct expr_node *n, struct expr_value *out)
{
    struct expr_value a, b;
    bool decide = n->kind == N_OR; /* the value that settles it */

    if (expr_eval_node(cx, n->a[0], &a) < 0)
        return -1;
    out->type = n->type;
    out->null = false;
    if (!a.null && a.v.b == decide) {
        out->v.b = decide;
        return 0;
    }
    if (expr_eval_node(cx, n->a[1], &b) < 0)
        return -1;
    if (!b.null && b.v.b == decide) {
        out->v.b = decide;
        return 0;
    }
    out->null = a.null || b.null;
    out->v.b = !decide;
    return 0;
}

static int
eval_cond(struct ectx *cx, const struct expr_node *n, struct expr_value *out)
{
    struct expr_value c;

    if (expr_eval_node(cx, n->a[0], &c) < 0)
        return -1;
    if (c.null) {
        null_of(n, out);
        return 0;
    }
    return expr_eval_node(cx, n->a[c.v.b ? 1 : 2], out);
}

int
expr_eval_node(struct ectx *cx, const struct expr_node *n,
               struct expr_value *out)
{
    struct expr_value a[EXPR_MAX_ARGS];

    switch (n->kind) {
    case N_LIT:
        *out = n->lit;
        return 0;
    case N_VAR:
        return eval_var(cx, n, out);
    case N_COL:
        return eval_col(cx, n, out);
    case N_AND:
    case N_OR:
        return eval_logic(cx, n, out);
    case N_COND:
        return eval_cond(cx, n, out);
    default:
        break;
    }
    /* Every operand is evaluated, NULL or not, as the batch evaluator
     * does: a failure in one is a failure even if another is NULL. */
    for (int i = 0; i < n->nargs; i++)
        if (expr_eval_node(cx, n->a[i], &a[i]) < 0)
            return -1;
    for (int i = 0; i < n->nargs && !n->nulls_in; i++) {
        if (a[i].null) {
            null_of(n, out);
            return 0;
        }
    }
    memset(out, 0, sizeof(*out));
    out->type = n->type;
    return n->kern(cx, n, a, out);
}

int
expr_eval(struct expr *e, const struct expr_col *cols, size_t ncols, size_t row,
          struct expr_value *out, struct werr *err)
{
    struct ectx cx;

    memset(&cx, 0, sizeof(cx));
    cx.e = e;
    cx.cols = cols;
    cx.ncols = ncols;
    cx.row = row;
    cx.err = err;
    werr_clear(err);
    warena_reset(&e->scratch);
    return expr_eval_node(&cx, e->root, out);
}
