/*
 * What the transformation tests share: a temporary folder, input files
 * written there, a fixture package of tests/fixtures/dataflow run through
 * the weir binary with its Flat File managers pointed at those files, and
 * the column ids the engine reports in ErrorColumn, read from the same
 * package with the engine's own parser.
 *
 * Header-only (static inline functions): each test_<component>.c is its own
 * executable and includes it once.
 */
#ifndef WEIR_TESTS_XF_HARNESS_H
#define WEIR_TESTS_XF_HARNESS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/wbuf.h"
#include "base/werr.h"
#include "base/wfile.h"
#include "base/xalloc.h"
#include "dataflow/df_int.h"
#include "package/package.h"

struct xf {
    char dir[64];
    struct wbuf out; /* what the last run printed */
};

static inline void
xf_init(struct xf *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/weir-xf-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    wbuf_init(&t->out, WBUF_NOLIMIT);
}

static inline void
xf_release(struct xf *t)
{
    struct werr err;

    assert_int_equal(wfile_rmtree(t->dir, &err), 0);
    wbuf_release(&t->out);
}

/* The path of `name` in the test's folder (caller frees). */
static inline char *
xf_path(const struct xf *t, const char *name)
{
    return xasprintf("%s/%s", t->dir, name);
}

static inline void
xf_write(const struct xf *t, const char *name, const char *text)
{
    char *p = xf_path(t, name);
    struct werr err;

    assert_int_equal(wfile_write(p, text, strlen(text), 0644, 0, &err), 0);
    free(p);
}

/* The contents of a file of the folder (caller frees); "" if absent. */
static inline char *
xf_read(const struct xf *t, const char *name)
{
    char *p = xf_path(t, name);
    struct wbuf b;
    struct werr err;

    wbuf_init(&b, WBUF_NOLIMIT);
    wfile_read(p, &b, &err);
    free(p);
    return wbuf_detach(&b, NULL);
}

static inline char *
xf_fixture(const char *name)
{
    const char *dir = getenv("WEIR_DF_FIXTURES");

    return xasprintf("%s/%s", dir ? dir : "tests/fixtures/dataflow", name);
}

/*
 * Runs `weir exec [--validate] --connection CM=DIR/cm.csv... PACKAGE`,
 * every connection manager named in `cms` (NULL-terminated) pointed at a
 * file of the folder named for it in lower case.  Output goes to t->out;
 * returns the exit code.
 */
static inline int
xf_run(struct xf *t, const char *package, const char *const *cms, bool validate)
{
    char *args[40], *owned[16], *pkg = xf_fixture(package);
    char *log = xf_path(t, "log");
    int n = 0, nowned = 0, status, i;
    pid_t pid;
    struct werr err;

    args[n++] = getenv("WEIR");
    args[n++] = "exec";
    if (validate)
        args[n++] = "--validate";
    for (i = 0; cms[i]; i++) {
        char *lower = xstrdup(cms[i]), *q;
        for (q = lower; *q; q++)
            *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        args[n++] = "--connection";
        args[n++] = owned[nowned++] =
            xasprintf("%s=%s/%s.csv", cms[i], t->dir, lower);
        free(lower);
    }
    args[n++] = pkg;
    args[n] = NULL;
    assert_non_null(args[0]);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(args[0], args);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    for (i = 0; i < nowned; i++)
        free(owned[i]);
    wbuf_reset(&t->out);
    wfile_read(log, &t->out, &err);
    free(log);
    free(pkg);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The id the engine gives column `col` of component `comp` in the data
 * flow task of `package` (what ErrorColumn reports). */
static inline int
xf_column_id(const char *package, const char *comp, const char *col)
{
    char *path = xf_fixture(package);
    struct werr err;
    struct pkg *p = pkg_load_file(path, &err);
    const struct pkg_executable *task;
    struct df_pipeline *pl;
    int id = -1;
    size_t i, j, k;

    assert_non_null(p);
    task = pkg_find(p, "Package\\Data Flow Task");
    assert_non_null(task);
    pl = df_pipeline_parse(task, &err);
    assert_non_null(pl);
    for (i = 0; i < pl->ncomponents; i++) {
        const struct df_component *c = &pl->components[i];
        if (strcmp(c->name, comp) != 0)
            continue;
        for (j = 0; j < c->noutputs; j++)
            for (k = 0; k < c->outputs[j].ncolumns; k++)
                if (!strcmp(c->outputs[j].columns[k].name, col))
                    id = c->outputs[j].columns[k].id;
        for (j = 0; j < c->ninputs; j++)
            for (k = 0; k < c->inputs[j].ncolumns; k++)
                if (!strcmp(c->inputs[j].columns[k].name, col))
                    id = c->inputs[j].columns[k].id;
    }
    df_pipeline_free(pl);
    pkg_free(p);
    free(path);
    assert_true(id > 0);
    return id;
}

/* Asserts the last run's output contains `text`. */
#define XF_OUTPUT_HAS(t, text)                                                 \
    do {                                                                       \
        if (!strstr((t)->out.buf, (text)))                                     \
            fail_msg("output lacks \"%s\":\n%s", (text), (t)->out.buf);        \
    } while (0)

/* Asserts file `name` of the folder holds exactly `want`. */
#define XF_FILE_IS(t, name, want)                                              \
    do {                                                                       \
        char *got_ = xf_read((t), (name));                                     \
        if (strcmp(got_, (want)) != 0)                                         \
            fail_msg("%s:\n--- got\n%s--- want\n%s--- log\n%s", (name), got_,  \
                     (want), (t)->out.buf);                                    \
        free(got_);                                                            \
    } while (0)

#endif
