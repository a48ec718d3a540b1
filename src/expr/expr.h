/*
 * The SSIS expression language: compile an expression once into a typed
 * tree, then evaluate it a row at a time (control flow: variables,
 * property expressions, precedence constraints, For Loops, Expression
 * Tasks) or over a columnar batch (data flow: Derived Column, Conditional
 * Split), with the same results either way.  docs/expressions.md describes
 * the language as implemented, including where it differs from SSIS.
 *
 * Representation, chosen once for every type:
 *   - integers are held in int64_t (signed) or uint64_t (unsigned) in a
 *     value, and in their own width in a column vector;
 *   - DT_CY is an int64_t scaled by 10^4;
 *   - DT_NUMERIC and DT_DECIMAL are exact: a 128-bit integer mantissa at the
 *     type's scale (value = mantissa / 10^scale);
 *   - every date and time type is a count of 100 ns ticks since
 *     0001-01-01 00:00:00 (.NET DateTime ticks); DT_DBTIME and DT_DBTIME2
 *     count from midnight; DT_DBTIMESTAMPOFFSET adds the offset in minutes
 *     and its ticks are the local time;
 *   - strings (DT_STR, DT_WSTR, DT_TEXT, DT_NTEXT) are UTF-8 without a
 *     terminating NUL, but LEN, SUBSTRING, LEFT, RIGHT, FINDSTRING,
 *     CODEPOINT, string lengths in types and \xhhhh escapes count UTF-16
 *     code units, as SSIS does;
 *   - binary values (DT_BYTES, DT_IMAGE) are bytes.
 *
 * A compiled expression is used by one thread at a time: evaluation reuses
 * scratch memory kept in it.
 */
#ifndef WEIR_EXPR_EXPR_H
#define WEIR_EXPR_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/werr.h"

/* The SSIS data types, numbered with their DT codes (DTSX.md section 9),
 * so a DT code read from a package can be used as is. */
enum expr_dt {
    EXPR_DT_EMPTY = 0,
    EXPR_DT_NULL = 1,
    EXPR_DT_I2 = 2,
    EXPR_DT_I4 = 3,
    EXPR_DT_R4 = 4,
    EXPR_DT_R8 = 5,
    EXPR_DT_CY = 6,
    EXPR_DT_DATE = 7,
    EXPR_DT_BOOL = 11,
    EXPR_DT_DECIMAL = 14,
    EXPR_DT_I1 = 16,
    EXPR_DT_UI1 = 17,
    EXPR_DT_UI2 = 18,
    EXPR_DT_UI4 = 19,
    EXPR_DT_I8 = 20,
    EXPR_DT_UI8 = 21,
    EXPR_DT_FILETIME = 64,
    EXPR_DT_GUID = 72,
    EXPR_DT_BYTES = 128,
    EXPR_DT_STR = 129,
    EXPR_DT_WSTR = 130,
    EXPR_DT_NUMERIC = 131,
    EXPR_DT_DBDATE = 133,
    EXPR_DT_DBTIME = 134,
    EXPR_DT_DBTIMESTAMP = 135,
    EXPR_DT_DBTIME2 = 145,
    EXPR_DT_DBTIMESTAMPOFFSET = 146,
    EXPR_DT_IMAGE = 301,
    EXPR_DT_TEXT = 302,
    EXPR_DT_NTEXT = 303,
    EXPR_DT_DBTIMESTAMP2 = 304,
};

/* A type with its parameters.  `length` is in characters (UTF-16 code
 * units) for DT_WSTR, in bytes for DT_STR and DT_BYTES, and 0 when there
 * is no limit (string variables); `precision` and
 * `scale` belong to DT_NUMERIC and DT_DECIMAL (scale only), `scale` also
 * to DT_DBTIME2, DT_DBTIMESTAMP2 and DT_DBTIMESTAMPOFFSET (fractional
 * second digits, 0-7); `codepage` to DT_STR and DT_TEXT.  Unused fields
 * are 0. */
struct expr_type {
    enum expr_dt dt;
    int32_t length;
    uint8_t precision, scale;
    uint16_t codepage;
};

/* 100 ns ticks per second, and the ticks of 1970-01-01 (the Unix epoch). */
#define EXPR_TICKS_PER_SEC INT64_C(10000000)
#define EXPR_TICKS_UNIX_EPOCH INT64_C(621355968000000000)

/* Exact decimals: a 128-bit mantissa (GCC and clang). */
__extension__ typedef __int128 expr_i128;

/* Borrowed bytes: a string (UTF-8) or binary value. */
struct expr_sv {
    const char *p;
    size_t len;
};

/* DT_DBTIMESTAMPOFFSET: local time in ticks and its offset from UTC in
 * minutes (-840..840), so UTC = ticks - offset * 60 s. */
struct expr_dto {
    int64_t ticks;
    int16_t offset;
};

/* DT_GUID: the 16 bytes in the order they are written
 * ({00112233-4455-6677-8899-AABBCCDDEEFF} is 00 11 22 ... FF). */
struct expr_guid {
    uint8_t b[16];
};

/* A value: its type, a NULL flag and, when not NULL, the member of `v` that
 * the type uses: b (DT_BOOL), i (signed integers, DT_CY), u (unsigned
 * integers), r (DT_R4, DT_R8), dec (DT_NUMERIC, DT_DECIMAL at type.scale),
 * t (dates and times but DT_DBTIMESTAMPOFFSET), dto, guid, s (strings and
 * binary).  Strings in a result are borrowed from the expression until its
 * next evaluation or expr_free. */
struct expr_value {
    struct expr_type type;
    bool null;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double r;
        expr_i128 dec;
        int64_t t;
        struct expr_dto dto;
        struct expr_guid guid;
        struct expr_sv s;
    } v;
};

/*
 * A column of a batch, as the data flow's buffer holds it: `data` points
 * to one element per row of the C type for type.dt:
 *   DT_BOOL uint8_t (0 or 1); DT_I1 int8_t; DT_I2 int16_t; DT_I4 int32_t;
 *   DT_I8 and DT_CY int64_t; DT_UI1 uint8_t; DT_UI2 uint16_t;
 *   DT_UI4 uint32_t; DT_UI8 uint64_t; DT_R4 float; DT_R8 double;
 *   DT_NUMERIC, DT_DECIMAL expr_i128 (at type.scale); the date and time
 *   types int64_t ticks, DT_DBTIMESTAMPOFFSET struct expr_dto;
 *   DT_GUID struct expr_guid; strings and binary struct expr_sv.
 * `nulls` holds one byte per row, non-zero for NULL, or is NULL when no
 * row is NULL.  Nothing is copied: the batch only reads the memory.
 */
struct expr_col {
    struct expr_type type;
    const void *data;
    const uint8_t *nulls;
};

/* What an expression names: a variable or parameter (`@Name`,
 * `@[User::Name]`, `@[$Project::Name]`) or a column (`Name`, `[Name]`,
 * `[Component].[Name]`, `#123`, `#{Package\Flow\Comp.Outputs[Out]...}`). */
enum expr_ref_kind { EXPR_REF_VARIABLE, EXPR_REF_COLUMN };

struct expr_ref {
    enum expr_ref_kind kind;
    const char *ns;        /* "User", "System", "$Project"...; NULL if none */
    const char *name;      /* NULL for a lineage reference */
    const char *component; /* a column's qualifier, or NULL */
    const char *lineage;   /* "123" or the refId inside #{...}, or NULL */
};

/* The host's answer for a reference.  For a column, `index` is its
 * position in the column array given to the evaluator; for a variable,
 * `handle` is handed back to the host's get().  A read-only variable
 * (parameters, System variables) cannot be assigned. */
struct expr_binding {
    struct expr_type type;
    int index;
    void *handle;
    bool read_only;
};

/*
 * The host: what the control flow or the data flow provides.
 * resolve() is called at compile time for every reference; it returns 0
 * and fills *out, or -1 with `err` set ("unknown variable ..."), which
 * becomes a diagnostic at the reference's position.  get() is called at
 * evaluation for each variable read; strings it returns are borrowed
 * until the evaluation returns.  now() gives the time for GETDATE() and
 * GETUTCDATE() (NULL: the system clock); tests inject a fixed clock.
 * Any callback may be NULL: then every reference is unknown.
 */
struct expr_host {
    int (*resolve)(void *ctx, const struct expr_ref *ref,
                   struct expr_binding *out, struct werr *err);
    int (*get)(void *ctx, void *handle, struct expr_value *out,
               struct werr *err);
    void (*now)(void *ctx, int64_t *utc_ticks, int64_t *local_ticks);
    void *ctx;
};

enum expr_flags {
    /* Column references are allowed (Derived Column, Conditional Split). */
    EXPR_COLUMNS = 1 << 0,
    /* A top-level `@[NS::Name] = expr` (or `:=`) is allowed: Expression
     * Task and For Loop init and assign expressions. */
    EXPR_ASSIGN = 1 << 1,
    /* A cast that shortens a string is an error (EXPR_ROW_TRUNCATED in a
     * batch) instead of a silent truncation: the data flow's truncation
     * disposition decides.  SSIS truncates silently elsewhere. */
    EXPR_TRUNCATE_ERROR = 1 << 2,
};

struct expr_opts {
    unsigned flags;               /* enum expr_flags */
    const struct expr_host *host; /* copied; NULL: no references */
    size_t max_string;            /* bytes per string value; 0: 16 MiB */
};

/* Compile diagnostics, each with its 1-based line and column. */
struct expr_diag {
    int line, col;
    bool warning;
    char msg[200];
};

struct expr_diags {
    struct expr_diag *v;
    size_t n, cap;
};

/* Frees the list's memory; the struct can be reused zeroed. */
void expr_diags_release(struct expr_diags *d);

struct expr;

/*
 * Compiles `len` bytes of `text`.  Every problem found (lexical, syntax,
 * unknown names, type errors, constant subexpressions that fail such as
 * a division by a constant zero) is appended to `diags` when it is not
 * NULL; `err` gets the first as "LINE:COL: message" with WERR_INVALID
 * (WERR_LIMIT when the text is too large or too deep).  Warnings (a
 * constant cast that truncates) do not fail compilation.  Returns the
 * expression, which the caller frees with expr_free, or NULL.
 */
struct expr *expr_compile(const char *text, size_t len,
                          const struct expr_opts *opts,
                          struct expr_diags *diags, struct werr *err);
void expr_free(struct expr *e);

/* The result type (for an assignment, that of the assigned value, which is
 * the variable's type). */
const struct expr_type *expr_result_type(const struct expr *e);

/* For `@[NS::Name] = expr`: the variable assigned, as the host resolved
 * it, and its reference; NULL when the expression is not an assignment. */
const struct expr_binding *expr_assign_target(const struct expr *e,
                                              const struct expr_ref **ref);

/* The source text, NUL-terminated (borrowed). */
const char *expr_text(const struct expr *e);

/*
 * Evaluates one row.  `cols` (ncols entries) are the batch columns that
 * column references index, read at row `row`; the control flow passes
 * NULL, 0, 0.  A runtime error (overflow, division by zero, a bad cast,
 * an out-of-range argument) returns -1 with WERR_INVALID and a message
 * naming the position and the expression's text.  For an assignment the
 * value is the one to store; storing it is the caller's job.
 */
int expr_eval(struct expr *e, const struct expr_col *cols, size_t ncols,
              size_t row, struct expr_value *out, struct werr *err);

/* Row outcomes of a batch evaluation. */
enum expr_row_err {
    EXPR_ROW_OK = 0,
    EXPR_ROW_ERROR = 1,     /* overflow, bad cast, division by zero... */
    EXPR_ROW_TRUNCATED = 2, /* a string was cut (EXPR_TRUNCATE_ERROR) */
};

/*
 * Evaluates `nrows` rows of the columns at once, node by node over the
 * whole batch.  On return `out` describes the result column (type, data,
 * nulls; nulls is never NULL), whose memory belongs to the expression
 * until its next evaluation or expr_free.  When `row_errs` (nrows bytes)
 * is given, a row that fails gets its enum expr_row_err code there and a
 * NULL result, the other rows carry on, `err` describes the first failure
 * and 0 is returned; without it the first failure returns -1.  Results are
 * the same as expr_eval's row by row, except that GETDATE() and
 * GETUTCDATE() are read once per batch.
 */
int expr_eval_batch(struct expr *e, const struct expr_col *cols, size_t ncols,
                    size_t nrows, struct expr_col *out, uint8_t *row_errs,
                    struct werr *err);

/* Reads row `row` of a column into a value (strings borrowed from the
 * column): how a host reads a batch result one value at a time. */
void expr_col_value(const struct expr_col *col, size_t row,
                    struct expr_value *out);

/* "DT_I4" for EXPR_DT_I4; "DT_?" for an unknown code. */
const char *expr_dt_name(enum expr_dt dt);
/* Parses a DT_ name, case-insensitively; -1 if unknown. */
int expr_dt_from_name(const char *name, size_t len, enum expr_dt *out);
/* Parses a pipeline column type ("i4", "wstr", "dbTimeStamp"...); -1 if
 * unknown. */
int expr_dt_from_pipeline(const char *name, enum expr_dt *out);
/* Formats a type as SSIS writes a cast: "DT_I4", "DT_WSTR, 50",
 * "DT_NUMERIC, 10, 2"; always NUL-terminated. */
void expr_type_format(const struct expr_type *t, char *buf, size_t size);

/*
 * Converts text to a value of type `t` with the rules of a cast from
 * DT_WSTR (numbers, dates "2024-03-15 10:00:00", TRUE/FALSE, GUIDs); for
 * string types the value points into `text`, which must outlive it.
 * Returns -1 with WERR_INVALID naming the text and the type.
 */
int expr_value_parse(const char *text, size_t len, const struct expr_type *t,
                     struct expr_value *out, struct werr *err);

/* Formats a value as a cast to DT_WSTR would, into `buf` (size bytes,
 * always NUL-terminated, cut if too small); NULL gives "NULL".  Returns
 * the length the full text has. */
size_t expr_value_format(const struct expr_value *v, char *buf, size_t size);

/* Writes the exact decimal m/10^scale as a cast to DT_WSTR does ("-12.50",
 * "0.05"), NUL-terminated, into buf (at least 48 bytes); returns the
 * length.  What expr_value_format does for DT_NUMERIC and DT_DECIMAL,
 * without a value: the data flow formats whole columns with it. */
size_t expr_dec_format(expr_i128 m, int scale, char *buf);

/* The `weir expr` command: argv[0] is "expr". */
int expr_main(int argc, char **argv);

#endif
