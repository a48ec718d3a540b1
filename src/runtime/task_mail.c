/*
 * The Send Mail task (Microsoft.SendMailTask, shared DTSX.md §5.2):
 * <SendMailTask:SendMailTaskData SendMailTask:SMTPServer="{DTSID}"
 * SendMailTask:From="..." SendMailTask:To="a@x;b@x" SendMailTask:CC="..."
 * SendMailTask:BCC="..." SendMailTask:Subject="..."
 * SendMailTask:Priority="High" SendMailTask:MessageSourceType="Variable"
 * SendMailTask:MessageSource="User::Body"
 * SendMailTask:FileAttachments="a.csv|b.log"/>.  Attributes are read by
 * local name, whatever their prefix.
 *
 * The SMTP connection manager's string is
 * "SmtpServer=host;UseWindowsAuthentication=False;EnableSsl=False;".
 * SSIS has no port; weir accepts "host:port" in SmtpServer (25 without).
 * Mail goes through libcurl's SMTP: the envelope sender is From's address,
 * the recipients are To, CC and BCC (BCC only in the envelope), the body
 * is a text/plain UTF-8 part (quoted-printable) followed by one base64
 * part per attachment.  EnableSsl asks for STARTTLS (required), as .NET's
 * SmtpClient does.  Windows authentication has no Linux equivalent: the
 * task warns and sends anonymously, which is what the SMTP connection
 * manager does otherwise (it has no user or password).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/tree.h>

#include "base/wfile.h"
#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/conn.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

#define BODY_FILE_MAX (16u << 20)
#define CONNECT_TIMEOUT_S 30L
/* A transfer slower than 1 byte/s for this long is abandoned. */
#define STALL_S 120L

enum source_type { SRC_DIRECT, SRC_FILE, SRC_VARIABLE };
enum priority { PRIO_NORMAL, PRIO_LOW, PRIO_HIGH };

struct mail {
    char *server, *from, *to, *cc, *bcc, *subject, *source, *attachments;
    enum source_type source_type;
    enum priority priority;
    char *problem; /* why the settings cannot be used, or NULL */
};

struct smtp {
    char *host; /* as in a URL: "[::1]" for IPv6 */
    int port;
    bool ssl, windows_auth;
};

/* ---- settings ---- */

/* A name or the .NET enum's number; -1 if neither. */
static int
enum_value(const char *s, const char *const *names, int n)
{
    if (!*s)
        return 0;
    for (int i = 0; i < n; i++)
        if (!strcasecmp(s, names[i]) || (s[0] == '0' + i && !s[1]))
            return i;
    return -1;
}

static void
mail_read(struct mail *m, const struct pkg_executable *e)
{
    static const char *const types[] = {"DirectInput", "FileConnection",
                                        "Variable"};
    static const char *const prios[] = {"Normal", "Low", "High"};
    const xmlNode *d = rt_payload(e, "SendMailTaskData");
    char *type = rt_xml_attr(d, "MessageSourceType"), *prio = rt_xml_attr(d, "Priority");
    int t = enum_value(type, types, 3), p = enum_value(prio, prios, 3);

    memset(m, 0, sizeof(*m));
    m->server = rt_xml_attr(d, "SMTPServer");
    m->from = rt_xml_attr(d, "From");
    m->to = rt_xml_attr(d, "To");
    m->cc = rt_xml_attr(d, "CC");
    m->bcc = rt_xml_attr(d, "BCC");
    m->subject = rt_xml_attr(d, "Subject");
    m->source = rt_xml_attr(d, "MessageSource");
    m->attachments = rt_xml_attr(d, "FileAttachments");
    m->source_type = t < 0 ? SRC_DIRECT : (enum source_type)t;
    m->priority = p < 0 ? PRIO_NORMAL : (enum priority)p;
    if (!d)
        m->problem = xstrdup("the task has no SendMailTaskData settings");
    else if (t < 0)
        m->problem = xasprintf("unknown MessageSourceType '%s' (DirectInput, "
                               "FileConnection or Variable)",
                               type);
    else if (p < 0)
        m->problem =
            xasprintf("unknown Priority '%s' (Normal, Low or High)", prio);
    free(type);
    free(prio);
}

static void
mail_release(struct mail *m)
{
    char **f[] = {&m->server,  &m->from,   &m->to,          &m->cc,     &m->bcc,
                  &m->subject, &m->source, &m->attachments, &m->problem};

    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        free(*f[i]);
}

/* ---- the SMTP connection manager ---- */

static char *
trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return xstrndup(p, n);
}

/* The value of `key` in "k=v;k=v", or NULL (caller frees). */
static char *
kv_get(const char *s, const char *key)
{
    size_t klen = strlen(key);

    while (*s) {
        size_t n = strcspn(s, ";");
        const char *eq = memchr(s, '=', n);
        char *k = eq ? trim(s, (size_t)(eq - s)) : NULL;
        bool hit = k && strlen(k) == klen && !strcasecmp(k, key);
        free(k);
        if (hit)
            return trim(eq + 1, n - (size_t)(eq + 1 - s));
        s += n + (s[n] == ';');
    }
    return NULL;
}

static bool
kv_true(const char *s, const char *key)
{
    char *v = kv_get(s, key);
    bool b = v && !strcasecmp(v, "True");

    free(v);
    return b;
}

/* Splits "host", "host:port", "[v6]" or "[v6]:port". */
static int
split_port(char *server, struct smtp *out, struct werr *err)
{
    char *colon = strrchr(server, ':'), *end;
    long port;

    out->port = 25;
    if (!colon || (server[0] == '[' ? colon < strchr(server, ']')
                                    : strchr(server, ':') != colon)) {
        out->host = xstrdup(server);
        return 0;
    }
    port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 1 || port > 65535)
        return werr_set(err, WERR_INVALID,
                        "'%s' has no valid port after ':' (1 to 65535)",
                        server);
    out->port = (int)port;
    out->host = xstrndup(server, (size_t)(colon - server));
    return 0;
}

static int
smtp_parse(const char *s, struct smtp *out, struct werr *err)
{
    char *server =
        strchr(s, '=') ? kv_get(s, "SmtpServer") : trim(s, strlen(s));
    int rc;

    memset(out, 0, sizeof(*out));
    if (!server || !*server) {
        free(server);
        return werr_set(err, WERR_INVALID,
                        "its connection string names no SmtpServer");
    }
    rc = split_port(server, out, err);
    free(server);
    if (rc < 0)
        return -1;
    if (!*out->host) {
        free(out->host);
        out->host = NULL;
        return werr_set(err, WERR_INVALID, "its SmtpServer has no host");
    }
    out->ssl = kv_true(s, "EnableSsl");
    out->windows_auth = kv_true(s, "UseWindowsAuthentication");
    return 0;
}

/* The SMTP connection manager `ref`, its string parsed; NULL with `err`. */
static struct rt_conn *
smtp_conn(struct rt_run *run, const char *ref, struct smtp *out,
          struct werr *err)
{
    struct rt_conn *c;

    if (!*ref) {
        werr_set(err, WERR_INVALID,
                 "the task has no SMTP connection manager "
                 "(SMTPServer)");
        return NULL;
    }
    if (!(c = rt_conns_find(run->conns, ref))) {
        werr_set(err, WERR_NOTFOUND, "there is no connection manager '%s'",
                 ref);
        return NULL;
    }
    if (strcasecmp(c->creation_name, "SMTP")) {
        werr_set(err, WERR_INVALID,
                 "connection manager '%s' is a %s connection manager, not an "
                 "SMTP one",
                 c->name, c->creation_name);
        return NULL;
    }
    if (smtp_parse(c->written, out, err) < 0) {
        werr_prefix(err, "SMTP connection manager '%s'", c->name);
        return NULL;
    }
    return c;
}

static void
smtp_release(struct smtp *s)
{
    free(s->host);
}

/* ---- validation ---- */

static bool
has_expr(const struct pkg_executable *e, const char *property)
{
    for (size_t i = 0; i < e->nexpressions; i++)
        if (!strcasecmp(e->expressions[i].property, property))
            return true;
    return false;
}

static int
check_source(struct rt_run *run, const struct pkg_executable *e,
             const struct mail *m, struct wbuf *out)
{
    const struct rt_conn *c;

    if (has_expr(e, "MessageSource"))
        return 0;
    if (m->source_type == SRC_VARIABLE &&
        !rt_vars_exists(run->vars, e, m->source))
        return rt_problem(out, e,
                          "MessageSource: there is no variable '%s' "
                          "in scope",
                          m->source);
    if (m->source_type != SRC_FILE)
        return 0;
    if (!(c = rt_conns_find(run->conns, m->source)))
        return rt_problem(out, e,
                          "MessageSource: there is no connection "
                          "manager '%s'",
                          m->source);
    if (strcasecmp(c->creation_name, "FILE"))
        return rt_problem(out, e,
                          "MessageSource: connection manager '%s' is "
                          "a %s connection manager, not a File one",
                          c->name, c->creation_name);
    return 0;
}

static int
mail_validate(struct rt_run *run, const struct pkg_executable *e,
              struct wbuf *problems)
{
    struct mail m;
    struct smtp s;
    struct werr err;
    int n = 0;

    if (!run->conns || !run->vars)
        return rt_problem(problems, e, "this run has no connections set up");
    mail_read(&m, e);
    if (m.problem) {
        n += rt_problem(problems, e, "%s", m.problem);
        goto out;
    }
    if (!smtp_conn(run, m.server, &s, &err))
        n += rt_problem(problems, e, "%s", err.msg);
    else
        smtp_release(&s);
    if (!*m.from && !has_expr(e, "FromLine"))
        n += rt_problem(problems, e, "the task has no From address");
    if (!*m.to && !*m.cc && !*m.bcc && !has_expr(e, "ToLine") &&
        !has_expr(e, "CCLine") && !has_expr(e, "BCCLine"))
        n += rt_problem(problems, e,
                        "the task has no recipient (To, CC or "
                        "BCC)");
    n += check_source(run, e, &m, problems);
out:
    mail_release(&m);
    return n;
}

/* ---- composing ---- */

/* The address in "Name <a@x>" or "a@x", as "<a@x>"; caller frees. */
static char *
address_of(const char *s)
{
    const char *lt = strrchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    char *t, *a;

    if (lt && gt)
        return xstrndup(lt, (size_t)(gt - lt + 1));
    t = trim(s, strlen(s));
    a = xasprintf("<%s>", t);
    free(t);
    return a;
}

/* Adds the addresses of a "a@x; b@x, c@x" list to `rcpt`; returns how
 * many. */
static int
add_recipients(struct curl_slist **rcpt, const char *list)
{
    int n = 0;

    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ";,");
        char *one = trim(p, len);
        if (*one) {
            char *a = address_of(one);
            *rcpt = curl_slist_append(*rcpt, a);
            free(a);
            n++;
        }
        free(one);
        p += len + (p[len] != '\0');
    }
    return n;
}

/* "Name: value" with CR and LF made spaces (no header injection); a
 * value with other than printable ASCII is RFC 2047 encoded (UTF-8,
 * base64) when `encode` is set. */
static void
add_header(struct curl_slist **h, const char *name, const char *value,
           bool encode)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    struct wbuf b;
    bool plain = true;
    size_t n = strlen(value);

    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        plain = plain && *p >= 0x20 && *p < 0x7f;
    wbuf_init(&b, WBUF_NOLIMIT);
    wbuf_addf(&b, NULL, "%s: ", name);
    if (plain || !encode) {
        for (const char *p = value; *p; p++)
            wbuf_addch(&b, *p == '\r' || *p == '\n' ? ' ' : *p, NULL);
    } else {
        wbuf_adds(&b, "=?UTF-8?B?", NULL);
        for (size_t i = 0; i < n; i += 3) {
            const unsigned char *p = (const unsigned char *)value + i;
            unsigned v = (unsigned)p[0] << 16 |
                         (i + 1 < n ? (unsigned)p[1] << 8 : 0) |
                         (i + 2 < n ? p[2] : 0);
            wbuf_addch(&b, b64[v >> 18 & 63], NULL);
            wbuf_addch(&b, b64[v >> 12 & 63], NULL);
            wbuf_addch(&b, i + 1 < n ? b64[v >> 6 & 63] : '=', NULL);
            wbuf_addch(&b, i + 2 < n ? b64[v & 63] : '=', NULL);
        }
        wbuf_adds(&b, "?=", NULL);
    }
    *h = curl_slist_append(*h, b.buf);
    wbuf_release(&b);
}

/* A To or Cc header: SSIS's ';'-separated list written with the ", "
 * that RFC 5322 separates addresses with; nothing for an empty list. */
static void
add_list_header(struct curl_slist **h, const char *name, const char *list)
{
    struct wbuf b;

    wbuf_init(&b, WBUF_NOLIMIT);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ";,");
        char *one = trim(p, len);
        if (*one)
            wbuf_addf(&b, NULL, "%s%s", b.len ? ", " : "", one);
        free(one);
        p += len + (p[len] != '\0');
    }
    if (b.len)
        add_header(h, name, b.buf, false);
    wbuf_release(&b);
}

static struct curl_slist *
headers(const struct mail *m)
{
    struct curl_slist *h = NULL;
    char date[64];
    struct tm tm;
    time_t now = time(NULL);

    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    add_header(&h, "Date", date, false);
    add_header(&h, "From", m->from, false);
    add_list_header(&h, "To", m->to);
    add_list_header(&h, "Cc", m->cc);
    add_header(&h, "Subject", m->subject, true);
    if (m->priority == PRIO_HIGH) {
        add_header(&h, "X-Priority", "1", false);
        add_header(&h, "Importance", "high", false);
    } else if (m->priority == PRIO_LOW) {
        add_header(&h, "X-Priority", "5", false);
        add_header(&h, "Importance", "low", false);
    }
    return h;
}

/* The body's text, lines ended by CRLF; NULL with `err`. */
static char *
body_text(struct rt_run *run, const struct pkg_executable *e,
          const struct mail *m, struct werr *err)
{
    struct rt_value v = {0};
    struct wbuf b, crlf;
    struct rt_conn *c;
    char *text = NULL;

    wbuf_init(&b, BODY_FILE_MAX);
    if (m->source_type == SRC_DIRECT) {
        wbuf_adds(&b, m->source, NULL);
    } else if (m->source_type == SRC_VARIABLE) {
        if (rt_vars_get(run->vars, e, m->source, &v, err) < 0)
            goto out;
        text = v.null ? xstrdup("") : rt_value_text(&v);
        wbuf_adds(&b, text, NULL);
        free(text);
    } else if (!(c = rt_conns_find(run->conns, m->source))) {
        werr_set(err, WERR_NOTFOUND, "there is no connection manager '%s'",
                 m->source);
        goto out;
    } else {
        char *path = c->written[0] == '/'
                         ? xstrdup(c->written)
                         : xasprintf("%s/%s", run->package_dir, c->written);
        int rc = wfile_read(path, &b, err);
        if (rc < 0)
            werr_prefix(err, "the message file '%s'", path);
        free(path);
        if (rc < 0)
            goto out;
    }
    wbuf_init(&crlf, WBUF_NOLIMIT);
    for (size_t i = 0; i < b.len; i++) {
        if (b.buf[i] == '\n' && (i == 0 || b.buf[i - 1] != '\r'))
            wbuf_addch(&crlf, '\r', NULL);
        wbuf_addch(&crlf, b.buf[i], NULL);
    }
    text = wbuf_detach(&crlf, NULL);
out:
    rt_value_release(&v);
    wbuf_release(&b);
    return text;
}

/* Adds one base64 part per '|'-separated file; -1 with `err` naming a
 * file that cannot be attached. */
static int
attach(struct rt_run *run, curl_mime *mime, const char *list, struct werr *err)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, "|");
        char *one = trim(p, len), *path;
        struct stat st;
        int rc = 0;
        p += len + (p[len] != '\0');
        if (!*one) {
            free(one);
            continue;
        }
        path = pkg_path_linux(one, run->package_dir);
        if (!path)
            rc = werr_set(err, WERR_INVALID,
                          "the attachment '%s' is a Windows path", one);
        else if (stat(path, &st) < 0)
            rc = werr_set(err, WERR_NOTFOUND, "cannot attach '%s': %s", path,
                          strerror(errno));
        else if (!S_ISREG(st.st_mode))
            rc = werr_set(err, WERR_INVALID,
                          "cannot attach '%s': it is not a file", path);
        else {
            curl_mimepart *part = curl_mime_addpart(mime);
            curl_mime_filedata(part, path);
            curl_mime_type(part, "application/octet-stream");
            curl_mime_encoder(part, "base64");
        }
        free(path);
        free(one);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- sending ---- */

struct send {
    struct rt_run *run;
    const struct pkg_executable *e;
    const struct mail *m;
    const struct smtp *s;
    char server[300]; /* "host:port" for messages */
    char errbuf[CURL_ERROR_SIZE];
};

static int
on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    struct send *x = arg;

    /* Called without the run lock. */
    return rt_cancel_requested(x->run) ? 1 : 0;
}

static void
global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
set_options(CURL *c, struct send *x, struct curl_slist *rcpt,
            struct curl_slist *hdrs, curl_mime *mime, const char *from)
{
    char url[320];

    snprintf(url, sizeof(url), "smtp://%s", x->server);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, STALL_S);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    if (x->s->ssl)
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
}

/* The text part and the attachments; NULL with `err`. */
static curl_mime *
message(struct send *x, CURL *c, const char *body, struct werr *err)
{
    curl_mime *mime = curl_mime_init(c);
    curl_mimepart *text = curl_mime_addpart(mime);

    curl_mime_data(text, body, CURL_ZERO_TERMINATED);
    curl_mime_type(text, "text/plain; charset=utf-8");
    curl_mime_encoder(text, "quoted-printable");
    if (attach(x->run, mime, x->m->attachments, err) == 0)
        return mime;
    curl_mime_free(mime);
    return NULL;
}

/* Builds the message and sends it; -1 with `err`, or -2 when canceled. */
static int
deliver(struct send *x, const char *body, struct werr *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct curl_slist *rcpt = NULL, *hdrs = headers(x->m);
    char *from = address_of(x->m->from);
    curl_mime *mime = NULL;
    CURL *c = NULL;
    CURLcode rc;
    int n = 0, ret = -1;

    pthread_once(&once, global_init);
    n += add_recipients(&rcpt, x->m->to);
    n += add_recipients(&rcpt, x->m->cc);
    n += add_recipients(&rcpt, x->m->bcc);
    if (!n) {
        werr_set(err, WERR_INVALID, "the message has no recipient");
        goto out;
    }
    if (!(c = curl_easy_init()))
        W_BUG("curl_easy_init failed");
    if (!(mime = message(x, c, body, err)))
        goto out;
    set_options(c, x, rcpt, hdrs, mime, from);
    x->errbuf[0] = '\0';
    rt_blocking_begin(x->run);
    rc = curl_easy_perform(c);
    rt_blocking_end(x->run);
    if (rc == CURLE_ABORTED_BY_CALLBACK && rt_canceled(x->run)) {
        ret = -2;
        goto out;
    }
    if (rc != CURLE_OK) {
        werr_set(err, WERR_IO, "cannot send mail through '%s': %s", x->server,
                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
        goto out;
    }
    rt_emit(x->run, x->e, RT_EV_INFORMATION,
            "mail sent through '%s' to %d recipient%s", x->server, n,
            n == 1 ? "" : "s");
    ret = 0;
out:
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    curl_slist_free_all(rcpt);
    curl_slist_free_all(hdrs);
    free(from);
    return ret;
}

/* Property expressions on the task's text properties; false after an
 * error (raised). */
static bool
apply_props(struct rt_run *run, const struct pkg_executable *e, struct mail *m)
{
    static const char *const names[] = {
        "FromLine", "ToLine",        "CCLine",         "BCCLine",
        "Subject",  "MessageSource", "FileAttachments"};
    char **fields[] = {&m->from,    &m->to,     &m->cc,         &m->bcc,
                       &m->subject, &m->source, &m->attachments};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *s;
        int rc = rt_prop_text(run, e, names[i], &s);
        if (rc < 0)
            return false;
        if (rc > 0) {
            free(*fields[i]);
            *fields[i] = s;
        }
    }
    return true;
}

static enum rt_result
mail_execute(struct rt_run *run, const struct pkg_executable *e)
{
    struct mail m;
    struct smtp s = {0};
    struct send x = {.run = run, .e = e, .m = &m, .s = &s};
    struct werr err;
    char *body = NULL;
    int rc = -1;

    mail_read(&m, e);
    if (m.problem) {
        werr_set(&err, WERR_INVALID, "%s", m.problem);
        goto out;
    }
    if (!apply_props(run, e, &m))
        goto done;
    struct rt_conn *c = rt_conns_find(run->conns, m.server);
    if (c &&
        rt_conn_eval_expression(c, run->vars, pkg_root(run->pkg), &err) < 0)
        goto out;
    if (!smtp_conn(run, m.server, &s, &err))
        goto out;
    if (s.windows_auth)
        rt_emit(run, e, RT_EV_WARNING,
                "UseWindowsAuthentication has no Linux equivalent: the mail "
                "is sent without authentication");
    snprintf(x.server, sizeof(x.server), "%s:%d", s.host, s.port);
    if (!(body = body_text(run, e, &m, &err)))
        goto out;
    rc = deliver(&x, body, &err);
out:
    if (rc == -1)
        rt_error(run, e, RT_E_MAIL, "%s", err.msg);
done:
    free(body);
    smtp_release(&s);
    mail_release(&m);
    if (rc == 0)
        return RT_SUCCESS;
    return rc == -2 ? RT_CANCELED : RT_FAILURE;
}

const struct rt_task_ops rt_mail_ops = {
    .type = "Microsoft.SendMailTask",
    .validate = mail_validate,
    .execute = mail_execute,
};
