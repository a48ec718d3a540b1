/*
 * libFuzzer target for the package loader: the input is parsed as a .dtsx
 * (pkg_load_memory) and, when it loads, validated (pkg_validate); it is
 * also parsed as a Project.params.  Loading must refuse what it cannot
 * read with a message naming the file, never crash, hang or leak, and a
 * package that loads must validate without a crash whatever its types,
 * references and expressions say.  The input is also read as a
 * .dtsConfig file.  fuzz/run.sh runs it for a bounded time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "base/wbuf.h"
#include "package/package.h"

/* Every message is about the input, so it must name it. */
static void
check_message(const struct werr *err)
{
    if (strstr(err->msg, "'Fuzz."))
        return;
    fprintf(stderr, "a load error that does not name the file: '%s'\n",
            err->msg);
    abort();
}

static void
fuzz_package(const uint8_t *data, size_t size)
{
    struct wbuf problems;
    struct werr err;
    struct pkg *p = pkg_load_memory("Fuzz.dtsx", data, size, &err);

    if (!p) {
        check_message(&err);
        return;
    }
    wbuf_init(&problems, 1 << 20);
    pkg_validate(p, &problems);
    wbuf_release(&problems);
    pkg_configs_free(pkg_configs_read(p));
    pkg_free(p);
}

static void
fuzz_project(const uint8_t *data, size_t size)
{
    struct werr err;
    struct pkg_project *pr =
        pkg_project_load_memory("Fuzz.params", data, size, &err);

    if (!pr)
        check_message(&err);
    pkg_project_free(pr);
}

static void
fuzz_config_file(const uint8_t *data, size_t size)
{
    struct werr err;
    struct pkg_config_file *f =
        pkg_config_file_read("Fuzz.dtsConfig", data, size, &err);

    if (!f)
        check_message(&err);
    pkg_config_file_free(f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xmlInitParser();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_package(data, size);
    fuzz_project(data, size);
    fuzz_config_file(data, size);
    return 0;
}
