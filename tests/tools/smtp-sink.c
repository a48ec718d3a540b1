/*
 * smtp-sink: a tiny SMTP server for tests, on loopback only.
 *
 *   smtp-sink DIR [--reject ADDRESS]... [--stall]
 *
 * Binds 127.0.0.1 on a port the kernel picks, writes the port to DIR/port
 * (complete when it appears: written to a temporary file and renamed) and
 * serves sessions one after the other until it is killed.  It speaks
 * EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT.  Message N (from 1)
 * is stored as DIR/N.env, the envelope ("MAIL FROM:<a>" then one
 * "RCPT TO:<b>" line per accepted recipient), and DIR/N.eml, the DATA
 * exactly as received with the dot-stuffing undone; N.eml is renamed into
 * place last, so once it exists both are complete.  RCPT TO a --reject
 * address is answered 550.  With --stall it greets no one: it writes
 * DIR/connected when a client connects and then reads and ignores what
 * the client sends until it hangs up (a server that hangs, for cancel
 * tests).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_MESSAGE (32 << 20)
#define MAX_REJECT 16

static const char *dir;
static const char *reject[MAX_REJECT];
static int nreject;
static int nmessages;
static int stall;

static void
say(FILE *out, const char *text)
{
    fputs(text, out);
    fflush(out);
}

static int
put(const char *name, const char *data, size_t len)
{
    char tmp[4096], path[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(f = fopen(tmp, "w")))
        return -1;
    if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static int
rejected(const char *addr)
{
    for (int i = 0; i < nreject; i++)
        if (strstr(addr, reject[i]))
            return 1;
    return 0;
}

/* Reads the DATA up to the lone ".", undoing the dot-stuffing. */
static char *
read_data(FILE *in, size_t *len)
{
    char *line = NULL, *buf = malloc(MAX_MESSAGE);
    size_t cap = 0;
    ssize_t n;

    *len = 0;
    while (buf && (n = getline(&line, &cap, in)) > 0) {
        const char *p = line;
        if (!strcmp(line, ".\r\n") || !strcmp(line, ".\n")) {
            free(line);
            return buf;
        }
        if (*p == '.')
            p++, n--;
        if (*len + (size_t)n > MAX_MESSAGE)
            break;
        memcpy(buf + *len, p, (size_t)n);
        *len += (size_t)n;
    }
    free(line);
    free(buf);
    return NULL;
}

static void
store(FILE *out, const char *env, size_t envlen, const char *msg, size_t len)
{
    char name[64], reply[64];

    nmessages++;
    snprintf(name, sizeof(name), "%d.env", nmessages);
    if (put(name, env, envlen) < 0) {
        say(out, "451 cannot store the envelope\r\n");
        return;
    }
    snprintf(name, sizeof(name), "%d.eml", nmessages);
    if (put(name, msg, len) < 0) {
        say(out, "451 cannot store the message\r\n");
        return;
    }
    snprintf(reply, sizeof(reply), "250 queued as %d\r\n", nmessages);
    say(out, reply);
}

static void
stalled(int fd)
{
    char buf[4096];

    put("connected", "", 0);
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
}

static void
session(int fd)
{
    FILE *in = fdopen(fd, "r"), *out = fdopen(dup(fd), "w");
    char *line = NULL, env[65536];
    size_t cap = 0, envlen = 0;
    int rcpts = 0;

    if (!in || !out)
        return;
    say(out, "220 smtp-sink ready\r\n");
    while (getline(&line, &cap, in) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!strncasecmp(line, "EHLO", 4)) {
            say(out, "250-smtp-sink\r\n250-8BITMIME\r\n250 SIZE 33554432\r\n");
        } else if (!strncasecmp(line, "HELO", 4) ||
                   !strncasecmp(line, "NOOP", 4)) {
            say(out, "250 ok\r\n");
        } else if (!strncasecmp(line, "MAIL FROM:", 10)) {
            envlen = (size_t)snprintf(env, sizeof(env), "%s\n", line);
            rcpts = 0;
            say(out, "250 ok\r\n");
        } else if (!strncasecmp(line, "RCPT TO:", 8)) {
            if (rejected(line + 8)) {
                say(out, "550 5.1.1 recipient rejected\r\n");
                continue;
            }
            if (envlen < sizeof(env))
                envlen += (size_t)snprintf(env + envlen, sizeof(env) - envlen,
                                           "%s\n", line);
            rcpts++;
            say(out, "250 ok\r\n");
        } else if (!strncasecmp(line, "DATA", 4)) {
            size_t len;
            char *msg;
            if (!rcpts) {
                say(out, "503 no recipients\r\n");
                continue;
            }
            say(out, "354 end with a lone dot\r\n");
            if (!(msg = read_data(in, &len)))
                break;
            store(out, env, envlen < sizeof(env) ? envlen : sizeof(env) - 1,
                  msg, len);
            free(msg);
            envlen = 0;
            rcpts = 0;
        } else if (!strncasecmp(line, "RSET", 4)) {
            envlen = 0;
            rcpts = 0;
            say(out, "250 ok\r\n");
        } else if (!strncasecmp(line, "QUIT", 4)) {
            say(out, "221 bye\r\n");
            break;
        } else {
            say(out, "502 not implemented\r\n");
        }
    }
    free(line);
    fclose(in);
    fclose(out);
}

int
main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    char port[16];
    int s, one = 1;

    if (argc < 2) {
        fprintf(stderr,
                "usage: smtp-sink DIR [--reject ADDRESS]... [--stall]\n");
        return 2;
    }
    dir = argv[1];
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--stall"))
            stall = 1;
        else if (!strcmp(argv[i], "--reject") && i + 1 < argc &&
                 nreject < MAX_REJECT)
            reject[nreject++] = argv[++i];
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(s, 16) < 0 || getsockname(s, (struct sockaddr *)&a, &alen) < 0) {
        perror("smtp-sink");
        return 1;
    }
    snprintf(port, sizeof(port), "%d\n", ntohs(a.sin_port));
    if (put("port", port, strlen(port)) < 0) {
        perror("smtp-sink: port file");
        return 1;
    }
    for (;;) {
        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0 && stall)
            stalled(c);
        else if (c >= 0)
            session(c);
    }
}
