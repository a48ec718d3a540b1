/*
 * Cancel requests and the run lock's blocking helpers.
 *
 * A cancel request is an atomic signal number and an eventfd that becomes
 * readable, and stays readable, once it is raised: every wait in the
 * runtime polls that descriptor next to its own, so one request wakes all
 * of them at once, whatever thread they are on (a signal would wake one
 * arbitrary thread).  Nobody reads the eventfd back.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/wtime.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"

int
rt_cancel_init(struct rt_cancel *c, struct werr *err)
{
    atomic_init(&c->sig, 0);
    c->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->fd < 0)
        return werr_set(err, WERR_IO, "eventfd: %s", strerror(errno));
    return 0;
}

void
rt_cancel_release(struct rt_cancel *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void
rt_cancel_raise(struct rt_cancel *c, int sig)
{
    int none = 0;
    uint64_t one = 1;

    if (!atomic_compare_exchange_strong(&c->sig, &none, sig))
        return;
    /* Cannot fail but for a counter overflow, which one write rules out. */
    if (write(c->fd, &one, sizeof(one)) < 0)
        return;
}

bool
rt_cancel_requested(const struct rt_run *run)
{
    return run->cancel && atomic_load(&run->cancel->sig) != 0;
}

int
rt_cancel_fd(const struct rt_run *run)
{
    return run->cancel ? run->cancel->fd : -1;
}

bool
rt_canceled(struct rt_run *run)
{
    int sig;

    if (run->cancel_reported)
        return true;
    if (!run->cancel || !(sig = atomic_load(&run->cancel->sig)))
        return false;
    run->cancel_reported = true;
    if (sig == RT_CANCEL_BY_HANDLER)
        rt_emit(run, pkg_root(run->pkg), RT_EV_WARNING,
                "canceled: an event handler set System::Cancel, stopping "
                "the package");
    else
        rt_emit(run, pkg_root(run->pkg), RT_EV_WARNING,
                "canceled: %s received, stopping the package",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
    return true;
}

void
rt_blocking_begin(struct rt_run *run)
{
    if (run->threaded)
        pthread_mutex_unlock(&run->lock);
}

void
rt_blocking_end(struct rt_run *run)
{
    if (run->threaded)
        pthread_mutex_lock(&run->lock);
}

int
rt_sleep_ms(struct rt_run *run, int64_t ms)
{
    int64_t until = wtime_mono_ns() + ms * WTIME_MS_NS;
    struct pollfd pfd = {.fd = rt_cancel_fd(run), .events = POLLIN};
    int64_t now;

    rt_blocking_begin(run);
    while (!rt_cancel_requested(run) && (now = wtime_mono_ns()) < until) {
        int64_t left = (until - now + WTIME_MS_NS - 1) / WTIME_MS_NS;
        poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
    }
    rt_blocking_end(run);
    return rt_canceled(run) ? -1 : 0;
}
