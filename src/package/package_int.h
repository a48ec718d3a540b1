/*
 * Private declarations of the package module: the arena every model
 * object lives in, the package struct itself, and helpers shared by the
 * .dtsx and Project.params parsers.
 */
#ifndef WEIR_PACKAGE_INT_H
#define WEIR_PACKAGE_INT_H

#include <stddef.h>

#include <libxml/tree.h>

#include "base/warena.h"

#include "package/package.h"
#include "package/xml.h"

/* The namespace of the package model (no "http://", as SSIS writes it). */
#define PKG_NS_DTS "www.microsoft.com/SqlServer/Dts"
/* The namespace of Project.params. */
#define PKG_NS_SSIS "www.microsoft.com/SqlServer/SSIS"

struct pkg {
    struct warena *arena;
    xmlDocPtr doc;
    const char *file, *name, *id;
    int format_version, max_concurrent;
    struct pkg_about about;
    struct pkg_executable *root;
    struct pkg_executable **all; /* by index */
    size_t nall;
    struct pkg_parameter *parameters;
    size_t nparameters;
    struct pkg_connection *connections;
    size_t nconnections;
};

struct pkg_project {
    struct warena *arena;
    struct pkg_parameter *parameters;
    size_t nparameters;
};


/* True if `n` is an element named `local` in namespace `ns`. */
bool pkg_xml_is(const xmlNode *n, const char *ns, const char *local);
/* The value of attribute `local` in namespace `ns` (NULL for no namespace)
 * copied into the arena, or NULL if absent. */
const char *pkg_xml_attr(struct warena *a, const xmlNode *n, const char *ns,
                         const char *local);
/* The text content of an element, copied into the arena ("" if empty). */
const char *pkg_xml_text(struct warena *a, const xmlNode *n);
/* The element's line in the file. */
int pkg_xml_line(const xmlNode *n);

/* Reads a Foreach Loop's DTS:ForEachEnumerator `en` and
 * DTS:ForEachVariableMappings `maps` (either may be NULL; `loop` is the
 * loop's element, for the line) into the arena (load_foreach.c).  Errors
 * are WERR_INVALID "'FILE' line N: ...". */
struct pkg_foreach *pkg_read_foreach(struct warena *a, const char *file,
                                     const xmlNode *loop, const xmlNode *en,
                                     const xmlNode *maps, struct werr *err);

/* Converts a Project.params System.TypeCode to the VARIANT code that
 * package parameters use; -1 if unknown. */
int pkg_typecode_to_variant(int typecode);

#endif
