/*
 * The package model: a .dtsx loaded into an immutable tree of executables,
 * precedence constraints, variables, parameters and connection managers.
 *
 * Loading parses the XML with libxml2 (no network, no DTD, no entity
 * expansion) and builds the model in one arena owned by the `struct pkg`:
 * every pointer reachable from it lives until pkg_free() and must not be
 * freed or changed by the caller.  Absent attributes take the defaults of
 * the format (shared DTSX.md), e.g. an absent DTS:LogicalAnd means OR.
 *
 * Loading only refuses what cannot be understood at all (malformed XML,
 * format 2/3 packages, executables without a refId...).  Everything that
 * can be read but not run is reported by pkg_validate(), so deploying or
 * running a package lists all its problems at once.
 *
 * Parser errors are collected per parser context, never through
 * libxml2's global handler.  A program that loads packages from several
 * threads calls xmlInitParser() once first, as libxml2 requires; only a
 * program about to exit calls xmlCleanupParser() (weir exec does).
 */
#ifndef WEIR_PACKAGE_H
#define WEIR_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/wbuf.h"
#include "base/werr.h"

struct pkg;
struct _xmlNode;

/* Largest .dtsx pkg_load_file reads; the biggest public packages are a few
 * MiB. */
#define PKG_MAX_FILE (64u << 20)
/* Deepest nesting of containers accepted (WERR_LIMIT past it). */
#define PKG_MAX_DEPTH 64

/* DTSExecResult, as tested by a precedence constraint's Value. */
enum pkg_outcome {
    PKG_SUCCESS = 0,
    PKG_FAILURE = 1,
    PKG_COMPLETION = 2,
};

/* DTSPrecedenceEvalOp: how a constraint combines its outcome test and its
 * expression. */
enum pkg_eval_op {
    PKG_EVAL_EXPRESSION = 1,
    PKG_EVAL_CONSTRAINT = 2, /* the default */
    PKG_EVAL_EXPR_AND_CONSTRAINT = 3,
    PKG_EVAL_EXPR_OR_CONSTRAINT = 4,
};

struct pkg_executable;

/* A precedence constraint between two children of one container. */
struct pkg_constraint {
    const char *name;              /* DTS:ObjectName, "" if absent */
    const char *from_ref, *to_ref; /* DTS:From and DTS:To as written */
    /* The children of the owning container that From and To name, or NULL
     * when they name no child of it (pkg_validate reports that). */
    const struct pkg_executable *from, *to;
    enum pkg_outcome value;
    enum pkg_eval_op eval_op;
    const char *expression; /* NULL if none */
    bool logical_and;       /* absent = false (OR), see DTSX.md §6 */
    int line;
};

/* A variable (DTS:Variable).  `data_type` is the COM VARIANT code. */
struct pkg_variable {
    const char *ns, *name, *dtsid;
    int data_type;
    const char *value;      /* design-time value text, "" if empty */
    const char *expression; /* NULL if none */
    bool evaluate_as_expression, read_only;
    /* DTS:RaiseChangedEvent: a change of value raises the
     * OnVariableValueChanged event. */
    bool raise_changed_event;
    int line;
};

/* A package or project parameter.  `data_type` is always a VARIANT code
 * (Project.params' System.TypeCode is converted on load). */
struct pkg_parameter {
    const char *name, *dtsid, *description;
    int data_type;
    /* The design default, or NULL when absent or encrypted: encrypted
     * values are DPAPI blobs that cannot be read off the author's machine,
     * so they must come from the execution. */
    const char *value;
    bool sensitive, required, encrypted;
    int line;
};

/* A connection manager (package-level). */
struct pkg_connection {
    const char *name, *dtsid, *ref_id;
    const char *creation_name;     /* "OLEDB", "FLATFILE", ... */
    const char *connection_string; /* "" if absent */
    /* FILE managers' DTS:FileUsageType: 0 existing file (the default),
     * 1 create file, 2 existing folder, 3 create folder. */
    int file_usage;
    int line;
    /* The inner DTS:ConnectionManager of DTS:ObjectData (a Flat File
     * manager's format and columns), else its first element (a Cache
     * manager's columns), or NULL; it belongs to the package's document
     * and lives as long as the package. */
    const struct _xmlNode *object_data;
    /* DTS:PropertyExpression children (ConnectionString, ServerName...),
     * kept for the expression module. */
    const struct pkg_property_expression *expressions;
    size_t nexpressions;
};

/* A property expression (DTS:PropertyExpression): property name and the
 * expression text, kept for the expression module. */
struct pkg_property_expression {
    const char *property, *expression;
};

/* The settings of an Execute Process task (ExecuteProcessData), with the
 * format's defaults applied. */
struct pkg_process {
    const char *executable;        /* "" if absent */
    const char *arguments;         /* "" if absent */
    const char *working_directory; /* "" if absent */
    const char *stdin_variable, *stdout_variable, *stderr_variable; /* or "" */
    int success_value;           /* default 0 */
    int timeout_s;               /* 0 = none */
    bool fail_on_return_code;    /* default true */
    bool require_full_file_name; /* default true */
};

/* The enumerator kinds of a Foreach Loop (DTS:ForEachEnumerator's
 * CreationName, normalized).  Only the first four run; the others are
 * read so validation can name them. */
enum pkg_enum_kind {
    PKG_ENUM_FILE,          /* Microsoft.ForEachFileEnumerator */
    PKG_ENUM_ITEM,          /* Microsoft.ForEachItemEnumerator */
    PKG_ENUM_ADO,           /* Microsoft.ForEachADOEnumerator */
    PKG_ENUM_VARIABLE,      /* Microsoft.ForEachFromVarEnumerator */
    PKG_ENUM_NODELIST,      /* XML node lists */
    PKG_ENUM_SMO,           /* SQL Server Management Objects */
    PKG_ENUM_SCHEMA_ROWSET, /* ADO.NET schema rowsets */
    PKG_ENUM_AZURE,         /* Azure blob and Data Lake enumerators */
    PKG_ENUM_OTHER,         /* anything else (third-party) */
};

/* One value of an Item enumerator's item (FEIEItemValue): its VARIANT
 * type and its text. */
struct pkg_foreach_value {
    int type;
    const char *value;
};

/* One item (row) of an Item enumerator. */
struct pkg_foreach_item {
    const struct pkg_foreach_value *values;
    size_t nvalues;
};

/* DTS:ForEachVariableMapping: the enumerated value at `value_index`
 * goes into `variable` ("User::File") before each iteration. */
struct pkg_foreach_mapping {
    int value_index;
    const char *variable;
    int line;
};

/* A Foreach Loop's enumerator and its variable mappings, with the
 * format's defaults applied (DTSX.md 5.3). */
struct pkg_foreach {
    enum pkg_enum_kind kind;
    const char *kind_name;     /* "File", "Item", "ADO", "NodeList"... */
    const char *creation_name; /* as written; "" when there is no enumerator */
    int line;                  /* of DTS:ForEachEnumerator, else the loop */
    bool present;              /* there is a DTS:ForEachEnumerator */
    /* File: Folder ("" if absent), FileSpec (default "*.*"),
     * FileNameRetrievalType (0 full path, 1 name and extension, 2 name),
     * Recurse. */
    const char *folder, *file_spec;
    int retrieval;
    bool recurse;
    /* ADO (FEEADO VarName, EnumType) and FromVariable (FEEFVE
     * VariableName): the object variable, "" if absent. */
    const char *variable;
    const char *ado_enum_type; /* "EnumerateRowsInFirstTable"... or "" */
    /* Item: the items in order. */
    const struct pkg_foreach_item *items;
    size_t nitems;
    /* DTS:PropertyExpression on the enumerator (Directory, FileSpec...). */
    const struct pkg_property_expression *expressions;
    size_t nexpressions;
    const struct pkg_foreach_mapping *mappings;
    size_t nmappings;
};

/* An event handler: an event name and the container that runs for it. */
struct pkg_event_handler {
    const char *event; /* "OnError", "OnPostExecute", ... */
    const struct pkg_executable *container;
};

/* An executable: the package itself, a container, or a task.  Containers
 * have children and the constraints between them; tasks have none. */
struct pkg_executable {
    size_t index;             /* 0 .. pkg_executable_count() - 1, root is 0 */
    const char *ref_id;       /* "Package\Seq\Task" as written */
    const char *path;         /* "\Package\Seq\Task": the package path */
    const char *name;         /* DTS:ObjectName */
    const char *dtsid;        /* "" if absent */
    const char *type;         /* normalized, see pkg_type_normalize() */
    const char *type_written; /* as written in the file */
    const char *description;
    int line;
    int depth; /* 0 for the package */
    bool disabled, delay_validation;
    bool fail_package_on_failure, fail_parent_on_failure;
    int max_error_count;        /* default 1; 0 means no limit */
    int force_execution_result; /* -1 none (default), else pkg_outcome */
    const struct pkg_executable *parent; /* NULL for the package */
    const struct pkg_executable *const *children;
    size_t nchildren;
    const struct pkg_constraint *constraints;
    size_t nconstraints;
    const struct pkg_variable *variables;
    size_t nvariables;
    const struct pkg_property_expression *expressions;
    size_t nexpressions;
    const struct pkg_event_handler *handlers;
    size_t nhandlers;
    /* Inside an event handler's tree (not part of the control flow). */
    bool in_handler;
    /* The task payload: the DTS:ObjectData element, or NULL.  It belongs
     * to the package's document and lives as long as the package. */
    const struct _xmlNode *object_data;
    /* Parsed payload of Execute Process tasks; NULL for other types. */
    const struct pkg_process *process;
    /* A For Loop's DTS:InitExpression, EvalExpression and
     * AssignExpression as written (NULL when absent, as on other types). */
    const char *init_expression, *eval_expression, *assign_expression;
    /* A Foreach Loop's enumerator and mappings; NULL on other types. */
    const struct pkg_foreach *foreach;
};

/* Parses a .dtsx held in memory; `name` (e.g. "Extract.dtsx") is used in
 * messages.  Malformed XML or an unsupported format is WERR_INVALID with a
 * message naming the file and line: "'Extract.dtsx' line 7: ...". */
struct pkg *pkg_load_memory(const char *name, const void *xml, size_t len,
                            struct werr *err);
/* Reads and parses a .dtsx file (WERR_NOTFOUND if it does not exist,
 * WERR_LIMIT past PKG_MAX_FILE).  Messages name the file's base name. */
struct pkg *pkg_load_file(const char *path, struct werr *err);
/* Frees the package and everything reachable from it; NULL is a no-op. */
void pkg_free(struct pkg *p);

/* Validates the package before anything runs: unsupported task types,
 * constraints that do not connect siblings, cycles, expressions, Execute
 * Process tasks without a program...  Disabled executables (and what they
 * contain) are not validated, as in SSIS.  Appends one line per problem,
 * "\Package\Seq\Task: message\n", to `problems`; returns the number found. */
int pkg_validate(const struct pkg *p, struct wbuf *problems);

/* The expression type (src/expr) a VARIANT data type reads as: strings
 * DT_WSTR without a length limit, DateTime DT_DATE, Decimal
 * DT_NUMERIC(38, 10); -1 for Empty and Object, which expressions cannot
 * use. */
struct expr_type;
int pkg_vt_expr_type(int vt, struct expr_type *t);

/* Accessors; strings and arrays are borrowed from the package. */
const char *pkg_file(const struct pkg *p);   /* "Extract.dtsx" */
const char *pkg_name(const struct pkg *p);   /* DTS:ObjectName of the root */
const char *pkg_id(const struct pkg *p);     /* DTS:DTSID of the root */
int pkg_format_version(const struct pkg *p); /* 6 or 8 */
/* What the package's root says about itself, read by the System
 * variables of the same names: strings as written ("" when absent),
 * numbers 0 when absent.  CreationDate is the design-time text, e.g.
 * "3/23/2017 9:06:53 PM". */
struct pkg_about {
    const char *creation_date, *creator_name, *creator_computer_name;
    const char *version_guid, *version_comments, *description;
    int version_build, version_major, version_minor, locale_id;
};
const struct pkg_about *pkg_about(const struct pkg *p);
/* MaxConcurrentExecutables: -1 (the default) means CPUs + 2. */
int pkg_max_concurrent(const struct pkg *p);
/* The package itself, the root of the executable tree. */
const struct pkg_executable *pkg_root(const struct pkg *p);
/* Executables in the tree, including the root and event handlers. */
size_t pkg_executable_count(const struct pkg *p);
const struct pkg_parameter *pkg_parameters(const struct pkg *p, size_t *n);
const struct pkg_connection *pkg_connections(const struct pkg *p, size_t *n);
/* The executable whose refId is `ref_id` (exact match first, then ignoring
 * case), or NULL. */
const struct pkg_executable *pkg_find(const struct pkg *p, const char *ref_id);

/* What weir knows about an executable type. */
struct pkg_type_info {
    const char *type;  /* canonical name, "Microsoft.ExecuteProcess" */
    const char *label; /* for messages, "Execute Process task" */
    bool container;
    bool runnable; /* this version of weir runs it */
    /* Why not, when there is more to say than "unsupported task type"
     * (e.g. "script tasks cannot run: they need .NET"); else NULL. */
    const char *why_not;
};

/* Normalizes a DTS:ExecutableType / DTS:CreationName to its canonical
 * short name (DTSX.md §5.1): "Microsoft.ExecuteSQLTask" for the short,
 * assembly-qualified and class-name spellings, "Microsoft.Pipeline" for
 * "SSIS.Pipeline.3" and the pipeline CLSID, "Microsoft.Package" for
 * "SSIS.Package.3"...  Returns a static string, or NULL for a type weir
 * does not know (which callers keep as written). */
const char *pkg_type_normalize(const char *written);
/* The entry for a canonical type name, or NULL for an unknown type. */
const struct pkg_type_info *pkg_type_info(const char *type);

/* Paths as packages write them (paths.c).  True if `path` is a Windows
 * path, which means nothing on Linux: a drive letter ("C:..."), a UNC path
 * or one rooted at the current drive (a leading backslash). */
bool pkg_path_is_windows(const char *path);
/* `path` as weir opens it: backslashes are separators and become slashes
 * ("/data\in.csv" is "/data/in.csv"), and a relative path is joined to
 * `base` (the package's folder) unless `base` is NULL or empty; an empty
 * path stays empty.  NULL for a Windows path.  The caller frees. */
char *pkg_path_linux(const char *path, const char *base);
/* True if `program` names a Windows program: a Windows path, any
 * backslash, or a name ending in .exe, .bat, .cmd, .com, .ps1 or .vbs
 * ("cmd.exe"). */
bool pkg_program_is_windows(const char *program);

/* Project parameters (Project.params) and what else a project folder
 * holds for its packages. */
struct pkg_project;

/* Reads DIR/Project.params; a folder without one gives an empty project.
 * Errors name the file and line like pkg_load_memory. */
struct pkg_project *pkg_project_load_dir(const char *dir, struct werr *err);
/* Parses the text of a Project.params file; `name` is used in messages. */
struct pkg_project *pkg_project_load_memory(const char *name, const void *xml,
                                            size_t len, struct werr *err);
void pkg_project_free(struct pkg_project *pr);
const struct pkg_parameter *pkg_project_parameters(const struct pkg_project *pr,
                                                   size_t *n);

/* ---- legacy package configurations (config.c) ---- */

/* DTSConfigurationType, as DTS:ConfigurationType writes it. */
enum pkg_config_type {
    PKG_CONFIG_PARENT_VARIABLE = 0, /* a variable of the parent package */
    PKG_CONFIG_FILE = 1,            /* an XML .dtsConfig file */
    PKG_CONFIG_ENV = 2,             /* an environment variable's value */
    PKG_CONFIG_REGISTRY = 3,
    PKG_CONFIG_IPARENT_VARIABLE = 4, /* indirect: the names come from */
    PKG_CONFIG_IFILE = 5,            /* an environment variable */
    PKG_CONFIG_IREGISTRY = 6,
    PKG_CONFIG_SQLSERVER = 7, /* a table read through a connection */
    PKG_CONFIG_ISQLSERVER = 8,
};

/* One DTS:Configuration of a package. */
struct pkg_configuration {
    const char *name;
    int type;           /* enum pkg_config_type; -1 if absent or bad */
    const char *string; /* DTS:ConfigurationString: a file, a variable */
    /* DTS:ConfigurationVariable: the property path a single-value
     * configuration (parent variable, environment variable) sets. */
    const char *target;
    int line;
};

struct pkg_configs;
/* The package's configurations (empty when it has none); never fails:
 * what cannot be understood is for the caller to warn about. */
struct pkg_configs *pkg_configs_read(const struct pkg *p);
void pkg_configs_free(struct pkg_configs *cs);
/* `enabled` is DTS:EnableConfig: configurations apply only when set. */
const struct pkg_configuration *pkg_configs_list(const struct pkg_configs *cs,
                                                 size_t *n, bool *enabled);

/* One <Configuration> of a .dtsConfig file. */
struct pkg_config_entry {
    const char *path;       /* "\Package.Variables[User::X].Properties[Value]" */
    const char *type;       /* ConfiguredType, "Property" by default */
    const char *value_type; /* ValueType, "String" by default */
    const char *value;      /* ConfiguredValue's text */
    int line;
};

struct pkg_config_file;
/* Parses a .dtsConfig file held in memory; errors name `name` and the
 * line, like pkg_load_memory. */
struct pkg_config_file *pkg_config_file_read(const char *name, const void *xml,
                                             size_t len, struct werr *err);
void pkg_config_file_free(struct pkg_config_file *f);
const struct pkg_config_entry *
pkg_config_file_entries(const struct pkg_config_file *f, size_t *n);

/* ---- .ispac projects (ispac.c) ---- */

/* Limits on an archive read into memory: entries (folders included) and
 * bytes of all files uncompressed (WERR_LIMIT past them). */
#define PKG_ARCHIVE_MAX_ENTRIES 10000
#define PKG_ARCHIVE_MAX_BYTES (256u << 20)
/* Longest path and path segment in an archive. */
#define PKG_PATH_MAX 1024
#define PKG_SEGMENT_MAX 255

/* A project read from an .ispac (or a zip of a project folder) into
 * memory: its packages, Project.params, .conmgr files and manifest. */
struct pkg_archive;

/* One file of an archive: a clean relative path ('/'-separated) and its
 * bytes, NUL-terminated after `len`.  Borrowed from the archive. */
struct pkg_archive_file {
    const char *path;
    const char *data;
    size_t len;
};

/* Reads a zip held in memory; `name` (the .ispac's file name) prefixes
 * every message.  Names are cleaned with pkg_path_clean (decoded as URI
 * parts when the zip has "[Content_Types].xml", as an .ispac does);
 * links, devices, encrypted entries, duplicate names and archives past
 * the limits are refused. */
struct pkg_archive *pkg_archive_read(const char *name, const void *zip,
                                     size_t len, struct werr *err);
/* Reads an .ispac file (WERR_NOTFOUND if it does not exist). */
struct pkg_archive *pkg_archive_load_file(const char *path, struct werr *err);
void pkg_archive_free(struct pkg_archive *ar);
/* The files, sorted by path. */
const struct pkg_archive_file *pkg_archive_files(const struct pkg_archive *ar,
                                                 size_t *n);
/* The file at `path` (exact match first, then ignoring case), or NULL. */
const struct pkg_archive_file *pkg_archive_find(const struct pkg_archive *ar,
                                                const char *path);
/* True for a package: a .dtsx at the archive's top level. */
bool pkg_archive_is_package(const struct pkg_archive_file *f);
/* Appends the packages' names, ", "-separated, to `out`. */
void pkg_archive_list_packages(const struct pkg_archive *ar, struct wbuf *out);

/* Cleans an archive path into `out`: '\' becomes '/', "." and empty
 * segments go; absolute paths, "..", control characters and names past
 * PKG_SEGMENT_MAX are WERR_INVALID.  With `decode`, %XX escapes are
 * decoded first (an .ispac stores names as URI parts). */
int pkg_path_clean(const char *in, bool decode, char *out, size_t outlen,
                   struct werr *err);

#endif
