/*
 * EngineThreads as a cap on the data flow's threads: pipelines with more
 * sources and execution trees than threads (Multicast into Sorts and
 * Derived Columns, Union All of five sources, Merge Join of two sorted
 * sources, a chain of six asynchronous components) write exactly the
 * expected rows with EngineThreads 1, 2 and the default; the threads the
 * process has while they run, sampled every millisecond from
 * /proc/self/task, never exceed the cap; cancel and a failing component
 * stop a capped run; with one thread, memory does not grow with the
 * rows.  The packages are generated here (small buffers, so
 * the queues fill and the pool's threads trade trees often).
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/wtime.h"
#include "base/xalloc.h"
#include "harness.h"

#define F "Package\\Flow\\"

/* ---- generating packages ---- */

/* A stream of rows: the output its path starts at, and its columns
 * (name and lineage id).  Every source gives "id" and "k" (i4). */
struct stream {
    char start[160];
    int ncols;
    char names[4][8];
    char lin[4][200];
};

struct gen {
    struct wbuf cms, comps, paths;
    int npaths;
};

static void
gen_init(struct gen *g)
{
    wbuf_init(&g->cms, WBUF_NOLIMIT);
    wbuf_init(&g->comps, WBUF_NOLIMIT);
    wbuf_init(&g->paths, WBUF_NOLIMIT);
    g->npaths = 0;
}

#define A(b, ...) wbuf_addf((b), NULL, __VA_ARGS__)

/* A Flat File manager `name` (file name.txt in the run's folder): no
 * header, "," between columns, LF after the last. */
static void
gen_cm(struct gen *g, const char *name, const struct stream *s)
{
    A(&g->cms, "<DTS:ConnectionManager DTS:refId=\"Package.Connection"
               "Managers[%s]\" DTS:CreationName=\"FLATFILE\" "
               "DTS:DTSID=\"{%s}\" DTS:ObjectName=\"%s\"><DTS:ObjectData>"
               "<DTS:ConnectionManager "
               "DTS:Format=\"Delimited\" DTS:CodePage=\"65001\" DTS:Column"
               "NamesInFirstDataRow=\"False\" DTS:ConnectionString=\"%s.txt\">"
               "<DTS:FlatFileColumns>",
      name, name, name, name);
    for (int i = 0; i < s->ncols; i++)
        A(&g->cms, "<DTS:FlatFileColumn DTS:ColumnType=\"Delimited\" "
                   "DTS:ColumnDelimiter=\"%s\" DTS:DataType=\"3\" "
                   "DTS:ObjectName=\"%s\"/>",
          i + 1 < s->ncols ? "_x002C_" : "_x000A_", s->names[i]);
    A(&g->cms, "</DTS:FlatFileColumns></DTS:ConnectionManager>"
               "</DTS:ObjectData></DTS:ConnectionManager>\n");
}

static void
gen_path(struct gen *g, const char *start, const char *comp, const char *in)
{
    A(&g->paths, "<path refId=\"Package\\Flow.Paths[p%d]\" name=\"p%d\" "
                 "startId=\"%s\" endId=\"" F "%s.Inputs[%s]\"/>\n",
      g->npaths, g->npaths, start, comp, in);
    g->npaths++;
}

/* The asynchronous output "Out" of `comp` with columns `names`. */
static void
out_stream(struct stream *s, const char *comp, int ncols,
           const char *const *names)
{
    snprintf(s->start, sizeof(s->start), F "%s.Outputs[Out]", comp);
    s->ncols = ncols;
    for (int i = 0; i < ncols; i++) {
        snprintf(s->names[i], sizeof(s->names[i]), "%s", names[i]);
        snprintf(s->lin[i], sizeof(s->lin[i]), "%s.Columns[%s]", s->start,
                 names[i]);
    }
}

static void
out_columns(struct wbuf *b, const struct stream *s, const char *attrs)
{
    for (int i = 0; i < s->ncols; i++)
        A(b, "<outputColumn refId=\"%s\" lineageId=\"%s\" name=\"%s\" "
             "dataType=\"i4\" %s/>",
          s->lin[i], s->lin[i], s->names[i], i == 0 ? attrs : "");
}

/* The input columns of input `in` of `comp` reading every column of `s`;
 * `props` (a format with %s for the column's name) gives each its
 * properties. */
static void
in_columns(struct wbuf *b, const char *comp, const char *in,
           const struct stream *s, const char *props)
{
    for (int i = 0; i < s->ncols; i++) {
        A(b, "<inputColumn refId=\"" F "%s.Inputs[%s].Columns[%s]\" "
             "cachedName=\"%s\" lineageId=\"%s\" cachedDataType=\"i4\">",
          comp, in, s->names[i], s->names[i], s->lin[i]);
        if (props)
            A(b, props, s->names[i]);
        A(b, "</inputColumn>");
    }
}

static const char *const idk[] = {"id", "k"};

static struct stream
gen_source(struct gen *g, const char *name)
{
    struct stream s;
    char cm[16];

    out_stream(&s, name, 2, idk);
    snprintf(cm, sizeof(cm), "%s", name);
    gen_cm(g, cm, &s);
    A(&g->comps, "<component refId=\"" F "%s\" name=\"%s\" componentClass"
                 "ID=\"Microsoft.FlatFileSource\"><connections><connection "
                 "refId=\"" F "%s.Connections[FlatFileConnection]\" name=\""
                 "FlatFileConnection\" connectionManagerID=\"Package."
                 "ConnectionManagers[%s]\"/></connections><outputs><output "
                 "refId=\"%s\" name=\"Out\"><outputColumns>",
      name, name, name, cm, s.start);
    out_columns(&g->comps, &s, "");
    A(&g->comps, "</outputColumns></output></outputs></component>\n");
    return s;
}

static void
gen_dest(struct gen *g, const char *name, const struct stream *in)
{
    gen_cm(g, name, in);
    A(&g->comps, "<component refId=\"" F "%s\" name=\"%s\" componentClass"
                 "ID=\"Microsoft.FlatFileDestination\"><properties><property "
                 "name=\"Overwrite\">true</property></properties><connections>"
                 "<connection refId=\"" F "%s.Connections[FlatFileConnection]\""
                 " name=\"FlatFileConnection\" connectionManagerID=\"Package."
                 "ConnectionManagers[%s]\"/></connections><inputs><input "
                 "refId=\"" F "%s.Inputs[In]\" name=\"In\" hasSideEffects="
                 "\"true\"><inputColumns>",
      name, name, name, name, name);
    in_columns(&g->comps, name, "In", in, NULL);
    A(&g->comps, "</inputColumns></input></inputs><outputs/></component>\n");
    gen_path(g, in->start, name, "In");
}

/* Sorts on id, ascending or descending. */
static struct stream
gen_sort(struct gen *g, const char *name, const struct stream *in, bool desc)
{
    struct stream s;
    char attr[40];

    out_stream(&s, name, in->ncols, (const char *const[]){
                   in->names[0], in->names[1], in->names[2], in->names[3]});
    A(&g->comps, "<component refId=\"" F "%s\" name=\"%s\" componentClass"
                 "ID=\"Microsoft.Sort\"><inputs><input refId=\"" F
                 "%s.Inputs[In]\" name=\"In\"><inputColumns>",
      name, name, name);
    for (int i = 0; i < in->ncols; i++)
        A(&g->comps, "<inputColumn refId=\"" F "%s.Inputs[In].Columns[%s]\""
                     " cachedName=\"%s\" lineageId=\"%s\" cachedDataType=\"i4"
                     "\"><properties><property name=\"NewSortKeyPosition\">"
                     "%d</property></properties></inputColumn>",
          name, in->names[i], in->names[i], in->lin[i],
          i ? 0 : desc ? -1 : 1);
    A(&g->comps, "</inputColumns></input></inputs><outputs><output refId="
                 "\"%s\" name=\"Out\" isSorted=\"true\"><outputColumns>",
      s.start);
    snprintf(attr, sizeof(attr), "sortKeyPosition=\"%d\"", desc ? -1 : 1);
    for (int i = 0; i < s.ncols; i++)
        A(&g->comps, "<outputColumn refId=\"%s\" lineageId=\"%s\" name=\"%s\""
                     " dataType=\"i4\" %s><properties><property name=\"Sort"
                     "ColumnId\">#{" F "%s.Inputs[In].Columns[%s]}</property>"
                     "</properties></outputColumn>",
          s.lin[i], s.lin[i], s.names[i], i ? "" : attr, name, s.names[i]);
    A(&g->comps, "</outputColumns></output></outputs></component>\n");
    gen_path(g, in->start, name, "In");
    return s;
}

/* A Union All of `n` streams (each with the columns of the first). */
static struct stream
gen_union(struct gen *g, const char *name, const struct stream *in, int n)
{
    struct stream s;

    out_stream(&s, name, in[0].ncols, (const char *const[]){
                   in->names[0], in->names[1], in->names[2], in->names[3]});
    A(&g->comps, "<component refId=\"" F "%s\" name=\"%s\" componentClass"
                 "ID=\"Microsoft.UnionAll\"><inputs>",
      name, name);
    for (int k = 0; k < n; k++) {
        char iname[16], props[300];
        snprintf(iname, sizeof(iname), "In%d", k);
        snprintf(props, sizeof(props),
                 "<properties><property name=\"OutputColumnLineageID\">"
                 "#{%s.Columns[%%s]}</property></properties>",
                 s.start);
        A(&g->comps, "<input refId=\"" F "%s.Inputs[%s]\" name=\"%s\">"
                     "<inputColumns>",
          name, iname, iname);
        in_columns(&g->comps, name, iname, &in[k], props);
        A(&g->comps, "</inputColumns></input>");
        gen_path(g, in[k].start, name, iname);
    }
    A(&g->comps, "</inputs><outputs><output refId=\"%s\" name=\"Out\">"
                 "<outputColumns>",
      s.start);
    out_columns(&g->comps, &s, "");
    A(&g->comps, "</outputColumns></output></outputs></component>\n");
    return s;
}

/* Multicast output `i` of `name` (synchronous: the columns stay). */
static struct stream
multicast_out(const struct stream *in, const char *name, int i)
{
    struct stream s = *in;

    snprintf(s.start, sizeof(s.start), F "%s.Outputs[Out%d]", name, i);
    return s;
}

static void
gen_multicast(struct gen *g, const char *name, const struct stream *in,
              int n)
{
    A(&g->comps, "<component refId=\"" F "%s\" name=\"%s\" componentClass"
                 "ID=\"Microsoft.Multicast\"><inputs><input refId=\"" F
                 "%s.Inputs[In]\" name=\"In\"/></inputs><outputs>",
      name, name, name);
    for (int i = 0; i < n; i++)
        A(&g->comps, "<output refId=\"" F "%s.Outputs[Out%d]\" name=\"Out%d"
                     "\" synchronousInputId=\"" F "%s.Inputs[In]\"/>",
          name, i, i, name);
    A(&g->comps, "</outputs></component>\n");
    gen_path(g, in->start, name, "In");
}

/* Adds column d = `expr` of id (the id column's lineage is %s). */
static struct stream
gen_derived(struct gen *g, const char *name, const struct stream *in,
            const char *expr)
{
    struct stream s = *in;
    char e[400];

    snprintf(s.start, sizeof(s.start), F "%s.Outputs[Out]", name);
    snprintf(s.names[s.ncols], sizeof(s.names[0]), "d");
    snprintf(s.lin[s.ncols], sizeof(s.lin[0]), F "%s.Outputs[Out].Columns[d]",
             name);
    snprintf(e, sizeof(e), expr, in->lin[0]);
    A(&g->comps, "<component refId=\"" F "%s\" name=\"%s\" componentClass"
                 "ID=\"Microsoft.DerivedColumn\"><inputs><input refId=\"" F
                 "%s.Inputs[In]\" name=\"In\"><inputColumns>",
      name, name, name);
    in_columns(&g->comps, name, "In", in, NULL);
    A(&g->comps, "</inputColumns></input></inputs><outputs><output refId="
                 "\"%s\" name=\"Out\" synchronousInputId=\"" F "%s.Inputs[In]"
                 "\"><outputColumns><outputColumn refId=\"%s\" lineageId="
                 "\"%s\" name=\"d\" dataType=\"i4\" errorRowDisposition="
                 "\"FailComponent\"><properties><property name=\"Expression"
                 "\">%s</property></properties></outputColumn></outputColumns>"
                 "</output></outputs></component>\n",
      s.start, name, s.lin[s.ncols], s.lin[s.ncols], e);
    s.ncols++;
    gen_path(g, in->start, name, "In");
    return s;
}

/* Inner join on id of two streams sorted on id: id, k, k2 (right's k). */
static struct stream
gen_mergejoin(struct gen *g, const char *name, const struct stream *l,
              const struct stream *r)
{
    static const char *const cols[] = {"id", "k", "k2"};
    static const char *const from[] = {"L].Columns[id", "L].Columns[k",
                                       "R].Columns[k"};
    struct stream s;

    out_stream(&s, name, 3, cols);
    A(&g->comps, "<component refId=\"" F "%s\" name=\"%s\" componentClass"
                 "ID=\"Microsoft.MergeJoin\"><properties><property name=\""
                 "JoinType\">2</property><property name=\"NumKeyColumns\">1"
                 "</property></properties><inputs><input refId=\"" F
                 "%s.Inputs[L]\" name=\"L\"><inputColumns>",
      name, name, name);
    in_columns(&g->comps, name, "L", l, NULL);
    A(&g->comps, "</inputColumns></input><input refId=\"" F "%s.Inputs[R]\""
                 " name=\"R\"><inputColumns>",
      name);
    in_columns(&g->comps, name, "R", r, NULL);
    A(&g->comps, "</inputColumns></input></inputs><outputs><output refId="
                 "\"%s\" name=\"Out\"><outputColumns>",
      s.start);
    for (int i = 0; i < 3; i++)
        A(&g->comps, "<outputColumn refId=\"%s\" lineageId=\"%s\" name=\"%s\""
                     " dataType=\"i4\"><properties><property name=\"Input"
                     "ColumnID\">#{" F "%s.Inputs[%s]}</property></properties>"
                     "</outputColumn>",
          s.lin[i], s.lin[i], cols[i], name, from[i]);
    A(&g->comps, "</outputColumns></output></outputs></component>\n");
    gen_path(g, l->start, name, "L");
    gen_path(g, r->start, name, "R");
    return s;
}

/* The package (caller frees); engine_threads 0 leaves the attribute out
 * (SSIS's default, 10).  Buffers hold `buffer_rows` rows. */
static char *
gen_package_rows(struct gen *g, int engine_threads, int buffer_rows)
{
    struct wbuf b;
    char et[48] = "";

    if (engine_threads)
        snprintf(et, sizeof(et), " engineThreads=\"%d\"", engine_threads);
    wbuf_init(&b, WBUF_NOLIMIT);
    A(&b, "<?xml version=\"1.0\"?>\n<DTS:Executable xmlns:DTS=\"www.microsoft"
          ".com/SqlServer/Dts\" DTS:refId=\"Package\" DTS:ExecutableType="
          "\"Microsoft.Package\" DTS:ObjectName=\"Threads\"><DTS:Property "
          "DTS:Name=\"PackageFormatVersion\">8</DTS:Property>\n"
          "<DTS:ConnectionManagers>\n%s</DTS:ConnectionManagers>\n"
          "<DTS:Executables><DTS:Executable DTS:refId=\"Package\\Flow\" "
          "DTS:ExecutableType=\"Microsoft.Pipeline\" DTS:ObjectName=\"Flow\">"
          "<DTS:ObjectData><pipeline version=\"1\" defaultBufferMaxRows="
          "\"%d\"%s>\n<components>\n%s</components>\n<paths>\n%s</paths>"
          "</pipeline></DTS:ObjectData></DTS:Executable></DTS:Executables>"
          "</DTS:Executable>\n",
      g->cms.buf, buffer_rows, et, g->comps.buf, g->paths.buf);
    wbuf_release(&g->cms);
    wbuf_release(&g->comps);
    wbuf_release(&g->paths);
    return wbuf_detach(&b, NULL);
}

/* Small buffers (64 rows): the queues fill and threads trade trees
 * often. */
static char *
gen_package(struct gen *g, int engine_threads)
{
    return gen_package_rows(g, engine_threads, 64);
}

/* ---- inputs and expected rows ---- */

/* Rows "id,k": id = base + mul * ((j * 7919) % rows), a permutation for
 * rows prime to 7919; k = tag * 1000000 + j. */
struct rowspec {
    long rows, base, mul, tag;
};

static long
row_id(const struct rowspec *r, long j)
{
    return r->base + r->mul * ((j * 7919) % r->rows);
}

static void
write_rows(struct hrun *run, const char *file, const struct rowspec *r)
{
    char *path = h_path(run, file);
    FILE *f = fopen(path, "w");

    /* Through stdio's buffer, so the file's size never shows in the
     * process's peak memory (memory_bounded_with_one_thread). */
    assert_non_null(f);
    for (long j = 0; j < r->rows; j++)
        assert_true(fprintf(f, "%ld,%ld\n", row_id(r, j),
                            r->tag * 1000000 + j) > 0);
    assert_int_equal(fclose(f), 0);
    free(path);
}

/* A row of an expected output: its sort key and its text. */
struct xrow {
    long key;
    char text[64];
};

static int
xrow_cmp(const void *a, const void *b)
{
    const struct xrow *x = a, *y = b;

    return (x->key > y->key) - (x->key < y->key);
}

/* The text of `n` rows, sorted on key (stable enough: keys are unique)
 * unless `keep` (caller frees). */
static char *
xrows_text(struct xrow *v, size_t n, bool keep)
{
    struct wbuf b;

    if (!keep)
        qsort(v, n, sizeof(*v), xrow_cmp);
    wbuf_init(&b, WBUF_NOLIMIT);
    for (size_t i = 0; i < n; i++)
        A(&b, "%s\n", v[i].text);
    return wbuf_detach(&b, NULL);
}

/* ---- watching the process's threads ---- */

static int
count_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A thread that counts the process's threads every millisecond. */
struct sampler {
    pthread_t th;
    int stop; /* atomic */
    int max, samples;
};

static void *
sample_main(void *arg)
{
    struct sampler *s = arg;

    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        int n = count_tasks();
        if (n > s->max)
            s->max = n;
        s->samples++;
        usleep(1000);
    }
    return NULL;
}

static void
sampler_start(struct sampler *s)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(pthread_create(&s->th, NULL, sample_main, s), 0);
}

static void
sampler_stop(struct sampler *s)
{
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(s->th, NULL), 0);
}

/* ---- running ---- */

struct expect {
    const char *file;
    char *text; /* owned */
};

/*
 * Runs the data flow of `xml` (its inputs already in r's folder) and
 * checks: success, each expected file's exact text, the threads the run
 * took (min(EngineThreads, items)), and that the process never had more
 * threads than before the run plus the pool (less the calling thread)
 * and the watcher.
 */
static void
run_checked(struct hrun *r, int engine_threads, size_t items,
            struct expect *want, int nwant)
{
    size_t cap = engine_threads ? (size_t)engine_threads : 10;
    size_t threads = items < cap ? items : cap;
    struct df_run_stats st = {0};
    struct sampler smp;
    struct werr err;
    int base;

    r->host.stats = &st;
    /* Counted once the sampler runs: a sanitizer may start a thread of
     * its own with the first pthread_create. */
    sampler_start(&smp);
    base = count_tasks();
    if (h_run(r, &err) < 0)
        fail_msg("EngineThreads %d: %s\n%s", engine_threads, err.msg,
                 r->events.buf);
    sampler_stop(&smp);
    for (int i = 0; i < nwant; i++) {
        char *got = h_read(r, want[i].file);
        assert_non_null(got);
        if (strcmp(got, want[i].text))
            fail_msg("EngineThreads %d: %s differs (%zu bytes, want %zu)",
                     engine_threads, want[i].file, strlen(got),
                     strlen(want[i].text));
        free(got);
    }
    assert_int_equal(st.engine_threads, (int)cap);
    assert_int_equal(st.threads, threads);
    assert_true(st.peak_busy >= 1 && st.peak_busy <= threads);
    /* The caller is one of the pool's threads; + the watcher. */
    assert_true(smp.samples > 0);
    if ((size_t)smp.max > (size_t)base + threads)
        fail_msg("EngineThreads %d: %d threads at once, at most %zu allowed",
                 engine_threads, smp.max, (size_t)base + threads);
    if (threads == 1)
        assert_true(st.inline_deliveries > 0);
}

static const int caps[] = {1, 2, 0};

#define ROWS 20000L

/* Source -> Multicast: a descending Sort; a Derived Column (d = id * 2);
 * an ascending Sort then a Derived Column (d = id + 1).  Four items: the
 * source and three trees. */
static void
multicast_into_sorts_and_derived(void **state)
{
    struct rowspec in = {ROWS, 0, 1, 1};
    struct xrow *v = xcalloc(ROWS, sizeof(*v));
    struct expect want[3] = {{"out1.txt", NULL}, {"out2.txt", NULL},
                             {"out3.txt", NULL}};

    (void)state;
    for (int pass = 0; pass < 3; pass++) {
        for (long j = 0; j < ROWS; j++) {
            long id = row_id(&in, j), k = 1000000 + j;
            v[j].key = pass == 0 ? -id : pass == 1 ? j : id;
            if (pass == 0)
                snprintf(v[j].text, sizeof(v[j].text), "%ld,%ld", id, k);
            else
                snprintf(v[j].text, sizeof(v[j].text), "%ld,%ld,%ld", id, k,
                         pass == 1 ? id * 2 : id + 1);
        }
        want[pass].text = xrows_text(v, ROWS, pass == 1);
    }
    for (size_t c = 0; c < sizeof(caps) / sizeof(*caps); c++) {
        struct gen g;
        struct stream s, m[3], d;
        struct hrun r;
        char *xml;

        gen_init(&g);
        s = gen_source(&g, "In");
        gen_multicast(&g, "Copy", &s, 3);
        for (int i = 0; i < 3; i++)
            m[i] = multicast_out(&s, "Copy", i);
        s = gen_sort(&g, "Down", &m[0], true);
        gen_dest(&g, "Out1", &s);
        d = gen_derived(&g, "Twice", &m[1], "#{%s} * 2");
        gen_dest(&g, "Out2", &d);
        s = gen_sort(&g, "Up", &m[2], false);
        d = gen_derived(&g, "Next", &s, "#{%s} + 1");
        gen_dest(&g, "Out3", &d);
        xml = gen_package(&g, caps[c]);
        h_init(&r, xml);
        write_rows(&r, "in.txt", &in);
        run_checked(&r, caps[c], 4, want, 3);
        h_release(&r);
        free(xml);
    }
    for (int i = 0; i < 3; i++)
        free(want[i].text);
    free(v);
}

/* Five sources -> Union All -> Sort -> destination: twelve items, so the
 * default EngineThreads (10) caps this one too. */
static char *
union_package(int engine_threads, const char *boom)
{
    struct gen g;
    struct stream s[5], u;

    gen_init(&g);
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof(name), "In%d", i);
        s[i] = gen_source(&g, name);
    }
    u = gen_union(&g, "All", s, 5);
    if (boom)
        u = gen_derived(&g, "Boom", &u, boom);
    u = gen_sort(&g, "Order", &u, false);
    gen_dest(&g, "Out", &u);
    return gen_package(&g, engine_threads);
}

static void
write_union_inputs(struct hrun *r, long rows)
{
    for (int i = 0; i < 5; i++) {
        struct rowspec in = {rows, i * rows, 1, i};
        char file[16];
        snprintf(file, sizeof(file), "in%d.txt", i);
        write_rows(r, file, &in);
    }
}

static void
union_all_of_five_sources(void **state)
{
    struct xrow *v = xcalloc(5 * ROWS, sizeof(*v));
    struct expect want = {"out.txt", NULL};

    (void)state;
    for (int i = 0; i < 5; i++) {
        struct rowspec in = {ROWS, i * ROWS, 1, i};
        for (long j = 0; j < ROWS; j++) {
            struct xrow *x = &v[i * ROWS + j];
            x->key = row_id(&in, j);
            snprintf(x->text, sizeof(x->text), "%ld,%ld", x->key,
                     i * 1000000L + j);
        }
    }
    want.text = xrows_text(v, 5 * ROWS, false);
    for (size_t c = 0; c < sizeof(caps) / sizeof(*caps); c++) {
        char *xml = union_package(caps[c], NULL);
        struct hrun r;

        h_init(&r, xml);
        write_union_inputs(&r, ROWS);
        run_checked(&r, caps[c], 12, &want, 1);
        h_release(&r);
        free(xml);
    }
    free(want.text);
    free(v);
}

/* Two sources, each sorted, inner Merge Join on id: the right side has
 * the even ids.  Seven items. */
static void
merge_join_of_two_sorted_sources(void **state)
{
    struct rowspec left = {ROWS, 0, 1, 1}, right = {ROWS / 2 + 1, 0, 2, 2};
    struct xrow *v = xcalloc(ROWS, sizeof(*v));
    long *kl = xcalloc(ROWS, sizeof(*kl));
    struct expect want = {"out.txt", NULL};
    size_t n = 0;

    (void)state;
    for (long j = 0; j < left.rows; j++)
        kl[row_id(&left, j)] = 1000000 + j;
    for (long j = 0; j < right.rows; j++) {
        long id = row_id(&right, j);
        if (id >= ROWS)
            continue;
        v[n].key = id;
        snprintf(v[n++].text, sizeof(v[0].text), "%ld,%ld,%ld", id, kl[id],
                 2000000 + j);
    }
    want.text = xrows_text(v, n, false);
    for (size_t c = 0; c < sizeof(caps) / sizeof(*caps); c++) {
        struct gen g;
        struct stream l, r2, j;
        struct hrun r;
        char *xml;

        gen_init(&g);
        l = gen_source(&g, "Left");
        r2 = gen_source(&g, "Right");
        l = gen_sort(&g, "SortL", &l, false);
        r2 = gen_sort(&g, "SortR", &r2, false);
        j = gen_mergejoin(&g, "Join", &l, &r2);
        gen_dest(&g, "Out", &j);
        xml = gen_package(&g, caps[c]);
        h_init(&r, xml);
        write_rows(&r, "left.txt", &left);
        write_rows(&r, "right.txt", &right);
        run_checked(&r, caps[c], 7, &want, 1);
        h_release(&r);
        free(xml);
    }
    free(want.text);
    free(kl);
    free(v);
}

/* Source, then Union All and Sort (descending), Union All and Sort
 * (ascending), Union All and Sort (descending), then the destination:
 * six asynchronous components, eight items.  `boom`, if
 * set, is the expression of a Derived Column after the second Sort. */
static char *
chain_package(int engine_threads, const char *boom)
{
    struct gen g;
    struct stream s;

    gen_init(&g);
    s = gen_source(&g, "In");
    for (int i = 0; i < 3; i++) {
        char ua[8], so[8];
        snprintf(ua, sizeof(ua), "U%d", i);
        snprintf(so, sizeof(so), "S%d", i);
        s = gen_union(&g, ua, &s, 1);
        s = gen_sort(&g, so, &s, i != 1);
        if (i == 1 && boom)
            s = gen_derived(&g, "Boom", &s, boom);
    }
    gen_dest(&g, "Out", &s);
    return gen_package(&g, engine_threads);
}

static void
chain_of_six_asynchronous_components(void **state)
{
    struct rowspec in = {ROWS, 0, 1, 1};
    struct xrow *v = xcalloc(ROWS, sizeof(*v));
    struct expect want = {"out.txt", NULL};

    (void)state;
    for (long j = 0; j < ROWS; j++) {
        v[j].key = -row_id(&in, j);
        snprintf(v[j].text, sizeof(v[j].text), "%ld,%ld", row_id(&in, j),
                 1000000 + j);
    }
    want.text = xrows_text(v, ROWS, false);
    for (size_t c = 0; c < sizeof(caps) / sizeof(*caps); c++) {
        char *xml = chain_package(caps[c], NULL);
        struct hrun r;

        h_init(&r, xml);
        write_rows(&r, "in.txt", &in);
        run_checked(&r, caps[c], 8, &want, 1);
        h_release(&r);
        free(xml);
    }
    free(want.text);
    free(v);
}

/* Cancel reaches a capped run: with one thread (the chain) and with two
 * threads for twelve items (senders wait for trees another thread runs),
 * the run stops within a few of the watcher's ticks and writes nothing
 * (the last Sort never had all its rows). */
static void
cancel_stops_a_capped_run(void **state)
{
    (void)state;
    for (int c = 1; c <= 2; c++) {
        char *xml = c == 1 ? chain_package(1, NULL) : union_package(2, NULL);
        struct hrun r;
        struct werr err;
        struct df_run_stats st = {0};
        int64_t t0;
        char *out;

        h_init(&r, xml);
        if (c == 1) {
            struct rowspec in = {1000003, 0, 1, 1};
            write_rows(&r, "in.txt", &in);
        } else {
            write_union_inputs(&r, 200003);
        }
        r.cancel_after = 2;
        r.host.stats = &st;
        t0 = wtime_mono_ns();
        assert_int_equal(h_run(&r, &err), -1);
        assert_int_equal(err.code, WERR_UNAVAILABLE);
        assert_string_equal(err.msg, "canceled");
        if (wtime_mono_ns() - t0 > 3000 * WTIME_MS_NS)
            fail_msg("EngineThreads %d: the canceled run took %lld ms", c,
                     (long long)((wtime_mono_ns() - t0) / WTIME_MS_NS));
        assert_int_equal(st.threads, (size_t)c);
        out = h_read(&r, "out.txt");
        assert_true(!out || !*out);
        free(out);
        h_release(&r);
        free(xml);
    }
}

/* A component that fails in the middle of a capped run (a division by
 * zero at id 5000, FailComponent) stops it: the error names the
 * component and the run returns at once, with one and two threads. */
static void
failing_component_stops_a_capped_run(void **state)
{
    static const char boom[] = "1 / (#{%s} - 5000)";

    (void)state;
    for (int k = 0; k < 4; k++) {
        int threads = 1 + k % 2;
        char *xml = k < 2 ? chain_package(threads, boom)
                          : union_package(threads, boom);
        struct hrun r;
        struct werr err;
        char *out;

        h_init(&r, xml);
        if (k < 2) {
            struct rowspec in = {ROWS, 0, 1, 1};
            write_rows(&r, "in.txt", &in);
        } else {
            write_union_inputs(&r, ROWS);
        }
        assert_int_equal(h_run(&r, &err), -1);
        if (!strstr(err.msg, "component 'Boom'"))
            fail_msg("EngineThreads %d: %s", threads, err.msg);
        assert_non_null(strstr(r.events.buf, "ERROR Boom: "));
        out = h_read(&r, "out.txt");
        assert_true(!out || !*out);
        free(out);
        h_release(&r);
        free(xml);
    }
}

static long
one_thread_rows(long rows)
{
    struct rowspec in = {rows, 0, 1, 1};
    struct gen g;
    struct stream s;
    struct hrun r;
    struct werr err;
    char *xml, want[64];
    long peak;

    gen_init(&g);
    s = gen_source(&g, "In");
    s = gen_union(&g, "U", &s, 1);
    gen_dest(&g, "Out", &s);
    xml = gen_package_rows(&g, 1, 10000);
    h_init(&r, xml);
    r.out_path = "/dev/null";
    write_rows(&r, "in.txt", &in);
    if (h_run(&r, &err) < 0)
        fail_msg("%s", err.msg);
    snprintf(want, sizeof(want), "ROWS p1: %ld\n", rows);
    assert_non_null(strstr(r.events.buf, want));
    peak = h_peak_kib();
    h_release(&r);
    free(xml);
    return peak;
}

/* With one thread (every buffer through a full queue is delivered by the
 * source's thread), the memory of a run still does not grow with its
 * rows: 300,000 then 3,000,000 rows through a Union All.  First in the
 * list, before other tests raise the process's peak. */
static void
memory_bounded_with_one_thread(void **state)
{
    long p1, p10;

    (void)state;
    p1 = one_thread_rows(300000);
    p10 = one_thread_rows(3000000);
    printf("peak RSS with one thread: %ld KiB after 300000 rows, %ld KiB "
           "after 3000000\n", p1, p10);
    assert_true(p10 - p1 < 16 * 1024);
}

/* engineThreads below 1 is refused, naming the file and the line. */
static void
engine_threads_must_be_positive(void **state)
{
    char *xml = chain_package(1, NULL), *bad, *p;
    struct hrun r;
    struct wbuf problems;

    (void)state;
    p = strstr(xml, "engineThreads=\"1\"");
    assert_non_null(p);
    bad = xasprintf("%.*sengineThreads=\"0\"%s", (int)(p - xml), xml,
                    p + strlen("engineThreads=\"1\""));
    h_init(&r, bad);
    wbuf_init(&problems, WBUF_NOLIMIT);
    assert_true(h_validate(&r, &problems) > 0);
    if (!strstr(problems.buf, "'Test.dtsx' line ") ||
        !strstr(problems.buf, "<pipeline>: engineThreads must be at least "
                              "1, not 0"))
        fail_msg("%s", problems.buf);
    wbuf_release(&problems);
    h_release(&r);
    free(bad);
    free(xml);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_bounded_with_one_thread),
        cmocka_unit_test(multicast_into_sorts_and_derived),
        cmocka_unit_test(union_all_of_five_sources),
        cmocka_unit_test(merge_join_of_two_sorted_sources),
        cmocka_unit_test(chain_of_six_asynchronous_components),
        cmocka_unit_test(cancel_stops_a_capped_run),
        cmocka_unit_test(failing_component_stops_a_capped_run),
        cmocka_unit_test(engine_threads_must_be_positive),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
