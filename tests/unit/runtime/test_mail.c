/* Unit tests for the Send Mail task (task_mail.c) against a real SMTP
 * server on loopback: tests/tools/smtp-sink, started per test, stores
 * each message and its envelope in a folder the test reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "pkgrun.h"

#define NS_MAIL "www.microsoft.com/sqlserver/dts/tasks/sendmailtask"
#define MAIL_CM                                                               \
    CM("Mail", "SMTP",                                                        \
       "SmtpServer=mail.example.com;UseWindowsAuthentication=False;"          \
       "EnableSsl=False;")
/* A Send Mail task with SendMailTaskData attributes ATTRS (prefixed). */
#define MAIL(name, attrs)                                                     \
    TASK(name, "Microsoft.SendMailTask",                                      \
         "<DTS:ObjectData><SendMailTask:SendMailTaskData "                    \
         "xmlns:SendMailTask=\"" NS_MAIL "\" " attrs                          \
         " /></DTS:ObjectData>")
#define M(attr, value) "SendMailTask:" attr "=\"" value "\" "

struct sink {
    pid_t pid;
    char *dir, *conn; /* conn: "Mail=SmtpServer=127.0.0.1:PORT;..." */
    int port;
};

/* Starts smtp-sink storing into DIR/mail, with options `opts` (a
 * NULL-terminated list, or NULL). */
static void
sink_start(struct sink *s, const struct run *r, const char *const *opts)
{
    const char *exe = getenv("SMTP_SINK");
    char *portfile, *text = NULL, *argv[8];
    int argc = 0;

    if (!exe)
        fail_msg("SMTP_SINK is not set");
    s->dir = xasprintf("%s/mail", r->dir);
    assert_int_equal(mkdir(s->dir, 0755), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        /* A failed test skips sink_stop: the sink dies with the test. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        argv[argc++] = (char *)exe;
        argv[argc++] = s->dir;
        for (; opts && *opts && argc < 7; opts++)
            argv[argc++] = (char *)*opts;
        argv[argc] = NULL;
        execv(exe, argv);
        _exit(127);
    }
    portfile = xasprintf("%s/port", s->dir);
    for (int i = 0; i < 3000 && !text; i++) { /* 30 s: loaded machines */
        struct wbuf b;
        struct werr e;
        wbuf_init(&b, 64);
        if (wfile_read(portfile, &b, &e) == 0)
            text = wbuf_detach(&b, NULL);
        wbuf_release(&b);
        if (!text)
            usleep(10 * 1000);
    }
    if (!text)
        fail_msg("smtp-sink wrote no port");
    s->port = atoi(text);
    s->conn = xasprintf("Mail=SmtpServer=127.0.0.1:%d;"
                        "UseWindowsAuthentication=False;EnableSsl=False;",
                        s->port);
    free(text);
    free(portfile);
}

static void
sink_stop(struct sink *s)
{
    int status;

    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    free(s->dir);
    free(s->conn);
}

static char *
stored(const struct run *r, const char *name)
{
    char *rel = xasprintf("mail/%s", name), *s = get_file(r, rel);

    free(rel);
    return s;
}

static int
b64_value(char c)
{
    static const char set[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(set, c) : NULL;

    return p ? (int)(p - set) : -1;
}

/* Decodes the base64 body of the MIME part whose headers carry
 * filename="NAME"; caller frees, *len set. */
static unsigned char *
attachment(const char *eml, const char *name, size_t *len)
{
    char *key = xasprintf("filename=\"%s\"", name);
    const char *p = strstr(eml, key), *end;
    unsigned char *out;
    unsigned acc = 0;
    int bits = 0;

    free(key);
    if (!p || !(p = strstr(p, "\r\n\r\n")))
        return NULL;
    p += 4;
    end = strstr(p, "\r\n--");
    assert_non_null(end);
    out = xmalloc((size_t)(end - p));
    *len = 0;
    for (; p < end; p++) {
        int v = b64_value(*p);
        if (v < 0)
            continue;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*len)++] = (unsigned char)(acc >> bits);
        }
    }
    return out;
}

static void
delivers_envelope_headers_body_and_attachments(void **state)
{
    struct run r;
    struct sink s;
    char *env, *eml, bin[256], *path;
    unsigned char *got;
    size_t len;
    struct werr e;

    (void)state;
    run_setup(&r);
    sink_start(&s, &r, NULL);
    for (int i = 0; i < 256; i++)
        bin[i] = (char)i;
    path = xasprintf("%s/data.bin", r.dir);
    assert_int_equal(wfile_write(path, bin, sizeof(bin), 0644, 0, &e), 0);
    free(path);
    put_file(&r, "report.csv", "id,name\n1,alpha\n");
    const char *extra[] = {"--connection", s.conn, NULL};
    run_pkg(&r,
            HEAD("T") CMS(MAIL_CM) VARS(STR_VAR("Body", "Rows loaded: 42"))
            EXES(MAIL("Notify",
                      M("SMTPServer", "{Mail-ID}")
                      M("From", "Weir &lt;weir@example.com&gt;")
                      M("To", "a@example.com;b@example.com")
                      M("CC", "c@example.com") M("BCC", "d@example.com")
                      M("Subject", "Nightly load") M("Priority", "High")
                      M("MessageSourceType", "Variable")
                      M("MessageSource", "User::Body")
                      M("FileAttachments", "report.csv|data.bin")))
            TAIL,
            extra);
    if (r.rc)
        dump_events(&r);
    assert_int_equal(r.rc, 0);
    assert_true(message_has(&r, "OnInformation", "to 4 recipients"));
    env = stored(&r, "1.env");
    assert_non_null(env);
    assert_string_equal(env, "MAIL FROM:<weir@example.com>\n"
                             "RCPT TO:<a@example.com>\n"
                             "RCPT TO:<b@example.com>\n"
                             "RCPT TO:<c@example.com>\n"
                             "RCPT TO:<d@example.com>\n");
    eml = stored(&r, "1.eml");
    assert_non_null(eml);
    assert_non_null(strstr(eml, "\r\nSubject: Nightly load\r\n"));
    assert_non_null(strstr(eml, "From: Weir <weir@example.com>\r\n"));
    assert_non_null(strstr(eml, "\r\nTo: a@example.com, b@example.com\r\n"));
    assert_non_null(strstr(eml, "\r\nCc: c@example.com\r\n"));
    assert_non_null(strstr(eml, "\r\nX-Priority: 1\r\n"));
    assert_null(strstr(eml, "d@example.com")); /* BCC: envelope only */
    assert_non_null(strstr(eml, "\r\n\r\nRows loaded: 42"));
    got = attachment(eml, "report.csv", &len);
    assert_non_null(got);
    assert_int_equal(len, 16);
    assert_memory_equal(got, "id,name\n1,alpha\n", 16);
    free(got);
    got = attachment(eml, "data.bin", &len);
    assert_non_null(got);
    assert_int_equal(len, 256);
    assert_memory_equal(got, bin, 256);
    free(got);
    free(env);
    free(eml);
    sink_stop(&s);
    run_free(&r);
}

static void
property_expressions_and_file_bodies(void **state)
{
    struct run r;
    struct sink s;
    char *env, *eml, *conn;

    (void)state;
    run_setup(&r);
    sink_start(&s, &r, NULL);
    put_file(&r, "body.txt", "line one\nline two\n");
    /* The connection string may be just "host:port"; Subject and ToLine
     * come from expressions; the body from a FILE connection manager;
     * a non-ASCII subject is encoded. */
    conn = xasprintf("Mail=127.0.0.1:%d", s.port);
    const char *extra[] = {"--connection", conn, NULL};
    run_pkg(&r,
            HEAD("T") CMS(MAIL_CM CM("BodyFile", "FILE", "body.txt"))
            VARS(STR_VAR("Who", "ops@example.com"))
            EXES(TASK("Notify", "Microsoft.SendMailTask",
                      "<DTS:PropertyExpression DTS:Name=\"Subject\">"
                      "\"Load d\xc3\xa9j\xc3\xa0 fini\""
                      "</DTS:PropertyExpression>"
                      "<DTS:PropertyExpression DTS:Name=\"ToLine\">"
                      "@[User::Who]</DTS:PropertyExpression>"
                      "<DTS:ObjectData><SendMailTask:SendMailTaskData "
                      "xmlns:SendMailTask=\"" NS_MAIL "\" "
                      M("SMTPServer", "Mail") M("From", "weir@example.com")
                      M("To", "nobody@example.com")
                      M("MessageSourceType", "FileConnection")
                      M("MessageSource", "BodyFile")
                      "/></DTS:ObjectData>"))
            TAIL,
            extra);
    if (r.rc)
        dump_events(&r);
    assert_int_equal(r.rc, 0);
    env = stored(&r, "1.env");
    assert_non_null(env);
    assert_string_equal(env, "MAIL FROM:<weir@example.com>\n"
                             "RCPT TO:<ops@example.com>\n");
    eml = stored(&r, "1.eml");
    assert_non_null(eml);
    /* "Load déjà fini" in UTF-8, base64. */
    assert_non_null(strstr(eml, "Subject: =?UTF-8?B?TG9hZCBkw6lqw6AgZmluaQ==?="));
    assert_non_null(strstr(eml, "\r\nTo: ops@example.com\r\n"));
    assert_non_null(strstr(eml, "line one\r\nline two\r\n"));
    free(env);
    free(eml);
    free(conn);
    sink_stop(&s);
    run_free(&r);
}

/* A loopback port nobody listens on. */
static int
closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

#define SIMPLE_MAIL_AND(to, more)                                             \
    HEAD("T") CMS(MAIL_CM)                                                         \
    EXES(MAIL("Notify", M("SMTPServer", "{Mail-ID}")                          \
                        M("From", "weir@example.com") M("To", to)             \
                        M("Subject", "s") M("MessageSource", "hello"))        \
         more)                                                                \
    TAIL
#define SIMPLE_MAIL(to) SIMPLE_MAIL_AND(to, "")

static void
refused_connections_and_recipients_fail(void **state)
{
    struct run r;
    struct sink s;
    char *conn, *msg;

    (void)state;
    run_setup(&r);
    conn = xasprintf("Mail=SmtpServer=127.0.0.1:%d;", closed_port());
    const char *extra[] = {"--connection", conn, NULL};
    assert_int_equal(run_pkg(&r, SIMPLE_MAIL("a@example.com"), extra), 1);
    msg = xasprintf("cannot send mail through '127.0.0.1:%d': ",
                    atoi(strrchr(conn, ':') + 1));
    assert_true(message_has(&r, "OnError", msg));
    free(msg);
    free(conn);

    /* The sink refuses one recipient: the task fails, nothing is sent. */
    const char *reject[] = {"--reject", "bad@example.com", NULL};
    sink_start(&s, &r, reject);
    const char *extra2[] = {"--connection", s.conn, NULL};
    assert_int_equal(run_pkg(&r, SIMPLE_MAIL("ok@example.com;bad@example.com"),
                             extra2),
                     1);
    assert_true(message_has(&r, "OnError", "cannot send mail through"));
    assert_true(message_has(&r, "OnError", "RCPT"));
    assert_false(exists(&r, "mail/1.eml"));

    /* EnableSsl requires STARTTLS, which the sink does not offer: the
     * mail is not sent in clear.  Windows authentication is warned
     * about. */
    char *ssl = xasprintf("Mail=SmtpServer=127.0.0.1:%d;"
                          "UseWindowsAuthentication=True;EnableSsl=True;",
                          s.port);
    const char *extra3[] = {"--connection", ssl, NULL};
    assert_int_equal(run_pkg(&r, SIMPLE_MAIL("ok@example.com"), extra3), 1);
    assert_true(message_has(&r, "OnWarning", "UseWindowsAuthentication"));
    assert_true(message_has(&r, "OnError", "STARTTLS"));
    assert_true(message_has(&r, "OnError", "cannot send mail through"));
    assert_false(exists(&r, "mail/1.eml"));
    free(ssl);

    /* A missing attachment fails before anything is sent, named. */
    assert_int_equal(
        run_pkg(&r,
                HEAD("T") CMS(MAIL_CM)
                EXES(MAIL("Notify", M("SMTPServer", "Mail")
                                    M("From", "weir@example.com")
                                    M("To", "ok@example.com")
                                    M("FileAttachments", "missing.csv")))
                TAIL,
                extra2),
        1);
    assert_true(message_has(&r, "OnError", "cannot attach '"));
    assert_true(message_has(&r, "OnError", "missing.csv': No such file"));
    assert_false(exists(&r, "mail/1.eml"));
    sink_stop(&s);
    run_free(&r);
}

static void
validation_names_the_problem(void **state)
{
    struct run r;

    (void)state;
    run_setup(&r);
    assert_int_not_equal(
        run_pkg(&r,
                HEAD("T") CMS(MAIL_CM CM("Db", "OLEDB", "Data Source=x")
                         CM("Bad", "SMTP", "SmtpServer=host:99999;"))
                EXES(MAIL("NoCm", M("From", "a@x") M("To", "b@x"))
                     MAIL("WrongCm", M("SMTPServer", "Db") M("From", "a@x")
                                     M("To", "b@x"))
                     MAIL("BadPort", M("SMTPServer", "Bad") M("From", "a@x")
                                     M("To", "b@x"))
                     MAIL("NoFrom", M("SMTPServer", "Mail") M("To", "b@x"))
                     MAIL("NoTo", M("SMTPServer", "Mail") M("From", "a@x"))
                     MAIL("NoVar", M("SMTPServer", "Mail") M("From", "a@x")
                                   M("To", "b@x")
                                   M("MessageSourceType", "Variable")
                                   M("MessageSource", "User::Nope"))
                     MAIL("BadType", M("SMTPServer", "Mail")
                                     M("MessageSourceType", "Pigeon")))
                TAIL,
                NULL),
        0);
    assert_true(message_has(&r, "OnError", "no SMTP connection manager"));
    assert_true(message_has(&r, "OnError",
                            "'Db' is a OLEDB connection manager, not an "
                            "SMTP one"));
    assert_true(message_has(&r, "OnError",
                            "SMTP connection manager 'Bad': 'host:99999' "
                            "has no valid port"));
    assert_true(message_has(&r, "OnError", "the task has no From address"));
    assert_true(message_has(&r, "OnError", "the task has no recipient"));
    assert_true(message_has(&r, "OnError", "no variable 'User::Nope'"));
    assert_true(message_has(&r, "OnError",
                            "unknown MessageSourceType 'Pigeon'"));
    run_free(&r);
}

/* Waits up to 20 s for DIR/name to exist. */
static bool
appears(const struct run *r, const char *name)
{
    for (int i = 0; i < 2000; i++) {
        if (exists(r, name))
            return true;
        usleep(10 * 1000);
    }
    return false;
}

/* A send to a server that never answers runs without the run lock: an
 * independent branch finishes meanwhile, and SIGTERM stops the hung send
 * at once (exit code 3, canceled). */
static void
cancel_stops_a_hung_send_while_other_branches_run(void **state)
{
    const char *weir = getenv("WEIR"), *stall[] = {"--stall", NULL};
    struct run r;
    struct sink s;
    int status;
    int64_t t0;
    pid_t pid;

    (void)state;
    if (!weir)
        skip();
    run_setup(&r);
    sink_start(&s, &r, stall);
    write_pkg(&r, SIMPLE_MAIL_AND(
                      "a@example.com",
                      TASK("Touch", "Microsoft.ExecuteProcess",
                           "<DTS:ObjectData><ExecuteProcessData "
                           "Executable=\"/bin/sh\" Arguments=\"-c &quot;"
                           "echo ok &gt; done.txt&quot;\"/></DTS:ObjectData>")));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(null, 1);
        dup2(null, 2);
        execl(weir, weir, "exec", "--connection", s.conn, r.package,
              (char *)NULL);
        _exit(127);
    }
    assert_true(appears(&r, "mail/connected"));
    assert_true(appears(&r, "done.txt"));
    t0 = (int64_t)time(NULL);
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true((int64_t)time(NULL) - t0 < 10);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    assert_false(exists(&r, "mail/1.eml"));
    r.events = json_array();
    sink_stop(&s);
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_envelope_headers_body_and_attachments),
        cmocka_unit_test(property_expressions_and_file_bodies),
        cmocka_unit_test(refused_connections_and_recipients_fail),
        cmocka_unit_test(validation_names_the_problem),
        cmocka_unit_test(cancel_stops_a_hung_send_while_other_branches_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
