/*
 * The master's options (one table: flags, environment WEIR_MASTER_*,
 * config file, --help and --help-markdown) and the --listen address.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "master/master_int.h"

#include "base/banned.h"

#define OFF(f) offsetof(struct master_conf, f)
#define MIB (INT64_C(1) << 20)

const char master_usage[] =
    "usage: weir master [options]\n"
    "\n"
    "Runs the weir master: the HTTP API under /api/v1/, the catalog, the\n"
    "scheduler that hands tasks to workers' claims, and the lease reaper.\n"
    "Stops cleanly on SIGTERM or SIGINT; SIGHUP re-reads the log level.";

const struct wopt master_options[] = {
    {"listen", WOPT_STR, OFF(listen), "127.0.0.1:8391", 0, 0,
     "HOST:PORT, [IPV6]:PORT or :PORT to listen on", 0},
    {"catalog", WOPT_STR, OFF(catalog), "sqlite:weir-catalog.db", 0, 0,
     "catalog URL: sqlite:PATH (created if missing)", 0},
    {"lease", WOPT_DURATION, OFF(lease_ms), "15s", 1000, 24 * 3600 * 1000,
     "time a task stays with a worker without heartbeat", 0},
    {"heartbeat", WOPT_DURATION, OFF(heartbeat_ms), "3s", 100, 3600 * 1000,
     "heartbeat interval told to workers", 0},
    {"claim-wait-max", WOPT_DURATION, OFF(claim_wait_max_ms), "60s", 0,
     60 * 1000, "longest wait of a worker's claim for a task", 0},
    {"max-body", WOPT_INT, OFF(max_body), "1048576", 1024, 1024 * MIB,
     "largest JSON request body, bytes", 0},
    {"max-deploy", WOPT_INT, OFF(max_deploy), "67108864", 1024, 4096 * MIB,
     "largest deployment body (zip, .dtsx), bytes", 0},
    {"auto-enable-workers", WOPT_BOOL, OFF(auto_enable_workers), "true", 0,
     0, "enable workers when first seen", 0},
    {"log-level", WOPT_LEVEL, OFF(log_level), "info", 0, 0,
     "error, warn, info or debug (every request)", 0},
    {"port-file", WOPT_STR, OFF(port_file), NULL, 0, 0,
     "write the listening port to this file", 0},
    {"online-window", WOPT_DURATION, OFF(online_window_ms), "0", 0,
     24 * 3600 * 1000, "online this long after a heartbeat (0: 3 beats)", 0},
    WOPT_END,
};

int
master_conf_check(struct master_conf *c, struct werr *err)
{
    struct sockaddr_storage ss;
    socklen_t len;

    if (!c->listen)
        return werr_set(err, WERR_INVALID, "'listen' must not be empty");
    if (master_parse_listen(c->listen, &ss, &len, err) < 0)
        return -1;
    if (!c->catalog)
        return werr_set(err, WERR_INVALID, "'catalog' must not be empty");
    if (c->heartbeat_ms >= c->lease_ms)
        return werr_set(err, WERR_INVALID,
                        "'heartbeat' (%lld ms) must be shorter than 'lease' "
                        "(%lld ms), or every task would be lost between two "
                        "heartbeats", (long long)c->heartbeat_ms,
                        (long long)c->lease_ms);
    if (c->online_window_ms == 0)
        c->online_window_ms = 3 * c->heartbeat_ms;
    return 0;
}

/* Splits "HOST:PORT" or "[HOST]:PORT" into host (possibly empty) and port. */
static int
split_listen(const char *s, char *host, size_t hostlen, const char **port,
             struct werr *err)
{
    const char *colon, *h = s;
    size_t n;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return werr_set(err, WERR_INVALID,
                            "listen address '%s': expected [IPV6]:PORT", s);
        h = s + 1;
        n = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return werr_set(err, WERR_INVALID,
                            "listen address '%s': expected HOST:PORT", s);
        n = (size_t)(colon - s);
    }
    if (n >= hostlen)
        return werr_set(err, WERR_INVALID, "listen address '%s': host too "
                        "long", s);
    memcpy(host, h, n);
    host[n] = '\0';
    *port = colon + 1;
    return 0;
}

static int
parse_port(const char *s, const char *whole, struct werr *err)
{
    char *end;
    long p = strtol(s, &end, 10);

    if (!*s || *end || p < 0 || p > 65535)
        return werr_set(err, WERR_INVALID,
                        "listen address '%s': port '%s' is not a number "
                        "from 0 to 65535", whole, s);
    return (int)p;
}

int
master_parse_listen(const char *s, struct sockaddr_storage *ss,
                    socklen_t *len, struct werr *err)
{
    struct addrinfo hints = {0}, *res = NULL;
    char host[256];
    const char *portstr = NULL;
    int rc;

    if (split_listen(s, host, sizeof(host), &portstr, err) < 0)
        return -1;
    /* Checked here for a clear message; getaddrinfo parses it again. */
    if (parse_port(portstr, s, err) < 0)
        return -1;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (host[0] ? 0 : AI_PASSIVE);
    hints.ai_family = host[0] ? AF_UNSPEC : AF_INET;
    rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
    if (rc != 0)
        return werr_set(err, WERR_INVALID, "listen address '%s': %s", s,
                        gai_strerror(rc));
    if (res->ai_addrlen > sizeof(*ss)) {
        freeaddrinfo(res);
        return werr_set(err, WERR_INTERNAL, "listen address '%s': address "
                        "too long", s);
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

bool
master_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const struct in6_addr *a = &in6->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}
