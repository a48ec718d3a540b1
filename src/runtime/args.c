/*
 * Command-line splitting for Execute Process Arguments.  Packages come
 * from Windows, where a program receives one string and splits it itself,
 * almost always with the Microsoft C runtime's rules (CommandLineToArgvW
 * since 2008): they are reproduced here so an Arguments string means the
 * same thing on both systems.
 */
#include <stdlib.h>
#include <string.h>

#include "base/wbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
push(char ***argv, size_t *n, size_t *cap, char *s)
{
    XGROW(*argv, *n + 2, *cap);
    (*argv)[(*n)++] = s;
    (*argv)[*n] = NULL;
}

/* Reads one argument starting at `*pp` (not white space) into `b`. */
static void
one_arg(const char **pp, struct wbuf *b)
{
    const char *p = *pp;
    bool quoted = false;

    while (*p && (quoted || !is_space(*p))) {
        size_t slashes = 0;
        while (p[slashes] == '\\')
            slashes++;
        if (p[slashes] != '"') {
            /* Backslashes not before a quote are literal. */
            wbuf_add(b, p, slashes ? slashes : 1, NULL);
            p += slashes ? slashes : 1;
            continue;
        }
        for (size_t i = 0; i < slashes / 2; i++)
            wbuf_addch(b, '\\', NULL);
        p += slashes;
        if (slashes % 2) {
            wbuf_addch(b, '"', NULL); /* \" is a literal quote */
            p++;
        } else if (quoted && p[1] == '"') {
            wbuf_addch(b, '"', NULL); /* "" inside quotes */
            p += 2;
        } else {
            quoted = !quoted;
            p++;
        }
    }
    *pp = p;
}

char **
rt_args_split(const char *argv0, const char *args)
{
    char **argv = NULL;
    size_t n = 0, cap = 0;
    const char *p = args ? args : "";
    struct wbuf b;

    push(&argv, &n, &cap, xstrdup(argv0));
    wbuf_init(&b, WBUF_NOLIMIT);
    for (;;) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;
        wbuf_reset(&b);
        one_arg(&p, &b);
        push(&argv, &n, &cap, xstrdup(b.buf));
    }
    wbuf_release(&b);
    return argv;
}

void
rt_args_free(char **argv)
{
    for (char **a = argv; a && *a; a++)
        free(*a);
    free(argv);
}
