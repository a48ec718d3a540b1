/*
 * The Flat File source's fast paths and the destination's formatting:
 * rows whose qualifiers, doubled qualifiers, embedded delimiters and CR
 * LF fall on the edge of a read (the source reads 4 MiB at a time), on
 * every position of the 16-byte SIMD scan, multi-byte delimiters, and
 * values written without snprintf (negative numbers, the extremes of
 * every integer width, decimals, dates, NULLs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/wbuf.h"
#include "base/xalloc.h"
#include "harness.h"

/* The source's first read: its window's initial size (comp_ffsrc.c). */
#define FIRST_READ (4u << 20)

/* Id i4, Name wstr(100), Amount numeric(10,2). */
static const struct hcol orders[] = {
    {.name = "Id", .ff_type = 3, .type = "i4"},
    {.name = "Name", .ff_type = 130, .width = 100, .type = "wstr",
     .length = 100},
    {.name = "Amount", .ff_type = 131, .type = "numeric", .precision = 10,
     .scale = 2},
};

#define CSV_ATTRS                                                          \
    "DTS:Format=\"Delimited\" DTS:CodePage=\"65001\" "                     \
    "DTS:TextQualifier=\"_x0022_\" DTS:ColumnNamesInFirstDataRow=\"True\""

/* Runs `spec` over `in` and returns Out's text (caller frees). */
static char *
run(const struct hspec *spec, const struct wbuf *in)
{
    char *xml = h_package(spec), *out;
    struct hrun r;
    struct werr err = {0};

    h_init(&r, xml);
    h_write(&r, "in.txt", in->buf, in->len);
    if (h_run(&r, &err) < 0)
        fail_msg("%s\nevents:\n%s", err.msg, r.events.buf);
    out = h_read(&r, "out.txt");
    assert_non_null(out);
    h_release(&r);
    free(xml);
    return out;
}

/* Filler rows "N,x...,1" up to exactly `size` bytes of `in`: rows of
 * 30 x's, then one padded to land on `size` (under 100 x's). */
static void
fill_to(struct wbuf *in, size_t size)
{
    int id = 0;

    while (in->len < size) {
        size_t room = size - in->len, pad = 30;
        char head[16];
        int n = snprintf(head, sizeof(head), "%d,", ++id);

        if (room < 100)
            pad = room - (size_t)n - 4;
        wbuf_add(in, head, (size_t)n, NULL);
        for (size_t i = 0; i < pad; i++)
            wbuf_addch(in, 'x', NULL);
        wbuf_adds(in, ",1\r\n", NULL);
    }
}

/* Rows with the hard cases, starting `back` bytes before the end of the
 * first read: the byte at index `back` is the first of the next read. */
static void
edge_at(size_t back)
{
    static const char tricky[] = "-7,\"a,\"\"b\"\"\r\nc\",-12.5\r\n"
                                 "-8,\"\",-0.01\r\n"
                                 "-9,plain,\r\n";
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = orders, .ncols = 3};
    struct wbuf in;
    char *out, *tail;

    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_adds(&in, "Id,Name,Amount\r\n", NULL);
    fill_to(&in, FIRST_READ - back);
    assert_int_equal(in.len, FIRST_READ - back);
    wbuf_adds(&in, tricky, NULL);
    out = run(&s, &in);
    tail = strstr(out, "\n-7|");
    if (!tail)
        fail_msg("back %zu: row -7 is missing", back);
    if (strcmp(tail, "\n-7|a,\"b\"\r\nc|-12.50\n-8||-0.01\n-9|plain|\n"))
        fail_msg("back %zu: wrong rows: %s", back, tail);
    free(out);
    wbuf_release(&in);
}

static void
qualifiers_and_crlf_across_reads(void **state)
{
    /* Where the read ends inside "-7,"a,""b""<CR><LF>c",-12.5<CR><LF>:
     * before the opening qualifier, after it, inside the doubled pair,
     * between CR and LF inside the qualifier, before and after the
     * closing one, between the row's CR and LF. */
    static const size_t backs[] = {3, 4, 6, 7, 10, 11, 12, 14, 15, 21, 22};

    (void)state;
    for (size_t i = 0; i < sizeof(backs) / sizeof(backs[0]); i++)
        edge_at(backs[i]);
}

/* Rows of every length from 1 to 70 bytes, so delimiters fall on every
 * position of a 16-byte block, with empty fields and long runs with no
 * stop at all. */
static void
every_position_of_the_scan(void **state)
{
    static const struct hcol cols[] = {
        {.name = "A", .ff_type = 130, .width = 80, .type = "wstr",
         .length = 80},
        {.name = "B", .ff_type = 3, .type = "i4"},
    };
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = cols, .ncols = 2};
    struct wbuf in, want;
    char *out;

    (void)state;
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_init(&want, WBUF_NOLIMIT);
    wbuf_adds(&in, "A,B\r\n", NULL);
    for (int len = 0; len <= 70; len++) {
        for (int i = 0; i < len; i++) {
            wbuf_addch(&in, (char)('a' + i % 26), NULL);
            wbuf_addch(&want, (char)('a' + i % 26), NULL);
        }
        wbuf_addf(&in, NULL, ",%d\r\n", -len);
        wbuf_addf(&want, NULL, "|%d\n", -len);
    }
    out = run(&s, &in);
    assert_string_equal(out, want.buf);
    free(out);
    wbuf_release(&in);
    wbuf_release(&want);
}

/* Multi-byte column delimiters ("||") and a row delimiter whose first
 * byte is also in the data. */
static void
multi_byte_delimiters(void **state)
{
    static const struct hcol cols[] = {
        {.name = "A", .ff_type = 130, .width = 20, .type = "wstr",
         .length = 20, .delim = "_x007C__x007C_"},
        {.name = "B", .ff_type = 130, .width = 20, .type = "wstr",
         .length = 20},
    };
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = cols, .ncols = 2};
    struct wbuf in;
    char *out;

    (void)state;
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_adds(&in,
              "A||B\r\n"
              "x|y||z\rw\r\n"
              "0123456789abcdef|||\r\n"
              "||\r\n",
              NULL);
    out = run(&s, &in);
    assert_string_equal(out, "x|y|z\rw\n0123456789abcdef||\n|\n");
    free(out);
    wbuf_release(&in);
}

/* Integers of every width at their extremes, decimals, dates and NULLs
 * as the destination writes them. */
static void
formatting_extremes(void **state)
{
    static const struct hcol cols[] = {
        {.name = "S", .ff_type = 2, .type = "i2"},
        {.name = "I", .ff_type = 3, .type = "i4"},
        {.name = "L", .ff_type = 20, .type = "i8"},
        {.name = "D", .ff_type = 131, .type = "numeric", .precision = 18,
         .scale = 3},
        {.name = "T", .ff_type = 133, .type = "dbDate"},
    };
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = cols, .ncols = 5};
    struct wbuf in;
    char *out;

    (void)state;
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_adds(&in,
              "S,I,L,D,T\r\n"
              "-32768,-2147483648,-9223372036854775808,-0.5,0001-01-01\r\n"
              "32767,2147483647,9223372036854775807,999999999999999.999,"
              "9999-12-31\r\n"
              "0,-0,+7,.5,2024-02-29\r\n"
              ",,,,\r\n"
              "-1,-10,-100,-1000.001,1999-12-31\r\n",
              NULL);
    out = run(&s, &in);
    assert_string_equal(out,
                        "-32768|-2147483648|-9223372036854775808|-0.500|"
                        "0001-01-01\n"
                        "32767|2147483647|9223372036854775807|"
                        "999999999999999.999|9999-12-31\n"
                        "0|0|7|0.500|2024-02-29\n"
                        "||||\n"
                        "-1|-10|-100|-1000.001|1999-12-31\n");
    free(out);
    wbuf_release(&in);
}

/* The destination writes a buffer in chunks of 256 rows, column by
 * column: every row of several chunks, with fields of each copy length
 * (under 4, 4 to 7, 8 to 16, longer), NULLs, an empty string and
 * decimals past 64 bits, comes out in order. */
static void
destination_chunks(void **state)
{
    static const struct hcol cols[] = {
        {.name = "I", .ff_type = 3, .type = "i4"},
        {.name = "S", .ff_type = 130, .width = 100, .type = "wstr",
         .length = 100},
        {.name = "D", .ff_type = 131, .type = "numeric", .precision = 38,
         .scale = 2},
    };
    static const char *const text[] = {"", "ab", "abcde", "abcdefghijk",
                                       "a string of more than sixteen"};
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = cols, .ncols = 3};
    struct wbuf in, want;
    char *out;

    (void)state;
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_init(&want, WBUF_NOLIMIT);
    wbuf_adds(&in, "I,S,D\r\n", NULL);
    for (int i = 0; i < 1000; i++) {
        const char *t = text[i % 5];
        if (i % 7 == 3) { /* a NULL number and decimal */
            wbuf_addf(&in, NULL, ",%s,\r\n", t);
            wbuf_addf(&want, NULL, "|%s|\n", t);
        } else if (i % 11 == 5) { /* 38 digits */
            wbuf_addf(&in, NULL,
                      "-%d,%s,-123456789012345678901234567890123456.%02d\r\n",
                      i, t, i % 100);
            wbuf_addf(&want, NULL,
                      "-%d|%s|-123456789012345678901234567890123456.%02d\n",
                      i, t, i % 100);
        } else {
            wbuf_addf(&in, NULL, "%d,%s,%d.5\r\n", i, t, i);
            wbuf_addf(&want, NULL, "%d|%s|%d.50\n", i, t, i);
        }
    }
    out = run(&s, &in);
    assert_string_equal(out, want.buf);
    free(out);
    wbuf_release(&in);
    wbuf_release(&want);
}

/* Row i of batch_rows: its input line, and what the recordset holds or
 * the error output gets (`err` set). */
static void
batch_row(int i, struct wbuf *in, struct wbuf *want, struct wbuf *err)
{
    const char *rule = "|-1071607676|";

    switch (i % 10) {
    case 0: /* a bad integer: redirected */
        wbuf_addf(in, NULL, "x%d,a,1,2024-01-02,1\r\n", i);
        wbuf_addf(err, NULL, "x%d,a,1,2024-01-02,1%s1\n", i, rule);
        break;
    case 1: /* INT64_MIN (past the 18-digit fast path), NULL day */
        wbuf_addf(in, NULL, "-9223372036854775808,b,-0.5,,-128\r\n");
        wbuf_addf(want, NULL, "-9223372036854775808|b|-0.50|NULL|-128\n");
        break;
    case 2: /* doubled qualifiers, a two-byte character */
        wbuf_addf(in, NULL, "%d,\"q\"\"\xC3\xA9\",+7,2024-02-29,127\r\n", i);
        wbuf_addf(want, NULL, "%d|q\"\xC3\xA9|7.00|2024-02-29|127\n", i);
        break;
    case 3: /* seven units in six: a truncation, redirected */
        wbuf_addf(in, NULL, "%d,abcdefg,1,2024-01-02,1\r\n", i);
        wbuf_addf(err, NULL, "%d,abcdefg,1,2024-01-02,1|-1071607675|2\n", i);
        break;
    case 4: /* rounding half away from zero */
        wbuf_addf(in, NULL, "%d,\xF0\x9D\x84\x9E" "abcd,1.005,2024-01-02,"
                            "-0\r\n", i);
        wbuf_addf(want, NULL, "%d|\xF0\x9D\x84\x9E" "abcd|1.01|2024-01-02|"
                              "0\n", i);
        break;
    case 5:
        wbuf_addf(in, NULL, "%d,e,-1.005,2024-01-02,1\r\n", i);
        wbuf_addf(want, NULL, "%d|e|-1.01|2024-01-02|1\n", i);
        break;
    case 6: /* an ignored bad decimal and an ignored overflow */
        wbuf_addf(in, NULL, "%d,f,abc,2024-01-02,200\r\n", i);
        wbuf_addf(want, NULL, "%d|f|NULL|2024-01-02|NULL\n", i);
        break;
    case 7: /* no such day: redirected */
        wbuf_addf(in, NULL, "%d,g,1,2023-02-29,1\r\n", i);
        wbuf_addf(err, NULL, "%d,g,1,2023-02-29,1%s4\n", i, rule);
        break;
    case 8: /* empty fields with RetainNulls, a row ending early */
        wbuf_addf(in, NULL, "%d,,\r\n", i);
        wbuf_addf(want, NULL, "%d|NULL|NULL|NULL|NULL\n", i);
        break;
    default:
        wbuf_addf(in, NULL, "%d,\"a,b\",%d.25,1999-12-31,-1\r\n", i, i);
        wbuf_addf(want, NULL, "%d|a,b|%d.25|1999-12-31|-1\n", i, i);
    }
}

/* The source converts rows a batch at a time, column by column: rows of
 * every kind (bad and extreme integers, doubled qualifiers, truncation,
 * rounding, ignored failures, impossible dates, NULLs, short rows) on
 * both sides of the batch and buffer boundaries, redirected in order. */
static void
batch_rows(void **state)
{
    static const struct hcol cols[] = {
        {.name = "Id", .ff_type = 20, .type = "i8", .error = "RedirectRow"},
        {.name = "Name", .ff_type = 130, .width = 6, .type = "wstr",
         .length = 6, .trunc = "RedirectRow"},
        {.name = "Amount", .ff_type = 131, .type = "numeric", .precision = 10,
         .scale = 2, .error = "IgnoreFailure"},
        {.name = "Day", .ff_type = 133, .type = "dbDate",
         .error = "RedirectRow"},
        {.name = "Small", .ff_type = 16, .type = "i1",
         .error = "IgnoreFailure"},
    };
    struct hspec s = {.cm_attrs = CSV_ATTRS, .cols = cols, .ncols = 5,
                      .retain_nulls = true, .error_output = true,
                      .recordset = true};
    struct wbuf in, want, werrs;
    char *xml = h_package(&s), *errs;
    struct hrun r;
    struct werr err = {0};

    (void)state;
    wbuf_init(&in, WBUF_NOLIMIT);
    wbuf_init(&want, WBUF_NOLIMIT);
    wbuf_init(&werrs, WBUF_NOLIMIT);
    wbuf_adds(&in, "Id,Name,Amount,Day,Small\r\n", NULL);
    for (int i = 1; i <= 25000; i++)
        batch_row(i, &in, &want, &werrs);
    h_init(&r, xml);
    h_write(&r, "in.txt", in.buf, in.len);
    if (h_run(&r, &err) < 0)
        fail_msg("%s\nevents:\n%s", err.msg, r.events.buf);
    assert_string_equal(r.rowset.buf, want.buf);
    errs = h_read(&r, "err.txt");
    assert_non_null(errs);
    assert_string_equal(errs, werrs.buf);
    free(errs);
    h_release(&r);
    free(xml);
    wbuf_release(&in);
    wbuf_release(&want);
    wbuf_release(&werrs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qualifiers_and_crlf_across_reads),
        cmocka_unit_test(every_position_of_the_scan),
        cmocka_unit_test(multi_byte_delimiters),
        cmocka_unit_test(formatting_extremes),
        cmocka_unit_test(destination_chunks),
        cmocka_unit_test(batch_rows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
