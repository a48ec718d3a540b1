/*
 * weir expr: compiles and evaluates one expression, as an Expression Task
 * or a variable would, and prints its value and type ("3 (DT_I4)").
 * Variables and parameters come from --var; GETDATE() reads --now when it
 * is given.  Compile errors are listed on standard error, each with its
 * line and column and a caret under the place, and the exit code is that
 * of WERR_INVALID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/banned.h"
#include "base/wopt.h"
#include "base/xalloc.h"
#include "expr/expr_int.h"

struct cli_conf {
    char **vars;
    char *now;
};

static const struct wopt options[] = {
    {"var", WOPT_LIST, offsetof(struct cli_conf, vars), NULL, 0, 0,
     "a variable or parameter: NS::NAME=VALUE:TYPE, e.g. User::N=5:DT_I4, "
     "User::S=abc:DT_WSTR, $Project::Rate=1.5:DT_NUMERIC,10,2 "
     "(NS defaults to User; $Project and $Package and System are "
     "read-only); repeatable",
     0},
    {"now", WOPT_STR, offsetof(struct cli_conf, now), NULL, 0, 0,
     "the local time GETDATE() returns, as 'yyyy-mm-dd hh:mm:ss' "
     "(GETUTCDATE() is the same instant in UTC)",
     0},
    WOPT_END,
};

static const char usage[] =
    "usage: weir expr [--var NS::NAME=VALUE:TYPE ...] [--now TIME] "
    "[--] 'EXPRESSION'\n\n"
    "Evaluates an SSIS expression and prints its value and type, such as\n"
    "\"3 (DT_I4)\".  An assignment '@[User::X] = ...' prints the value it\n"
    "would store.  Put '--' before an expression that starts with '-'.";

struct cli_var {
    char *ns, *name;
    struct expr_value value;
    bool read_only;
};

struct cli_host {
    struct cli_var *vars;
    size_t nvars;
    bool fixed_now;
    int64_t utc, local;
};

static int
resolve(void *ctx, const struct expr_ref *ref, struct expr_binding *out,
        struct werr *err)
{
    struct cli_host *h = ctx;

    for (size_t i = 0; i < h->nvars; i++) {
        struct cli_var *v = &h->vars[i];

        if (strcmp(v->name, ref->name) != 0 ||
            (ref->ns && strcmp(v->ns, ref->ns) != 0))
            continue;
        out->type = v->value.type;
        out->handle = v;
        out->read_only = v->read_only;
        return 0;
    }
    return werr_set(err, WERR_NOTFOUND,
                    "unknown variable '%s%s%s' (give it with --var)",
                    ref->ns ? ref->ns : "", ref->ns ? "::" : "", ref->name);
}

static int
get(void *ctx, void *handle, struct expr_value *out, struct werr *err)
{
    *out = ((struct cli_var *)handle)->value;
    return 0;
}

static void
now(void *ctx, int64_t *utc, int64_t *local)
{
    struct cli_host *h = ctx;

    *utc = h->utc;
    *local = h->local;
}

/* TYPE[,p1[,p2]]: a DT_ name ("DT_I4") or a pipeline name ("i4"). */
static int
parse_type(const char *s, struct expr_type *t, struct werr *err)
{
    char name[32];
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    enum expr_dt dt;
    long p[2] = {0, 0};
    int np = 0;

    if (len >= sizeof(name))
        return werr_set(err, WERR_INVALID, "unknown type '%s'", s);
    memcpy(name, s, len);
    name[len] = '\0';
    if (expr_dt_from_name(name, len, &dt) < 0 &&
        expr_dt_from_pipeline(name, &dt) < 0) {
        char dtname[40];

        snprintf(dtname, sizeof(dtname), "DT_%s", name);
        if (expr_dt_from_name(dtname, strlen(dtname), &dt) < 0)
            return werr_set(err, WERR_INVALID, "unknown type '%s'", name);
    }
    while (comma && np < 2) {
        char *end;

        p[np++] = strtol(comma + 1, &end, 10);
        if (end == comma + 1 || (*end && *end != ','))
            return werr_set(err, WERR_INVALID, "bad type parameters in '%s'",
                            s);
        comma = *end == ',' ? end : NULL;
    }
    *t = expr_type_of(dt);
    if (dt == EXPR_DT_NUMERIC) {
        t->precision = (uint8_t)(np > 0 && p[0] > 0 && p[0] <= 38 ? p[0] : 38);
        t->scale =
            (uint8_t)(np > 1 && p[1] >= 0 && p[1] <= t->precision ? p[1] : 0);
    } else if (dt == EXPR_DT_DECIMAL) {
        t->precision = 29;
        t->scale = (uint8_t)(np > 0 && p[0] >= 0 && p[0] <= 28 ? p[0] : 0);
    } else if (dt == EXPR_DT_DBTIME2 || dt == EXPR_DT_DBTIMESTAMP2 ||
               dt == EXPR_DT_DBTIMESTAMPOFFSET) {
        t->scale = (uint8_t)(np > 0 && p[0] >= 0 && p[0] <= 7 ? p[0] : 7);
    } else if (dt == EXPR_DT_STR) {
        t->codepage =
            (uint16_t)(np > 0 && p[0] > 0 && p[0] < 65536 ? p[0] : 1252);
    }
    return 0;
}

/* NS::NAME=VALUE:TYPE; the strings point into `spec`, which it edits. */
static int
parse_var(char *spec, struct cli_var *v, struct werr *err)
{
    char *eq = strchr(spec, '='), *colon = strrchr(spec, ':'), *sep;
    struct expr_type t;

    if (!eq || !colon || colon < eq)
        return werr_set(err, WERR_INVALID,
                        "--var '%s' is not NS::NAME=VALUE:TYPE", spec);
    *eq = '\0';
    *colon = '\0';
    if (parse_type(colon + 1, &t, err) < 0)
        return -1;
    sep = strstr(spec, "::");
    if (sep) {
        *sep = '\0';
        v->ns = spec;
        v->name = sep + 2;
    } else {
        v->ns = "User";
        v->name = spec;
    }
    if (!*v->name)
        return werr_set(err, WERR_INVALID, "--var needs a variable name");
    v->read_only = v->ns[0] == '$' || strcmp(v->ns, "System") == 0;
    if (expr_value_parse(eq + 1, strlen(eq + 1), &t, &v->value, err) < 0)
        return werr_prefix(err, "--var %s", v->name);
    return 0;
}

static int
parse_now(const char *s, struct cli_host *h, struct werr *err)
{
    struct expr_type t = expr_type_of(EXPR_DT_DBTIMESTAMPOFFSET);
    struct expr_value v;

    t.scale = 7;
    if (expr_value_parse(s, strlen(s), &t, &v, err) < 0)
        return werr_prefix(err, "--now");
    h->fixed_now = true;
    h->local = v.v.dto.ticks;
    h->utc = v.v.dto.ticks - (int64_t)v.v.dto.offset * 60 * EXPR_TICKS_PER_SEC;
    return 0;
}

/* Lists compile diagnostics with a caret under each position. */
static void
print_diags(const char *text, const struct expr_diags *d)
{
    bool one_line = !strchr(text, '\n') && strlen(text) <= 200;

    for (size_t i = 0; i < d->n; i++) {
        const struct expr_diag *g = &d->v[i];

        fprintf(stderr, "weir expr: %d:%d: %s: %s\n", g->line, g->col,
                g->warning ? "warning" : "error", g->msg);
        if (one_line && g->col >= 1)
            fprintf(stderr, "    %s\n    %*s^\n", text, g->col - 1, "");
    }
}

static void
print_value(const struct expr_value *v, const struct expr_type *t)
{
    char tname[64], small[128], *buf = small;
    size_t len;

    expr_type_format(t, tname, sizeof(tname));
    len = expr_value_format(v, small, sizeof(small));
    if (len >= sizeof(small)) {
        buf = xmalloc(len + 1);
        expr_value_format(v, buf, len + 1);
    }
    printf("%s (%s)\n", buf, tname);
    if (buf != small)
        free(buf);
}

static int
run(const char *text, struct cli_host *ch)
{
    struct expr_host host = {resolve, get, ch->fixed_now ? now : NULL, ch};
    struct expr_opts opts = {EXPR_ASSIGN, &host, 0};
    struct expr_diags diags = {0};
    struct expr_value v;
    struct expr *e;
    struct werr err;
    int rc = 0;

    e = expr_compile(text, strlen(text), &opts, &diags, &err);
    print_diags(text, &diags);
    expr_diags_release(&diags);
    if (!e)
        return werr_exit_code(err.code);
    if (expr_eval(e, NULL, 0, 0, &v, &err) < 0) {
        fprintf(stderr, "weir expr: %s\n", err.msg);
        rc = werr_exit_code(err.code);
    } else {
        print_value(&v, expr_result_type(e));
    }
    expr_free(e);
    return rc;
}

int
expr_main(int argc, char **argv)
{
    struct cli_conf conf;
    struct cli_host host;
    struct werr err;
    char **pos = NULL;
    size_t n = 0;
    int rc;

    memset(&conf, 0, sizeof(conf));
    memset(&host, 0, sizeof(host));
    rc = wopt_parse(options, &conf, "WEIR_EXPR", usage, argc, argv, &pos, &err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "weir expr: %s (see weir expr --help)\n", err.msg);
        rc = rc < 0 ? werr_exit_code(WERR_INVALID) : 0;
        goto out;
    }
    if (!pos[0] || pos[1]) {
        fprintf(stderr, "weir expr: %s\n%s\n",
                pos[0] ? "give one expression, quoted" : "which expression?",
                usage);
        rc = werr_exit_code(WERR_INVALID);
        goto out;
    }
    for (char **v = conf.vars; v && *v; v++)
        n++;
    host.vars = xcalloc(n ? n : 1, sizeof(*host.vars));
    for (size_t i = 0; i < n; i++, host.nvars++) {
        if (parse_var(conf.vars[i], &host.vars[i], &err) < 0)
            break;
    }
    if (host.nvars < n || (conf.now && parse_now(conf.now, &host, &err) < 0)) {
        fprintf(stderr, "weir expr: %s\n", err.msg);
        rc = werr_exit_code(err.code);
        goto out;
    }
    rc = run(pos[0], &host);
out:
    free(host.vars);
    free(pos);
    wopt_release(options, &conf);
    return rc;
}
