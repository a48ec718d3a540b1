/*
 * Executable types: the spellings SSIS writes for one type (short name,
 * assembly-qualified .NET class, COM ProgID, CLSID) map to one canonical
 * short name, and each canonical name says whether this version of weir
 * can run it.  The runtime keeps its own table of task implementations; a
 * unit test checks that every type marked runnable here has one there.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "package/package_int.h"

static const struct pkg_type_info types[] = {
    {"Microsoft.Package", "package", true, true, NULL},
    {"STOCK:SEQUENCE", "Sequence container", true, true, NULL},
    {"EventHandler", "event handler", true, true, NULL},
    {"Microsoft.ExecuteProcess", "Execute Process task", false, true, NULL},
    {"STOCK:FORLOOP", "For Loop container", true, true, NULL},
    {"STOCK:FOREACHLOOP", "Foreach Loop container", true, true, NULL},
    {"Microsoft.Pipeline", "Data Flow task", false, true, NULL},
    {"Microsoft.ScriptTask", "Script task", false, false,
     "script tasks cannot run: they need .NET"},
    {"Microsoft.ExecuteSQLTask", "Execute SQL task", false, true, NULL},
    {"Microsoft.ExecutePackageTask", "Execute Package task", false, true,
     NULL},
    {"Microsoft.ExpressionTask", "Expression task", false, true, NULL},
    {"Microsoft.FileSystemTask", "File System task", false, true, NULL},
    {"Microsoft.SendMailTask", "Send Mail task", false, true, NULL},
    {"Microsoft.BulkInsertTask", "Bulk Insert task", false, false, NULL},
    {"Microsoft.FtpTask", "FTP task", false, false, NULL},
    {"Microsoft.XMLTask", "XML task", false, false, NULL},
    {"Microsoft.WebServiceTask", "Web Service task", false, false, NULL},
    {"Microsoft.DataProfilingTask", "Data Profiling task", false, false, NULL},
    {"Microsoft.WmiDataReaderTask", "WMI Data Reader task", false, false, NULL},
    {"Microsoft.WmiEventWatcherTask", "WMI Event Watcher task", false, false,
     NULL},
    {"Microsoft.MessageQueueTask", "Message Queue task", false, false, NULL},
    {"Microsoft.TransferDatabaseTask", "Transfer Database task", false, false,
     NULL},
    {"Microsoft.CDCControlTask", "CDC Control task", false, false, NULL},
};

/* Spellings that the generic rules below do not cover. */
static const struct {
    const char *written, *type;
} aliases[] = {
    {"SSIS.Pipeline", "Microsoft.Pipeline"},
    {"{5918251B-2970-45A4-AB5F-01C3C588FE5A}", "Microsoft.Pipeline"},
    {"{E3CFBEA8-1F48-40D8-91E1-2DEDC1EDDD56}", "Microsoft.Pipeline"},
    {"SSIS.Package", "Microsoft.Package"},
    {"MSDTS.Package", "Microsoft.Package"},
    {"SSIS.ExecutePackageTask", "Microsoft.ExecutePackageTask"},
    {"Microsoft.SqlServer.Dts.Runtime.Package", "Microsoft.Package"},
    {"Microsoft.SqlServer.Dts.Runtime.Sequence", "STOCK:SEQUENCE"},
    {"Microsoft.SqlServer.Dts.Runtime.ForLoop", "STOCK:FORLOOP"},
    {"Microsoft.SqlServer.Dts.Runtime.ForEachLoop", "STOCK:FOREACHLOOP"},
    {"Microsoft.SqlServer.Dts.Tasks.ExecuteProcess.ExecuteProcess",
     "Microsoft.ExecuteProcess"},
    {"Microsoft.ExecuteProcessTask", "Microsoft.ExecuteProcess"},
    {"Microsoft.SqlServer.Dts.Tasks.FtpTask.FtpTask", "Microsoft.FtpTask"},
};

const struct pkg_type_info *
pkg_type_info(const char *type)
{
    for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(types[i].type, type))
            return &types[i];
    return NULL;
}

/* The canonical entry whose name matches `s[0..n)` ignoring case. */
static const char *
known(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strlen(types[i].type) == n && !strncasecmp(types[i].type, s, n))
            return types[i].type;
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (strlen(aliases[i].written) == n &&
            !strncasecmp(aliases[i].written, s, n))
            return aliases[i].type;
    return NULL;
}

/* "SSIS.Pipeline.3" -> length of "SSIS.Pipeline": a ProgID's version. */
static size_t
strip_progid_version(const char *s, size_t n)
{
    size_t i = n;

    while (i > 0 && isdigit((unsigned char)s[i - 1]))
        i--;
    if (i < n && i > 0 && s[i - 1] == '.')
        return i - 1;
    return n;
}

/* "Microsoft.SqlServer.Dts.Tasks.X.Y" names task class Y: every stock
 * task class is registered under the short name "Microsoft.Y". */
static const char *
from_class_name(const char *s, size_t n)
{
    static const char prefix[] = "Microsoft.SqlServer.Dts.Tasks.";
    const char *last;
    char shortname[128];

    if (n <= sizeof(prefix) - 1 || strncasecmp(s, prefix, sizeof(prefix) - 1))
        return NULL;
    last = s + n;
    while (last > s && last[-1] != '.')
        last--;
    if ((size_t)(s + n - last) + 11 > sizeof(shortname))
        return NULL;
    int len = snprintf(shortname, sizeof(shortname), "Microsoft.%.*s",
                       (int)(s + n - last), last);
    return known(shortname, (size_t)len);
}

const char *
pkg_type_normalize(const char *written)
{
    const char *comma, *t;
    size_t n;

    if (!written)
        return NULL;
    while (isspace((unsigned char)*written))
        written++;
    comma = strchr(written, ',');
    n = comma ? (size_t)(comma - written) : strlen(written);
    while (n > 0 && isspace((unsigned char)written[n - 1]))
        n--;
    if (!n)
        return NULL;
    if ((t = known(written, n)))
        return t;
    if ((t = known(written, strip_progid_version(written, n))))
        return t;
    return from_class_name(written, n);
}

int
pkg_typecode_to_variant(int typecode)
{
    /* System.TypeCode -> VARIANT: Boolean 3 -> VT_BOOL 11, SByte 5 -> 16,
     * Byte 6 -> 17, Int16 7 -> 2, UInt16 8 -> 18, Int32 9 -> 3,
     * UInt32 10 -> 19, Int64 11 -> 20, UInt64 12 -> 21, Single 13 -> 4,
     * Double 14 -> 5, Decimal 15 -> 14, DateTime 16 -> 7, String 18 -> 8. */
    static const int map[19] = {
        [3] = 11, [5] = 16,  [6] = 17,  [7] = 2,   [8] = 18,
        [9] = 3,  [10] = 19, [11] = 20, [12] = 21, [13] = 4,
        [14] = 5, [15] = 14, [16] = 7,  [18] = 8,
    };

    if (typecode < 0 || typecode >= 19 || !map[typecode])
        return -1;
    return map[typecode];
}
