/*
 * Event handlers: when an executable raises an event (OnError,
 * OnPreExecute...), the handlers for that event on the executable itself
 * run first, then those on each container above it up to the package:
 * the event "bubbles up", as in SSIS, until a handler sets
 * System::Propagate to False.
 *
 * A handler is a container: it runs through rt_execute, so it raises its
 * own OnPreExecute and OnPostExecute, counts errors against its
 * MaximumErrorCount and, through its parent chain, against the
 * executables above it.  While it runs, a frame on the variable store
 * (vars.h) gives its System variables: ErrorCode, SourceName, Propagate...
 *
 * Recursion is bounded by two rules.  A handler never runs for an event
 * raised inside itself (SSIS's rule: an OnPreExecute handler does not run
 * for its own tasks' OnPreExecute).  And a handler does not start again
 * while it is running: without that, two handlers whose tasks raise each
 * other's event (OnPreExecute and OnPostExecute on the package) would call
 * each other forever.  So the nesting is at most as deep as the package
 * has handlers, and one handler has at most one frame at a time, which is
 * what its System variables read.  An event raised inside a running
 * handler skips a handler that is running, with an OnWarning (written
 * directly, so it runs no handler itself); an event from a parallel
 * branch outside every handler waits for the handler to finish, then runs
 * it (wait_turn explains why that cannot deadlock).
 *
 * Tasks inside handlers take no slot of MaxConcurrentExecutables
 * (container.c): the executable that raised the event holds its slot
 * while its handlers run in its place.
 *
 * A handler that fails makes the executable that raised the event fail:
 * rt_execute reads run->state[].handler_failed after the executable's
 * work (and after OnPreExecute, whose failing handler stops the work).
 *
 * Handlers run only while the package executes: validation comes before
 * it in weir, so OnPreValidate and OnPostValidate handlers run for the
 * validation SSIS repeats right before each executable runs (engine.c).
 * OnQueryCancel, which SSIS polls now and then, is raised before each
 * executable starts, and OnExecStatusChanged when it starts and when its
 * work ends; a handler that sets System::Cancel cancels the execution as
 * SIGTERM would.  Handlers for names SSIS never raises get a warning at
 * validation.
 *
 * A child package's events go on to its parent's handlers (to_parent).
 * The child runs on threads of its own, holding its own run's lock, and
 * takes the parent's to run them; no thread ever takes a child's lock
 * while holding its parent's, so the order is always child then parent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "base/banned.h"
#include "runtime/runtime_int.h"
#include "runtime/vars.h"

/* The events weir raises while a package runs: SSIS's. */
static const char *const raised[] = {
    "OnPreExecute",  "OnPostExecute", "OnError",
    "OnWarning",     "OnInformation", "OnTaskFailed",
    "OnPreValidate", "OnPostValidate", "OnProgress",
    "OnQueryCancel", "OnExecStatusChanged", "OnVariableValueChanged",
};

static bool
is_raised(const char *event)
{
    for (size_t i = 0; i < sizeof(raised) / sizeof(raised[0]); i++)
        if (!strcasecmp(raised[i], event))
            return true;
    return false;
}

void
rt_handlers_validate(struct rt_run *run, const struct pkg_executable *e)
{
    if (e->disabled)
        return;
    for (size_t i = 0; i < e->nhandlers; i++) {
        const struct pkg_event_handler *h = &e->handlers[i];
        if (!h->container->disabled && !is_raised(h->event))
            rt_emit(run, e, RT_EV_WARNING,
                    "the %s event handler never runs: %s is not an "
                    "event SSIS raises",
                    h->event, h->event);
        rt_handlers_validate(run, h->container);
    }
    for (size_t i = 0; i < e->nchildren; i++)
        rt_handlers_validate(run, e->children[i]);
}

static bool
is_inside(const struct pkg_executable *x, const struct pkg_executable *c)
{
    for (; x; x = x->parent)
        if (x == c)
            return true;
    return false;
}

static struct rt_hframe *
running(struct rt_vars *vs, const struct pkg_executable *h)
{
    for (struct rt_hframe *f = vs->sys.frames; f; f = f->next)
        if (f->handler == h)
            return f;
    return NULL;
}

/* The second rule's warning, written without raising handlers. */
static void
warn_skipped(struct rt_run *run, const struct pkg_executable *owner,
             const char *event, const struct pkg_executable *src)
{
    char *msg = xasprintf("the %s event handler is already running: it "
                          "does not run again for the event from '%s'",
                          event, src->path);
    struct rt_event ev = {.kind = RT_EV_WARNING,
                          .source = owner->name,
                          .path = owner->path,
                          .message = msg};

    rt_events_emit(run->events, &ev);
    free(msg);
}

/* Waits until handler `h` is not running; false if it must be skipped.
 * An event raised inside a running handler never waits: it may be that
 * handler's own doing (directly or through others), and a handler that
 * waited there could wait for one that waits for it.  An event from
 * outside every handler (a parallel branch) waits its turn, which always
 * comes, since the running handler waits for nothing. */
static bool
wait_turn(struct rt_run *run, const struct pkg_executable *h,
          const struct pkg_executable *raiser)
{
    struct rt_vars *vs = run->vars;
    const struct pkg_executable *in = rt_handler_of(raiser);

    while (running(vs, h)) {
        if ((in && running(vs, in)) || !run->threaded)
            return false;
        pthread_cond_wait(&run->changed, &run->lock);
    }
    return true;
}

static void
unlink_frame(struct rt_vars *vs, struct rt_hframe *f)
{
    for (struct rt_hframe **p = &vs->sys.frames; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            return;
        }
}

/* Runs handler `h` of `owner` for an event from `src`; returns whether
 * the event goes on up (System::Propagate). */
static bool
run_handler(struct rt_run *run, const struct pkg_executable *src,
            const struct pkg_executable *owner,
            const struct pkg_event_handler *h, const struct rt_hevent *ev)
{
    struct rt_vars *vs = run->vars;
    const struct pkg_executable *raiser = ev->raiser ? ev->raiser : src;
    struct rt_hframe f = {.handler = h->container,
                          .event = h->event,
                          .source = ev->source ? ev->source : src,
                          .code = ev->code,
                          .description = ev->message ? ev->message : "",
                          .var = ev->var,
                          .percent = ev->percent,
                          .propagate = true};

    if (h->container->disabled || is_inside(raiser, h->container))
        return true;
    if (!wait_turn(run, h->container, raiser)) {
        warn_skipped(run, owner, h->event, src);
        return true;
    }
    f.next = vs->sys.frames;
    vs->sys.frames = &f;
    if (rt_execute(run, h->container) == RT_FAILURE)
        run->state[src->index].handler_failed = true;
    unlink_frame(vs, &f);
    /* System::Cancel: the handler asks the whole execution to stop. */
    if (f.cancel && run->cancel)
        rt_cancel_raise(run->cancel, RT_CANCEL_BY_HANDLER);
    if (run->threaded)
        pthread_cond_broadcast(&run->changed);
    return f.propagate;
}

/* Takes the lock of the parent's run unless this thread holds it
 * already; returns whether it did (unlock_parent's argument). */
static bool
lock_parent(const struct rt_run *run)
{
    struct rt_run *p = run->parent;

    if (!p->threaded || run->parent_locked)
        return false;
    pthread_mutex_lock(&p->lock);
    return true;
}

static void
unlock_parent(const struct rt_run *run, bool locked)
{
    if (locked)
        pthread_mutex_unlock(&run->parent->lock);
}

/* A child package's event that its handlers let go on: from the Execute
 * Package task up, in the parent, naming the child's executable. */
static void
to_parent(struct rt_run *run, const struct pkg_executable *src,
          const struct rt_hevent *ev)
{
    struct rt_hevent up = *ev;
    bool locked = lock_parent(run);

    up.source = ev->source ? ev->source : src;
    up.raiser = NULL;
    rt_handlers_raise(run->parent, run->parent_task, &up);
    unlock_parent(run, locked);
}

void
rt_handlers_raise(struct rt_run *run, const struct pkg_executable *src,
                  const struct rt_hevent *ev)
{
    bool go_on = true;

    if (!run->vars || run->cancel_reported)
        return;
    for (const struct pkg_executable *x = src;
         run->handlers_on && x && go_on; x = x->parent)
        for (size_t i = 0; i < x->nhandlers; i++)
            if (!strcasecmp(x->handlers[i].event, ev->event) &&
                !run_handler(run, src, x, &x->handlers[i], ev))
                go_on = false;
    if (go_on && run->parent)
        to_parent(run, src, ev);
    else if (go_on && run->events && run->events->handlers_up)
        rt_events_raise_up(run->events, src->path, ev);
}

void
rt_handlers_count_error(struct rt_run *run)
{
    for (; run->parent; run = run->parent) {
        bool locked = lock_parent(run);
        for (const struct pkg_executable *x = run->parent_task; x;
             x = x->parent)
            run->parent->state[x->index].errors++;
        unlock_parent(run, locked);
    }
}

void
rt_handlers_starting(struct rt_run *run, const struct pkg_executable *e)
{
    rt_handlers_raise(run, e, &(struct rt_hevent){.event = "OnQueryCancel"});
    rt_handlers_raise(run, e,
                      &(struct rt_hevent){.event = "OnExecStatusChanged"});
}

void
rt_handlers_status(struct rt_run *run, const struct pkg_executable *e)
{
    rt_handlers_raise(run, e,
                      &(struct rt_hevent){.event = "OnExecStatusChanged"});
}

void
rt_progress(struct rt_run *run, const struct pkg_executable *e, int percent,
            const char *fmt, ...)
{
    struct rt_event ev = {
        .kind = RT_EV_PROGRESS, .source = e->name, .path = e->path};
    char *what, *msg;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&what, fmt, ap) < 0)
        W_BUG("out of memory formatting an event");
    va_end(ap);
    msg = percent >= 0 ? xasprintf("%s: %d%% complete", what, percent)
                       : xstrdup(what);
    ev.message = msg;
    rt_events_emit(run->events, &ev);
    rt_handlers_raise(run, e,
                      &(struct rt_hevent){.event = "OnProgress",
                                          .message = what,
                                          .percent = percent < 0 ? 0
                                                                 : percent});
    free(msg);
    free(what);
}

static void
on_changed(void *ctx, const struct rt_var *v,
           const struct pkg_executable *setter)
{
    struct rt_hevent ev = {
        .event = "OnVariableValueChanged", .var = v, .raiser = setter};

    rt_handlers_raise(ctx, v->owner, &ev);
}

void
rt_handlers_begin(struct rt_run *run)
{
    run->handlers_on = true;
    if (run->vars) {
        run->vars->sys.changed = on_changed;
        run->vars->sys.changed_ctx = run;
    }
}

void
rt_handlers_end(struct rt_run *run)
{
    run->handlers_on = false;
    if (run->vars) {
        run->vars->sys.changed = NULL;
        run->vars->sys.changed_ctx = NULL;
    }
}

/* A handler's container runs its executables as a Sequence does. */
const struct rt_task_ops rt_handler_ops = {
    .type = "EventHandler",
    .execute = rt_container_run,
};
