/*
 * ODBC diagnostic records to text (odbc_diag.h).
 */
#include <sql.h>
#include <sqlext.h>

#include "base/banned.h"
#include "odbc/odbc_diag.h"

/* Drivers stack records; past a few they repeat the context. */
#define DIAG_RECORDS 8

int
odbc_diag_append(SQLSMALLINT type, SQLHANDLE h, const char *lead,
                 struct wbuf *out)
{
    SQLCHAR state[6], text[1024];
    SQLINTEGER native;
    SQLSMALLINT len;
    int n = 0;

    for (SQLSMALLINT i = 1; h != SQL_NULL_HANDLE && i <= DIAG_RECORDS; i++) {
        if (!SQL_SUCCEEDED(SQLGetDiagRec(type, h, i, state, &native, text,
                                         sizeof(text), &len)))
            break;
        for (SQLCHAR *t = text; *t; t++)
            if (*t == '\n' || *t == '\t' || *t == '\r')
                *t = ' ';
        if (out->len)
            wbuf_adds(out, n ? "; " : lead, NULL);
        wbuf_addf(out, NULL, "[%s] (native %d) %s", (char *)state, (int)native,
                  (char *)text);
        n++;
    }
    /* Drivers end messages with newlines; events are one line each. */
    while (n && out->len && out->buf[out->len - 1] == ' ')
        out->buf[--out->len] = '\0';
    return n;
}
