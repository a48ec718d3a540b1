/* weir worker: pulls tasks from a master and runs each as `weir exec`. */
#ifndef WEIR_WORKER_H
#define WEIR_WORKER_H

/* `weir worker [options]`: runs until SIGTERM or SIGINT; returns the exit
 * code.  `self` is the path of the weir binary, used to run `weir exec`. */
int wk_main(int argc, char **argv, const char *self);

#endif
