/*
 * The reference for bench/dispatch: the same N jobs through beanstalkd.
 * A producer puts N jobs (each body is its put time); CONSUMERS processes
 * reserve and delete them.  Prints one line:
 *   jobs=N seconds=S jobs_per_s=R p50_ms=A p99_ms=B
 * where the latency is put -> reserve, the analogue of weir's submit ->
 * start.
 *
 * With --sequential the producer puts the next job only after the previous
 * one was deleted: the latency of a job meeting idle consumers.
 *
 * usage: beanstalk-dispatch PORT N CONSUMERS [--sequential]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
dial(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("connect to beanstalkd");
        exit(1);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Reads one reply line (and for RESERVED its body) into buf. */
static int
reply(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        char *eol = strstr(buf, "\r\n");
        if (!eol)
            continue;
        if (strncmp(buf, "RESERVED", 8))
            return 0;
        unsigned long id, bytes;
        if (sscanf(buf, "RESERVED %lu %lu", &id, &bytes) != 2)
            return -1;
        if (n >= (size_t)(eol - buf) + 2 + bytes + 2)
            return 0;
    }
}

static int
cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "--sequential"))) {
        fprintf(stderr,
                "usage: beanstalk-dispatch PORT N CONSUMERS [--sequential]\n");
        return 2;
    }
    int sequential = argc == 5;
    int port = (int)strtol(argv[1], NULL, 10);
    long n = strtol(argv[2], NULL, 10), nc = strtol(argv[3], NULL, 10);
    /* Shared with the consumers: per-job latency and the last delete time. */
    long long *lat = mmap(NULL, (size_t)(n + 3) * sizeof(long long),
                          PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                          -1, 0);
    long long *done = lat + n, *last = lat + n + 1, *deleted = lat + n + 2;
    char buf[4096];

    *done = 0;
    *last = 0;
    *deleted = 0;
    for (long c = 0; c < nc; c++) {
        if (fork() != 0)
            continue;
        int fd = dial(port);
        for (;;) {
            const char *cmd = "reserve-with-timeout 1\r\n";
            if (write(fd, cmd, strlen(cmd)) < 0 || reply(fd, buf, sizeof(buf)))
                _exit(1);
            if (!strncmp(buf, "TIMED_OUT", 9))
                _exit(0);
            long long t = now_ns(), put;
            unsigned long id, bytes;
            sscanf(buf, "RESERVED %lu %lu", &id, &bytes);
            sscanf(strstr(buf, "\r\n") + 2, "%lld", &put);
            long k = __atomic_fetch_add(done, 1, __ATOMIC_SEQ_CST);
            if (k < n)
                lat[k] = t - put;
            int len = snprintf(buf, sizeof(buf), "delete %lu\r\n", id);
            if (write(fd, buf, (size_t)len) < 0 || reply(fd, buf, sizeof(buf)))
                _exit(1);
            long long end = now_ns();
            __atomic_store_n(last, end, __ATOMIC_SEQ_CST);
            __atomic_fetch_add(deleted, 1, __ATOMIC_SEQ_CST);
        }
    }
    int fd = dial(port);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        char body[32];
        int blen = snprintf(body, sizeof(body), "%lld", now_ns());
        int len = snprintf(buf, sizeof(buf), "put 0 0 60 %d\r\n%s\r\n", blen,
                           body);
        if (write(fd, buf, (size_t)len) < 0 || reply(fd, buf, sizeof(buf)) ||
            strncmp(buf, "INSERTED", 8)) {
            fprintf(stderr, "put failed: %s\n", buf);
            return 1;
        }
        while (sequential && __atomic_load_n(deleted, __ATOMIC_SEQ_CST) <= i)
            ;
    }
    while (wait(NULL) > 0)
        ;
    if (*done < n) {
        fprintf(stderr, "only %lld of %ld jobs reserved\n", *done, n);
        return 1;
    }
    double secs = (double)(*last - t0) / 1e9;
    qsort(lat, (size_t)n, sizeof(long long), cmp);
    printf("jobs=%ld seconds=%.3f jobs_per_s=%.0f p50_ms=%.3f p99_ms=%.3f\n",
           n, secs, (double)n / secs, (double)lat[n / 2] / 1e6,
           (double)lat[(n * 99) / 100] / 1e6);
    return 0;
}
