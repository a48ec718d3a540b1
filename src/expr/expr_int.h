/*
 * Private declarations of the expression module.
 *
 * Pipeline: expr_lex (text -> tokens) -> expr_parse (tokens -> untyped
 * tree) -> expr_check (types, implicit conversions as explicit N_CAST
 * nodes, constant folding) -> evaluation.  Every node gets a scalar kernel
 * that computes its value from its arguments' values; the row evaluator
 * walks the tree calling them, and the batch evaluator runs each node over
 * the whole batch, either with a typed vector loop or, for the less common
 * cases, by calling the same scalar kernel row by row.  So the semantics
 * live in one place (the scalar kernels and conversions) and the vector
 * loops are checked against them by the equivalence tests.
 */
#ifndef WEIR_EXPR_INT_H
#define WEIR_EXPR_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/warena.h"
#include "expr/expr.h"

/* Limits on what input can make us allocate or recurse into. */
#define EXPR_MAX_TEXT (1u << 20) /* bytes of expression text */
#define EXPR_MAX_DEPTH 256       /* nesting of the parse tree */
#define EXPR_DEFAULT_MAX_STRING ((size_t)16 << 20)
#define EXPR_MAX_DIAGS 100

/* --------------------------------------------------------------- tokens */

enum tok_kind {
    T_EOF,
    T_NUMBER,   /* 12, 1.5, 3E2, 7L, 0xFF */
    T_STRING,   /* "..." (text still escaped) */
    T_IDENT,    /* Name, TRUE, DT_I4, LEN */
    T_BRACKET,  /* [Name] (text without brackets) */
    T_VARIABLE, /* @Name or @[NS::Name] (text without @ and brackets) */
    T_LINEAGE,  /* #123 or #{refid} (text without # and braces) */
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_QUESTION,
    T_COLON,
    T_DOT,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PERCENT,
    T_LT,
    T_GT,
    T_LE,
    T_GE,
    T_EQ,
    T_NE,
    T_AMP,
    T_CARET,
    T_PIPE,
    T_ANDAND,
    T_OROR,
    T_BANG,
    T_TILDE,
    T_ASSIGN, /* = or := */
};

/* A token: its kind and where it is.  `off`/`len` span the whole token in
 * the text; `voff`/`vlen` the part that carries its value (the name inside
 * brackets, the digits after #). */
struct token {
    enum tok_kind kind;
    uint32_t off, len;
    uint32_t voff, vlen;
};

/* -------------------------------------------------------- compile state */

struct expr_node;

struct expr_compiler {
    struct expr *e;
    const char *text;
    size_t len;
    struct token *toks; /* malloc'd; freed when compiling ends */
    size_t ntoks, tokcap, pos;
    int depth;
    int nerr;
    struct expr_diags *diags;
    struct werr *err; /* the first error */
};

/* Records a diagnostic at byte offset `off`; errors count in nerr.
 * Returns -1. */
int expr_diag(struct expr_compiler *c, uint32_t off, bool warning,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Converts a byte offset into a 1-based line and column (in characters). */
void expr_position(const char *text, size_t len, uint32_t off, int *line,
                   int *col);

/* Tokenizes the whole text (diagnostics for bad characters, unterminated
 * strings and brackets); -1 if any. */
int expr_lex(struct expr_compiler *c);
/* Parses the tokens into e->root (and the assignment target); -1 after the
 * first syntax error. */
int expr_parse(struct expr_compiler *c);
/* Type checks and folds the tree; -1 if any error was recorded. */
int expr_check(struct expr_compiler *c);

/* ----------------------------------------------------------------- nodes */

enum node_kind {
    N_LIT,    /* a constant: literal, NULL(type) or folded subtree */
    N_VAR,    /* a variable or parameter */
    N_COL,    /* a column of the batch */
    N_UNARY,  /* op: OP_NEG, OP_NOT, OP_BITNOT */
    N_BINARY, /* op: arithmetic, comparison, bitwise, concatenation */
    N_AND,    /* && */
    N_OR,     /* || */
    N_COND,   /* a ? b : c */
    N_CAST,   /* conversion to node->type (explicit or implicit) */
    N_CALL,   /* a function: op is enum func_id */
    N_NULL,   /* NULL(type) before folding */
};

enum op {
    OP_NONE,
    OP_NEG,
    OP_NOT,
    OP_BITNOT,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_CONCAT,
    OP_LT,
    OP_GT,
    OP_LE,
    OP_GE,
    OP_EQ,
    OP_NE,
    OP_BITAND,
    OP_BITXOR,
    OP_BITOR,
};

enum func_id {
    F_ABS,
    F_CEILING,
    F_EXP,
    F_FLOOR,
    F_LN,
    F_LOG,
    F_POWER,
    F_ROUND,
    F_SIGN,
    F_SQUARE,
    F_SQRT,
    F_CODEPOINT,
    F_FINDSTRING,
    F_HEX,
    F_LEFT,
    F_LEN,
    F_LOWER,
    F_LTRIM,
    F_REPLACE,
    F_REPLICATE,
    F_REVERSE,
    F_RIGHT,
    F_RTRIM,
    F_SUBSTRING,
    F_TOKEN,
    F_TOKENCOUNT,
    F_TRIM,
    F_UPPER,
    F_DATEADD,
    F_DATEDIFF,
    F_DATEPART,
    F_DAY,
    F_GETDATE,
    F_GETUTCDATE,
    F_MONTH,
    F_YEAR,
    F_ISNULL,
    F_REPLACENULL,
    F_COUNT
};

struct ectx;

/* A scalar kernel: computes node `n` from its arguments' values `a` (none
 * NULL unless the node handles NULLs itself) into `out` (whose type is
 * preset to n->type).  Returns 0, or -1 through expr_fail. */
typedef int (*expr_kern)(struct ectx *cx, const struct expr_node *n,
                         const struct expr_value *a, struct expr_value *out);

struct bvec;
struct bctx;
/* A vector kernel: computes node `n` over the batch from its arguments'
 * vectors into `out`; rows not in `act` (NULL: all) are don't-care and
 * must not fail.  Returns 0 or -1. */
typedef int (*expr_bkern)(struct bctx *bx, const struct expr_node *n,
                          struct bvec *const *args, const uint8_t *act,
                          struct bvec *out);

#define EXPR_MAX_ARGS 3

struct expr_node {
    enum node_kind kind;
    int op; /* enum op, enum func_id */
    int nargs;
    bool constant; /* no variable, column or clock below: foldable */
    bool nulls_in; /* the kernel sees NULL arguments (ISNULL...) */
    bool explicit_cast;
    int part;   /* date part known at compile time, or -1 */
    int height; /* of the subtree, bounded by EXPR_MAX_DEPTH */
    struct expr_type type;
    uint32_t off, len; /* the source span */
    uint32_t pos;      /* where messages point: the operator, the name */
    struct expr_node *a[EXPR_MAX_ARGS];
    struct expr_value lit;    /* N_LIT */
    struct expr_ref ref;      /* N_VAR, N_COL */
    struct expr_binding bind; /* N_VAR, N_COL */
    const char *name;         /* N_CALL: the name as written */
    expr_kern kern;
    expr_bkern bkern;
    int slot; /* batch vector */
};

struct expr_node *expr_node_new(struct expr_compiler *c, enum node_kind k,
                                uint32_t off, uint32_t len);

/* ------------------------------------------------------------ expression */

struct expr {
    char *text;
    size_t len;
    struct warena arena;   /* tree, literals, names: compile lifetime */
    struct warena scratch; /* evaluation results: one evaluation */
    struct expr_node *root;
    struct expr_host host;
    unsigned flags;
    size_t max_string;
    bool assign;
    struct expr_node *target; /* N_VAR of an assignment */
    /* batch state: one vector per node */
    struct bvec *vecs;
    int nslots;
    size_t vcap;
    uint8_t *zeros, *ones; /* vcap bytes each */
};

/* ---------------------------------------------------------- evaluation */

struct ectx {
    struct expr *e;
    const struct expr_col *cols;
    size_t ncols, row;
    struct werr *err;
    enum expr_row_err kind;
    bool truncated; /* a cast cut a string silently */
    bool folding;   /* compile-time evaluation: plain messages */
    bool have_now;
    int64_t now_utc, now_local;
};

/* Formats a runtime error at node `n` ("1:7: divide by zero in
 * \"10 / @x\""), records its kind and returns -1. */
int expr_fail(struct ectx *cx, const struct expr_node *n,
              enum expr_row_err kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Evaluates a node for one row (the row evaluator's recursion). */
int expr_eval_node(struct ectx *cx, const struct expr_node *n,
                   struct expr_value *out);
/* Reads row `row` of a vector of type `t` into a value (strings
 * borrowed), and writes a value into one. */
void expr_vec_load(const struct expr_type *t, const void *data,
                   const uint8_t *nulls, size_t row, struct expr_value *out);
void expr_vec_store(void *data, uint8_t *nulls, size_t row,
                    const struct expr_value *v);
/* The current time, read once per evaluation. */
void expr_now(struct ectx *cx, int64_t *utc, int64_t *local);
/* Scratch memory for results, freed at the next evaluation.  The string
 * variant fails (through expr_fail) past the size limit. */
void *expr_scratch(struct ectx *cx, size_t n);
char *expr_scratch_str(struct ectx *cx, const struct expr_node *n,
                       size_t n_bytes);

/* --------------------------------------------------------------- types */

bool expr_dt_is_int(enum expr_dt dt);
bool expr_dt_is_signed_int(enum expr_dt dt);
bool expr_dt_is_unsigned_int(enum expr_dt dt);
bool expr_dt_is_numeric(enum expr_dt dt); /* ints, reals, CY, decimals */
bool expr_dt_is_string(enum expr_dt dt);  /* STR, WSTR */
bool expr_dt_is_text(enum expr_dt dt);    /* STR, WSTR, TEXT, NTEXT */
bool expr_dt_is_date(enum expr_dt dt);    /* every date and time type */
bool expr_dt_is_time(enum expr_dt dt);    /* DBTIME, DBTIME2 */
bool expr_dt_is_decimal(enum expr_dt dt); /* NUMERIC, DECIMAL */
bool expr_dt_is_binary(enum expr_dt dt);  /* BYTES, IMAGE */
/* Bytes per element in a column vector (0 for an unknown type). */
size_t expr_dt_size(enum expr_dt dt);
/* Width in bytes of an integer type. */
int expr_dt_int_width(enum expr_dt dt);
/* Range of an integer type. */
void expr_dt_int_range(enum expr_dt dt, int64_t *min, uint64_t *max);
/* A type with only its DT code set. */
struct expr_type expr_type_of(enum expr_dt dt);
bool expr_type_equal(const struct expr_type *a, const struct expr_type *b);

/* ------------------------------------------------------------ decimals */

#define EXPR_DEC_MAXP 38
extern const expr_i128 expr_pow10[39];

/* Parses [+-]digits[.digits][E[+-]digits] into mantissa and scale (at most
 * 38 digits); -1 if malformed or too long. */
int expr_dec_parse(const char *s, size_t len, expr_i128 *m, int *scale,
                   int *precision);
/* Rescales `m` from scale `from` to `to`, rounding half away from zero;
 * -1 on overflow past 38 digits. */
int expr_dec_rescale(expr_i128 m, int from, int to, expr_i128 *out);
/* Number of decimal digits of |m| (1 for 0). */
int expr_dec_digits(expr_i128 m);
/* m/10^scale as a double. */
double expr_dec_to_double(expr_i128 m, int scale);
/* A double as a mantissa at `scale`, rounded; -1 if out of range. */
int expr_dec_from_double(double d, int scale, expr_i128 *out);
/* Whether |m| fits `precision` digits. */
bool expr_dec_fits(expr_i128 m, int precision);

/* --------------------------------------------------------------- dates */

#define EXPR_TICKS_PER_DAY (INT64_C(864000000000))
#define EXPR_TICKS_MAX (INT64_C(3155378975999999999)) /* 9999-12-31 end */

/* Civil date <-> days since 0001-01-01 (proleptic Gregorian). */
int64_t expr_days_from_civil(int64_t y, int m, int d);
void expr_civil_from_days(int64_t days, int *y, int *m, int *d);
bool expr_date_valid(int y, int m, int d);

enum date_part {
    DP_YEAR,
    DP_QUARTER,
    DP_MONTH,
    DP_DAYOFYEAR,
    DP_DAY,
    DP_WEEK,
    DP_WEEKDAY,
    DP_HOUR,
    DP_MINUTE,
    DP_SECOND,
    DP_MILLISECOND
};
/* Looks up a date part name or abbreviation ("yyyy", "qq", "Hh"...),
 * case-insensitively; -1 if unknown. */
int expr_date_part(const char *s, size_t len);
/* DATEPART of ticks. */
int64_t expr_date_get_part(int64_t ticks, int part);
/* DATEADD; -1 if the result leaves years 1-9999. */
int expr_date_add(int64_t ticks, int part, int64_t n, int64_t *out);
/* DATEDIFF: boundaries crossed from a to b; -1 if not an int32. */
int expr_date_diff(int64_t a, int64_t b, int part, int64_t *out);

/* Parses a date or time string for a cast to `dt`: ISO "2024-03-15",
 * "2024-03-15 10:20:30.1234567", US "3/15/2024 10:20 PM", times
 * "10:20:30", an optional offset " +05:30".  The ticks are local; offset
 * is set (minutes) when the string has one.  -1 if malformed. */
int expr_date_parse(const char *s, size_t len, enum expr_dt dt, int64_t *ticks,
                    int *offset, bool *has_offset);
/* Formats a date value as a cast to DT_WSTR does; returns the length
 * (buf at least 48 bytes). */
size_t expr_date_format(const struct expr_value *v, char *buf);
/* The system clock: UTC and local ticks. */
void expr_clock_system(int64_t *utc, int64_t *local);

/* ------------------------------------------------------------- strings */

/* Decodes one UTF-8 sequence at s[*i] (advancing *i); invalid bytes decode
 * as U+FFFD one at a time. */
uint32_t expr_utf8_next(const char *s, size_t len, size_t *i);
/* Encodes a code point; returns the bytes written (1-4, buf >= 4). */
int expr_utf8_put(uint32_t cp, char *buf);
/* Length in UTF-16 code units. */
size_t expr_utf16_len(const char *s, size_t len);
/* Byte offset of UTF-16 unit `units` (clamped to len).  A surrogate pair
 * split in the middle counts as ending after the pair. */
size_t expr_utf16_offset(const char *s, size_t len, size_t units);
/* Compares two UTF-8 strings in UTF-16 code unit order (ordinal, as SSIS):
 * <0, 0, >0. */
int expr_str_cmp(const char *a, size_t alen, const char *b, size_t blen);
bool expr_is_ascii(const char *s, size_t len);
/* Upper/lower case of a code point (Unicode simple case mapping). */
uint32_t expr_toupper(uint32_t cp);
uint32_t expr_tolower(uint32_t cp);
/* Whether code point `cp` can be written in code page `cp_id` (checked for
 * 1252, 20127, 28591; others are trusted). */
bool expr_codepage_has(int cp_id, uint32_t cp);

/* ---------------------------------------------------------- conversions */

/* Whether a cast from `from` to `to` is legal at all. */
bool expr_cast_legal(enum expr_dt from, enum expr_dt to);
/* Converts value `in` to type `to` (a cast); strings are allocated in the
 * scratch arena.  Errors go through expr_fail at node `n`. */
int expr_convert(struct ectx *cx, const struct expr_node *n,
                 const struct expr_value *in, const struct expr_type *to,
                 struct expr_value *out);
int expr_kern_cast(struct ectx *cx, const struct expr_node *n,
                   const struct expr_value *a, struct expr_value *out);
/* Formats a non-NULL value as text (a cast to DT_WSTR without length
 * limit) into the scratch arena. */
int expr_to_text(struct ectx *cx, const struct expr_node *n,
                 const struct expr_value *v, struct expr_sv *out);

/* ----------------------------------------------------------- functions */

struct func_def {
    const char *name;
    int id;
    int minargs, maxargs;
};

/* Looks a function up by name, case-insensitively; NULL if unknown. */
const struct func_def *expr_func_find(const char *name, size_t len);
/* Type checks a call (args already checked), inserting conversions and
 * setting n->type, n->kern; -1 after a diagnostic. */
int expr_func_check(struct expr_compiler *c, struct expr_node *n);
/* Inserts a conversion of n->a[i] to `t` (no-op when equal). */
void expr_coerce(struct expr_compiler *c, struct expr_node *n, int i,
                 const struct expr_type *t);

/* Operator kernels (expr_ops.c) and their typing (expr_check.c). */
int expr_op_check(struct expr_compiler *c, struct expr_node *n);
/* Compares decimals of different scales. */
int expr_dec_cmp(expr_i128 a, int sa, expr_i128 b, int sb);
/* <0, 0, >0 for two non-NULL values of the same comparable type. */
int expr_value_cmp(const struct expr_value *a, const struct expr_value *b);
/* Whether comparison operator `op` holds for a comparison result. */
bool expr_cmp_holds(int op, int r);

/* ---------------------------------------------------------------- batch */

struct bvec {
    void *data;           /* elements of the node's type */
    uint8_t *nulls;       /* never NULL once evaluated */
    size_t cap;           /* elements allocated in owned storage */
    size_t filled;        /* rows of a literal already written */
    uint8_t *owned_nulls; /* the node's own NULL flags */
};

struct bctx {
    struct ectx cx;
    size_t nrows;
    uint8_t *row_errs;
    bool failed;
    struct werr *first; /* the caller's: gets the first failure */
};

/* Evaluates a node with its scalar kernel for every active row (the
 * fallback of the typed loops, which they also use to report errors). */
int expr_batch_generic(struct bctx *bx, const struct expr_node *n,
                       const uint8_t *act, struct bvec *const *args,
                       struct bvec *out);

/* Records a row failure from the current cx error: with row_errs the row
 * is flagged and evaluation goes on (returns 0), else -1. */
int expr_batch_row_fail(struct bctx *bx, size_t row);
/* The vector kernel for a node, or NULL for the generic scalar loop. */
expr_bkern expr_bkern_for(const struct expr_node *n);

/* Helpers of the typed loops (expr_vec.c).  The rows to compute: `act`,
 * or all of them. */
const uint8_t *expr_vec_live(struct bctx *bx, const uint8_t *act);
/* Sets out's NULL flags to the OR of the arguments' and returns them. */
uint8_t *expr_vec_or_nulls(struct bctx *bx, const struct expr_node *n,
                           struct bvec *const *args, struct bvec *out);
/* An integer vector of type `dt` (not DT_UI8) widened to int64_t, in
 * scratch memory. */
const int64_t *expr_vec_as_i64(struct bctx *bx, enum expr_dt dt,
                               const void *data);

/* Exact-decimal loops (expr_vdec.c): + - * of two decimals, comparisons
 * of two decimals, casts of an integer or decimal to DT_NUMERIC or
 * DT_DECIMAL. */
int expr_vdec_arith(struct bctx *bx, const struct expr_node *n,
                    struct bvec *const *args, const uint8_t *act,
                    struct bvec *out);
int expr_vdec_cmp(struct bctx *bx, const struct expr_node *n,
                  struct bvec *const *args, const uint8_t *act,
                  struct bvec *out);
int expr_vdec_cast(struct bctx *bx, const struct expr_node *n,
                   struct bvec *const *args, const uint8_t *act,
                   struct bvec *out);

#endif
