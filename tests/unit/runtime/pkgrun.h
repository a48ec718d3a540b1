/* Test helpers shared by the task tests (test_fs.c, test_mail.c): write a
 * package into a temporary folder, run it in process through rt_exec_run
 * with its events on a file, and look at the events.  Include after
 * cmocka.h. */
#ifndef WEIR_TEST_PKGRUN_H
#define WEIR_TEST_PKGRUN_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/wbuf.h"
#include "base/wfile.h"
#include "base/xalloc.h"
#include "runtime/runtime_int.h"

#define HEAD                                                                  \
    "<?xml version=\"1.0\"?>\n"                                               \
    "<DTS:Executable xmlns:DTS=\"www.microsoft.com/SqlServer/Dts\"\n"         \
    "  DTS:refId=\"Package\" DTS:CreationName=\"Microsoft.Package\"\n"        \
    "  DTS:ExecutableType=\"Microsoft.Package\" DTS:ObjectName=\"T\">\n"      \
    "  <DTS:Property DTS:Name=\"PackageFormatVersion\">8</DTS:Property>\n"
#define TAIL "</DTS:Executable>\n"
#define EXES(x) "<DTS:Executables>" x "</DTS:Executables>"
#define VARS(x) "<DTS:Variables>" x "</DTS:Variables>"
#define CMS(x) "<DTS:ConnectionManagers>" x "</DTS:ConnectionManagers>"
#define STR_VAR(name, value)                                                  \
    "<DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"" name "\">"       \
    "<DTS:VariableValue DTS:DataType=\"8\">" value "</DTS:VariableValue>"     \
    "</DTS:Variable>"
/* A connection manager of type TYPE holding STRING. */
#define CM(name, type, string)                                                \
    "<DTS:ConnectionManager DTS:refId=\"Package.ConnectionManagers[" name     \
    "]\" DTS:ObjectName=\"" name "\" DTS:DTSID=\"{" name "-ID}\" "            \
    "DTS:CreationName=\"" type "\"><DTS:ObjectData><DTS:ConnectionManager "   \
    "DTS:ConnectionString=\"" string "\"/></DTS:ObjectData>"                  \
    "</DTS:ConnectionManager>"
#define TASK(name, type, body)                                                \
    "<DTS:Executable DTS:refId=\"Package\\" name "\" DTS:ObjectName=\"" name  \
    "\" DTS:ExecutableType=\"" type "\">" body "</DTS:Executable>\n"

struct run {
    char dir[64];
    char *package;
    json_t *events; /* array of event objects */
    int rc;
};

static inline void
run_setup(struct run *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/weir-task-XXXXXX");
    if (!mkdtemp(r->dir))
        fail_msg("mkdtemp: %s", strerror(errno));
}

/* Writes `text` to DIR/name. */
static inline void
put_file(const struct run *r, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", r->dir, name);
    struct werr e;

    if (wfile_write(path, text, strlen(text), 0644, 0, &e) < 0)
        fail_msg("%s", e.msg);
    free(path);
}

/* DIR/name's content, or NULL if it cannot be read (caller frees). */
static inline char *
get_file(const struct run *r, const char *name)
{
    char *path = xasprintf("%s/%s", r->dir, name);
    struct wbuf b;
    struct werr e;
    char *s = NULL;

    wbuf_init(&b, WBUF_NOLIMIT);
    if (wfile_read(path, &b, &e) == 0)
        s = wbuf_detach(&b, NULL);
    wbuf_release(&b);
    free(path);
    return s;
}

static inline bool
exists(const struct run *r, const char *name)
{
    char *path = xasprintf("%s/%s", r->dir, name);
    bool yes = access(path, F_OK) == 0;

    free(path);
    return yes;
}

static inline void
parse_events(struct run *r, const char *text)
{
    const char *p = text;

    r->events = json_array();
    while (*p) {
        const char *nl = strchr(p, '\n');
        json_error_t je;
        json_t *o;
        if (!nl)
            fail_msg("event line without a newline: %s", p);
        o = json_loadb(p, (size_t)(nl - p), 0, &je);
        if (!o || !json_is_object(o))
            fail_msg("not a JSON object: %.*s", (int)(nl - p), p);
        json_array_append_new(r->events, o);
        p = nl + 1;
    }
}

/* Writes the package `xml` to DIR/T.dtsx (r->package). */
static inline void
write_pkg(struct run *r, const char *xml)
{
    struct werr e;

    free(r->package);
    r->package = xasprintf("%s/T.dtsx", r->dir);
    if (wfile_write(r->package, xml, strlen(xml), 0644, 0, &e) < 0)
        fail_msg("%s", e.msg);
}

/* Runs `weir exec [extra...] DIR/T.dtsx` (the package `xml`) in process;
 * returns its exit code.  Events from an earlier run are dropped. */
static inline int
run_pkg(struct run *r, const char *xml, const char *const *extra)
{
    char *path = xasprintf("%s/events.jsonl", r->dir), fdtext[16];
    char *argv[32] = {"exec", "--events-fd", fdtext};
    int argc = 3, fd;
    struct wbuf b;
    struct werr e;

    write_pkg(r, xml);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    snprintf(fdtext, sizeof(fdtext), "%d", fd);
    for (; extra && *extra; extra++)
        argv[argc++] = (char *)*extra;
    argv[argc++] = r->package;
    r->rc = rt_exec_run(argc, argv);
    close(fd);
    wbuf_init(&b, WBUF_NOLIMIT);
    assert_int_equal(wfile_read(path, &b, &e), 0);
    json_decref(r->events);
    parse_events(r, b.buf);
    wbuf_release(&b);
    free(path);
    return r->rc;
}

static inline void
run_free(struct run *r)
{
    struct werr e;

    json_decref(r->events);
    if (getenv("WEIR_KEEP"))
        fprintf(stderr, "kept %s\n", r->dir);
    else
        wfile_rmtree(r->dir, &e);
    free(r->package);
}

static inline bool
message_has(const struct run *r, const char *event, const char *text)
{
    size_t i;
    json_t *o;

    json_array_foreach(r->events, i, o) {
        if (!strcmp(json_string_value(json_object_get(o, "event")), event) &&
            strstr(json_string_value(json_object_get(o, "message")), text))
            return true;
    }
    return false;
}

/* Prints the events (to see why an assertion failed). */
static inline void
dump_events(const struct run *r)
{
    size_t i;
    json_t *o;

    json_array_foreach(r->events, i, o) {
        fprintf(stderr, "  %s %s: %s\n",
                json_string_value(json_object_get(o, "event")),
                json_string_value(json_object_get(o, "path")),
                json_string_value(json_object_get(o, "message")));
    }
}

#endif
