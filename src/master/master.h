/* weir master: the HTTP API, the scheduler and the reaper over a catalog. */
#ifndef WEIR_MASTER_H
#define WEIR_MASTER_H

/* `weir master [options]`: runs until SIGTERM or SIGINT; returns the exit
 * code. */
int master_main(int argc, char **argv);

#endif
