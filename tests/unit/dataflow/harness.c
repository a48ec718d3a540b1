/* The data flow test harness (harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "harness.h"

#define A(b, ...) wbuf_addf(b, NULL, __VA_ARGS__)

/* Under AddressSanitizer: the memory tests (test_dataflow.c,
 * test_threads.c) compare the process's peak RSS after runs of 10x the
 * rows, and freed blocks waiting in ASan's quarantine (256 MB by default)
 * would count in it, more the more a run frees.  A 1 MB quarantine keeps
 * the measure the engine's while still catching a use right after a
 * free.  ASAN_OPTIONS from the environment still apply over it. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
    return "quarantine_size_mb=1";
}

static const char *
disp(const char *d)
{
    return d ? d : "FailComponent";
}

static void
cm(struct wbuf *b, const char *name, const char *attrs)
{
    A(b, "<DTS:ConnectionManager DTS:refId=\"Package.ConnectionManagers[%s]\""
         " DTS:CreationName=\"FLATFILE\" DTS:DTSID=\"{%s}\""
         " DTS:ObjectName=\"%s\"><DTS:ObjectData><DTS:ConnectionManager %s"
         " DTS:ConnectionString=\"C:\\data\\%s.txt\"><DTS:FlatFileColumns>\n",
      name, name, name, attrs, name);
}

static void
cm_end(struct wbuf *b)
{
    A(b, "</DTS:FlatFileColumns></DTS:ConnectionManager></DTS:ObjectData>"
         "</DTS:ConnectionManager>\n");
}

static void
in_manager(struct wbuf *b, const struct hspec *s)
{
    cm(b, "In", s->cm_attrs);
    for (int i = 0; i < s->ncols; i++) {
        const struct hcol *c = &s->cols[i];
        const char *d = c->delim ? c->delim
                        : i + 1 < s->ncols ? "_x002C_"
                                           : "_x000D__x000A_";
        A(b, "<DTS:FlatFileColumn DTS:ObjectName=\"%s\" DTS:ColumnType=\"%s\""
             " DTS:ColumnDelimiter=\"%s\" DTS:ColumnWidth=\"%d\""
             " DTS:MaximumWidth=\"%d\" DTS:DataType=\"%d\""
             " DTS:DataPrecision=\"%d\" DTS:DataScale=\"%d\""
             " DTS:TextQualified=\"%s\" />\n",
          c->name, c->fixed ? "FixedWidth" : "Delimited",
          c->fixed && !c->delim ? "" : d, c->fixed ? c->width : 0, c->width,
          c->ff_type, c->precision, c->scale,
          c->unqualified ? "False" : "True");
    }
    cm_end(b);
}

/* "Out": every column as text, '|' between them, LF at the end. */
static void
out_manager(struct wbuf *b, const char *name, const char *const *cols,
            int n)
{
    cm(b, name, "DTS:Format=\"Delimited\" DTS:CodePage=\"65001\"");
    for (int i = 0; i < n; i++)
        A(b, "<DTS:FlatFileColumn DTS:ObjectName=\"%s\" "
             "DTS:ColumnType=\"Delimited\" DTS:ColumnDelimiter=\"%s\" "
             "DTS:DataType=\"130\" DTS:MaximumWidth=\"4000\" />\n",
          cols[i], i + 1 < n ? "_x007C_" : "_x000A_");
    cm_end(b);
}

#define SRC "Package\\Flow\\Read"
#define OUT SRC ".Outputs[Flat File Source Output]"
#define EOUT SRC ".Outputs[Flat File Source Error Output]"

static void
source(struct wbuf *b, const struct hspec *s)
{
    A(b, "<component refId=\"" SRC "\" componentClassID=\"Microsoft."
         "FlatFileSource\" name=\"Read\"><properties>"
         "<property name=\"RetainNulls\">%s</property>"
         "<property name=\"FileNameColumnName\">%s</property></properties>"
         "<connections><connection refId=\"" SRC ".Connections[FlatFile"
         "Connection]\" connectionManagerID=\"Package.ConnectionManagers[In]\""
         " name=\"FlatFileConnection\" /></connections><outputs>"
         "<output refId=\"" OUT "\" name=\"Flat File Source Output\">"
         "<outputColumns>\n",
      s->retain_nulls ? "true" : "false",
      s->file_name_column ? s->file_name_column : "");
    for (int i = 0; i < s->ncols; i++) {
        const struct hcol *c = &s->cols[i];
        A(b, "<outputColumn refId=\"" OUT ".Columns[%s]\" lineageId=\"" OUT
             ".Columns[%s]\" name=\"%s\" dataType=\"%s\" length=\"%d\""
             " precision=\"%d\" scale=\"%d\" externalMetadataColumnId=\"" OUT
             ".ExternalColumns[%s]\" errorRowDisposition=\"%s\""
             " truncationRowDisposition=\"%s\" />\n",
          c->name, c->name, c->name, c->type, c->length, c->precision,
          c->scale, c->name, disp(c->error), disp(c->trunc));
    }
    if (s->file_name_column)
        A(b, "<outputColumn refId=\"" OUT ".Columns[%s]\" lineageId=\"" OUT
             ".Columns[%s]\" name=\"%s\" dataType=\"wstr\" length=\"260\" />\n",
          s->file_name_column, s->file_name_column, s->file_name_column);
    A(b, "</outputColumns><externalMetadataColumns isUsed=\"True\">\n");
    for (int i = 0; i < s->ncols; i++)
        A(b, "<externalMetadataColumn refId=\"" OUT ".ExternalColumns[%s]\" "
             "name=\"%s\" dataType=\"%s\" />\n",
          s->cols[i].name, s->cols[i].name, s->cols[i].type);
    A(b, "</externalMetadataColumns></output>"
         "<output refId=\"" EOUT "\" name=\"Flat File Source Error Output\" "
         "isErrorOut=\"true\"><outputColumns>"
         "<outputColumn refId=\"" EOUT ".Columns[Line]\" lineageId=\"" EOUT
         ".Columns[Line]\" name=\"Flat File Source Error Output Column\" "
         "dataType=\"text\" codePage=\"65001\" />"
         "<outputColumn refId=\"" EOUT ".Columns[ErrorCode]\" lineageId=\""
         EOUT ".Columns[ErrorCode]\" name=\"ErrorCode\" dataType=\"i4\" "
         "specialFlags=\"1\" />"
         "<outputColumn refId=\"" EOUT ".Columns[ErrorColumn]\" lineageId=\""
         EOUT ".Columns[ErrorColumn]\" name=\"ErrorColumn\" dataType=\"i4\" "
         "specialFlags=\"2\" /></outputColumns></output></outputs>"
         "</component>\n");
}

/* A Flat File destination `name` on manager `cm_name` reading `lineages`
 * (output column refIds) into manager columns `cols`. */
static void
destination(struct wbuf *b, const char *name, const char *cm_name,
            const char *const *cols, const char *const *lineages, int n)
{
    A(b, "<component refId=\"Package\\Flow\\%s\" componentClassID=\""
         "Microsoft.FlatFileDestination\" name=\"%s\"><properties>"
         "<property name=\"Overwrite\">true</property></properties>"
         "<connections><connection refId=\"Package\\Flow\\%s.Connections["
         "FlatFileConnection]\" connectionManagerID=\"Package.Connection"
         "Managers[%s]\" name=\"FlatFileConnection\" /></connections>"
         "<inputs><input refId=\"Package\\Flow\\%s.Inputs[In]\" name=\"In\">"
         "<inputColumns>\n",
      name, name, name, cm_name, name);
    for (int i = 0; i < n; i++)
        A(b, "<inputColumn refId=\"Package\\Flow\\%s.Inputs[In].Columns[%s]\""
             " lineageId=\"%s\" cachedName=\"%s\" externalMetadataColumnId="
             "\"Package\\Flow\\%s.Inputs[In].ExternalColumns[%s]\" />\n",
          name, cols[i], lineages[i], cols[i], name, cols[i]);
    A(b, "</inputColumns><externalMetadataColumns isUsed=\"True\">\n");
    for (int i = 0; i < n; i++)
        A(b, "<externalMetadataColumn refId=\"Package\\Flow\\%s.Inputs[In]."
             "ExternalColumns[%s]\" name=\"%s\" dataType=\"wstr\" "
             "length=\"4000\" />\n",
          name, cols[i], cols[i]);
    A(b, "</externalMetadataColumns></input></inputs></component>\n");
}

static void
recordset(struct wbuf *b, const char *const *cols,
          const char *const *lineages, int n)
{
    A(b, "<component refId=\"Package\\Flow\\Write\" componentClassID=\""
         "DTSAdapter.RecordsetDestination.3\" name=\"Write\"><properties>"
         "<property name=\"VariableName\">User::Result</property>"
         "</properties><inputs><input refId=\"Package\\Flow\\Write.Inputs"
         "[In]\" name=\"In\"><inputColumns>\n");
    for (int i = 0; i < n; i++)
        A(b, "<inputColumn refId=\"Package\\Flow\\Write.Inputs[In].Columns"
             "[%s]\" lineageId=\"%s\" cachedName=\"%s\" />\n",
          cols[i], lineages[i], cols[i]);
    A(b, "</inputColumns></input></inputs></component>\n");
}

static void
row_count(struct wbuf *b)
{
    A(b, "<component refId=\"Package\\Flow\\Count\" componentClassID=\""
         "DTSTransform.RowCount.3\" name=\"Count\"><properties><property "
         "name=\"VariableName\">User::Rows</property></properties><inputs>"
         "<input refId=\"Package\\Flow\\Count.Inputs[In]\" name=\"In\" />"
         "</inputs><outputs><output refId=\"Package\\Flow\\Count.Outputs["
         "Out]\" name=\"Out\" synchronousInputId=\"Package\\Flow\\Count."
         "Inputs[In]\" /></outputs></component>\n");
}

static void
path(struct wbuf *b, const char *name, const char *from, const char *to)
{
    A(b, "<path refId=\"Package\\Flow.Paths[%s]\" name=\"%s\" startId=\"%s\""
         " endId=\"%s\" />\n",
      name, name, from, to);
}

static void
pipeline(struct wbuf *b, const struct hspec *s)
{
    const char *cols[40], *lins[40];
    char lbuf[40][300];
    int n = 0;

    for (int i = 0; i < s->ncols; i++)
        cols[n++] = s->cols[i].name;
    if (s->file_name_column)
        cols[n++] = s->file_name_column;
    for (int i = 0; i < n; i++) {
        snprintf(lbuf[i], sizeof(lbuf[i]), OUT ".Columns[%s]", cols[i]);
        lins[i] = lbuf[i];
    }
    A(b, "<pipeline version=\"1\"><components>\n");
    source(b, s);
    if (s->row_count)
        row_count(b);
    if (s->recordset)
        recordset(b, cols, lins, n);
    else
        destination(b, "Write", "Out", cols, lins, n);
    if (s->error_output) {
        static const char *const ecols[] = {"Line", "Code", "Column"};
        static const char *const elins[] = {EOUT ".Columns[Line]",
                                            EOUT ".Columns[ErrorCode]",
                                            EOUT ".Columns[ErrorColumn]"};
        destination(b, "Write errors", "Err", ecols, elins, 3);
    }
    A(b, "</components><paths>\n");
    if (s->row_count) {
        path(b, "Source", OUT, "Package\\Flow\\Count.Inputs[In]");
        path(b, "Counted", "Package\\Flow\\Count.Outputs[Out]",
             "Package\\Flow\\Write.Inputs[In]");
    } else {
        path(b, "Source", OUT, "Package\\Flow\\Write.Inputs[In]");
    }
    if (s->error_output)
        path(b, "Errors", EOUT, "Package\\Flow\\Write errors.Inputs[In]");
    A(b, "</paths></pipeline>\n");
}

char *
h_package(const struct hspec *s)
{
    static const char *const ecols[] = {"Line", "Code", "Column"};
    const char *cols[40];
    struct wbuf b;
    int n = 0;

    for (int i = 0; i < s->ncols; i++)
        cols[n++] = s->cols[i].name;
    if (s->file_name_column)
        cols[n++] = s->file_name_column;
    wbuf_init(&b, WBUF_NOLIMIT);
    A(&b, "<?xml version=\"1.0\"?>\n<DTS:Executable xmlns:DTS=\"www."
          "microsoft.com/SqlServer/Dts\" DTS:refId=\"Package\" "
          "DTS:CreationName=\"Microsoft.Package\" DTS:DTSID=\"{P}\" "
          "DTS:ExecutableType=\"Microsoft.Package\" DTS:ObjectName=\"P\">\n"
          "<DTS:Property DTS:Name=\"PackageFormatVersion\">8</DTS:Property>\n"
          "<DTS:ConnectionManagers>\n");
    in_manager(&b, s);
    out_manager(&b, "Out", cols, n);
    out_manager(&b, "Err", ecols, 3);
    A(&b, "</DTS:ConnectionManagers><DTS:Variables><DTS:Variable "
          "DTS:Namespace=\"User\" DTS:ObjectName=\"Rows\"><DTS:VariableValue "
          "DTS:DataType=\"3\">0</DTS:VariableValue></DTS:Variable>"
          "</DTS:Variables><DTS:Executables><DTS:Executable DTS:refId=\""
          "Package\\Flow\" DTS:CreationName=\"Microsoft.Pipeline\" "
          "DTS:DTSID=\"{F}\" DTS:ExecutableType=\"Microsoft.Pipeline\" "
          "DTS:ObjectName=\"Flow\"><DTS:ObjectData>\n");
    pipeline(&b, s);
    A(&b, "</DTS:ObjectData></DTS:Executable></DTS:Executables>"
          "</DTS:Executable>\n");
    return wbuf_detach(&b, NULL);
}

/* ---- the host ---- */

static const char *
kind_name(enum df_event_kind k)
{
    static const char *const names[] = {"INFO", "WARN", "ERROR", "PROGRESS",
                                        "ROWS"};
    return names[k];
}

static void
t_emit(void *ctx, const struct df_event *ev)
{
    struct hrun *r = ctx;

    if (ev->kind == DF_EV_ROWS)
        A(&r->events, "ROWS %s: %lld\n", ev->path, (long long)ev->rows);
    else
        A(&r->events, "%s %s: %s\n", kind_name(ev->kind),
          ev->component ? ev->component : "-", ev->message);
}

static int
t_get_var(void *ctx, const char *name, struct expr_value *out,
          struct werr *err)
{
    struct hrun *r = ctx;

    if (strcmp(name, "User::Rows"))
        return werr_set(err, WERR_NOTFOUND, "no variable '%s'", name);
    memset(out, 0, sizeof(*out));
    out->type.dt = EXPR_DT_I4;
    out->v.i = r->rows_var;
    return 0;
}

static int
t_set_var(void *ctx, const char *name, const struct expr_value *v,
          struct werr *err)
{
    struct hrun *r = ctx;

    if (strcmp(name, "User::Rows"))
        return werr_set(err, WERR_NOTFOUND, "no variable '%s'", name);
    r->rows_var = v->v.i;
    r->rows_set = true;
    return 0;
}

static int
t_connection(void *ctx, const char *ref, struct df_conn *out,
             struct werr *err)
{
    struct hrun *r = ctx;
    size_t n;
    const struct pkg_connection *v = pkg_connections(r->pkg, &n);
    static char path[128];

    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].ref_id, ref) && strcmp(v[i].dtsid, ref))
            continue;
        out->cm = &v[i];
        if (r->out_path && !strcmp(v[i].name, "Out")) {
            out->string = r->out_path;
            return 0;
        }
        if (r->in_path) {
            out->string = r->in_path;
            return 0;
        }
        snprintf(path, sizeof(path), "%s/%s.txt", r->dir, v[i].name);
        for (char *p = path + strlen(r->dir); *p; p++)
            *p = (char)tolower((unsigned char)*p);
        out->string = path;
        return 0;
    }
    return werr_set(err, WERR_NOTFOUND, "no connection manager '%s'", ref);
}

static int
t_set_rowset(void *ctx, const char *name, const struct df_rowset *rows,
             struct werr *err)
{
    struct hrun *r = ctx;
    char text[256];

    if (strcmp(name, "User::Result"))
        return werr_set(err, WERR_NOTFOUND, "no variable '%s'", name);
    wbuf_reset(&r->rowset);
    for (size_t i = 0; i < rows->nrows; i++)
        for (size_t c = 0; c < rows->ncols; c++) {
            const struct expr_value *v = &rows->cells[i * rows->ncols + c];
            if (v->null)
                snprintf(text, sizeof(text), "NULL");
            else
                expr_value_format(v, text, sizeof(text));
            A(&r->rowset, "%s%c", text, c + 1 < rows->ncols ? '|' : '\n');
        }
    return 0;
}

static bool
t_canceled(void *ctx)
{
    struct hrun *r = ctx;

    return r->cancel_after && ++r->cancel_calls >= r->cancel_after;
}

void
h_init(struct hrun *r, const char *xml)
{
    struct werr err;

    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/weir-df-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    r->pkg = pkg_load_memory("Test.dtsx", xml, strlen(xml), &err);
    if (!r->pkg)
        fail_msg("%s", err.msg);
    wbuf_init(&r->events, WBUF_NOLIMIT);
    wbuf_init(&r->rowset, WBUF_NOLIMIT);
    r->host = (struct df_host){
        .ctx = r,
        .emit = t_emit,
        .get_var = t_get_var,
        .set_var = t_set_var,
        .connection = t_connection,
        .canceled = t_canceled,
        .set_rowset = t_set_rowset,
    };
}

void
h_release(struct hrun *r)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", r->dir);
    pkg_free(r->pkg);
    wbuf_release(&r->events);
    wbuf_release(&r->rowset);
}

char *
h_path(struct hrun *r, const char *name)
{
    return xasprintf("%s/%s", r->dir, name);
}

void
h_write(struct hrun *r, const char *name, const void *data, size_t len)
{
    char *p = h_path(r, name);
    FILE *f = fopen(p, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    free(p);
}

char *
h_read(struct hrun *r, const char *name)
{
    char *p = h_path(r, name), *s = NULL;
    FILE *f = fopen(p, "rb");
    size_t cap = 1 << 16, n = 0, k;

    if (f) {
        s = xmalloc(cap + 1);
        while ((k = fread(s + n, 1, cap - n, f)) > 0) {
            n += k;
            if (n == cap)
                s = xrealloc(s, (cap *= 2) + 1);
        }
        s[n] = '\0';
        fclose(f);
    }
    free(p);
    return s;
}

static const struct pkg_executable *
flow(struct hrun *r)
{
    const struct pkg_executable *e = pkg_find(r->pkg, "Package\\Flow");

    assert_non_null(e);
    return e;
}

int
h_validate(struct hrun *r, struct wbuf *problems)
{
    return df_validate(flow(r), &r->host, problems);
}

int
h_run_task(struct hrun *r, const char *ref, struct werr *err)
{
    const struct pkg_executable *e = pkg_find(r->pkg, ref);

    assert_non_null(e);
    return df_run(e, &r->host, err);
}

int
h_run(struct hrun *r, struct werr *err)
{
    return df_run(flow(r), &r->host, err);
}

long
h_peak_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmHWM:", 6))
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}
