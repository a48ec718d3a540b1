/* The weir command: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "master/master.h"
#include "runtime/runtime.h"
#include "worker/worker.h"

int
main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--version")) {
        printf("weir %s\n", WEIR_VERSION);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "master"))
        return master_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "worker"))
        return wk_main(argc - 1, argv + 1, "/proc/self/exe");
    if (argc > 1 && !strcmp(argv[1], "exec"))
        return rt_exec_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: weir COMMAND [options]\n");
    return 6;
}
